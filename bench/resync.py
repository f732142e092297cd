"""Re-sync of an unchanged library of 10,000 small files. Target: under 2 s.

Builds (once) 10,000 small text/markdown files of a few lines each in nested folders and
ingests them with Folio's real pipeline (about 10,000 chunks embedded; minutes on two
cores). The built library is cached under ``bench/.data/resync`` (gitignored), so reruns
skip the initial ingest; ``--rebuild`` forces it.

Then, on the unchanged folder, it times ``services.ingestor.sync()``: the first call in a
fresh process and the repeated ones, next to the first ingest so the ratio is visible. It
also times opening the services (store load, embedder load; not part of the target) and a
whole ``folio-cli sync`` subprocess (interpreter start, imports, opening, sync).

Last, the mend of a store that lost chunks: the chunks of ``--lost`` files (1 % by default)
are deleted from the store, then one sync indexes them again. Timed: the check every search
and sync makes (``chunks_missing``: the store's count and the library's sum), listing the
store's ids with the files they leave short (what a sync adds when the check finds chunks
missing), and the whole mending sync. The library is whole again afterwards.

    .venv/bin/python bench/resync.py [--json] [--files 10000] [--repeat 5] [--lost 100]
        [--rebuild]
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchlib
from ingest_throughput import FOLIO_CLI, REPO, prose_paragraphs, prose_sentences

TARGET_S = 2.0
DATA = REPO / "bench" / ".data" / "resync"


def make_small_files(folder: Path, count: int, seed: int = 11) -> None:
    """``count`` files of 2-5 sentences, 10 x 10 folders of ``count / 100`` files each."""
    rng = random.Random(seed)
    sentences = prose_sentences(prose_paragraphs())
    for index in range(count):
        sub = folder / f"area-{index % 10:02d}" / f"topic-{index // 10 % 10:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        lines = [f"Note {index:05d}", *rng.sample(sentences, rng.randint(2, 5))]
        suffix = ".md" if index % 4 == 0 else ".txt"
        if suffix == ".md":
            lines[0] = f"# {lines[0]}"
        (sub / f"note-{index:05d}{suffix}").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(count: int, rebuild: bool) -> dict[str, Any]:
    """The cached library, built (files + first ingest) when missing; its build record."""
    marker = DATA / "built.json"
    files, home = DATA / "files", DATA / "home"
    if marker.exists() and not rebuild:
        record = json.loads(marker.read_text())
        if record.get("files") == count and record.get("folder") == str(files):
            record["cached"] = True
            return record
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    print(f"Building {count} files and ingesting them (minutes)…", file=sys.stderr)
    make_small_files(files, count)
    from desktop.core.paths import data_home
    from desktop.services import Services

    services = Services(data_home(home))
    try:
        services.embed_model.get_text_embedding_batch(["warm up"])
        started = time.perf_counter()
        report = services.ingestor.ingest([files])
        seconds = time.perf_counter() - started
    finally:
        services.close()
    record = {
        "files": count,
        "folder": str(files),
        "first_ingest_s": seconds,
        "report": report.to_json(),
    }
    marker.write_text(json.dumps(record, indent=2))
    record["cached"] = False
    return record


def time_syncs(repeat: int) -> dict[str, Any]:
    from desktop.services import Services

    services = Services(DATA / "home")
    try:
        started = time.perf_counter()
        ingestor = services.ingestor
        open_s = time.perf_counter() - started
        times, reports = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            report = ingestor.sync()
            times.append(time.perf_counter() - started)
            reports.append(report.to_json())
    finally:
        services.close()
    return {"open_s": open_s, "sync_s": times, "report": reports[-1]}


def time_mend(lost: int, repeat: int) -> dict[str, Any]:
    """Delete the chunks of ``lost`` files from the store, then time finding and mending."""
    from desktop.core.library.search import chunks_missing
    from desktop.services import Services

    services = Services(DATA / "home")
    try:
        ingestor = services.ingestor
        check_s = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert chunks_missing(services.store, services.library) is None
            check_s.append(time.perf_counter() - started)
        indexed = [r for r in services.library.all_files() if r.chunk_ids]
        records = indexed[:: max(1, len(indexed) // max(1, lost))][:lost]  # spread out
        services.store.delete_nodes(node_ids=[c for r in records for c in r.chunk_ids])
        services.store.commit()
        started = time.perf_counter()
        short = services.library.missing_from(services.store.ids())
        find_s = time.perf_counter() - started
        started = time.perf_counter()
        report = ingestor.sync()
        mend_s = time.perf_counter() - started
        whole = chunks_missing(services.store, services.library) is None
    finally:
        services.close()
    return {
        "check_median_s": statistics.median(check_s),
        "lost_files": len(records),
        "found_short": len(short),
        "list_ids_and_find_s": find_s,
        "mend_sync_s": mend_s,
        "repaired": report.repaired,
        "chunks_embedded": report.chunks_embedded,
        "whole_after": whole,
    }


def cli_sync() -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(FOLIO_CLI), "--home", str(DATA / "home"), "sync", "--json"],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def run(
    count: int = 10_000, repeat: int = 5, rebuild: bool = False, lost: int = 100
) -> dict[str, Any]:
    built = build(count, rebuild)
    timed = time_syncs(repeat)
    cli_s = cli_sync()
    mend = time_mend(lost, repeat)
    first, rest = timed["sync_s"][0], timed["sync_s"][1:] or timed["sync_s"]
    report = timed["report"]
    return {
        "benchmark": "resync",
        "files": count,
        "first_ingest_s": round(built["first_ingest_s"], 2),
        "first_ingest_chunks": built["report"]["chunks_embedded"],
        "library_cached": built["cached"],
        "open_services_s": round(timed["open_s"], 3),
        "sync_first_s": round(first, 3),
        "sync_repeat_median_s": round(statistics.median(rest), 3),
        "sync_s": [round(t, 3) for t in timed["sync_s"]],
        "resync_over_first_ingest": round(first / built["first_ingest_s"], 5),
        "cli_sync_wall_s": round(cli_s, 3),
        "unchanged": report["unchanged"],
        "changed": report["added"] + report["updated"] + report["removed"],
        "target_s": TARGET_S,
        "target_met": max(first, statistics.median(rest)) < TARGET_S,
        "mend": {key: round(v, 4) if isinstance(v, float) else v for key, v in mend.items()},
    }


def print_human(r: dict[str, Any]) -> None:
    verdict = "met" if r["target_met"] else "NOT met"
    cached = " (cached build)" if r["library_cached"] else ""
    print(f"Re-sync of an unchanged library of {r['files']} files")
    print(
        f"  first ingest        {r['first_ingest_s']:8.2f} s  "
        f"({r['first_ingest_chunks']} chunks embedded){cached}"
    )
    print(f"  open services       {r['open_services_s']:8.3f} s  (store + embedder; not counted)")
    print(f"  sync, first call    {r['sync_first_s']:8.3f} s")
    print(f"  sync, repeated      {r['sync_repeat_median_s']:8.3f} s median of {r['sync_s'][1:]}")
    print(f"  re-sync / first ingest = {r['resync_over_first_ingest']:.2%}")
    print(f"  folio-cli sync (whole process) {r['cli_sync_wall_s']:.3f} s")
    print(f"  unchanged {r['unchanged']}, changed {r['changed']}")
    print(f"  target < {r['target_s']} s: {verdict}")
    m = r["mend"]
    print(f"A store that lost the chunks of {m['lost_files']} files")
    print(f"  check (count + library sum), median {m['check_median_s'] * 1000:8.1f} ms")
    print(
        f"  list ids, find short files   {m['list_ids_and_find_s']:8.3f} s  "
        f"({m['found_short']} found)"
    )
    print(
        f"  mending sync                 {m['mend_sync_s']:8.3f} s  ({m['repaired']} indexed "
        f"again, {m['chunks_embedded']} chunks embedded); whole after: {m['whole_after']}"
    )


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lost", type=int, default=100, help="files whose chunks are lost")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached library")
    args = parser.parse_args()
    result = run(args.files, args.repeat, args.rebuild, args.lost)
    benchlib.emit(result, args.json, print_human)


if __name__ == "__main__":
    main()
