"""``folio-cli store move``: move the library between Qdrant Edge and a Qdrant server."""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    advised,
    emit,
    interruptible,
    positive_int,
)
from desktop.core.plurals import counted
from desktop.core.settings import key_variable_problem
from desktop.core.tasks import Progress

if TYPE_CHECKING:
    from desktop.services import Services


# The options that say where a Qdrant server is: Edge, in the data folder, takes none.
_SERVER_OPTIONS = (
    ("--url", "url"),
    ("--api-key-env", "api_key_env"),
    ("--collection", "collection"),
)


def cmd_move(services: Services, args: argparse.Namespace) -> int:
    """Move the library to the store ``args`` name, verify it and switch to it."""
    given = [flag for flag, dest in _SERVER_OPTIONS if getattr(args, dest) is not None]
    if args.to == "edge" and given:
        raise UsageError(
            f"store move --to edge takes no {', '.join(given)}: Edge lives in the data folder. "
            "Leave them out, or give --to qdrant to move to that server."
        )
    if args.to == "qdrant":
        _check_server_options(services, args)
    problem = key_variable_problem(args.api_key_env) if args.api_key_env is not None else None
    if problem is not None:
        raise UsageError(f"--api-key-env {args.api_key_env!r} {problem}.")
    # Imported here: it loads LlamaIndex, which other commands never need.
    from desktop.core.store.move import MoveReport, require_whole

    here = _already_there(services, args)
    if here is not None:  # done already (a script run twice): said, and not an error
        done = MoveReport(args.to, chunks=services.store.count(), verified=True)
        emit(args, done.to_json(), f"The library is already on {here}: nothing to move.")
        return EXIT_OK

    # Checked before ``move_store`` opens the target: a refused move makes no folder and
    # leaves no connection open there.
    require_whole(services.library, services.store)
    line = ProgressLine(every=0.0)

    def on_progress(p: Progress) -> None:
        line.show(f"{p.chunks_done}/{p.chunks_total} chunks moved", key=p.chunks_done)

    # Ctrl+C stops after the current batch; running again resumes from there.
    with interruptible("Stopping after the current batch…") as cancel:
        try:
            r = services.move_store(
                args.to,
                args.url,
                args.api_key_env,
                args.collection,
                on_progress,
                cancel,
                batch_size=args.batch,
            )
        finally:
            line.done()
        # Once the settings name the new store the move is done, and a late Ctrl+C must not
        # turn it into exit 130: the stores are closed (the new one flushed, which takes a
        # moment) and the result said while Ctrl+C is still caught, here to be ignored.
        with interruptible():
            services.close()
            if r.cancelled:
                text = f"Stopped; run `folio-cli {shlex.join(_move_line(args))}` again to go on."
            else:
                text = (
                    f"The library is now on {r.backend}: {counted(r.chunks, 'chunk')}, "
                    f"in {r.seconds:.1f}s."
                )
            emit(args, r.to_json(), advised(args, text))
    return EXIT_INTERRUPTED if r.cancelled else EXIT_OK


def _check_server_options(services: Services, args: argparse.Namespace) -> None:
    """UsageError when ``--url`` or ``--collection`` cannot name a Qdrant to move to."""
    # Imported here: it loads qdrant-client, which other commands never need.
    from desktop.core.store.server import collection_problem, in_data_folder, url_problem

    if not (args.url or "").strip():
        raise UsageError(
            "store move --to qdrant needs --url URL (e.g. --url http://localhost:6333)."
        )
    problem = url_problem(args.url) or in_data_folder(args.url, services.home)
    if problem is not None:
        raise UsageError(f"--url {args.url!r} {problem}.")
    problem = collection_problem(args.collection) if args.collection is not None else None
    if problem is not None:
        raise UsageError(f"--collection {args.collection!r} {problem}.")


def _already_there(services: Services, args: argparse.Namespace) -> str | None:
    """Where the library is, when it is already where ``args`` would move it, however the
    URL is spelled (a trailing slash, the default port, a symlink to the same folder);
    None when it is not."""
    # Imported here: it loads qdrant-client, which other commands never need.
    from desktop.core.store.server import location

    current = services.settings.store
    if args.to != current.backend:
        return None
    if args.to == "edge":
        return "edge"
    collection = args.collection or current.collection
    if (
        current.url is not None
        and location(args.url) == location(current.url)
        and collection == current.collection
    ):
        return f"the Qdrant collection {collection} at {current.url}"
    return None


def _move_line(args: argparse.Namespace) -> list[str]:
    """The words of the ``store move`` ``args`` gave, the options that say where to, without
    the command's ``--json`` and ``--batch`` (the run goes on as well without them)."""
    line = ["store", "move", "--to", args.to]
    for flag, dest in _SERVER_OPTIONS:
        if getattr(args, dest) is not None:
            line += [f"{flag}={getattr(args, dest)}"]
    return line


def add_commands(ssub: Any, common: argparse.ArgumentParser) -> None:
    """``store`` subcommands, on the parser ``cli.build_parser`` made."""
    p = ssub.add_parser(
        "move", parents=[common], help="move the library to a Qdrant server or back to Edge"
    )
    p.add_argument("--to", required=True, choices=["qdrant", "edge"])
    p.add_argument("--url", help="the Qdrant server's URL, e.g. http://localhost:6333")
    p.add_argument("--api-key-env", help="environment variable holding its API key")
    p.add_argument("--collection", help="the server collection's name (default: folio)")
    p.add_argument(
        "--batch",
        type=positive_int,
        default=None,
        metavar="N",
        help="chunks committed together (256)",
    )
    p.set_defaults(func=cmd_move)
