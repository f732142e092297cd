"""Where a local run keeps its files, and what both the trainer and Folio read from them.

``<home>/finetune/local/<job id>/``:

- ``run.json``: what to train (``RunSpec``), written once before the trainer starts;
- ``train.jsonl``, ``validation.jsonl``: the dataset as it was at the start, so editing the
  dataset meanwhile cannot change a run that resumes;
- ``checkpoints/step-NNNNNN/``: the adapter, optimiser and scheduler state every few steps,
  each written in a temporary folder and renamed when whole;
- ``adapter/``: the trained adapter as PEFT saves it, and ``adapter.gguf`` for llama.cpp;
- ``trainer.lock``: held by the training process while it runs (a lock dies with its
  process, so a crash never leaves a run that looks alive); ``trainer.pid``: the process,
  written when it is started (it holds the lock only once Python is up); ``cancel``:
  asks the trainer to stop for good; ``trainer.log``: its output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.files import write_atomically
from desktop.core.finetune.local.config import TrainConfig


class Stopped(Exception):
    """SIGTERM arrived: the run stops here (cancelled, or to be resumed later)."""


@dataclass(frozen=True)
class RunSpec:
    """What a run trains: the base, the data, the settings and the new model's name."""

    job_id: str
    name: str  # the model's name: its id is ``local:ft:<name>``
    base: str  # the base model's id, e.g. "local:default"
    base_path: str  # its GGUF file
    dataset: str  # the dataset's name, or the file's path
    persona: str | None
    created_at: float
    config: TrainConfig = field(default_factory=TrainConfig)
    # Each copied file's lines in the dataset itself, in order: {"train.jsonl": [3, 4, ...]}.
    lines: dict[str, list[int | None]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """run.json's content."""
        return {**asdict(self), "config": self.config.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        """Read back from run.json."""
        return cls(**{**data, "config": TrainConfig.from_json(data.get("config", {}))})


class RunFiles:
    """The paths of one run's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.spec_path = folder / "run.json"
        self.train = folder / "train.jsonl"
        self.validation = folder / "validation.jsonl"
        self.checkpoints = folder / "checkpoints"
        self.adapter_dir = folder / "adapter"
        self.adapter_gguf = folder / "adapter.gguf"
        self.lock = folder / "trainer.lock"
        self.pid = folder / "trainer.pid"
        self.cancel = folder / "cancel"
        self.log = folder / "trainer.log"
        self.restarts = folder / "restarts.json"  # trainer starts since the last new step

    def write_spec(self, spec: RunSpec) -> None:
        """Save run.json (atomically)."""
        write_atomically(self.spec_path, [json.dumps(spec.to_json(), indent=1)])

    def read_spec(self) -> RunSpec:
        """run.json's RunSpec (OSError or ValueError if missing or damaged)."""
        return RunSpec.from_json(json.loads(self.spec_path.read_text(encoding="utf-8")))
