"""Embedding models: all-MiniLM-L6-v2 in ONNX by default, or OpenAI and compatible servers.

A model is named by an id, ``<provider>:<model>``:

- ``local:all-MiniLM-L6-v2``: the embedded default, run by fastembed/onnxruntime;
- ``openai:text-embedding-3-small`` / ``openai:text-embedding-3-large``: OpenAI's API;
- ``<server>:<model>``: any OpenAI-compatible server the user configured (Ollama, LM Studio,
  vLLM, llama.cpp's server), whose base URL and key the caller passes in.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from tokenizers import Tokenizer

from desktop.core.errors import ModelError
from desktop.core.models.errors import translate_error
from desktop.core.models.ids import MAX_RETRIES, OPENAI, OPENAI_URL, Provider
from desktop.core.models.local_files import (
    EMBED_MODEL_NAME,
    LOCAL_EMBEDDING_ID,
    embedding_model_dir,
)
from desktop.core.models.tokens import token_encoding
from desktop.core.secrets import OPENAI_KEY_ENV

OPENAI_EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large")

# onnxruntime's arena grows with the batch: about 1.5 GB at 32 texts, a few hundred MB at 8.
EMBED_BATCH_SIZE = 8
# Texts per request to a remote model: few round trips, and a slow self-hosted server still
# answers one request well within the timeout.
REMOTE_EMBED_BATCH_SIZE = 64
REMOTE_TIMEOUT_SECONDS = 120.0


def local_embedding(cache_dir: Path, threads: int) -> BaseEmbedding:
    """The embedded default, loaded from a local folder; never touches the network."""
    # Imported on first use: it loads LlamaIndex, which takes a while.
    from llama_index.embeddings.fastembed import FastEmbedEmbedding

    return FastEmbedEmbedding(
        model_name=EMBED_MODEL_NAME,
        specific_model_path=str(embedding_model_dir(cache_dir)),
        threads=threads,
        embed_batch_size=EMBED_BATCH_SIZE,
    )


def _known_ids() -> str:
    openai = ", ".join(f"openai:{name}" for name in OPENAI_EMBEDDING_MODELS)
    return f"{LOCAL_EMBEDDING_ID}, {openai}, or <server>:<model> for a server set up in settings"


def embedding_for(
    model_id: str,
    cache_dir: Path,
    threads: int,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
) -> BaseEmbedding:
    """The embedding model named by ``model_id``; remote ones use ``api_key`` and ``base_url``.

    ``openai:`` models go to ``base_url``, else ``$OPENAI_BASE_URL``, else OpenAI itself; any
    other prefix names a user's OpenAI-compatible server, which needs ``base_url``.
    """
    remote = remote_target(model_id, api_key=api_key, base_url=base_url)
    if remote is None:
        return local_embedding(cache_dir, threads)
    name, url = remote
    return remote_embedding(name, api_key, url)


def remote_target(
    model_id: str, *, api_key: str | None = None, base_url: str | None = None
) -> tuple[str, str] | None:
    """(model name, base URL) of a remote embedding model, None for the local one.

    ModelError when ``model_id`` cannot be used as given: unknown, a server that is not set
    up, or OpenAI itself without a key. Nothing is loaded or sent, so this is the check to
    make before asking a person to send their documents anywhere.
    """
    provider, _, name = model_id.partition(":")
    if not provider or not name:
        raise ModelError(f"Unknown embedding model {model_id!r}. Use {_known_ids()}.")
    if provider == "local":
        if model_id != LOCAL_EMBEDDING_ID:
            raise ModelError(
                f"Unknown local embedding model {model_id!r}: the one installed is "
                f"{LOCAL_EMBEDDING_ID}."
            )
        return None
    if provider == "openai":
        if name not in OPENAI_EMBEDDING_MODELS:
            raise ModelError(f"Unknown OpenAI embedding model {model_id!r}. Use {_known_ids()}.")
        url = base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
        if not api_key and url.rstrip("/") == OPENAI_URL:
            choose = f"or choose {LOCAL_EMBEDDING_ID}, which runs on this computer."
            raise ModelError(
                f"{model_id} needs an OpenAI API key: add one in Settings → Models and "
                f"Providers or set OPENAI_API_KEY, {choose}",
                cli=f"{model_id} needs an OpenAI API key: store one with `folio-cli models "
                f"set-key openai` or set OPENAI_API_KEY, {choose}",
            )
        return name, url
    if not base_url:
        raise ModelError(
            f"Unknown embedding model {model_id!r}: no server named {provider!r} is set up. "
            f"Add it in settings, or use {_known_ids()}."
        )
    return name, base_url


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@functools.cache
def _remote_embedding_class() -> Callable[[str, str | None, str], BaseEmbedding]:
    """``RemoteEmbedding``, defined on first use: the OpenAI SDK adds 0.6 s to start-up."""
    # Imported on first use: it loads the OpenAI SDK, which takes a while.
    import openai
    from llama_index.embeddings.openai import OpenAIEmbedding

    class RemoteEmbedding(OpenAIEmbedding):
        """LlamaIndex's OpenAI embedding for OpenAI or a compatible server, any model name.

        Failures become ``ModelError``s naming the server and the model, worded as every
        provider error is (``models/errors.py``), so a person reads "Cannot reach ... at
        http://..." rather than a stack of HTTP library errors.
        """

        def __init__(self, model: str, api_key: str | None, base_url: str) -> None:
            # OpenAIEmbedding checks ``model`` against OpenAI's own list; ``model_name`` is
            # its way to send any other name as is.
            name: dict[str, Any] = (
                {"model": model} if model in OPENAI_EMBEDDING_MODELS else {"model_name": model}
            )
            super().__init__(
                # Self-hosted servers often need no key, but the SDK will not start without one.
                api_key=api_key or "not-needed",
                api_base=base_url,
                embed_batch_size=REMOTE_EMBED_BATCH_SIZE,
                max_retries=MAX_RETRIES,
                timeout=REMOTE_TIMEOUT_SECONDS,
                **name,
            )

        @classmethod
        def class_name(cls) -> str:
            return "FolioRemoteEmbedding"

        def _create_retry_decorator(self) -> Callable[[Any], Any]:
            # The SDK already retries (MAX_RETRIES); LlamaIndex's loop on top would
            # multiply the attempts and keep a dead server's error from a person for a minute.
            return lambda function: function

        @contextmanager
        def _errors(self) -> Iterator[None]:
            """API errors as ``ModelError``s worded by the one translation table."""
            base = str(self.api_base).rstrip("/")
            name = OPENAI if base == OPENAI_URL else "the embedding server"
            try:
                yield
            except openai.OpenAIError as exc:
                p = Provider(name, base, OPENAI_KEY_ENV if name == OPENAI else None)
                error = translate_error(exc, p, self.model_name, REMOTE_TIMEOUT_SECONDS)
                raise ModelError(_capital(error.message), cli=_capital(str(error))) from exc

        def _get_query_embedding(self, query: str) -> list[float]:
            with self._errors():
                return super()._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            with self._errors():
                return super()._get_text_embedding(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            with self._errors():
                return super()._get_text_embeddings(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            with self._errors():
                return await super()._aget_query_embedding(query)

        async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            with self._errors():
                return await super()._aget_text_embeddings(texts)

    return RemoteEmbedding


def remote_embedding(model: str, api_key: str | None, base_url: str) -> BaseEmbedding:
    """``model`` on OpenAI or an OpenAI-compatible server at ``base_url``."""
    return _remote_embedding_class()(model, api_key, base_url)


def embedding_dim(model: BaseEmbedding) -> int:
    """The size of ``model``'s vectors, found by embedding one short text."""
    return len(model.get_text_embedding("Folio"))


