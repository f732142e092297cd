"""Checkpoints of a training run: written whole or not at all, read back or reported damaged.

Each checkpoint is a folder ``step-NNNNNN`` holding the LoRA weights (``adapter.safetensors``)
and the training state (``state.pt``: optimiser, scheduler, random generators, counters).
It is written in a temporary folder and renamed, so a kill while saving leaves the previous
checkpoint as the newest. transformers' ``Trainer`` saves straight into its checkpoint
folder, which a kill can leave half written and which it would then resume from; that,
and packing batches by tokens, is why the loop and its checkpoints are Folio's own.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from desktop.core.files import sync_folder

KEEP = 2  # checkpoints kept: the newest, and one before it should the newest be damaged
_PREFIX = "step-"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read back."""

    step: int  # optimiser steps done
    adapter: dict[str, torch.Tensor]  # PEFT state dict of the LoRA weights
    state: dict[str, Any]  # optimiser, scheduler, rng, trained_tokens, losses


def save(folder: Path, step: int, adapter: dict[str, torch.Tensor], state: dict[str, Any]) -> Path:
    """Write checkpoint ``step`` under ``folder``; drop all but the newest ``KEEP``."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{_PREFIX}{step:06d}"
    tmp = folder / f".tmp-{step:06d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in adapter.items()}, tmp / "adapter.safetensors"
    )
    torch.save(state, tmp / "state.pt")
    for name in ("adapter.safetensors", "state.pt"):
        with open(tmp / name, "rb") as file:
            os.fsync(file.fileno())
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    sync_folder(folder)
    for old in steps(folder)[:-KEEP]:
        shutil.rmtree(folder / f"{_PREFIX}{old:06d}", ignore_errors=True)
    return final


def steps(folder: Path) -> list[int]:
    """Steps of the whole checkpoints under ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.name.startswith(_PREFIX) and entry.name[len(_PREFIX) :].isdigit():
            found.append(int(entry.name[len(_PREFIX) :]))
    return sorted(found)


def load_newest(folder: Path) -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint that reads back, and a sentence for each damaged one skipped.

    A damaged checkpoint (a file cut short or overwritten, by a disk error or by hand) is
    removed, so the next resume does not trip on it again.
    """
    problems: list[str] = []
    for step in reversed(steps(folder)):
        path = folder / f"{_PREFIX}{step:06d}"
        try:
            adapter = load_file(path / "adapter.safetensors")
            state = torch.load(path / "state.pt", weights_only=True)
            if not isinstance(state, dict) or state.get("step") != step:
                raise ValueError("its state does not belong to this step")
        except Exception as exc:
            problems.append(f"Checkpoint at step {step} is damaged ({exc}); it was removed.")
            shutil.rmtree(path, ignore_errors=True)
            continue
        return Checkpoint(step, adapter, state), problems
    return None, problems
