"""Embedding models: all-MiniLM-L6-v2 in ONNX by default, run by fastembed/onnxruntime."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from desktop.core.models import EMBED_MODEL_NAME, embedding_model_dir

# onnxruntime's arena grows with the batch: about 1.5 GB at 32 texts, a few hundred MB at 8.
EMBED_BATCH_SIZE = 8


def local_embedding(cache_dir: Path, threads: int) -> BaseEmbedding:
    """The embedded default, loaded from a local folder; never touches the network."""
    from llama_index.embeddings.fastembed import FastEmbedEmbedding

    return FastEmbedEmbedding(
        model_name=EMBED_MODEL_NAME,
        specific_model_path=str(embedding_model_dir(cache_dir)),
        threads=threads,
        embed_batch_size=EMBED_BATCH_SIZE,
    )
