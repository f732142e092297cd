"""UI responsiveness during a large ingest: the Qt event loop's worst lateness.

Builds Folio's real window (``MainWindow``, offscreen) on a fresh data folder and runs a
10 ms ``PreciseTimer`` on the UI thread. For every timeout it records the lateness: the
time since the previous timeout (``time.perf_counter``) minus 10 ms. Two phases, same window:

- idle: a few seconds with nothing running, the baseline;
- ingest: from ``window.library.add_paths([corpus])`` until ``ingest_finished``, plus two
  seconds after it (the pane's refresh and the folder watcher's debounce run then).

The corpus is generated: 400 markdown files of English prose, a few chunks each. As in the
app, the store is opened before the window and the embedder is loaded by the first ingest,
on the worker thread; ``--warm`` loads it before the idle phase instead.

Target: the worst lateness during the ingest stays under 100 ms.

To say where a stall comes from, the UI-thread slots (progress, done, finished, refresh,
folder watch, sync), the worker's steps (embedder load, walk, read, embed, store and library
writes) and garbage collections are timed; every late tick (over 50 ms) is attributed to what
ran during its interval, and the worst ones are listed.

    .venv/bin/python bench/ui_responsiveness.py [--json] [--files 400] [--idle 5] [--warm]
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import benchlib
from ingest_throughput import prose_paragraphs, prose_sentences

TARGET_MS = 100.0
LATE_MS = 50.0  # ticks later than this are attributed to a cause
INTERVAL_MS = 10
SETTLE_S = 1.0  # ticks right after the window is shown are not counted
TAIL_S = 2.0  # kept ticking after ingest_finished: longer than the watcher's debounce
WORST_LISTED = 8


# -- corpus ---------------------------------------------------------------------------------


def _heading(rng: random.Random, sentences: list[str]) -> str:
    words = [w.strip(",.;:()'\"") for w in rng.choice(sentences).split()]
    return " ".join(w for w in words if w.isalpha())[:60].title() or "Notes"


def make_markdown_corpus(folder: Path, files: int, seed: int = 13) -> int:
    """``files`` markdown documents of 3-7 prose paragraphs in 8 folders; total bytes."""
    rng = random.Random(seed)
    paragraphs = prose_paragraphs()
    sentences = prose_sentences(paragraphs)
    total = 0
    for index in range(files):
        sub = folder / f"topic-{index % 8}"
        sub.mkdir(parents=True, exist_ok=True)
        title = _heading(rng, sentences)
        parts = [f"# {title}", ""]
        for number in range(rng.randint(3, 7)):
            if number and number % 2 == 0:
                parts += [f"## {_heading(rng, sentences)}", ""]
            parts += [rng.choice(paragraphs), ""]
            if rng.random() < 0.3:
                parts += [f"- {s}" for s in rng.sample(sentences, 3)] + [""]
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "doc"
        text = "\n".join(parts)
        (sub / f"{index:04d}-{slug}.md").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


# -- instrumentation ------------------------------------------------------------------------


class Spans:
    """Start and end times of named calls, per thread (appends are atomic under the GIL)."""

    def __init__(self) -> None:
        self.main = threading.get_ident()
        self.items: list[tuple[str, bool, float, float]] = []  # name, on UI thread, start, end
        self._gc_start = 0.0

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Replace ``owner.attr`` (a function or method) by a timed one."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                on_main = threading.get_ident() == self.main
                self.items.append((name, on_main, start, time.perf_counter()))

        setattr(owner, attr, timed)

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            on_main = threading.get_ident() == self.main
            name = f"gc gen{info['generation']}"
            self.items.append((name, on_main, self._gc_start, time.perf_counter()))


def instrument(spans: Spans) -> None:
    """Time the UI slots and the worker's steps (class-level, before the window is built)."""
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.embeddings.fastembed import FastEmbedEmbedding

    import desktop.core.library.ingest
    import desktop.core.models.embeddings
    from desktop.core.library.catalog import Library
    from desktop.core.library.ingest import Ingestor
    from desktop.core.store.edge import EdgeVectorStore
    from desktop.ui.library_view import LibraryPane
    from desktop.ui.watcher import FolderWatcher

    for attr in ("_on_progress", "_on_done", "_on_finished", "refresh", "sync", "add_paths"):
        spans.wrap(LibraryPane, attr, f"LibraryPane.{attr}")
    spans.wrap(FolderWatcher, "watch", "FolderWatcher.watch")
    spans.wrap(desktop.core.models.embeddings, "local_embedding", "load embedder")
    spans.wrap(Ingestor, "__init__", "Ingestor() (splitter, tokenizer)")
    spans.wrap(Ingestor, "_scan", "walk folder")
    spans.wrap(desktop.core.library.ingest, "read_documents", "read file")
    spans.wrap(IngestionPipeline, "run", "split+embed file")
    spans.wrap(FastEmbedEmbedding, "_get_text_embeddings", "embed batch")
    spans.wrap(EdgeVectorStore, "add", "store.add")
    spans.wrap(EdgeVectorStore, "delete_nodes", "store.delete_nodes")
    spans.wrap(EdgeVectorStore, "commit", "store.commit (flush)")
    spans.wrap(Library, "put", "library.put")
    spans.wrap(Library, "put_many", "library.put_many")
    gc.callbacks.append(spans.on_gc)


