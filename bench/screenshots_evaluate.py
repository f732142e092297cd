"""Screenshots of the Compare and Evaluate windows on a data folder, for the docs.

Opens the Compare window with the newest saved comparison reopened in it (its default grid
when there is none), and the Evaluate window on the evaluation set ``--set`` with the
report of that set's newest run, waits until the report is computed, and saves
``compare.png`` and ``evaluate-report.png`` into ``--out-dir`` with ``QWidget.grab``. Runs
offscreen unless ``QT_QPA_PLATFORM`` says otherwise. It takes the data folder's lock: close
Folio on that folder first.

    .venv/bin/python bench/screenshots_evaluate.py --home DIR --set NAME --out-dir DIR
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop.services import build_services  # noqa: E402
from desktop.ui.compare.window import CompareWindow  # noqa: E402
from desktop.ui.evaluate.window import REPORT_TAB, EvaluateWindow  # noqa: E402
from desktop.ui.qt import QApplication, QEvent, QWidget  # noqa: E402
from desktop.ui.workers import wait_for_jobs  # noqa: E402

REPORT_TIMEOUT_S = 300.0  # embedding a large run's answers on a slow CPU
SETTLE_S = 0.5  # layouts and paints after show, before the grab


def wait(app: QApplication, done: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until ``done()`` or ``timeout`` seconds; whether it was done."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            return False
        app.processEvents()
        # Widgets replaced with deleteLater (the grid's old cells) go only when deferred
        # deletions are sent, which processEvents does not do (QTest.qWait does the same).
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        time.sleep(0.02)
    return True


def shoot(app: QApplication, window: QWidget, path: Path) -> None:
    """Show ``window``, let it lay out and paint, and save what it shows as ``path``."""
    window.show()
    wait(app, lambda: False, SETTLE_S)
    if not window.grab().save(str(path)):
        raise SystemExit(f"Could not write {path}.")
    print(f"Wrote {path}")


def main() -> int:
    """Both screenshots; 2 for a data folder or set that cannot be shown, 1 for no report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--home", required=True, type=Path, help="the data folder")
    parser.add_argument("--set", required=True, help="the evaluation set whose report is shown")
    parser.add_argument("--out-dir", required=True, type=Path, help="where the PNGs go")
    args = parser.parse_args()
    if not args.home.is_dir():
        print(f"--home: no such folder: {args.home}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    services = build_services(args.home)
    windows: list[QWidget] = []
    try:
        if not services.evals.exists(args.set):
            names = ", ".join(repr(s.name) for s in services.evals.sets()) or "none"
            print(f"--set: no evaluation set {args.set!r} (there are: {names}).", file=sys.stderr)
            return 2
        runs = services.evals.runs(args.set)
        if not runs:
            print(f"--set: {args.set!r} has not been run yet.", file=sys.stderr)
            return 2

        compare = CompareWindow(services)
        windows.append(compare)
        saved = services.comparer.saved.all()  # newest first
        if saved:
            compare.open_saved(saved[0].id)
        shoot(app, compare, args.out_dir / "compare.png")

        evaluate = EvaluateWindow(services)
        windows.append(evaluate)
        evaluate.show_set(args.set, REPORT_TAB)
        report = evaluate.report
        report.load_set(args.set, select=runs[0].id)
        computed = wait(app, lambda: report.job is None, REPORT_TIMEOUT_S)
        if not computed or report.report is None or report.report.run.id != runs[0].id:
            print(f"The report was not made: {report.message.text()}", file=sys.stderr)
            return 1
        shoot(app, evaluate, args.out_dir / "evaluate-report.png")
        return 0
    finally:
        for window in windows:
            window.close()
        wait_for_jobs()
        services.close()


if __name__ == "__main__":
    sys.exit(main())
