"""A PEFT LoRA adapter written as a GGUF LoRA file, which llama.cpp applies to the unchanged
base GGUF (``Llama(model_path=base, lora_path=adapter)``).

This does what llama.cpp's ``convert_lora_to_gguf.py`` does for the architectures Folio
trains, with the ``gguf`` package's own tensor-name map: the script itself needs the base
model as a Hugging Face folder and llama.cpp's whole ``convert_hf_to_gguf.py`` beside it,
while Folio's base is the GGUF file it already runs. The file holds ``general.type =
adapter``, ``adapter.type = lora``, ``adapter.lora.alpha`` and, for each adapted weight
``blk.N.<name>.weight``, the tensors ``….lora_a`` (rank × in) and ``….lora_b`` (out × rank)
in float16 (the script's default type). llama.cpp scales their product by alpha / rank, as
PEFT does.

``LLAMA`` GGUFs store the query and key projections with their rows permuted for llama.cpp's
rotary embedding (``LlamaModel.permute`` in ``convert_hf_to_gguf.py``), and transformers
undoes that on loading; so the adapter's B matrices of those two projections are permuted
the same way here. A test compares llama.cpp's logits with PyTorch's, so a conversion error
cannot pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from desktop.core.errors import FinetuneError

# Architectures whose GGUF permutes the query and key rows (llama.cpp's LlamaModel and its
# subclasses); Qwen2 and Qwen3 store them as transformers does.
_PERMUTED_QK = {"llama"}
# Architectures whose GGUF transformers can load for training (its GGUF_SUPPORTED_ARCHITECTURES
# that are decoder-only chat models Folio has checked).
SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "qwen3")
_PEFT_PREFIX = "base_model.model."


@dataclass(frozen=True)
class BaseInfo:
    """What the adapter must match in the base GGUF."""

    architecture: str  # general.architecture, e.g. "llama"
    blocks: int  # transformer layers
    heads: int  # attention heads
    kv_heads: int  # key/value heads (fewer with grouped-query attention)
    name: str | None  # general.name, if the file has one


def _field(reader: gguf.GGUFReader, key: str) -> Any:
    entry = reader.fields.get(key)
    return entry.contents() if entry is not None else None


def read_base(path: Path) -> BaseInfo:
    """The base GGUF's architecture and shape; FinetuneError if it is not one Folio trains."""
    try:
        reader = gguf.GGUFReader(path)
    except (OSError, ValueError) as exc:
        raise FinetuneError(
            f"{path} is not a GGUF file Folio can read: {str(exc).rstrip('. ')}."
        ) from exc
    arch = _field(reader, "general.architecture")
    if arch not in SUPPORTED_ARCHITECTURES:
        raise FinetuneError(
            f"{path.name} is a {arch!r} model; local training supports "
            f"{', '.join(SUPPORTED_ARCHITECTURES)} (SmolLM2, Llama 3.2, Qwen2.5, Qwen3). "
            "Choose one of those as the base."
        )
    heads = int(_field(reader, f"{arch}.attention.head_count"))
    kv_heads = _field(reader, f"{arch}.attention.head_count_kv")
    return BaseInfo(
        architecture=arch,
        blocks=int(_field(reader, f"{arch}.block_count")),
        heads=heads,
        kv_heads=int(kv_heads) if kv_heads is not None else heads,
        name=_field(reader, "general.name"),
    )


def _permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """``LlamaModel.permute`` of llama.cpp's ``convert_hf_to_gguf.py``, on a matrix's rows."""
    rows = weights.shape[0]
    return (
        weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_tensors(state: Mapping[str, np.ndarray], base: BaseInfo) -> list[tuple[str, np.ndarray]]:
    """PEFT's adapter tensors (``get_peft_model_state_dict`` names, as float arrays) as
    (GGUF name, array) pairs; FinetuneError for a tensor llama.cpp has no weight for."""
    arch = next(a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == base.architecture)
    names = gguf.get_tensor_name_map(arch, base.blocks)
    out: list[tuple[str, np.ndarray]] = []
    for key in sorted(state):
        module, _, part = key.removeprefix(_PEFT_PREFIX).rpartition(".lora_")
        which = part.split(".")[0]  # "A" or "B"
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if not module or which not in ("A", "B") or target is None:
            raise FinetuneError(f"Adapter tensor {key!r} has no counterpart in llama.cpp.")
        array = np.asarray(state[key], dtype=np.float32)
        if which == "B" and base.architecture in _PERMUTED_QK:
            if module.endswith(".q_proj"):
                array = _permute(array, base.heads)
            elif module.endswith(".k_proj"):
                array = _permute(array, base.kv_heads)
        out.append((f"{target}.lora_{which.lower()}", np.ascontiguousarray(array, np.float16)))
    return out


def write_adapter(state: Mapping[str, np.ndarray], alpha: float, base: BaseInfo, path: Path) -> int:
    """Write the adapter to ``path`` (through a temporary file, then renamed); its bytes."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(tmp, base.architecture)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    for name, array in gguf_tensors(state, base):
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with open(tmp, "rb") as file:
        os.fsync(file.fileno())
    tmp.replace(path)
    return path.stat().st_size