# -- statistics -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (0 < q <= 100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def lateness(ticks: list[float]) -> list[tuple[float, float, float]]:
    """(interval start, interval end, lateness in ms) for consecutive timeouts."""
    return [(a, b, (b - a) * 1000 - INTERVAL_MS) for a, b in itertools.pairwise(ticks)]


def summary(late: list[tuple[float, float, float]]) -> dict[str, Any]:
    values = [ms for _, _, ms in late]
    return {
        "ticks": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
        "mean_ms": round(statistics.fmean(values), 2),
        f"over_{LATE_MS:.0f}ms": sum(ms > LATE_MS for ms in values),
        f"over_{TARGET_MS:.0f}ms": sum(ms > TARGET_MS for ms in values),
    }


def overlapping(spans: Spans, start: float, end: float) -> list[dict[str, Any]]:
    """The spans that ran during [start, end], longest overlap first."""
    found = []
    for name, on_main, s, e in spans.items:
        overlap = min(e, end) - max(s, start)
        if overlap > 0:
            found.append(
                {
                    "name": name,
                    "thread": "ui" if on_main else "worker",
                    "overlap_ms": round(overlap * 1000, 1),
                    "duration_ms": round((e - s) * 1000, 1),
                }
            )
    return sorted(found, key=lambda f: -f["overlap_ms"])


def cause(spans: Spans, start: float, end: float) -> str:
    """What most plausibly made a tick late: a UI-thread call or gc, else the worker's step."""
    found = overlapping(spans, start, end)
    ui = [f for f in found if f["thread"] == "ui" or f["name"].startswith("gc")]
    if ui:  # the innermost UI call is the shortest of those that cover most of the gap
        top = ui[0]["overlap_ms"]
        covering = [f for f in ui if f["overlap_ms"] >= 0.8 * top]
        best = min(covering, key=lambda f: f["duration_ms"])
        if best["overlap_ms"] >= 0.3 * (end - start) * 1000:
            return f"{best['thread']}: {best['name']}"
    worker = [f for f in found if f["thread"] == "worker"]
    if worker:  # the innermost worker step that was running throughout
        top = worker[0]["overlap_ms"]
        covering = [f for f in worker if f["overlap_ms"] >= 0.8 * top]
        return "worker: " + min(covering, key=lambda f: f["duration_ms"])["name"]
    return "unattributed"


