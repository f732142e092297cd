"""Model names as a person reads them: "GPT-4o mini · OpenAI" rather than ``openai:gpt-4o-mini``.

One rule for every place the window shows a model; the id stays what the CLI, the JSON output
and the databases carry, and the window shows it as a tooltip.

``display_name(model_id)`` gives ``<name> · <where>`` (``where`` left out when there is
nothing to add):

- ``local:default``: the embedded model, "SmolLM2 135M · built in";
- ``local:<catalog name>``: the catalog model's name, "Qwen2.5 1.5B";
- ``local:<name>`` for a GGUF the person added: a readable form of its file name,
  "Llama 3.2 3B Instruct (Q4_K_M)" for ``Llama-3.2-3B-Instruct-Q4_K_M.gguf``;
- ``local:ft:<name>``: "<name> · fine-tuned from <base's name>";
- ``openai:<model>``: OpenAI's own name for it, "GPT-4.1 mini · OpenAI" (a small table, and
  ``gpt-*`` ids written the same way when the table does not know them);
- ``openai:ft:<base>:<org>:<suffix>:<id>``: "<suffix> · fine-tuned from <base's name> · OpenAI";
- ``<server>:<model>``: "<model> · <server>".

Any other text still gets a label: characters that do not print (controls, bidirectional
overrides, zero-width marks, undecodable file-name bytes) become spaces, and a name longer
than ``MAX_NAME`` characters is elided in the middle, keeping both ends.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import PurePath

from desktop.core.errors import ModelError
from desktop.core.models.downloads import CATALOG
from desktop.core.models.ids import LOCAL_FT_PREFIX, LOCAL_PREFIX, OPENAI, split_model_id
from desktop.core.models.local_files import DEFAULT_LLM_ID

SEPARATOR = " · "
# Longest model name and longest place ("OpenAI", a server's name) shown before eliding: a
# picker entry stays readable in a combo box about 40 characters wide, and the full id is
# always in the tooltip.
MAX_NAME = 40
MAX_WHERE = 24
ELLIPSIS = "…"

BUILT_IN_NAME = "SmolLM2 135M"  # the embedded GGUF: local_files.DEFAULT_LLM_FILE
BUILT_IN_WHERE = "built in"
UNNAMED = "Unnamed model"

# The catalog's models as their makers write them (the repositories in downloads.CATALOG).
CATALOG_NAMES: dict[str, str] = {
    "qwen2.5-0.5b": "Qwen2.5 0.5B",
    "llama3.2-1b": "Llama 3.2 1B",
    "smollm2-1.7b": "SmolLM2 1.7B",
    "qwen2.5-1.5b": "Qwen2.5 1.5B",
    "llama3.2-3b": "Llama 3.2 3B",
    "phi3.5-mini": "Phi-3.5 mini",
}

# OpenAI's common chat models as OpenAI's model pages (platform.openai.com/docs/models) write
# them. Other ``gpt-`` ids are written the same way by ``_openai_name``.
OPENAI_NAMES: dict[str, str] = {
    "gpt-4o": "GPT-4o",
    "gpt-4o-mini": "GPT-4o mini",
    "gpt-4.1": "GPT-4.1",
    "gpt-4.1-mini": "GPT-4.1 mini",
    "gpt-4.1-nano": "GPT-4.1 nano",
    "gpt-4-turbo": "GPT-4 Turbo",
    "gpt-4": "GPT-4",
    "gpt-3.5-turbo": "GPT-3.5 Turbo",
    "o1": "o1",
    "o1-mini": "o1-mini",
    "o3": "o3",
    "o3-mini": "o3-mini",
    "o4-mini": "o4-mini",
}

# A snapshot of an OpenAI model: "gpt-4o-mini-2024-07-18" is gpt-4o-mini as of that date.
_SNAPSHOT = re.compile(r"^(?P<model>.+?)-(?P<date>\d{4}-\d{2}-\d{2})$")
# The quantisation at the end of a GGUF's file name: Q4_K_M, IQ3_XS, Q8_0, F16, BF16...
_QUANT = re.compile(r"[-_.](?P<quant>(?:I?Q\d|B?F16|F32)[A-Za-z0-9_]*)$", re.IGNORECASE)
# A parameter count such as 0.5b or 135m, written as model makers do: 0.5B, 135M.
_SIZE = re.compile(r"\d+(?:\.\d+)?[bm]", re.IGNORECASE)


def display_name(
    model_id: str, *, local_files: Mapping[str, str] | None = None, base: str | None = None
) -> str:
    """The name of ``model_id`` to show a person: never empty; each part (name, base, place)
    is elided to ``MAX_NAME`` characters, a provider or server to ``MAX_WHERE``.

    ``local_files`` is ``Settings.local_models`` (name -> GGUF path): a GGUF the person added
    is named after its file. ``base`` is the id of the model a fine-tuned one was trained
    from, when known (a local job's ``base``; a provider's ``ft:`` id names its own).
    """
    return SEPARATOR.join(_parts(model_id, local_files or {}, base))


def base_name(model_id: str, local_files: Mapping[str, str] | None = None) -> str:
    """Only the name in ``display_name`` ("GPT-4o mini"), as a fine-tuned model cites its base."""
    return _parts(model_id, local_files or {}, None)[0]


def _parts(model_id: str, local_files: Mapping[str, str], base: str | None) -> list[str]:
    """The name of ``model_id``, then where it runs or comes from, each already elided."""
    if model_id == DEFAULT_LLM_ID:
        return [BUILT_IN_NAME, BUILT_IN_WHERE]
    if model_id.startswith(LOCAL_FT_PREFIX):
        name = _name(model_id.removeprefix(LOCAL_FT_PREFIX))
        return [name, f"fine-tuned from {base_name(base, local_files)}" if base else "fine-tuned"]
    if model_id.startswith(LOCAL_PREFIX):
        return [_local_name(model_id.removeprefix(LOCAL_PREFIX), local_files)]
    try:
        provider, model = split_model_id(model_id)
    except ModelError:
        return [_name(model_id)]
    where = (
        "OpenAI" if provider == OPENAI else _elide(_clean(provider, "unnamed server"), MAX_WHERE)
    )
    if model.startswith("ft:"):
        name, trained_from = _provider_fine_tuned(model, provider, base)
        return [name, f"fine-tuned from {trained_from}", where]
    if provider == OPENAI:
        return [_openai_name(model), where]
    return [_name(model), where]


def _local_name(name: str, local_files: Mapping[str, str]) -> str:
    """A downloaded catalog model by its catalog name, a file the person added by its file."""
    path = local_files.get(name)
    for entry in CATALOG:
        # A file the person added under a catalog model's name is still named by its file.
        if entry.name == name and (path is None or PurePath(path).name == entry.filename):
            return CATALOG_NAMES.get(entry.name) or readable_file_name(entry.filename)
    return readable_file_name(PurePath(path).name) if path else _name(name)


def _provider_fine_tuned(model: str, provider: str, base: str | None) -> tuple[str, str]:
    """(name, base's name) of a provider's fine-tuned model.

    OpenAI writes ``ft:<base>:<org>:<suffix>:<id>``: the suffix the job was given names it,
    else the provider's id for it. Any other ``ft:`` id is named by what follows ``ft:``.
    """
    parts = model.split(":")
    if len(parts) >= 4:
        name = parts[3] or (parts[4] if len(parts) > 4 else "")
        trained_from = base or parts[1]
    else:
        name, trained_from = model.removeprefix("ft:"), base or ""
    if not trained_from.strip():
        origin = "an unknown model"
    elif provider == OPENAI:
        origin = _openai_name(trained_from)
    else:
        origin = _name(trained_from)
    return _name(name), origin


def _openai_name(model: str) -> str:
    """OpenAI's name for ``model``: the table's, with a snapshot's date in brackets; other
    ``gpt-`` ids written alike ("GPT-<version> <variant>"); any other id as it is."""
    snapshot = _SNAPSHOT.match(model)
    if snapshot:
        return _elide(f"{_openai_name(snapshot['model'])} ({snapshot['date']})", MAX_NAME)
    if model in OPENAI_NAMES:
        return OPENAI_NAMES[model]
    version, _, variant = model.removeprefix("gpt-").partition("-")
    if model.startswith("gpt-") and version:
        return _name(f"GPT-{version} {variant.replace('-', ' ')}")
    return _name(model)


def readable_file_name(file_name: str) -> str:
    """A GGUF's file name as a model name: "Llama-3.2-3B-Instruct-Q4_K_M.gguf" ->
    "Llama 3.2 3B Instruct (Q4_K_M)". Dots stay (they are versions: 3.2, 2.5)."""
    stem = re.sub(r"\.gguf$", "", file_name, flags=re.IGNORECASE)
    quant = _QUANT.search(stem)
    if quant:
        stem = stem[: quant.start()]
    words = [w.upper() if _SIZE.fullmatch(w) else w for w in re.split(r"[-_\s]+", stem) if w]
    name = " ".join(words)
    if quant:
        name = f"{name} ({quant['quant'].upper()})" if name else quant["quant"].upper()
    return _name(name)


def _name(text: str) -> str:
    """``text`` cleaned and elided to ``MAX_NAME``."""
    return _elide(_clean(text, UNNAMED), MAX_NAME)


def _clean(text: str, fallback: str) -> str:
    """``text`` with what does not print turned into single spaces; ``fallback`` if nothing is
    left. ``str.isprintable`` is false for controls, format marks (bidirectional overrides,
    zero-width spaces), separators other than the space, and lone surrogates (file-name bytes
    that are not UTF-8)."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(unicodedata.normalize("NFC", printable).split()) or fallback


def _elide(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters in the middle, keeping both ends: ids of one family
    share their start and differ at the end (a suffix, a job id, a quantisation)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return f"{text[:head]}{ELLIPSIS}{text[len(text) - tail :]}"
