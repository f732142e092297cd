"""Recent embeddings reused: a question asked again sends nothing new to the embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.core.models.embedding_cache import EmbeddingCache
from tests.core.test_embeddings_remote import BatchCounter


@pytest.fixture
def counter(embed_model) -> Iterator[BatchCounter]:  # type: ignore[no-untyped-def]
    """Every batch of texts the shared embedding model embeds, as LlamaIndex reports it."""
    counting = BatchCounter()
    embed_model.callback_manager.add_handler(counting)
    yield counting
    embed_model.callback_manager.remove_handler(counting)


def test_the_cache_gives_the_models_vectors_and_keeps_the_most_recent(  # type: ignore[no-untyped-def]
    embed_model, counter: BatchCounter
) -> None:
    cache = EmbeddingCache(embed_model, capacity=2)
    texts = ["The heron waded through the marsh.", "Glaciers carve valleys."]
    assert np.allclose(cache.texts(texts), embed_model.get_text_embedding_batch(texts))
    counter.batches.clear()
    assert np.allclose(cache.texts(texts[::-1]), embed_model.get_text_embedding_batch(texts[::-1]))
    assert counter.batches == [2]  # only the check's own batch: the cache asked for nothing
    counter.batches.clear()
    cache.texts(["Tides follow the moon.", "Tides follow the moon."])  # once, though twice
    assert counter.batches == [1]
    cache.texts([texts[1]])  # evicted: the glaciers were the least recently used of three
    cache.texts(["Tides follow the moon."])  # still there
    assert counter.batches == [1, 1]
    # A query is embedded as a query, apart from the same words as a passage.
    query = cache.query(texts[0])
    assert np.allclose(query, embed_model.get_query_embedding(texts[0]))
    assert counter.batches[-2:] == [1, 1]  # the cache's call and the check's


def test_a_question_asked_again_embeds_nothing_new(services, counter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "tapes.md").write_text(
        "# Backups\n\nThe backup tapes are stored in the Zurich vault. Tapes rotate weekly.\n"
    )
    (folder / "lunch.md").write_text("# Lunch\n\nLunch is served from noon until two.\n")
    services.ingestor.ingest([folder])
    question = "Where are the backup tapes stored?"
    counter.batches.clear()
    first = services.chat.ask(question)
    assert first.citations and first.support is not None
    assert sum(counter.batches) > 1  # the query, then the passages' sentences
    counter.batches.clear()
    again = services.chat.ask(question)  # a new chat: the same search, the same sentences
    assert counter.batches == []
    assert again.support == first.support
    assert [c.path for c in again.citations] == [c.path for c in first.citations]
