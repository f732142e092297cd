"""Search latency at 100,000 chunks. Target: p50 under 10 ms, excluding query embedding.

Fills an ``EdgeVectorStore`` (Folio's embedded Qdrant Edge store) in a temp folder with
100,000 ``TextNode``s: random unit 384-dim vectors, short texts of real English words and
Folio's usual metadata, added in batches through ``store.add`` (which also computes the
BM25 sparse vectors). Reports how long loading and ``store.optimize()`` (HNSW build) took.

Then times ``store.query`` for hybrid (dense + BM25, RRF), dense and keyword modes, p50/p95
over 300 queries each, modes interleaved: once on the store as ingestion leaves it (Folio
does not call ``optimize()`` itself) and once after ``optimize()``. Separately, it times
the real embedder's ``get_query_embedding`` (p50/p95), which a search adds on top.

    .venv/bin/python bench/search_latency.py [--json] [--chunks 100000] [--queries 300]
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
import numpy as np
from ingest_throughput import prose_paragraphs, prose_sentences

TARGET_P50_MS = 10.0
DIM = 384
MODES = ("hybrid", "dense", "keyword")
_ADD_BATCH = 2000


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50) * 1000, 3),
        "p95": round(percentile(values, 95) * 1000, 3),
        "mean": round(statistics.fmean(values) * 1000, 3),
    }


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load_store(store: Any, chunks: int, vocabulary: list[str], seed: int = 3) -> None:
    from llama_index.core.schema import TextNode

    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    keys = ["file_path", "file_name", "page", "title", "modified"]
    for start in range(0, chunks, _ADD_BATCH):
        count = min(_ADD_BATCH, chunks - start)
        vectors = unit_vectors(rng, count)
        nodes = []
        for offset in range(count):
            index = start + offset
            file = index // 20
            text = " ".join(words.choices(vocabulary, k=words.randint(20, 40)))
            nodes.append(
                TextNode(
                    text=text,
                    embedding=vectors[offset].tolist(),
                    metadata={
                        "file_path": f"/library/folder-{file % 50}/doc-{file}.md",
                        "file_name": f"doc-{file}.md",
                        "page": None,
                        "title": f"Document {file}",
                        "modified": "2024-05-01T12:00:00+00:00",
                    },
                    excluded_embed_metadata_keys=keys,
                    excluded_llm_metadata_keys=keys,
                )
            )
        store.add(nodes)
    store.commit()


def time_queries(store: Any, queries: list[tuple[str, list[float]]], k: int) -> dict[str, Any]:
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    kinds = {
        "hybrid": VectorStoreQueryMode.HYBRID,
        "dense": VectorStoreQueryMode.DEFAULT,
        "keyword": VectorStoreQueryMode.SPARSE,
    }
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for number, (text, vector) in enumerate(queries):
        for mode in MODES:
            query = VectorStoreQuery(
                query_embedding=None if mode == "keyword" else vector,
                query_str=text,
                similarity_top_k=k,
                mode=kinds[mode],
            )
            started = time.perf_counter()
            result = store.query(query)
            elapsed = time.perf_counter() - started
            assert result.nodes, f"no results for {mode} query {text!r}"
            if number >= 10:  # the first few are warm-up
                times[mode].append(elapsed)
    return {mode: summary_ms(values) for mode, values in times.items()}


def time_query_embedding(questions: list[str]) -> dict[str, float]:
    from desktop.services import Services

    with tempfile.TemporaryDirectory(prefix="folio-bench-embed-") as tmp:
        services = Services(Path(tmp))
        embed = services.embed_model
        for question in questions[:5]:
            embed.get_query_embedding(question)
        times = []
        for question in questions:
            started = time.perf_counter()
            embed.get_query_embedding(question)
            times.append(time.perf_counter() - started)
        services.close()
    return summary_ms(times)


def run(chunks: int = 100_000, n_queries: int = 300, k: int = 5) -> dict[str, Any]:
    from desktop.core.store.edge import EdgeVectorStore

    sentences = prose_sentences(prose_paragraphs())
    vocabulary = sorted({w.lower() for s in sentences for w in re.findall(r"[A-Za-z]{3,}", s)})
    rng = random.Random(5)
    questions = [" ".join(s.rstrip(".!?").split()[:8]) + "?" for s in rng.sample(sentences, 100)]
    query_texts = [" ".join(rng.sample(vocabulary, rng.randint(3, 6))) for _ in range(n_queries)]
    vectors = unit_vectors(np.random.default_rng(9), n_queries)
    queries = list(zip(query_texts, vectors.tolist(), strict=True))

    with tempfile.TemporaryDirectory(prefix="folio-bench-search-") as tmp:
        store = EdgeVectorStore(Path(tmp) / "edge", DIM)
        try:
            started = time.perf_counter()
            load_store(store, chunks, vocabulary)
            load_s = time.perf_counter() - started
            count = store.count()
            before = time_queries(store, queries, k)
            started = time.perf_counter()
            store.optimize()
            optimize_s = time.perf_counter() - started
            after = time_queries(store, queries, k)
        finally:
            store.close()
    embedding = time_query_embedding(questions)
    worst_p50 = max(after[mode]["p50"] for mode in MODES)
    return {
        "benchmark": "search_latency",
        "chunks": count,
        "queries": n_queries,
        "k": k,
        "vocabulary": len(vocabulary),
        "load_s": round(load_s, 2),
        "optimize_s": round(optimize_s, 2),
        "unoptimized_ms": before,
        "optimized_ms": after,
        "query_embedding_ms": embedding,
        "target_p50_ms": TARGET_P50_MS,
        "target_met_optimized": worst_p50 < TARGET_P50_MS,
        "target_met_unoptimized": max(before[m]["p50"] for m in MODES) < TARGET_P50_MS,
    }


def print_human(r: dict[str, Any]) -> None:
    print(f"Search latency at {r['chunks']} chunks (k={r['k']}, {r['queries']} queries per mode)")
    print(
        f"  load (store.add, incl. BM25) {r['load_s']:.1f} s; "
        f"optimize (HNSW) {r['optimize_s']:.1f} s"
    )
    for label, key in (("as ingested", "unoptimized_ms"), ("optimized", "optimized_ms")):
        print(f"  {label}:")
        for mode in MODES:
            t = r[key][mode]
            print(f"    {mode:8s} p50 {t['p50']:8.2f} ms   p95 {t['p95']:8.2f} ms")
    e = r["query_embedding_ms"]
    print(f"  query embedding (real embedder) p50 {e['p50']:.2f} ms, p95 {e['p95']:.2f} ms")
    for label, key in (
        ("optimized", "target_met_optimized"),
        ("as ingested", "target_met_unoptimized"),
    ):
        verdict = "met" if r[key] else "NOT met"
        print(f"  target p50 < {r['target_p50_ms']:g} ms ({label}): {verdict}")


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    result = run(args.chunks, args.queries)
    benchlib.emit(result, args.json, print_human)


if __name__ == "__main__":
    main()
