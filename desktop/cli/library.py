"""``folio-cli`` library commands: ingest, sync, remove, status, search, reembed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    advised,
    emit,
    interruptible,
    not_empty,
    path_problem,
    positive_int,
)
from desktop.core.errors import LibraryError, ModelError
from desktop.core.library.catalog import (
    EMBEDDING_MODEL_KEY,
    INTERRUPTED_REASON,
    UNAVAILABLE_REASON,
    FileStatus,
)
from desktop.core.library.filenames import one_line
from desktop.core.models.local_files import LOCAL_EMBEDDING_ID
from desktop.core.plurals import counted
from desktop.core.tasks import Progress, eta_phrase

if TYPE_CHECKING:
    from desktop.core.library.ingest import IngestReport
    from desktop.services import Services


def _warn(text: str) -> None:
    """One sentence on stderr, on one line whatever the file names in it hold, with its full
    stop (the reasons it is made of may end with a name or a bracket)."""
    line = one_line(text)
    print(line if line.endswith((".", "?", "!")) else f"{line}.", file=sys.stderr)


def _run_indexing(
    services: Services, args: argparse.Namespace, work: Callable[..., IngestReport]
) -> int:
    line = ProgressLine()

    def on_progress(p: Progress) -> None:
        text = f"{p.files_done}/{p.files_total} files, {p.chunks_done} chunks"
        text += eta_phrase(p.eta_seconds)
        if p.current:
            detail = f" ({p.detail})" if p.detail else ""
            shown = Path(p.current).name if line.tty else p.current
            text += f"  {shown}{detail}" if line.tty else f": {shown}{detail}"
        # On a pipe, a line when the file or its detail (how far a large one has got) changes.
        line.show(text, key=(p.current, p.detail), force=p.current is None)

    # Ctrl+C stops at the next safe point; the library stays consistent.
    with interruptible("Stopping after the current file…") as cancel:
        try:
            report = work(on_progress=on_progress, cancel=cancel)
        finally:
            line.done()
    for path, reason in [*report.warnings, *report.failures]:
        _warn(f"{path}: {reason}")
    for folder in report.unavailable:
        _warn(f"{folder}: {UNAVAILABLE_REASON}")
    for path in report.already_in_library:
        _warn(f"{path}: already in the library; synced")
    for folder, reason in report.unreadable:
        _warn(f"{folder}: cannot be read ({reason}); its files are kept as they were")
    emit(args, report.to_json(), advised(args, indexing_text(report)))
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


def cmd_ingest(services: Services, args: argparse.Namespace) -> int:
    # An empty argument (a script's unset variable) would be Path("") — the current folder.
    if any(not p.strip() for p in args.paths):
        raise UsageError("An empty path was given: name the files or folders to add.")
    problems = [problem for p in args.paths if (problem := path_problem(p)) is not None]
    if problems:
        raise UsageError(f"Cannot add {'; '.join(problems)}.")
    paths = [Path(p) for p in args.paths]
    try:
        return _run_indexing(services, args, lambda **kw: services.ingestor.ingest(paths, **kw))
    except LibraryError as exc:
        raise UsageError(str(exc)) from exc


def cmd_sync(services: Services, args: argparse.Namespace) -> int:
    return _run_indexing(services, args, services.ingestor.sync)


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    # An empty argument would be the current folder, as for ingest.
    if not args.path.strip():
        raise UsageError("An empty path was given: name the library folder or file to remove.")
    path = Path(args.path)
    # A folder that is no library entry takes every entry under it only when asked: `remove
    # /tmp` must not quietly empty the library of all it holds there.
    inside = services.ingestor.entries_inside(path)
    if inside and not args.all_under:
        raise UsageError(
            f"{args.path} is not itself in the library; the library folders and files under "
            f"it are {', '.join(inside)}. Remove each by name, or pass --all-under to remove "
            "them all."
        )
    try:
        removed = services.ingestor.remove(path)
    except LibraryError as exc:
        raise UsageError(str(exc)) from exc
    lines = [f"Removed the library folder {folder}" for folder in inside]
    lines.append(f"{counted(removed, 'file')} removed from the library")
    emit(
        args,
        {"removed": removed, "all_under": inside},
        "\n".join(one_line(text) for text in lines),
    )
    return EXIT_OK


def cmd_status(services: Services, args: argparse.Namespace) -> int:
    # The re-embedding module imports LlamaIndex (seconds): loaded only when asked.
    from desktop.core.library.reembed import pending_switch

    stats = services.library.stats()
    counts = {
        status: stats.by_status.get(status, 0)
        for status in (FileStatus.INDEXED, FileStatus.FAILED, FileStatus.SKIPPED)
    }
    failures = [{"path": f.path, "reason": f.reason, "status": f.status} for f in stats.failures]
    unavailable = services.library.unavailable_folders()
    interrupted = services.library.interrupted_folders()
    shortfall = services.store_shortfall()
    store_problem = advised(args, str(shortfall)) if shortfall is not None else None
    data: dict[str, Any] = {
        "files": {
            "indexed": counts[FileStatus.INDEXED],
            "failed": counts[FileStatus.FAILED],
            "skipped": counts[FileStatus.SKIPPED],
        },
        "chunks": stats.chunks,
        "embedding_model": services.library.get_meta(EMBEDDING_MODEL_KEY)
        or services.embed_model_name,
        "failures": failures,
        "folders": services.library.folders(),
        "unavailable": unavailable,
        "interrupted": interrupted,
        "embedding_switch": None,
        "store_problem": store_problem,
    }
    lines = [
        f"{counted(counts[FileStatus.INDEXED], 'file')} indexed "
        f"({counted(stats.chunks, 'chunk')}), "
        f"{counts[FileStatus.FAILED]} failed, {counts[FileStatus.SKIPPED]} skipped",
        *(f"  {f['status']}: {f['path']}: {f['reason']}" for f in failures),
        *(f"  unavailable: {folder}: {UNAVAILABLE_REASON}." for folder in unavailable),
        *(
            advised(args, f"  interrupted: {folder}: {INTERRUPTED_REASON} (`folio-cli sync`).")
            for folder in interrupted
        ),
        *([store_problem] if store_problem else []),
    ]
    switch = pending_switch(services.library)
    if switch is not None:
        data["embedding_switch"] = {
            "target": switch.model,
            "done": switch.done,
            "total": switch.total,
        }
        lines.append(
            f"Switching to {switch.model}: {switch.done}/{switch.total} chunks re-embedded"
        )
    emit(args, data, "\n".join(one_line(text) for text in lines))
    return EXIT_OK


def cmd_reembed(services: Services, args: argparse.Namespace) -> int:
    not_empty(
        args.model,
        "MODEL_ID",
        f"give an embedding model as provider:model, e.g. {LOCAL_EMBEDDING_ID} or "
        "openai:text-embedding-3-small",
    )
    try:
        services.check_embedding_model(args.model)
    except ModelError as exc:
        raise UsageError(f"MODEL_ID: {exc}") from exc
    provider = services.needs_consent(args.model)
    if provider:
        if not args.allow_remote:
            raise UsageError(
                f"Re-embedding with {args.model} sends the text of every document in the "
                f"library to {provider}. Run again with --allow-remote to agree."
            )
        services.allow_remote(provider)
    line = ProgressLine(every=0.0)  # one line a batch on a pipe: batches take seconds

    def on_progress(p: Progress) -> None:
        text = f"{p.chunks_done}/{p.chunks_total} chunks re-embedded{eta_phrase(p.eta_seconds)}"
        line.show(text, key=p.chunks_done)

    # Ctrl+C stops after the current batch; running again resumes from there.
    with interruptible("Stopping after the current batch…") as cancel:
        try:
            r = services.switch_embedding_model(
                args.model, on_progress, cancel, batch_size=args.batch
            )
        finally:
            line.done()
    if r.cancelled:
        text = f"Stopped; run `folio-cli reembed {r.model}` again to go on."
    elif r.swapped:
        text = f"The library now uses {r.model}: {counted(r.chunks, 'chunk')}, in {r.seconds:.1f}s."
    else:
        text = f"The library already uses {r.model} ({counted(r.chunks, 'chunk')})."
    emit(args, r.to_json(), advised(args, text))
    return EXIT_INTERRUPTED if r.cancelled else EXIT_OK


def cmd_search(services: Services, args: argparse.Namespace) -> int:
    # Prompts import LlamaIndex (seconds): loaded only when a search runs.
    from desktop.core.chat.prompts import source_label

    not_empty(args.query, "QUERY", "give the words to search the library for")
    results = services.retriever.search(args.query, k=args.k)
    # Results from a store that lost chunks may leave some of the library out: said on
    # stderr, and in the JSON, as ``status`` says it.
    shortfall = services.store_shortfall()
    if shortfall is not None:
        print(f"folio-cli: {one_line(str(shortfall))}", file=sys.stderr)
    lines = []
    for i, c in enumerate(results, start=1):
        snippet = one_line(" ".join(c.text.split())[:200])
        lines.append(f"{one_line(source_label(i, c))}  (score {c.score:.3f})\n    {snippet}")
    emit(
        args,
        {
            "results": [c.to_json() for c in results],
            "store_problem": advised(args, str(shortfall)) if shortfall is not None else None,
        },
        "\n".join(lines) or "No results.",
    )
    return EXIT_OK


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The library commands, on the parser ``desktop.cli.build_parser`` made."""
    p = sub.add_parser("ingest", parents=[common], help="add folders/files and index them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("sync", parents=[common], help="re-scan every folder in the library")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser("remove", parents=[common], help="take a folder/file out of the library")
    p.add_argument("path", metavar="PATH")
    p.add_argument(
        "--all-under",
        action="store_true",
        help="PATH is not in the library itself: remove every library folder under it",
    )
    p.set_defaults(func=cmd_remove)
    p = sub.add_parser("status", parents=[common], help="what the library holds")
    p.set_defaults(func=cmd_status, read_only=True)
    p = sub.add_parser(
        "reembed", parents=[common], help="switch the library to another embedding model"
    )
    p.add_argument("model", metavar="MODEL_ID", help="e.g. openai:text-embedding-3-small")
    p.add_argument(
        "--batch",
        type=positive_int,
        default=None,
        metavar="N",
        help="chunks committed together (64)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let the model's remote provider receive the text of your documents, from now on",
    )
    p.set_defaults(func=cmd_reembed)
    p = sub.add_parser("search", parents=[common], help="retrieval only, no model")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("-k", type=positive_int, default=None, help="number of results (1 or more)")
    p.set_defaults(func=cmd_search, read_only=True)


def indexing_text(r: IngestReport) -> str:
    """What ``ingest`` and ``sync`` print in words for report ``r``: the counts, what was
    mended or kept, and how to go on when it was stopped."""
    return (
        f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged, "
        f"{r.failed} failed, {r.skipped} skipped; {counted(r.chunks_embedded, 'chunk')} embedded "
        f"in {r.seconds:.1f}s"
        + (
            f"; {r.repaired} indexed again, as the store had lost their chunks"
            if r.repaired
            else ""
        )
        + (f"; {counted(len(r.warnings), 'warning')} (named above)" if r.warnings else "")
        + (
            f"; {counted(len(r.unavailable), 'folder')} unavailable, "
            f"kept as {'it was' if len(r.unavailable) == 1 else 'they were'}"
            if r.unavailable
            else ""
        )
        # The folders were added before their files: a sync goes on where this stopped.
        + (". Stopped before the end: `folio-cli sync` indexes the rest" if r.cancelled else "")
    )