# OpenAI's embedding models read at most 8,191 cl100k_base tokens
# (platform.openai.com/docs/guides/embeddings); assumed for compatible servers too.
REMOTE_MAX_TOKENS = 8191


@dataclass(frozen=True)
class ChunkTokens:
    """How the text splitter counts a chunk so that the embedder reads all of it.

    ``tokenize`` maps a text to its tokens as the embedder counts them, special tokens left
    out; ``limit`` is the most such tokens one chunk (title metadata included) may have.
    """

    tokenize: Callable[[str], Sequence[int]]
    limit: int


def chunk_tokens(model: BaseEmbedding) -> ChunkTokens:
    """The embedder's own token count for ``model``.

    The embedded model: the WordPiece tokenizer fastembed runs (from the model folder's
    ``tokenizer.json``) with its truncation lifted, so an over-long text counts in full,
    and 256 less [CLS] and [SEP]. Any other model: tiktoken cl100k_base, OpenAI's, and
    8,191 tokens.
    """
    from llama_index.embeddings.fastembed import FastEmbedEmbedding  # heavy: onnxruntime

    if isinstance(model, FastEmbedEmbedding):
        # The tokenizer the embedder itself encodes with, so the counts agree by construction.
        running = model._model.model.tokenizer  # type: ignore[attr-defined]
        tokenizer = Tokenizer.from_str(running.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        reads = int((running.truncation or {}).get("max_length", 256))
        special = tokenizer.post_processor.num_special_tokens_to_add(False)

        def wordpieces(text: str) -> Sequence[int]:
            return tokenizer.encode(text, add_special_tokens=False).ids

        return ChunkTokens(wordpieces, reads - special)
    encoding = token_encoding("cl100k_base")  # offline: LlamaIndex's copy, never a download
    return ChunkTokens(encoding.encode, REMOTE_MAX_TOKENS)
