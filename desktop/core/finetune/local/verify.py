"""Does llama.cpp, given the base GGUF and the adapter GGUF, compute what PyTorch computed?

llama.cpp runs the base quantized (Q4_1 for the embedded model) while PyTorch trained on its
dequantized weights, so the two never agree exactly. The yardstick is the base model's own
gap: the same tokens through the base alone in both. A right adapter widens that gap by a
little (quantization noise grows with what the adapter changes: measured, 3 % of the
adapter's own effect on the logits); a wrong one (a missed permutation, a transposed
matrix, the wrong scale) widens it by a large share of that effect (over 20 % when only the
query and key permutation is missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

# How much of the adapter's effect may show up as extra gap before the conversion counts as
# wrong (see above for the measured shares), plus a margin for adapters that change little.
EFFECT_SHARE = 0.1
GAP_MARGIN = 0.05


@dataclass(frozen=True)
class LogitCheck:
    """Mean absolute logit differences over a sample's tokens."""

    base_gap: float  # llama.cpp base vs PyTorch base: the quantization noise
    adapted_gap: float  # llama.cpp base + adapter vs PyTorch trained model
    adapter_effect: float  # PyTorch trained vs PyTorch base: what the adapter changes
    top1_agreement: float  # share of positions where both pick the same next token

    @property
    def ok(self) -> bool:
        """The adapter widens the gap by a small share of what it changes."""
        return self.adapted_gap - self.base_gap <= EFFECT_SHARE * self.adapter_effect + GAP_MARGIN

    def describe(self) -> str:
        """One line for the job's events."""
        return (
            f"logit gap {self.adapted_gap:.3f} with the adapter vs {self.base_gap:.3f} for the "
            f"base alone; the adapter moves logits by {self.adapter_effect:.3f}; same next "
            f"token at {self.top1_agreement:.0%} of positions"
        )


def _llama_logits(base: Path, adapter: Path | None, ids: list[int], threads: int) -> np.ndarray:
    # Imported on first use: it loads llama.cpp.
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(base),
        lora_path=str(adapter) if adapter else None,
        n_ctx=max(64, len(ids) + 8),
        n_threads=threads,
        logits_all=True,
        verbose=False,
    )
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)], dtype=np.float32)
    finally:
        llm.close()


def compare_logits(
    model: Any, base: Path, adapter: Path, ids: list[int], threads: int
) -> LogitCheck:
    """Compare the PEFT ``model`` (adapter enabled and disabled) with llama.cpp on ``ids``."""
    tokens = torch.tensor([ids], device=model.device)
    model.eval()
    with torch.no_grad():
        trained = model(input_ids=tokens).logits[0].float().cpu().numpy()
        with model.disable_adapter():
            plain = model(input_ids=tokens).logits[0].float().cpu().numpy()
    llama_base = _llama_logits(base, None, ids, threads)
    llama_adapted = _llama_logits(base, adapter, ids, threads)
    return LogitCheck(
        base_gap=float(np.abs(llama_base - plain).mean()),
        adapted_gap=float(np.abs(llama_adapted - trained).mean()),
        adapter_effect=float(np.abs(trained - plain).mean()),
        top1_agreement=float((llama_adapted.argmax(1) == trained.argmax(1)).mean()),
    )