def span_totals(spans: Spans, start: float, end: float) -> dict[str, dict[str, float]]:
    """Per name (and thread): calls, total and longest time, for spans starting in the window."""
    table: dict[str, list[float]] = defaultdict(list)
    for name, on_main, s, e in spans.items:
        if start <= s <= end:
            table[f"{'ui' if on_main else 'worker'}: {name}"].append((e - s) * 1000)
    return {
        name: {"calls": len(ms), "total_ms": round(sum(ms), 1), "max_ms": round(max(ms), 1)}
        for name, ms in sorted(table.items(), key=lambda kv: -max(kv[1]))
    }


# -- the run --------------------------------------------------------------------------------


def run(files: int, idle_s: float, warm: bool, timeout_s: float) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.core.paths import data_home
    from desktop.services import Services, freeze_long_lived_objects
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, Qt, QTimer

    spans = Spans()
    instrument(spans)
    errors: list[str] = []
    MainWindow.show_error = lambda self, message: errors.append(message)  # no modal box

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="folio-bench-ui-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus_bytes = make_markdown_corpus(corpus, files)
        app = QApplication.instance() or QApplication([])
        services = Services(data_home(root / "home"))
        services.store  # noqa: B018  (opened before the window, as ``folio`` does)
        if warm:
            services.embed_model.get_text_embedding_batch(["warm up the embedder"] * 8)
        window = MainWindow(services)
        freeze_long_lived_objects()  # as ``folio`` does once its window exists
        window.show()

        ticks: list[float] = []
        phases: dict[str, list[float]] = {}
        marks: dict[str, float] = {}
        result: dict[str, Any] = {}

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(INTERVAL_MS)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

        def begin_idle() -> None:
            nonlocal ticks
            ticks = [ticks[-1]] if ticks else []
            marks["idle"] = time.perf_counter()
            QTimer.singleShot(round(idle_s * 1000), begin_ingest)

        def begin_ingest() -> None:
            nonlocal ticks
            phases["idle"], ticks = ticks, [ticks[-1]]
            marks["ingest"] = time.perf_counter()
            window.library.add_paths([corpus])

        def finished(report: Any) -> None:
            marks["finished"] = time.perf_counter()
            result["report"] = report
            QTimer.singleShot(round(TAIL_S * 1000), stop)

        def stop() -> None:
            phases["ingest"] = ticks
            marks["end"] = time.perf_counter()
            timer.stop()
            app.quit()

        def give_up() -> None:
            errors.append(f"the ingest did not finish within {timeout_s:.0f} s")
            window.library.cancel()
            stop()

        window.library.ingest_finished.connect(finished)
        timer.start()
        QTimer.singleShot(round(SETTLE_S * 1000), begin_idle)
        watchdog = QTimer(singleShot=True, interval=round((idle_s + timeout_s) * 1000))
        watchdog.timeout.connect(give_up)
        watchdog.start()
        app.exec()
        watchdog.stop()
        window.close()  # waits for the worker, saves the layout
        services.close()
    gc.callbacks.remove(spans.on_gc)
    load_after = os.getloadavg()

    if "report" not in result:
        raise RuntimeError("; ".join(errors) or "the ingest did not finish")
    report = result["report"]
    idle = lateness(phases["idle"])
    ingest = lateness(phases["ingest"])
    late = [(a, b, ms) for a, b, ms in ingest if ms > LATE_MS]
    causes: dict[str, list[float]] = defaultdict(list)
    for a, b, ms in late:
        causes[cause(spans, a, b)].append(ms)
    worst = sorted(ingest, key=lambda t: -t[2])[:WORST_LISTED]
    ingest_stats = summary(ingest)
    chunks = report.chunks_embedded + report.chunks_reused
    return {
        "benchmark": "ui_responsiveness",
        "files": files,
        "corpus_bytes": corpus_bytes,
        "warm_embedder": warm,
        "timer_interval_ms": INTERVAL_MS,
        "idle_s": idle_s,
        "idle": summary(idle),
        "ingest": ingest_stats,
        "ingest_wall_s": round(marks["finished"] - marks["ingest"], 2),
        "ingest_report": report.to_json(),
        "chunks": chunks,
        "chunks_per_s": round(chunks / report.seconds, 2) if report.seconds else None,
        "target_ms": TARGET_MS,
        "target_met": ingest_stats["max_ms"] < TARGET_MS,
        "late_ticks_by_cause": {
            name: {"ticks": len(ms), "max_ms": round(max(ms), 1)}
            for name, ms in sorted(causes.items(), key=lambda kv: -max(kv[1]))
        },
        "worst_ticks": [
            {
                "at_s": round(a - marks["ingest"], 3),
                "lateness_ms": round(ms, 1),
                "cause": cause(spans, a, b),
                "during": overlapping(spans, a, b)[:6],
            }
            for a, b, ms in worst
        ],
        "calls_during_ingest": span_totals(spans, marks["ingest"], marks["end"]),
        "errors": errors,
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }


