"""Retrieval quality: hit@k and MRR of dense, keyword (BM25) and hybrid search on real documents.

The corpus (``bench/eval/corpus``) is real documentation no one on this project wrote: the
Debian FAQ (HTML chapters) and the Debian New Maintainers' Guide (a PDF); see its SOURCE.md.
The questions (``bench/eval/questions.jsonl``) each name the file, and for a PDF the page,
that answers them: one JSON object a line, ``{"question", "file", "page"}``, where ``file``
is relative to the corpus folder and ``page`` is null or a physical 1-based page number.

The corpus is ingested with Folio's own services into a fresh temporary data folder (or into
``--home``, which is kept and re-synced, so repeated runs skip the embedding). Then every
question is searched in each mode exactly as the app does (``retriever.search(q, k=k)``):

- rank: position of the first result whose path ends with the expected file (and whose page
  matches, when one is given), within the top ``k``; none when it is not there;
- hit@k: share of questions with a rank; MRR: mean of 1/rank (0 without one);
- deep rank (diagnostics only): the same rank in a separate search for ``--depth`` results,
  to tell "just missed" from "nowhere near". Hybrid prefetch grows with the requested k, so
  a deep hybrid ranking is not the top-k ranking extended.

Targets (the issue): hybrid hit@5 >= 0.95 and MRR >= 0.9 with the embedded default embedder.

    .venv/bin/python bench/eval_retrieval.py [--corpus DIR] [--questions FILE] [--k 5]
        [--depth 20] [--home DIR] [--json]

A table goes to stdout, or with ``--json`` exactly one JSON document goes to stdout and the
table to stderr. Exit code 0 whether or not the targets are met (it is a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(REPO))

from desktop.core.library.catalog import INDEXED  # noqa: E402
from desktop.core.paths import data_home  # noqa: E402
from desktop.services import Services  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parent / "eval"
DEFAULT_CORPUS = EVAL_DIR / "corpus"
DEFAULT_QUESTIONS = EVAL_DIR / "questions.jsonl"
MODES = ("dense", "keyword", "hybrid")
TARGETS = {"hit": 0.95, "mrr": 0.9}


def load_questions(path: Path, corpus: Path) -> list[dict[str, Any]]:
    """The questions, checked: every expected file must exist in the corpus."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        if not isinstance(item.get("question"), str) or not isinstance(item.get("file"), str):
            raise SystemExit(f"{path}:{number}: needs string fields 'question' and 'file'")
        page = item.get("page")
        if page is not None and not isinstance(page, int):
            raise SystemExit(f"{path}:{number}: 'page' must be null or an integer")
        if not (corpus / item["file"]).is_file():
            raise SystemExit(f"{path}:{number}: {item['file']} is not a file under {corpus}")
        questions.append({"question": item["question"], "file": item["file"], "page": page})
    if not questions:
        raise SystemExit(f"{path}: no questions")
    return questions


def _relative(path: str, corpus: Path) -> str:
    try:
        return Path(path).resolve().relative_to(corpus).as_posix()
    except ValueError:
        return path


def first_rank(results: list[Any], expected_file: str, page: int | None) -> int | None:
    """1-based rank of the first result from the expected file (and page), else None."""
    suffix = "/" + expected_file.lstrip("/")
    for rank, result in enumerate(results, start=1):
        path = result.path.replace(os.sep, "/")
        if path.endswith(suffix) and (page is None or result.page == page):
            return rank
    return None


