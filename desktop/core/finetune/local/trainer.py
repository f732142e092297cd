"""The training loop of the training process (``worker.py`` starts it in its own process).

It reports into
``finetune.db`` (the job's state, a ``metrics`` event per step with the losses, tokens/s and
ETA), checkpoints every few steps and, when started again after a crash or a kill, goes on
from its newest whole checkpoint. The end product is ``adapter.gguf``, checked against the
trained PyTorch model through llama.cpp before the job is marked succeeded.
"""

from __future__ import annotations

import logging
import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorWithFlattening,
    get_cosine_schedule_with_warmup,
)

from desktop.core.errors import FinetuneError
from desktop.core.finetune.examples import read_examples
from desktop.core.finetune.local import checkpoints
from desktop.core.finetune.local.config import TrainConfig
from desktop.core.finetune.local.data import TokenizedExample, epoch_batches, tokenize_all
from desktop.core.finetune.local.gguf_lora import BaseInfo, read_base, write_adapter
from desktop.core.finetune.local.run_files import RunFiles, RunSpec, Stopped
from desktop.core.finetune.local.verify import compare_logits
from desktop.core.finetune.records import Job, JobEvent, JobState, JobStore

GRAD_CLIP = 1.0  # max gradient norm, as transformers' Trainer defaults to
VERIFY_TOKENS = 64  # tokens of a held-out example compared through llama.cpp

log = logging.getLogger("folio.trainer")