def print_human(r: dict[str, Any]) -> None:
    verdict = "met" if r["target_met"] else "NOT met"
    print(
        f"UI responsiveness: {r['files']} markdown files ({r['corpus_bytes'] / 1024:.0f} KiB), "
        f"{r['chunks']} chunks, {r['timer_interval_ms']} ms PreciseTimer, "
        f"embedder {'preloaded' if r['warm_embedder'] else 'loaded by the ingest'}"
    )
    print(f"  {'lateness (ms)':<14}{'ticks':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}")
    for phase in ("idle", "ingest"):
        s = r[phase]
        print(
            f"  {phase:<14}{s['ticks']:>7}{s['p50_ms']:>8.2f}{s['p95_ms']:>8.2f}"
            f"{s['p99_ms']:>8.2f}{s['max_ms']:>9.2f}"
        )
    print(
        f"  ingest: {r['ingest_wall_s']} s wall, {r['chunks_per_s']} chunks/s; "
        f"ticks > {LATE_MS:.0f} ms: {r['ingest'][f'over_{LATE_MS:.0f}ms']}, "
        f"> {TARGET_MS:.0f} ms: {r['ingest'][f'over_{TARGET_MS:.0f}ms']}"
    )
    print(f"  target: max lateness during ingest < {TARGET_MS:.0f} ms: {verdict}")
    if r["late_ticks_by_cause"]:
        print(f"  ticks later than {LATE_MS:.0f} ms, by what ran during them:")
        for name, c in r["late_ticks_by_cause"].items():
            print(f"    {c['ticks']:4d} x  max {c['max_ms']:7.1f} ms  {name}")
    print("  worst ticks (s after add_paths: lateness; what overlapped the gap):")
    for w in r["worst_ticks"]:
        during = "; ".join(
            f"{d['thread']} {d['name']} {d['overlap_ms']:.0f}/{d['duration_ms']:.0f} ms"
            for d in w["during"][:4]
        )
        print(f"    {w['at_s']:8.3f}: {w['lateness_ms']:7.1f} ms  [{during}]")
    print("  calls during the ingest (longest first): calls, total ms, max ms")
    for name, c in list(r["calls_during_ingest"].items())[:14]:
        print(f"    {name:<42}{c['calls']:>7}{c['total_ms']:>11.1f}{c['max_ms']:>9.1f}")
    if r["errors"]:
        print(f"  errors: {r['errors']}")
    print(
        f"  load average before {r['loadavg_before']}, after {r['loadavg_after']} "
        f"({r['cpus']} CPUs)"
    )


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--files", type=int, default=400, help="markdown files to ingest")
    parser.add_argument("--idle", type=float, default=5.0, help="idle baseline, seconds")
    parser.add_argument("--warm", action="store_true", help="load the embedder before")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after, seconds")
    args = parser.parse_args()
    # Keep stdout for the result alone: anything a library prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        result = run(args.files, args.idle, args.warm, args.timeout)
    benchlib.emit(result, args.json, print_human)


if __name__ == "__main__":
    main()
