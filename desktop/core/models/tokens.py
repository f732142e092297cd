"""Token counts with tiktoken, offline: the encodings come from the copy LlamaIndex ships.

Fine-tuning validation counts OpenAI tokens, and chunks meant for a remote embedding model
are sized in them; neither may reach for tiktoken's download.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import tiktoken

from desktop.core.errors import ModelError

_encoding_lock = threading.Lock()


def token_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding, from the copy llama-index ships unless TIKTOKEN_CACHE_DIR is set.

    There is no network to fetch encodings from; llama-index bundles cl100k_base and
    o200k_base. Like ``llama_index.core.utils.get_tokenizer``, the cache folder is pointed
    at only while loading, and only when the user has not chosen one. tiktoken keeps a
    loaded encoding for the life of the process.
    """
    with _encoding_lock:
        chosen = os.environ.get("TIKTOKEN_CACHE_DIR")
        if chosen is not None:
            try:
                return tiktoken.get_encoding(name)
            except Exception as exc:
                raise ModelError(
                    f"Cannot load the tiktoken encoding {name} to count tokens from "
                    f"TIKTOKEN_CACHE_DIR={chosen} ({exc}). Unset TIKTOKEN_CACHE_DIR to use "
                    "the copy that comes with Folio."
                ) from exc
        os.environ["TIKTOKEN_CACHE_DIR"] = str(_bundled_tiktoken_cache())
        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:
            raise ModelError(
                f"Cannot load the tiktoken encoding {name} to count tokens ({exc}); "
                "reinstall Folio."
            ) from exc
        finally:
            del os.environ["TIKTOKEN_CACHE_DIR"]


def _bundled_tiktoken_cache() -> Path:
    """llama-index's ``_static/tiktoken_cache`` (files named by the sha1 of their URL)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or spec.origin is None:
        raise ModelError("llama-index is not installed: reinstall Folio to count tokens.")
    return Path(spec.origin).parent / "_static" / "tiktoken_cache"
