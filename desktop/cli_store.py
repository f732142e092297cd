"""``folio-cli store move``: move the library between Qdrant Edge and a Qdrant server."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, Any

from desktop.cli import EXIT_INTERRUPTED, EXIT_OK, UsageError, _emit
from desktop.core.tasks import CancelToken, Progress

if TYPE_CHECKING:
    from desktop.services import Services


def cmd_move(services: Services, args: argparse.Namespace) -> int:
    if args.batch is not None and args.batch < 1:
        raise UsageError("--batch must be at least 1.")
    if args.to == "qdrant" and not args.url:
        raise UsageError("store move --to qdrant needs --url URL.")
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        # First Ctrl+C: stop after the current batch; running again resumes from there.
        print("Stopping after the current batch…", file=sys.stderr)
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    def on_progress(p: Progress) -> None:
        print(f"{p.chunks_done}/{p.chunks_total} chunks moved", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, on_interrupt)
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
        signal.signal(signal.SIGINT, previous)
    if r.cancelled:
        text = "Stopped; run the same `folio-cli store move` again to go on."
    else:
        text = f"The library is now on {r.backend}: {r.chunks} chunks, in {r.seconds:.1f}s."
    _emit(args, r.to_json(), text)
    return EXIT_INTERRUPTED if r.cancelled else EXIT_OK


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
        "--batch", type=int, default=None, metavar="N", help="chunks committed together (256)"
    )
    p.set_defaults(func=cmd_move)
