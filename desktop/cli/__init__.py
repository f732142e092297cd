"""``folio-cli``: the library, search, chats, models and fine-tuning, headless, on the same
core services as the window.

``build_parser`` puts together the command groups (one module each: ``library``, ``chat``,
``models``, ``store``, ``finetune``); ``common`` holds what they share. LlamaIndex, which
the services and prompts import, takes seconds to load: it is imported only once a command
runs, so ``--version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from desktop import __version__
from desktop.cli import (
    chat,
    compare,
    evaluate,
    finetune,
    finetune_sources,
    library,
    models,
    store,
    training_support,
)
from desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    AdviceWithHome,
    UsageError,
    not_empty,
    refusal,
)
from desktop.cli.parser import PATH_ARGUMENTS, PROG, CommandLineParser
from desktop.core.errors import FolioError
from desktop.core.library.channel import Reply, call
from desktop.core.library.filenames import one_line
from desktop.core.library.lock import COMMAND_WAIT_S, LibraryInUseError
from desktop.core.paths import data_folder_problem

if TYPE_CHECKING:
    from desktop.services import Services


def build_parser() -> argparse.ArgumentParser:
    """The whole ``folio-cli`` command line."""
    parser = CommandLineParser(
        prog=PROG, description="Folio without the window: library, search and chat."
    )
    parser.add_argument("--version", action="version", version=f"folio-cli {__version__}")
    parser.add_argument("--home", help="data folder (default: $FOLIO_HOME or the platform's)")
    # read_only: the window answers it while it has the library open (``answer``).
    parser.set_defaults(read_only=False, out=None)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    library.add_commands(sub, common)
    chat.add_commands(sub, common)
    compare.add_commands(sub, common)
    evaluate.add_commands(sub, common)

    def group(name: str, text: str) -> argparse._SubParsersAction:
        return sub.add_parser(name, help=text).add_subparsers(
            dest="action", required=True, metavar="ACTION"
        )

    models.add_commands(group("models", "models, servers, downloads and API keys"), common)
    store.add_commands(group("store", "where the library's vectors live"), common)
    actions = group("finetune", "training datasets and fine-tuning jobs")
    finetune.add_commands(actions, common)
    finetune_sources.add_commands(actions, common)
    training_support.add_commands(actions, common)
    chat.add_persona_commands(sub, common)
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
    except (UsageError, FolioError) as exc:
        code, message = refusal(exc)
        return Reply(code, args.out.getvalue(), message)
    return Reply(code, args.out.getvalue(), "")


def _in_use(home: Path) -> str:
    return (
        f"folio-cli: The library at {one_line(str(home))} is open in another Folio window or "
        "command: wait for that command to end, or make the change in the window (or close it "
        "and try again)."
    )


def not_text(args: argparse.Namespace) -> str | None:
    """The first argument that should be text but holds bytes that are not UTF-8 (the
    terminal sends another encoding), named as the command line wrote it; else None."""
    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        for text in _strings(value):
            if any("\udc80" <= c <= "\udcff" for c in text):
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                return f"{dest.replace('_', ' ')} {shown!r}"
    return None


def _strings(value: Any) -> Iterator[str]:
    """The strings of an argument's value: itself, or those of a list, at any depth
    (``--example QUESTION ANSWER``, repeated, is a list of lists)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _refused(exc: UsageError | FolioError) -> int:
    code, message = refusal(exc)
    print(message, file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run one ``folio-cli`` command line (``sys.argv`` by default); the exit code.

    A reader that goes away early (``folio-cli search X | head -1``) ends the command with
    exit 1 and no traceback, as Python's documentation advises ("Note on SIGPIPE"): what
    is left to print goes to /dev/null.
    """
    try:
        try:
            return _run(argv)
        finally:
            # Flushed here, not at exit, so a closed pipe is noticed inside this ``try``.
            sys.stdout.flush()
    except KeyboardInterrupt:  # before the command ran: reading the line, opening the library
        print("folio-cli: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


def _run(argv: list[str] | None) -> int:
    line = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(line)
    if not args.home:
        return _run_parsed(args, line)
    # Commands that errors and warnings advise carry this --home too (``with_home``).
    stream = cast(TextIO, AdviceWithHome(sys.stderr, args.home))
    with contextlib.redirect_stderr(stream):
        return _run_parsed(args, line)


def _run_parsed(args: argparse.Namespace, line: list[str]) -> int:
    # An empty --home (a script's unset variable) would otherwise fall back to the user's
    # own library. An empty FOLIO_HOME, like any empty environment variable, counts as unset.
    try:
        if args.home is not None:
            not_empty(args.home, "--home", "give the data folder, or leave --home out")
    except UsageError as exc:
        return _refused(exc)
    wrong = not_text(args)
    if wrong is not None:
        print(
            f"folio-cli: the {wrong} holds bytes that are not UTF-8 text: set the terminal "
            "to UTF-8 (e.g. LANG=C.UTF-8) and type it again.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # Imported on first use: it loads filelock, which takes a while.
    from desktop.services import build_services, log_to_data_folder

    try:
        services = build_services(args.home)
        # Every command takes the library's lock before it opens anything: one refused
        # because a window (or another command) has the library open writes nothing.
        services.claim()
    except LibraryInUseError:
        # A read-only command is answered by the Folio that has the library open.
        reply = call(services.home, line) if args.read_only else None
        if reply is not None:
            sys.stdout.write(reply.stdout)
            if reply.stderr:
                print(reply.stderr, file=sys.stderr)
            return reply.code
        try:  # another command's brief hold, such as a poll of `finetune status --wait`
            services.claim(COMMAND_WAIT_S)
        except LibraryInUseError:
            print(_in_use(services.home), file=sys.stderr)
            return EXIT_ERROR
        except FolioError as exc:
            return _refused(exc)
    except FolioError as exc:
        return _refused(exc)
    log_to_data_folder(services.home)  # not stderr: a file that failed is reported there
    try:
        return int(args.func(services, args))
    except (UsageError, FolioError) as exc:
        return _refused(exc)
    except KeyboardInterrupt:
        print("folio-cli: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # ``main`` ends quietly: the reader went away
    except (sqlite3.Error, OSError) as exc:
        # The data folder's own files cannot be opened, read or written (their permissions
        # changed, the disk is full or read-only): said in one line, not a traceback.
        print(_data_folder_problem(services.home, exc), file=sys.stderr)
        return EXIT_ERROR
    finally:
        services.close()


def _data_folder_problem(home: Path, exc: sqlite3.Error | OSError) -> str:
    """One line for a data folder's file that cannot be used (``data_folder_problem``)."""
    text = data_folder_problem(home, exc)
    return one_line(f"folio-cli: {text[0].lower()}{text[1:]}")  # after a colon, as all are
