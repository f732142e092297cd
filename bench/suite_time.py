"""Wall time of the test suite at two commits, one after the other in one run.

Each commit is checked out into its own worktree under a temporary folder and its suite runs
with this checkout's virtual environment, ``PYTHONPATH`` pointing at the worktree so the
tests (and the ``folio-cli`` processes they start) import that commit's code. Output:
tests passed, failed and skipped and the wall seconds of each run.

``--apart DIR`` runs the tests under ``DIR`` in a pytest process of their own and the rest
in another, at both commits alike, the wall times added: older commits' window tests abort
when a test before them in the same process made a bare QGuiApplication.

    .venv/bin/python bench/suite_time.py BEFORE AFTER [--apart tests/ui] [--json]

Example (the layout and shared test set-up): ``bench/suite_time.py 6afcaf1 e4186af``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def run_suite(commit: str, scratch: Path, apart: str | None) -> dict[str, Any]:
    """Check out ``commit`` into ``scratch`` and time its whole pytest run (seconds), in
    one process or two (``apart``)."""
    tree = scratch / commit
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
        check=True,
        capture_output=True,
    )
    parts = [[apart], [f"--ignore={apart}"]] if apart else [[]]
    seconds, counts, summaries = 0.0, dict[str, int](), []
    try:
        env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen")
        for part in parts:
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *part],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds += time.perf_counter() - started
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            if not SUMMARY.search(last):  # the process died: say how, not a row of dots
                last = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
            summaries.append(last)
            for n, kind in SUMMARY.findall(last):
                counts[kind.rstrip("s")] = counts.get(kind.rstrip("s"), 0) + int(n)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )
    return {
        "commit": commit,
        "seconds": round(seconds, 1),
        "counts": counts,
        "summary": " | ".join(summaries),
    }


def main() -> None:
    args = benchlib.parser(__doc__)
    args.add_argument("before")
    args.add_argument("after")
    args.add_argument(
        "--apart", metavar="DIR", help="run the tests under DIR in a process of their own"
    )
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="folio-suite-") as scratch:
        runs = [run_suite(c, Path(scratch), opts.apart) for c in (opts.before, opts.after)]
    result = {"runs": runs, "ratio": round(runs[1]["seconds"] / runs[0]["seconds"], 2)}

    def human(res: dict[str, Any]) -> None:
        for run in res["runs"]:
            print(f"{run['commit']}: {run['seconds']:.0f} s — {run['summary']}")
        print(f"after / before: {res['ratio']}×")

    benchlib.emit(result, opts.json, human)


if __name__ == "__main__":
    main()