def device() -> torch.device:
    """Where to train: an NVIDIA GPU (CUDA) or Apple's (MPS) when there is one, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def load_base(gguf_path: Path) -> tuple[Any, Any]:
    """(tokenizer, model) from a GGUF file, dequantized to float32 by transformers, on
    ``device()``."""
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.to(device())
    model.config.use_cache = False
    return tokenizer, model


def lora_model(model: Any, config: TrainConfig) -> Any:
    """The base wrapped by PEFT with LoRA on every linear layer but the output head."""
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        target_modules="all-linear",
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(config.seed)  # LoRA's A matrices start random
    return get_peft_model(model, lora)


def _batch(collator: Any, items: list[TokenizedExample]) -> dict[str, torch.Tensor]:
    batch = collator([{"input_ids": t.input_ids, "labels": t.labels} for t in items])
    where = device()
    return {key: value.to(where) for key, value in batch.items()}


def validation_loss(model: Any, collator: Any, items: list[TokenizedExample], budget: int) -> float:
    """Mean loss per answer token over ``items`` (batched by ``budget`` tokens)."""
    if not items:
        return math.nan
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for group in epoch_batches([len(t.input_ids) for t in items], budget, 0, 0):
            chosen = [items[i] for i in group]
            tokens = sum(t.trained_tokens for t in chosen)
            total += float(model(**_batch(collator, chosen)).loss) * tokens
            count += tokens
    model.train()
    return total / count


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


@dataclass
class Setup:
    """A run loaded and ready to step: the model with LoRA, the data, the optimiser."""

    base: BaseInfo
    tokenizer: Any
    model: Any  # peft.PeftModel
    train_set: list[TokenizedExample]
    valid_set: list[TokenizedExample]
    schedule: list[list[int]]  # every step's batch, as indices into train_set
    params: list[Any]  # the trainable (LoRA) parameters
    optimizer: Any
    scheduler: Any
    collator: Any
    load_s: float  # seconds spent loading and tokenizing


class Run:
    """One run of the trainer process on its folder (``jobs`` is None for an estimate)."""

    def __init__(
        self, files: RunFiles, jobs: JobStore | None, stopping: Callable[[], bool]
    ) -> None:
        self.files = files
        self.jobs = jobs
        self.spec: RunSpec = files.read_spec()
        self.config = self.spec.config
        self.stopping = stopping  # SIGTERM arrived or the run was cancelled

    @property
    def job_store(self) -> JobStore:
        """Where the job is recorded (a run has one; an estimate does not)."""
        assert self.jobs is not None, "an estimate records no job"
        return self.jobs

    def event(self, message: str, level: str = "info") -> None:
        """Record a message event on the job."""
        job = self.job_store.get(self.spec.job_id)
        now = time.time()
        event = JobEvent(f"{job.id}:msg:{time.time_ns()}", now, level, message)
        self.job_store.update(job, [event])

    def set_state(self, status: JobState, **changes: Any) -> Job:
        """Save the job with a new status (and other fields)."""
        job = self.job_store.get(self.spec.job_id)
        for key, value in changes.items():
            setattr(job, key, value)
        job.status = status
        self.job_store.save(job)
        return job

    def check_stop(self) -> None:
        """Raise Stopped once SIGTERM has arrived."""
        if self.stopping():
            raise Stopped

    def prepare(self) -> Setup:
        """Load the base, tokenize the data, plan every epoch's batches, add LoRA.

        Raises DatasetError (too-long examples, by line) or FinetuneError (the base).
        """
        config = self.config
        torch.set_num_threads(config.torch_threads)
        loading = time.monotonic()
        base = read_base(Path(self.spec.base_path))
        tokenizer, model = load_base(Path(self.spec.base_path))
        self.check_stop()
        train_set = self._tokenized(tokenizer, self.files.train)
        valid_set = self._tokenized(tokenizer, self.files.validation)
        lengths = [len(t.input_ids) for t in train_set]
        schedule = [
            batch
            for epoch in range(config.epochs)
            for batch in epoch_batches(lengths, config.batch_tokens, config.seed, epoch)
        ]
        model = lora_model(model, config)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
        scheduler = get_cosine_schedule_with_warmup(
            # Rounded down: a warm-up's first step has a learning rate of 0, so a short run
            # (fewer than 1 / warmup_share steps) is better off without one.
            optimizer,
            int(len(schedule) * config.warmup_share),
            len(schedule),
        )
        collator = DataCollatorWithFlattening(return_position_ids=True, separator_id=-100)
        return Setup(
            base, tokenizer, model, train_set, valid_set, schedule, params, optimizer,
            scheduler, collator, time.monotonic() - loading,
        )  # fmt: skip

    def step(self, setup: Setup, batch: list[int]) -> tuple[float, int]:
        """One optimiser step on the examples ``batch`` indexes: (loss, tokens)."""
        items = [setup.train_set[i] for i in batch]
        loss = setup.model(**_batch(setup.collator, items)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(setup.params, GRAD_CLIP)
        setup.optimizer.step()
        setup.scheduler.step()
        setup.optimizer.zero_grad(set_to_none=True)
        return loss.item(), sum(len(t.input_ids) for t in items)

    def estimate(self, steps: int = 2) -> dict[str, Any]:
        """What the whole run will take here, from ``steps`` steps on its largest batches
        (after one untimed step).

        Returns train_examples, validation_examples, epochs, steps, tokens (all epochs),
        answer_tokens (those the loss is on), tokens_per_s (measured), load_s, seconds (the
        whole run: loading plus tokens at the measured rate) and peak_memory_mb (measured on
        the largest batch, which sets the peak).
        """
        setup = self.prepare()
        largest = sorted(
            setup.schedule, key=lambda b: -sum(len(setup.train_set[i].input_ids) for i in b)
        )[: steps + 1]
        self.step(setup, largest[-1])  # not timed: the first step pays one-time set-up costs
        started, done = time.monotonic(), 0
        for batch in largest[:steps]:
            done += self.step(setup, batch)[1]
        rate = done / max(time.monotonic() - started, 1e-9)
        tokens = sum(len(setup.train_set[i].input_ids) for b in setup.schedule for i in b)
        answers = sum(setup.train_set[i].trained_tokens for b in setup.schedule for i in b)
        return {
            "train_examples": len(setup.train_set),
            "validation_examples": len(setup.valid_set),
            "epochs": self.config.epochs,
            "steps": len(setup.schedule),
            "tokens": tokens,
            "answer_tokens": answers,
            "tokens_per_s": rate,
            "load_s": setup.load_s,
            "seconds": setup.load_s + tokens / rate,
            "peak_memory_mb": _peak_mb(),
        }

    def train(self) -> None:
        """Load, train from the newest checkpoint, write and check the adapter."""
        config = self.config
        setup = self.prepare()
        model, optimizer, scheduler = setup.model, setup.optimizer, setup.scheduler
        schedule, train_set, total = setup.schedule, setup.train_set, len(setup.schedule)

        start, trained_tokens = 0, 0
        checkpoint, problems = checkpoints.load_newest(self.files.checkpoints)
        for problem in problems:
            self.event(problem, "warn")
        if checkpoint is not None:
            set_peft_model_state_dict(model, checkpoint.adapter)
            optimizer.load_state_dict(checkpoint.state["optimizer"])
            scheduler.load_state_dict(checkpoint.state["scheduler"])
            torch.set_rng_state(checkpoint.state["rng"])
            start, trained_tokens = checkpoint.step, int(checkpoint.state["trained_tokens"])
            self.event(f"Resumed from the checkpoint at step {start} of {total}.")
        elif problems:
            self.event("No whole checkpoint is left: training starts again from the beginning.")
        self.set_state(JobState.RUNNING, trained_tokens=trained_tokens)

        started, tokens_since = time.monotonic(), 0
        for step in range(start + 1, total + 1):
            loss, tokens = self.step(setup, schedule[step - 1])
            trained_tokens += tokens
            tokens_since += tokens
            rate = tokens_since / max(time.monotonic() - started, 1e-9)
            left = sum(len(train_set[i].input_ids) for b in schedule[step:] for i in b)
            valid_loss = math.nan
            if step % config.eval_every == 0 or step == total:
                valid_loss = validation_loss(
                    model, setup.collator, setup.valid_set, config.batch_tokens
                )
            self._metrics(step, total, loss, valid_loss, rate, left / rate, trained_tokens)
            if step % config.checkpoint_every == 0 or self.stopping():
                self._checkpoint(model, optimizer, scheduler, step, trained_tokens)
            self.check_stop()

        self._finish(model, setup.base, setup.tokenizer, setup.valid_set, trained_tokens)

    def _tokenized(self, tokenizer: Any, path: Path) -> list[TokenizedExample]:
        if not path.exists():
            return []
        examples = read_examples(path).examples
        # Messages name the dataset's own lines, not the run's copy of them.
        for example, line in zip(examples, self.spec.lines.get(path.name, []), strict=False):
            example.line = line
        what = f"Dataset {self.spec.dataset}" + (
            " (validation)" if path == self.files.validation else ""
        )
        return tokenize_all(tokenizer, examples, self.config.max_seq_len, what)

    def _metrics(
        self,
        step: int,
        total: int,
        train_loss: float,
        valid_loss: float,
        rate: float,
        eta: float,
        trained_tokens: int,
    ) -> None:
        job = self.job_store.get(self.spec.job_id)
        job.trained_tokens = trained_tokens
        data = {
            "step": step,
            "total_steps": total,
            "train_loss": train_loss,
            "valid_loss": None if math.isnan(valid_loss) else valid_loss,
            "tokens_per_s": rate,
            "eta_s": eta,
            "trained_tokens": trained_tokens,
            "peak_memory_mb": _peak_mb(),
        }
        event = JobEvent(
            f"{job.id}:step:{step}", time.time(), "info", f"Step {step}/{total}", "metrics", data
        )
        self.job_store.update(job, [event])

    def _checkpoint(
        self, model: Any, optimizer: Any, scheduler: Any, step: int, tokens: int
    ) -> None:
        state = {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
            "trained_tokens": tokens,
        }
        checkpoints.save(self.files.checkpoints, step, get_peft_model_state_dict(model), state)

    def _finish(
        self, model: Any, base: Any, tokenizer: Any, valid_set: list[TokenizedExample], tokens: int
    ) -> None:
        model.save_pretrained(self.files.adapter_dir)
        adapter = get_peft_model_state_dict(model)
        state = {k: v.detach().float().cpu().numpy() for k, v in adapter.items()}
        size = write_adapter(state, self.config.alpha, base, self.files.adapter_gguf)
        sample = (valid_set or self._tokenized(tokenizer, self.files.train))[0]
        check = compare_logits(
            model,
            Path(self.spec.base_path),
            self.files.adapter_gguf,
            sample.input_ids[:VERIFY_TOKENS],
            self.config.torch_threads,
        )
        if not check.ok:
            raise FinetuneError(
                f"The converted adapter does not reproduce the trained model in llama.cpp "
                f"({check.describe()}); it was not installed."
            )
        self.event(
            f"Adapter written ({size / 1e6:.1f} MB) and checked in llama.cpp: {check.describe()}."
        )
        self.set_state(
            JobState.SUCCEEDED,
            fine_tuned_model=f"ft:{self.spec.name}",
            finished_at=time.time(),
            trained_tokens=tokens,
        )