def evaluate(
    services: Services, questions: list[dict[str, Any]], corpus: Path, k: int, depth: int
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-mode summary and per-question detail."""
    retriever = services.retriever
    details = []
    for item in questions:
        row: dict[str, Any] = {**item, "rank": {}, "deep_rank": {}, "top": {}}
        for mode in MODES:
            results = retriever.search(item["question"], k=k, mode=mode)
            deep = retriever.search(item["question"], k=depth, mode=mode)
            row["rank"][mode] = first_rank(results, item["file"], item["page"])
            row["deep_rank"][mode] = first_rank(deep, item["file"], item["page"])
            row["top"][mode] = [
                {"file": _relative(r.path, corpus), "page": r.page, "score": round(r.score, 4)}
                for r in results
            ]
        details.append(row)
    summary = {mode: _scores([row["rank"][mode] for row in details]) for mode in MODES}
    kinds = sorted({_kind(row["file"]) for row in details})
    if len(kinds) > 1:  # e.g. HTML chapters against PDF pages
        for mode in MODES:
            summary[mode]["by_type"] = {
                kind: _scores([row["rank"][mode] for row in details if _kind(row["file"]) == kind])
                for kind in kinds
            }
    return summary, details


def _kind(file: str) -> str:
    return Path(file).suffix.lower().lstrip(".") or "none"


def _scores(ranks: list[int | None]) -> dict[str, Any]:
    hits = sum(1 for r in ranks if r is not None)
    return {
        "questions": len(ranks),
        "hit_at_k": round(hits / len(ranks), 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / len(ranks), 4),
        "hits": hits,
        "top1": sum(1 for r in ranks if r == 1),
    }


def _where(file: str, page: int | None) -> str:
    return file if page is None else f"{file} p{page}"


def _rank_text(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def render(result: dict[str, Any]) -> str:
    k = result["k"]
    ingest = result["ingest"]
    lines = [
        f"corpus: {result['corpus']}  ({result['files']} files, {result['chunks']} chunks)",
        f"ingest: {ingest['seconds']:.1f}s, {ingest['chunks_embedded']} chunks embedded, "
        f"{ingest['unchanged']} files unchanged, {ingest['failed']} failed",
        f"questions: {result['questions']}  (k={k}, deep ranks from k={result['depth']})",
        "",
        f"{'mode':<9} {'hit@' + str(k):>7} {'MRR':>7} {'top-1':>6}",
    ]
    for mode in MODES:
        s = result["modes"][mode]
        lines.append(
            f"{mode:<9} {s['hit_at_k']:>7.3f} {s['mrr']:>7.3f} {s['top1']:>3}/{s['questions']}"
        )
        for kind, part in s.get("by_type", {}).items():
            lines.append(
                f"  {kind:<7} {part['hit_at_k']:>7.3f} {part['mrr']:>7.3f} "
                f"{part['top1']:>3}/{part['questions']}"
            )
    hybrid = result["modes"]["hybrid"]
    met = hybrid["hit_at_k"] >= TARGETS["hit"] and hybrid["mrr"] >= TARGETS["mrr"]
    lines.append(
        f"target (hybrid hit@{k} >= {TARGETS['hit']}, MRR >= {TARGETS['mrr']}): "
        + ("met" if met else "NOT met")
    )
    misses = [row for row in result["details"] if any(row["rank"][m] != 1 for m in MODES)]
    if misses:
        lines += ["", "not first in every mode (rank in top k / deep rank; '-' = absent):"]
        lines.append(f"  {'dense':>7} {'keyword':>7} {'hybrid':>7}  question -> expected")
        for row in misses:
            cells = [
                f"{_rank_text(row['rank'][m])}/{_rank_text(row['deep_rank'][m])}" for m in MODES
            ]
            where = _where(row["file"], row["page"])
            top = row["top"]["hybrid"][:1]
            got = _where(top[0]["file"], top[0]["page"]) if top else "nothing"
            lines.append(
                f"  {cells[0]:>7} {cells[1]:>7} {cells[2]:>7}  {row['question']}\n"
                f"  {'':>23}  -> {where}; hybrid #1: {got}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus).resolve()
    if not corpus.is_dir():
        raise SystemExit(f"{corpus} is not a folder")
    questions = load_questions(Path(args.questions), corpus)
    with tempfile.TemporaryDirectory(prefix="folio-eval-") as tmp:
        services = Services(data_home(args.home or tmp))
        try:
            started = time.monotonic()
            report = services.ingestor.ingest([corpus])
            ingest = report.to_json()
            ingest["wall_seconds"] = round(time.monotonic() - started, 3)
            if report.failures:
                ingest["failures"] = [
                    {"file": _relative(path, corpus), "reason": reason}
                    for path, reason in report.failures
                ]
            indexed = [r for r in services.library.all_files() if r.status == INDEXED]
            chunks = services.store.count()
            started = time.monotonic()
            summary, details = evaluate(services, questions, corpus, args.k, args.depth)
            search_seconds = time.monotonic() - started
        finally:
            services.close()
    return {
        "corpus": str(corpus),
        "files": len(indexed),
        "chunks": chunks,
        "ingest": ingest,
        "questions": len(questions),
        "k": args.k,
        "depth": args.depth,
        "search_seconds": round(search_seconds, 3),
        "targets": {"hybrid_hit_at_k": TARGETS["hit"], "hybrid_mrr": TARGETS["mrr"]},
        "modes": summary,
        "details": details,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="folder to index")
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS), help="JSONL questions")
    parser.add_argument("--k", type=int, default=5, help="results per search (hit@k, MRR@k)")
    parser.add_argument("--depth", type=int, default=20, help="results for the deep rank")
    parser.add_argument("--home", help="data folder to (re)use instead of a temporary one")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    if args.k < 1 or args.depth < args.k:
        parser.error("need 1 <= k <= depth")
    result = run(args)
    table = render(result)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
