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
from desktop.core.finetune.local.gguf_lora import read_base, write_adapter
from desktop.core.finetune.local.run_files import RunFiles, RunSpec, Stopped
from desktop.core.finetune.local.verify import compare_logits
from desktop.core.finetune.records import Job, JobEvent, JobState, JobStore

GRAD_CLIP = 1.0  # max gradient norm, as transformers' Trainer defaults to
VERIFY_TOKENS = 64
# A status check holds the lock for an instant to see whether a trainer runs: wait that out.
LOCK_WAIT_S = 2.0  # tokens of a held-out example compared through llama.cpp

log = logging.getLogger("folio.trainer")


def load_base(gguf_path: Path) -> tuple[Any, Any]:
    """(tokenizer, model) from a GGUF file, dequantized to float32 by transformers."""
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
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
    return collator([{"input_ids": t.input_ids, "labels": t.labels} for t in items])


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


class Run:
    """One run of the trainer process on its folder."""

    def __init__(self, files: RunFiles, jobs: JobStore, stopping: Callable[[], bool]) -> None:
        self.files = files
        self.jobs = jobs
        self.spec: RunSpec = files.read_spec()
        self.config = self.spec.config
        self.stopping = stopping  # SIGTERM arrived or the run was cancelled

    def event(self, message: str, level: str = "info") -> None:
        """Record a message event on the job."""
        job = self.jobs.get(self.spec.job_id)
        now = time.time()
        event = JobEvent(f"{job.id}:msg:{time.time_ns()}", now, level, message)
        self.jobs.update(job, [event])

    def set_state(self, status: JobState, **changes: Any) -> Job:
        """Save the job with a new status (and other fields)."""
        job = self.jobs.get(self.spec.job_id)
        for key, value in changes.items():
            setattr(job, key, value)
        job.status = status
        self.jobs.save(job)
        return job

    def check_stop(self) -> None:
        """Raise Stopped once SIGTERM has arrived."""
        if self.stopping():
            raise Stopped

    def train(self) -> None:
        """Load, train from the newest checkpoint, write and check the adapter."""
        config = self.config
        torch.set_num_threads(config.torch_threads)
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
        total = len(schedule)
        model = lora_model(model, config)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
        scheduler = get_cosine_schedule_with_warmup(
            optimizer, math.ceil(total * config.warmup_share), total
        )
        collator = DataCollatorWithFlattening(return_position_ids=True, separator_id=-100)

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
        valid_loss = math.nan
        for step in range(start + 1, total + 1):
            items = [train_set[i] for i in schedule[step - 1]]
            loss = model(**_batch(collator, items)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            tokens = sum(len(t.input_ids) for t in items)
            trained_tokens += tokens
            tokens_since += tokens
            rate = tokens_since / max(time.monotonic() - started, 1e-9)
            left = sum(len(train_set[i].input_ids) for b in schedule[step:] for i in b)
            if step % config.eval_every == 0 or step == total:
                valid_loss = validation_loss(model, collator, valid_set, config.batch_tokens)
            self._metrics(step, total, float(loss), valid_loss, rate, left / rate, trained_tokens)
            valid_loss = math.nan
            if step % config.checkpoint_every == 0 or self.stopping():
                self._checkpoint(model, optimizer, scheduler, step, trained_tokens)
            self.check_stop()

        self._finish(model, base, tokenizer, valid_set, trained_tokens)

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
        job = self.jobs.get(self.spec.job_id)
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
        self.jobs.update(job, [event])

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
        state = {k: v.detach().float().numpy() for k, v in get_peft_model_state_dict(model).items()}
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
