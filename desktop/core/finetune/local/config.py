"""A local training run's settings, with defaults that work on a laptop CPU."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from desktop.core.errors import FinetuneError


class SettingOutOfRange(FinetuneError):
    """A training setting out of its range: ``setting`` (a TrainConfig field), its
    ``value``, the ``rule`` it breaks (other settings named in braces) and every setting's
    value (``values``)."""

    def __init__(self, setting: str, value: Any, rule: str, values: dict[str, Any]) -> None:
        self.setting, self.value, self.rule, self.values = setting, value, rule, values
        super().__init__(
            f"Training setting {setting} = {value!r} is out of range: use "
            f"{self.rule_with(lambda name: name)}."
        )

    def rule_with(self, name: Callable[[str], str]) -> str:
        """The rule with each setting it names written as ``name(setting)``."""
        return self.rule.format_map({k: name(k) for k in self.values})


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run.

    The LoRA defaults (rank 16, alpha 2 × rank, every linear layer) follow the QLoRA paper's
    finding that adapting all linear layers matters more than the rank (Dettmers et al.,
    2023, §4) and are what Axolotl's and Unsloth's examples start from. The learning rate is
    higher than their 2e-4 because the default model is small (135 M parameters) and a
    persona dataset is a few hundred examples: measured in ``bench/local_training.py``.
    """

    epochs: int = 3
    rank: int = 16
    alpha: int = 32  # LoRA scaling is alpha / rank (PEFT and llama.cpp agree)
    learning_rate: float = 1e-3
    max_seq_len: int = 512  # tokens per example, prompt and answer together
    # Tokens per optimiser step, examples packed without padding. 512 (about as many persona
    # examples a step as the bare loop's 4) reached the bare loop's validation loss at 1.73×
    # its throughput and 0.6 of its memory; 1,024 was as fast but 0.16 worse at the same
    # tokens, from half as many steps (bench/local_training.py, docs/PERFORMANCE.md).
    batch_tokens: int = 512
    warmup_share: float = 0.05  # of all steps, linear warm-up then cosine decay
    checkpoint_every: int = 5  # steps between checkpoints (a crash loses at most these)
    eval_every: int = 10  # steps between validation losses
    seed: int = 0
    threads: int = 0  # 0: every core

    def __post_init__(self) -> None:
        # A rule may name another setting in braces: the message fills in its name, the
        # CLI its flag and value (``SettingOutOfRange.rule_with``).
        checks = (
            ("epochs", 1 <= self.epochs <= 100, "a whole number from 1 to 100"),
            ("rank", 1 <= self.rank <= 256, "a whole number from 1 to 256"),
            ("alpha", self.alpha >= 1, "at least 1"),
            ("learning_rate", 0 < self.learning_rate <= 1, "above 0 and at most 1, e.g. 1e-3"),
            ("max_seq_len", 32 <= self.max_seq_len <= 32768, "from 32 to 32768 tokens"),
            ("batch_tokens", self.batch_tokens >= self.max_seq_len, "at least {max_seq_len}"),
            ("warmup_share", 0 <= self.warmup_share < 1, "from 0 to below 1"),
            ("checkpoint_every", self.checkpoint_every >= 1, "at least 1 step"),
            ("eval_every", self.eval_every >= 1, "at least 1 step"),
            ("threads", self.threads >= 0, "0 (every core) or more"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise SettingOutOfRange(name, getattr(self, name), rule, self.to_json())

    @classmethod
    def chosen(cls, **given: Any) -> TrainConfig:
        """Settings from the values a person chose (None: the default). Unless chosen,
        ``batch_tokens`` is the default or ``max_seq_len``, whichever is larger: a step must
        hold the longest example. Raises SettingOutOfRange."""
        values = {k: v for k, v in given.items() if v is not None}
        if "batch_tokens" not in values:
            values["batch_tokens"] = max(cls.batch_tokens, values.get("max_seq_len", 0))
        return cls(**values)

    @property
    def torch_threads(self) -> int:
        """Threads PyTorch computes with."""
        return self.threads or os.cpu_count() or 1

    def to_json(self) -> dict[str, Any]:
        """The settings as stored with the run and shown as the job's hyperparameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """Settings read back; unknown keys (from a newer Folio) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
