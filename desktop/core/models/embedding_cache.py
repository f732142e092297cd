"""Recent embeddings, reused: one question is often embedded several times over.

A question asked of several configurations (Compare's grid, an evaluation run), a
regenerated answer or a continued one searches with the same query and ranks the same
passages' sentences again. Each of those is an embedding call: a network round trip for a
remote provider, CPU time for the embedded model. The cache belongs to one model object, so
a library switched to another embedding model starts with an empty one.

LlamaIndex's ``IngestionCache`` caches whole transformation runs over nodes, not single
query or sentence vectors, and ``functools.lru_cache`` cannot take a batch while answering
part of it from the cache; hence this small LRU map.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from llama_index.core.base.embeddings.base import BaseEmbedding

# Sentences of a few questions' passages (tens each) and their queries, many times over;
# 4,096 vectors of 384 floats are about 13 MB as Python lists.
CAPACITY = 4096


class EmbeddingCache:
    """The vectors ``model`` gave for the last ``capacity`` texts, by text and kind.

    A query and a passage text are kept apart: some models embed a query with an
    instruction a passage does not get. Safe to share between threads (Compare asks remote
    cells in parallel); two threads missing the same text may both compute it.
    """

    def __init__(self, model: BaseEmbedding, capacity: int = CAPACITY) -> None:
        self.model = model
        self._capacity = capacity
        self._vectors: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def query(self, text: str) -> list[float]:
        """The query embedding of ``text`` (the model's ``get_query_embedding``); raises
        what the model raises."""
        found = self._get([("query", text)])[0]
        if found is not None:
            return found
        vector = self.model.get_query_embedding(text)
        self._put([("query", text)], [vector])
        return vector

    def texts(self, texts: Sequence[str]) -> list[list[float]]:
        """The text embeddings of ``texts``, in order (the model's
        ``get_text_embedding_batch``, called once for those not cached); raises what the
        model raises."""
        keys = [("text", t) for t in texts]
        found = self._get(keys)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found, strict=True) if v is None))
        if missing:
            computed = dict(zip(missing, self.model.get_text_embedding_batch(missing), strict=True))
            self._put([("text", t) for t in missing], list(computed.values()))
            found = [v if v is not None else computed[t] for t, v in zip(texts, found, strict=True)]
        return [v for v in found if v is not None]

    def clear(self) -> None:
        """Forget every vector (a benchmark measuring a first ask clears it before each)."""
        with self._lock:
            self._vectors.clear()

    def _get(self, keys: list[tuple[str, str]]) -> list[list[float] | None]:
        with self._lock:
            found = []
            for key in keys:
                vector = self._vectors.get(key)
                if vector is not None:
                    self._vectors.move_to_end(key)
                else:
                    self.misses += 1
                found.append(vector)
            return found

    def _put(self, keys: list[tuple[str, str]], vectors: list[list[float]]) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)
