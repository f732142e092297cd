"""A base GGUF with a LoRA adapter folded into its weights: one file other llama.cpp apps
can load without adapter support.

Each adapted weight is dequantized (``gguf.quants``), gets ``alpha / rank × B·A`` added (the
adapter's tensors are already in the GGUF's own layout, permutations included) and is
written as float16, as llama.cpp's own ``llama-export-lora`` writes merged weights (it is not
in ``llama-cpp-python``): quantized back to Q4_1, most of the adapter's change is rounded
away (measured: the merged model's logits then stay as far from base + adapter as the base
alone is). Every other tensor and every metadata field is copied as it is, the way
``gguf/scripts/gguf_new_metadata.py`` copies them; so the file is larger than the base.
"""

from __future__ import annotations

import os
from pathlib import Path

import gguf
import numpy as np
from gguf.quants import dequantize

from desktop.core.errors import FinetuneError


def _adapter(path: Path) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(alpha, {base tensor name: (A, B)}) of a GGUF LoRA adapter."""
    reader = gguf.GGUFReader(path)
    alpha_field = reader.fields.get("adapter.lora.alpha")
    if alpha_field is None:
        raise FinetuneError(f"{path} is not a GGUF LoRA adapter (it has no adapter.lora.alpha).")
    parts: dict[str, dict[str, np.ndarray]] = {}
    for tensor in reader.tensors:
        name, _, which = tensor.name.rpartition(".lora_")
        parts.setdefault(name, {})[which] = np.asarray(tensor.data, dtype=np.float32)
    return float(alpha_field.contents()), {n: (p["a"], p["b"]) for n, p in parts.items()}


def write_merged(base_path: Path, adapter_path: Path, out: Path) -> int:
    """Write ``base_path`` with the adapter merged in to ``out`` (through a temporary file,
    then renamed); its bytes. FinetuneError if the adapter does not fit the base."""
    alpha, pairs = _adapter(adapter_path)
    base = gguf.GGUFReader(base_path)
    arch = base.fields[gguf.Keys.General.ARCHITECTURE].contents()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(tmp, arch)
    for field in base.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    data: list[np.ndarray] = []
    for tensor in base.tensors:
        array, qtype = tensor.data, tensor.tensor_type
        if tensor.name in pairs:
            a, b = pairs.pop(tensor.name)
            weights = dequantize(array, qtype).astype(np.float32)
            if weights.shape != (b.shape[0], a.shape[1]):
                raise FinetuneError(
                    f"The adapter's {tensor.name} is {b.shape[0]}×{a.shape[1]}, the base's "
                    f"{weights.shape[0]}×{weights.shape[1]}: it was trained on another base."
                )
            weights += (alpha / a.shape[0]) * (b @ a)
            array, qtype = weights.astype(np.float16), gguf.GGMLQuantizationType.F16
        writer.add_tensor_info(tensor.name, array.shape, array.dtype, array.nbytes, qtype)
        data.append(array)
    if pairs:
        raise FinetuneError(f"The adapter has weights the base lacks: {', '.join(sorted(pairs))}.")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for array in data:
        writer.write_tensor_data(array)
    writer.close()
    with open(tmp, "rb") as file:
        os.fsync(file.fileno())
    tmp.replace(out)  # a failure before here leaves at most the temporary file
    return out.stat().st_size
