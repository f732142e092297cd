"""BM25 sparse vectors with and without Folio's CJK bigrams, side by side in one run.

Folio rewrites each Chinese, Japanese or Korean run as overlapping bigrams before Qdrant
Edge's BM25 tokenizes it (``desktop/core/store/keywords.py``). This measures what that
costs per chunk: on English chunks (where the text is passed through after one regex
search) and on Chinese ones, against the bare ``Bm25.embed_document``, alternating rounds.
For scale: embedding one chunk takes tens of milliseconds (docs/PERFORMANCE.md).

    .venv/bin/python bench/keyword_tokens.py [--json] [--rounds 5]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import benchlib

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import qdrant_edge as qe  # noqa: E402

from desktop.core.store.keywords import Keywords  # noqa: E402

CHINESE = (
    "病假工资按照本人基本工资的百分之八十计算，需提供医院证明。"
    "考勤制度：每月迟到三次以上扣除全勤奖，旷工一天扣三天工资。"
)


def _chunks() -> dict[str, list[str]]:
    pages = [
        p.read_text(errors="ignore") for p in sorted((REPO / "bench/eval/corpus").rglob("*.html"))
    ]
    english = [page[i : i + 1200] for page in pages for i in range(0, len(page), 1200)][:400]
    chinese = [(CHINESE * 8)[i : i + 400] for i in range(0, 3000, 100)] * 10
    return {"english": english, "chinese": chinese}


def _per_chunk_us(embed: Any, chunks: list[str]) -> float:
    started = time.perf_counter()
    for chunk in chunks:
        embed(chunk)
    return (time.perf_counter() - started) / len(chunks) * 1e6


def main() -> None:
    args = benchlib.parser(__doc__)
    args.add_argument("--rounds", type=int, default=5)
    opts = args.parse_args()
    bare, folio = qe.Bm25(qe.Bm25Config()), Keywords()
    result: dict[str, Any] = {"benchmark": "keyword_tokens"}
    for name, chunks in _chunks().items():
        times: dict[str, list[float]] = {"bare": [], "folio": []}
        for _ in range(opts.rounds):  # alternating, so both see the same machine state
            times["bare"].append(_per_chunk_us(bare.embed_document, chunks))
            times["folio"].append(_per_chunk_us(folio.document, chunks))
        best = {k: round(min(v), 1) for k, v in times.items()}
        result[name] = {
            "chunks": len(chunks),
            "bare_us": best["bare"],
            "folio_us": best["folio"],
            "ratio": round(best["folio"] / best["bare"], 2),
        }

    def human(r: dict[str, Any]) -> None:
        for name in ("english", "chinese"):
            x = r[name]
            print(
                f"{name}: {x['chunks']} chunks, Bm25 {x['bare_us']} us/chunk, with CJK "
                f"bigrams {x['folio_us']} us/chunk ({x['ratio']}x)"
            )

    benchlib.emit(result, opts.json, human)


if __name__ == "__main__":
    main()
