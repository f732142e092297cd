"""``folio-cli``: the library, search, chats and personas, headless, on the core services.

Results go to stdout (exactly one JSON document with ``--json``); progress and errors go
to stderr. Exit codes: 0 done, 1 fatal error, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop import __version__
from desktop.core.errors import (
    ConsentRequired,
    FolioError,
    LibraryError,
    PersonaExistsError,
    SettingsError,
)
from desktop.core.library import (
    EMBEDDING_MODEL_KEY,
    FAILED,
    INDEXED,
    SKIPPED,
    UNAVAILABLE_REASON,
)
from desktop.core.library_channel import Reply, call
from desktop.core.library_lock import LibraryInUseError
from desktop.core.personas import Persona
from desktop.core.tasks import CancelToken, Progress

if TYPE_CHECKING:
    from desktop.core.ingest import IngestReport
    from desktop.services import Services

# LlamaIndex, which the services and prompts import, takes seconds to load: it is imported
# only once a command runs, so `--version` and `--help` answer at once.

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input on the command line: exit code 2."""


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    # ``out`` is set when the window runs the command for another process (``answer``).
    print(
        json.dumps(data, ensure_ascii=False) if args.json else text, file=getattr(args, "out", None)
    )


class _ProgressPrinter:
    """A live line on a terminal; plain lines, at most every few seconds, otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.last_file: str | None = None

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        eta = f", about {p.eta_seconds:.0f}s left" if p.eta_seconds is not None else ""
        line = f"{p.files_done}/{p.files_total} files, {p.chunks_done} chunks{eta}"
        if self.tty:
            current = f"  {Path(p.current).name}" if p.current else ""
            if p.current and p.detail:
                current += f" ({p.detail})"
            sys.stderr.write(f"\r\x1b[K{line}{current}"[:200])
            sys.stderr.flush()
        elif p.current != self.last_file and (now - self.last >= 2 or p.current is None):
            self.last, self.last_file = now, p.current
            print(f"{line}: {p.current}" if p.current else line, file=sys.stderr)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _run_indexing(
    services: Services, args: argparse.Namespace, work: Callable[..., IngestReport]
) -> int:
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        # First Ctrl+C: stop at the next safe point; the library stays consistent.
        print("Stopping after the current file…", file=sys.stderr)
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_interrupt)
    printer = _ProgressPrinter()
    try:
        report = work(on_progress=printer, cancel=cancel)
    finally:
        printer.done()
        signal.signal(signal.SIGINT, previous)
    for path, reason in report.failures:
        print(f"{path}: {reason}", file=sys.stderr)
    for folder in report.unavailable:
        print(f"{folder}: {UNAVAILABLE_REASON}", file=sys.stderr)
    for path in report.already_in_library:
        print(f"{path}: already in the library; synced", file=sys.stderr)
    r = report
    _emit(
        args,
        r.to_json(),
        f"{r.added} added, {r.updated} updated, {r.removed} removed, {r.unchanged} unchanged, "
        f"{r.failed} failed, {r.skipped} skipped; {r.chunks_embedded} chunks embedded "
        f"in {r.seconds:.1f}s",
    )
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


def cmd_ingest(services: Services, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"No such file or folder: {', '.join(missing)}")
    return _run_indexing(services, args, lambda **kw: services.ingestor.ingest(paths, **kw))


def cmd_sync(services: Services, args: argparse.Namespace) -> int:
    return _run_indexing(services, args, services.ingestor.sync)


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    try:
        removed = services.ingestor.remove(Path(args.path))
    except LibraryError as exc:
        raise UsageError(str(exc)) from exc
    _emit(args, {"removed": removed}, f"{removed} file(s) removed from the library")
    return EXIT_OK


def cmd_status(services: Services, args: argparse.Namespace) -> int:
    from desktop.core.reembed import pending_switch

    stats = services.library.stats()
    data = {
        "files": {
            "indexed": stats.by_status.get(INDEXED, 0),
            "failed": stats.by_status.get(FAILED, 0),
            "skipped": stats.by_status.get(SKIPPED, 0),
        },
        "chunks": stats.chunks,
        "embedding_model": services.library.get_meta(EMBEDDING_MODEL_KEY)
        or services.embed_model_name,
        "failures": [
            {"path": f.path, "reason": f.reason, "status": f.status} for f in stats.failures
        ],
        "folders": services.library.folders(),
        "unavailable": services.library.unavailable_folders(),
        "embedding_switch": None,
        "store_problem": services.store_problem(),
    }
    lines = [
        f"{data['files']['indexed']} files indexed ({stats.chunks} chunks), "
        f"{data['files']['failed']} failed, {data['files']['skipped']} skipped",
        *(f"  {f['status']}: {f['path']}: {f['reason']}" for f in data["failures"]),
        *(f"  unavailable: {folder}: {UNAVAILABLE_REASON}" for folder in data["unavailable"]),
        *([str(data["store_problem"])] if data["store_problem"] else []),
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
    _emit(args, data, "\n".join(lines))
    return EXIT_OK


def cmd_reembed(services: Services, args: argparse.Namespace) -> int:
    if args.batch is not None and args.batch < 1:
        raise UsageError("--batch must be at least 1.")
    provider = services.needs_consent(args.model)
    if provider:
        if not args.allow_remote:
            raise UsageError(
                f"Re-embedding with {args.model} sends the text of every document in the "
                f"library to {provider}. Run again with --allow-remote to agree."
            )
        services.allow_remote(provider)
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)
    tty = sys.stderr.isatty()

    def on_interrupt(signum: int, frame: Any) -> None:
        # First Ctrl+C: stop after the current batch; running again resumes from there.
        print("Stopping after the current batch…", file=sys.stderr)
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    def on_progress(p: Progress) -> None:
        eta = f", about {p.eta_seconds:.0f}s left" if p.eta_seconds is not None else ""
        line = f"{p.chunks_done}/{p.chunks_total} chunks re-embedded{eta}"
        if tty:
            sys.stderr.write(f"\r\x1b[K{line}")
            sys.stderr.flush()
        else:  # one line a batch: batches take seconds
            print(line, file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        r = services.switch_embedding_model(args.model, on_progress, cancel, batch_size=args.batch)
    finally:
        if tty:
            sys.stderr.write("\r\x1b[K")
        signal.signal(signal.SIGINT, previous)
    if r.cancelled:
        text = f"Stopped; run `folio-cli reembed {r.model}` again to go on."
    elif r.swapped:
        text = f"The library now uses {r.model}: {r.chunks} chunks, in {r.seconds:.1f}s."
    else:
        text = f"The library already uses {r.model} ({r.chunks} chunks)."
    _emit(args, r.to_json(), text)
    return EXIT_INTERRUPTED if r.cancelled else EXIT_OK


def cmd_search(services: Services, args: argparse.Namespace) -> int:
    from desktop.core.prompts import source_label

    results = services.retriever.search(args.query, k=args.k)
    lines = []
    for i, c in enumerate(results, start=1):
        snippet = " ".join(c.text.split())[:200]
        lines.append(f"{source_label(i, c)}  (score {c.score:.3f})\n    {snippet}")
    _emit(args, {"results": [c.to_json() for c in results]}, "\n".join(lines) or "No results.")
    return EXIT_OK


def cmd_ask(services: Services, args: argparse.Namespace) -> int:
    from desktop.core.prompts import source_label

    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: cancel.cancel())

    def on_token(token: str) -> None:
        sys.stdout.write(token)
        sys.stdout.flush()

    if args.allow_remote:
        provider = services.needs_consent(args.model or services.settings.default_model)
        if provider:
            services.allow_remote(provider)
    try:
        answer = services.chat.ask(
            args.question,
            model=args.model,
            persona=args.persona,
            retrieval=not args.no_retrieval,
            chat_id=args.chat,
            top_k=args.k,
            on_token=None if args.json else on_token,
            cancel=cancel,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print()
        if answer.citations:
            print("\nSources:")
            for i, c in enumerate(answer.citations, start=1):
                print(f"  {source_label(i, c)}  (score {c.score:.3f})")
        print(f"\n(chat {answer.chat_id})", file=sys.stderr)
    if answer.notice:
        print(f"folio-cli: {answer.notice}", file=sys.stderr)
    if answer.interrupted:
        # Stopped by Ctrl+C, or the connection dropped (a failure: the notice says so).
        return EXIT_INTERRUPTED if cancel.cancelled else EXIT_ERROR
    return EXIT_OK


def cmd_personas(services: Services, args: argparse.Namespace) -> int:
    personas = services.chats.personas
    if args.action == "add":
        try:
            personas.save(Persona(args.name, args.prompt, args.temperature), replace=args.replace)
        except PersonaExistsError as exc:
            raise UsageError(f"{exc} (or pass --replace to replace it)") from exc
    elif args.action == "remove":
        personas.remove(args.name)
    items = personas.all()
    text = "\n".join(f"{p.name}: {p.prompt}" for p in items) or "No personas."
    _emit(args, {"personas": [p.to_json() for p in items]}, text)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="folio-cli", description="Folio without the window: library, search and chat."
    )
    parser.add_argument("--version", action="version", version=f"folio-cli {__version__}")
    parser.add_argument("--home", help="data folder (default: $FOLIO_HOME or the platform's)")
    # read_only: the window answers it while it has the library open (``answer``).
    parser.set_defaults(read_only=False, out=None)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[common], help="add folders/files and index them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("sync", parents=[common], help="re-scan every folder in the library")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser("remove", parents=[common], help="take a folder/file out of the library")
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_remove)
    p = sub.add_parser("status", parents=[common], help="what the library holds")
    p.set_defaults(func=cmd_status, read_only=True)
    p = sub.add_parser(
        "reembed", parents=[common], help="switch the library to another embedding model"
    )
    p.add_argument("model", metavar="MODEL_ID", help="e.g. openai:text-embedding-3-small")
    p.add_argument(
        "--batch", type=int, default=None, metavar="N", help="chunks committed together (64)"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let the model's remote provider receive the text of your documents, from now on",
    )
    p.set_defaults(func=cmd_reembed)
    p = sub.add_parser("search", parents=[common], help="retrieval only, no model")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("-k", type=int, default=None, help="number of results")
    p.set_defaults(func=cmd_search, read_only=True)
    p = sub.add_parser("ask", parents=[common], help="answer a question")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--model", help="model id (see `models list`)")
    p.add_argument("--persona", help="persona name (see `personas list`)")
    p.add_argument("--no-retrieval", action="store_true", help="answer without documents")
    p.add_argument("--chat", help="continue this chat id")
    p.add_argument("-k", type=int, default=None, help="number of sources")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let the model's remote provider receive passages of your documents, from now on",
    )
    p.set_defaults(func=cmd_ask)

    from desktop import cli_models

    models = sub.add_parser("models", help="models, servers, downloads and API keys")
    msub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    cli_models.add_commands(msub, common)

    from desktop import cli_store

    store = sub.add_parser("store", help="where the library's vectors live")
    ssub = store.add_subparsers(dest="action", required=True, metavar="ACTION")
    cli_store.add_commands(ssub, common)

    from desktop import cli_finetune, cli_finetune_sources

    finetune = sub.add_parser("finetune", help="training datasets and fine-tuning jobs")
    fsub = finetune.add_subparsers(dest="action", required=True, metavar="ACTION")
    cli_finetune.add_commands(fsub, common)
    cli_finetune_sources.add_commands(fsub, common)

    personas = sub.add_parser("personas", help="the persona library")
    psub = personas.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = psub.add_parser("list", parents=[common], help="every persona")
    p.set_defaults(func=cmd_personas, read_only=True)
    p = psub.add_parser("add", parents=[common], help="add a persona")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--prompt", required=True, help="the system prompt")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument(
        "--replace", action="store_true", help="replace the persona of that name if there is one"
    )
    p.set_defaults(func=cmd_personas)
    p = psub.add_parser("remove", parents=[common], help="delete a persona")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_personas)
    return parser


def answer(services: Services, argv: list[str]) -> Reply:
    """Run a read-only command line for another process, on these (the window's) services.

    Other commands are refused: while the window has the library open, changes go through it.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # the caller parsed the same line before sending it
        return Reply(EXIT_USAGE, "", "folio-cli: bad command line")
    if not args.read_only:
        return Reply(EXIT_ERROR, "", _in_use(services.home))
    args.out = io.StringIO()
    try:
        code = int(args.func(services, args))
    except (UsageError, ConsentRequired) as exc:
        return Reply(EXIT_USAGE, args.out.getvalue(), f"folio-cli: {exc}")
    except FolioError as exc:
        code = EXIT_USAGE if isinstance(exc, SettingsError) else EXIT_ERROR
        return Reply(code, args.out.getvalue(), f"folio-cli: {exc}")
    return Reply(code, args.out.getvalue(), "")


def _in_use(home: Path) -> str:
    return (
        f"folio-cli: The library at {home} is open in another Folio window or command; "
        "close it or use the window."
    )


def main(argv: list[str] | None = None) -> int:
    line = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(line)
    from desktop.services import build_services

    try:
        services = build_services(args.home)
        # Every command takes the library's lock before it opens anything: one refused
        # because a window (or another command) has the library open writes nothing.
        services.claim()
    except LibraryInUseError:
        # A read-only command is answered by the Folio that has the library open.
        reply = call(services.home, line) if args.read_only else None
        if reply is None:
            print(_in_use(services.home), file=sys.stderr)
            return EXIT_ERROR
        sys.stdout.write(reply.stdout)
        if reply.stderr:
            print(reply.stderr, file=sys.stderr)
        return reply.code
    except FolioError as exc:
        print(f"folio-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, SettingsError) else EXIT_ERROR
    try:
        return int(args.func(services, args))
    except (UsageError, ConsentRequired) as exc:
        print(f"folio-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FolioError as exc:
        print(f"folio-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, SettingsError) else EXIT_ERROR
    except KeyboardInterrupt:
        print("folio-cli: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        services.close()


if __name__ == "__main__":
    # As `python -m desktop.cli` this file is `__main__`; run the `desktop.cli` that the
    # command modules import, so that the UsageError they raise is the one main() catches.
    from desktop.cli import main as cli_main

    sys.exit(cli_main())
