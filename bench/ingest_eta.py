"""The time-left estimate while indexing: how far it is from the time the run then took.

One fresh-library ingest in a fresh process's services (the embedding model loads inside
the run, as it does for a person's first ingest), on the generated corpus of
``ingest_throughput.py``. Every progress report is kept with its time. Side by side, on the
same reports:

- now: the estimate Folio gave (``Progress.eta_seconds``), paced from the first chunk
  embedded;
- before: the estimate paced from the run's start, rebuilt from the same report (the share
  done is ``chunks_done / chunks_total``, which is how ``chunks_total`` is made);
- the time the run actually went on for after each report.

Reported: the first estimate each gives against the truth at that moment, and the median
error (|estimate - truth| / truth) over the reports in the run's first half.

    .venv/bin/python bench/ingest_eta.py [--json] [--files 30]
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from ingest_throughput import make_corpus


def run(files: int = 30) -> dict[str, Any]:
    from desktop.core.paths import data_home
    from desktop.core.tasks import Progress
    from desktop.services import Services

    root = Path(tempfile.mkdtemp(prefix="folio-eta-"))
    try:
        corpus = root / "corpus"
        make_corpus(corpus, files=files, paragraphs_per_file=6)
        services = Services(data_home(root / "home"))
        seen: list[tuple[float, Progress]] = []
        try:
            ingestor = services.ingestor  # opens the store and library, not the embedder
            started = time.monotonic()
            report = ingestor.ingest(
                [corpus], on_progress=lambda p: seen.append((time.monotonic(), p))
            )
            ended = time.monotonic()
        finally:
            services.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = []
    for at, p in seen:
        left = ended - at
        before = None
        if p.chunks_done and p.chunks_total:
            fraction = p.chunks_done / p.chunks_total
            before = (at - started) / fraction - (at - started)
        rows.append((at - started, left, p.eta_seconds, before))

    def first(index: int) -> dict[str, float] | None:
        row = next((r for r in rows if r[index] is not None and r[1] > 0), None)
        if row is None:
            return None
        return {"at_s": row[0], "estimate_s": row[index], "truth_s": row[1]}

    def median_error(index: int) -> float | None:
        half = (ended - started) / 2
        errors = [
            abs(r[index] - r[1]) / r[1]
            for r in rows
            if r[index] is not None and 0 < r[0] <= half and r[1] > 0
        ]
        return statistics.median(errors) if errors else None

    return {
        "files": report.added,
        "chunks": report.chunks_embedded,
        "seconds": ended - started,
        "reports": len(rows),
        "now": {"first": first(2), "median_error_first_half": median_error(2)},
        "before": {"first": first(3), "median_error_first_half": median_error(3)},
    }


def print_human(r: dict[str, Any]) -> None:
    print(
        f"{r['files']} files, {r['chunks']} chunks in {r['seconds']:.1f} s, "
        f"{r['reports']} progress reports"
    )
    for name in ("before", "now"):
        f, err = r[name]["first"], r[name]["median_error_first_half"]
        shown = (
            f"first at {f['at_s']:.1f} s: {f['estimate_s']:.1f} s left (truth {f['truth_s']:.1f} s)"
            if f
            else "none"
        )
        print(
            f"{name:>6}: {shown}; median error over the first half {err:.0%}"
            if err is not None
            else f"{name:>6}: {shown}"
        )


def main() -> None:
    p = benchlib.parser(__doc__)
    p.add_argument("--files", type=int, default=30)
    args = p.parse_args()
    benchlib.emit(run(args.files), args.json, print_human)


if __name__ == "__main__":
    main()
