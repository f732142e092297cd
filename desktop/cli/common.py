"""What every ``folio-cli`` command shares: exit codes, output, Ctrl+C and progress lines.

Results go to stdout (exactly one JSON document with ``--json``); progress and errors go to
stderr. Exit codes (README, "folio-cli"): 0 done, 1 fatal error, 2 bad usage or input, 130
interrupted.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import shlex
import shutil
import signal
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from desktop.core.errors import (
    ChatError,
    ConsentRequired,
    ContextTooLong,
    DatasetError,
    FolioError,
    ModelError,
    NotADataFolder,
    NothingIndexed,
    SettingsError,
)
from desktop.core.files import write_atomically
from desktop.core.finetune.datasets import check_name
from desktop.core.library.filenames import one_line
from desktop.core.names import find_name, is_blank
from desktop.core.tasks import CancelToken

if TYPE_CHECKING:
    from desktop.core.chat.personas import Persona
    from desktop.core.evaluate.cells import CellConfig
    from desktop.services import Services

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DATASETS_LIST = "`folio-cli finetune datasets` lists the datasets"


class UsageError(Exception):
    """Bad input on the command line: exit code 2."""


def refusal(exc: UsageError | FolioError) -> tuple[int, str]:
    """The exit code and the one stderr line for an error that ends a command.

    Bad input is 2: a UsageError, a setting with an invalid value, document text that
    would go to a provider that has not agreed (``--allow-remote``), a question too long
    for the model, or a data folder that is some other folder. Any other Folio error is a
    failure while working: 1.
    """
    usage = isinstance(
        exc, UsageError | ConsentRequired | SettingsError | ContextTooLong | NotADataFolder
    )
    return (EXIT_USAGE if usage else EXIT_ERROR), f"folio-cli: {one_line(str(exc))}"


# Why a path cannot be used, by the errno ``os.stat`` gives, with what to do about it.
_STAT_PROBLEMS = {
    errno.ENOENT: "no such file or folder (check the spelling)",
    errno.ELOOP: "a symlink loop, a link on the way leads back to itself (fix or remove the "
    "link, or name the real file or folder)",
    errno.EACCES: "permission denied (give your user read access to it and to the folders "
    "above it)",
    errno.ENAMETOOLONG: "the name is too long for the file system (name a shorter path)",
    errno.ENOTDIR: "a part of the path is a file, not a folder (check the path)",
}


def path_problem(path: str, *, folder: bool = False) -> str | None:
    """Why ``path`` cannot be used, as ``PATH: reason (what to do)``; None when it can be
    looked at and read (and, with ``folder``, is a folder).

    The reason is the system's own (a missing file, a symlink loop, a folder that may not be
    entered), not a guess from ``Path.exists`` or ``Path.is_dir``, which say False for all
    of them.
    """
    shown = one_line(path)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            target = one_line(os.readlink(path))
            return f"{shown}: a symlink to {target}, which does not exist (fix or remove the link)"
        reason = _STAT_PROBLEMS.get(exc.errno or 0, f"cannot be read ({exc.strerror or exc})")
        return f"{shown}: {reason}"
    # A folder must also be listed and entered, a file read.
    if not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
        return f"{shown}: {_STAT_PROBLEMS[errno.EACCES]}"
    if folder and not os.path.isdir(path):
        return f"{shown}: a file, not a folder (name the folder that holds it)"
    return None


def indexed_folder(services: Services, value: str, flag: str = "--folder") -> Path:
    """``value`` as a library folder to write from; UsageError naming ``flag`` when it is
    empty, cannot be read, is not a folder, or holds nothing indexed (so the command stops
    before any model loads)."""
    if not value.strip():
        raise UsageError(f"{flag} is empty: name a folder of the library.")
    problem = path_problem(value, folder=True)
    if problem is not None:
        raise UsageError(f"{flag} {problem}.")
    try:
        services.library.require_indexed(value)
    except NothingIndexed as exc:
        raise UsageError(str(exc)) from exc
    return Path(value)


def known_model(services: Services, model_id: str, flag: str = "--model") -> None:
    """UsageError naming ``flag`` and the command that lists the models when ``model_id``
    cannot be used here (``Services.check_model``); nothing is loaded."""
    try:
        services.check_model(model_id)
    except ModelError as exc:
        raise UsageError(f"{flag}: {exc} `folio-cli models list` shows the models.") from exc


def known_persona(services: Services, name: str, flag: str = "--persona") -> Persona:
    """The persona called ``name``; UsageError naming ``flag`` and the command that lists
    the personas when there is none."""
    try:
        return services.chats.personas.get(name)
    except ChatError as exc:
        raise UsageError(
            f"{flag}: {exc} `folio-cli personas list` shows them; `folio-cli personas add` "
            "makes one."
        ) from exc


def dataset_name(
    services: Services, name: str, flag: str, *, new: bool = False, other: str = "choose another"
) -> str:
    """``name`` as a dataset is called; UsageError naming ``flag`` when it cannot be one or,
    for a ``new`` dataset, when another has it (``other`` says what to do instead)."""
    try:
        name = check_name(name)
    except DatasetError as exc:
        raise UsageError(f"{flag}: {exc}") from exc
    if not new:
        return name
    try:
        services.datasets.get(name)
    except DatasetError:
        return name  # no dataset has it yet
    raise UsageError(
        f'{flag}: there is already a dataset named "{name}": {other}; {DATASETS_LIST}.'
    )


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print a command's result: ``data`` as JSON with ``--json``, else ``text``, as they
    are: a message in them that advises a command was given ``advised`` where it was made,
    and the documents' text, prompts and names they hold are never rewritten."""
    # ``out`` is set when the window runs the command for another process (``answer``).
    print(
        json.dumps(data, ensure_ascii=False) if args.json else text, file=getattr(args, "out", None)
    )


# folio-cli's commands, as ``build_parser`` names them (tests/cli/test_cli.py checks).
COMMANDS = (
    "ingest", "sync", "remove", "status", "reembed", "search", "ask", "compare", "eval",
    "models", "store", "finetune", "personas",
)  # fmt: skip
# A command a message of Folio's advises, as messages write it: "run `folio-cli sync`".
_ADVISED = re.compile(rf"`folio-cli (?=(?:{'|'.join(COMMANDS)})\b)")


def with_home(text: str, home: str | None) -> str:
    """``text`` (a message of Folio's) with each command it advises (`` `folio-cli sync` ``)
    given ``--home home``, as the command that says it was, so that run as printed it acts
    on the same data folder, not the default one; ``text`` as it is without ``home``. (A
    data folder given by ``FOLIO_HOME`` needs nothing: the advised command runs where the
    variable is set.) Not for documents' text or a person's own words, which may quote a
    command of their own."""
    if not home:
        return text
    # Absolute: the advice may be run from another folder than the one it was given in.
    where = os.path.abspath(os.path.expanduser(home))
    return _ADVISED.sub(f"`folio-cli --home {shlex.quote(where)} ", text)


def advised(args: argparse.Namespace, message: str) -> str:
    """``with_home`` for a message of this command's (``args.home``)."""
    return with_home(message, getattr(args, "home", None))


class AdviceWithHome:
    """A text stream writing to ``stream`` with ``with_home`` applied: folio-cli's stderr,
    which holds Folio's errors, warnings and progress, never a document's text or a
    prompt. Everything else is the stream's own."""

    def __init__(self, stream: TextIO, home: str) -> None:
        self._stream = stream
        self._home = home

    def write(self, text: str) -> int:
        return self._stream.write(with_home(text, self._home))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# The signals that stop work at its next safe point, as Ctrl+C does. SIGTERM is what
# `timeout`, `kill` and service managers send: killed at once, an ingest would lose the
# files it had finished since its last commit.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interruptible(stopping: str | None = None) -> Iterator[CancelToken]:
    """Ctrl+C (or SIGTERM) cancels the yielded token, so the work stops at its next safe
    point and the command exits 130.

    130 (128 + SIGINT) for SIGTERM too, not the shell's 143: folio-cli's contract has one code
    for "interrupted, with the library left consistent", and that is what happened.
    ``stopping`` is said on stderr when it does ("Stopping after the current file…"). The
    first signal also puts the previous handlers back, so a second one stops at once.
    """
    cancel = CancelToken()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def on_interrupt(signum: int, frame: Any) -> None:
        if stopping:
            print(stopping, file=sys.stderr, flush=True)
        cancel.cancel()
        restore()

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_interrupt)
    try:
        yield cancel
    finally:
        restore()


class ProgressLine:
    """Progress on stderr: one line redrawn on a terminal, plain lines otherwise (folio-cli's
    contract).

    On a pipe or a log, a line is printed when its ``key`` changes (the file being indexed,
    the chunk being written), at most once every ``every`` seconds unless ``force``.
    tqdm was not used: on a pipe it either redraws with carriage returns or prints nothing,
    where folio-cli's contract is plain lines.
    """

    def __init__(self, every: float = 2.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self._last = float("-inf")
        self._key: object = None

    def show(self, text: str, key: object = None, force: bool = False) -> None:
        """Show ``text`` (made ``one_line``); on a pipe only if ``key`` changed and enough
        time passed."""
        text = one_line(text)
        if self.tty:
            # Cut to the terminal's width: a line that wraps is only cleared on its last row,
            # and each redraw would leave its other rows behind.
            width = shutil.get_terminal_size().columns - 1
            sys.stderr.write(f"\r\x1b[K{text[:width]}")
            sys.stderr.flush()
            return
        now = time.monotonic()
        if key != self._key and (force or now - self._last >= self.every):
            self._last, self._key = now, key
            print(text, file=sys.stderr, flush=True)

    def done(self) -> None:
        """Clear the redrawn line on a terminal."""
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def not_empty(value: str, name: str, wanted: str) -> None:
    """UsageError "``name`` is empty: ``wanted``." when ``value`` shows nothing (``is_blank``:
    spaces, zero-width characters), as a script's unset variable leaves it: taken as a path
    it would be the current folder, taken as a question it would be asked of the model."""
    if is_blank(value):
        raise UsageError(f"{name} is empty: {wanted}.")


# The largest count an option takes: far above any library's (a million sources, chunks or
# questions), far below the 64-bit integers of the store and SQLite it is handed to.
COUNT_LIMIT = 1_000_000


def positive_int(text: str) -> int:
    """argparse's type for a count such as ``-k``: a whole number from 1 to ``COUNT_LIMIT``
    (exit 2 otherwise, with argparse's message naming the flag)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1; give 1 or more")
    if value > COUNT_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is more than {COUNT_LIMIT:,}; give fewer")
    return value


def allow_remote(services: Services, models: list[str]) -> None:
    """``--allow-remote``: let the remote providers of ``models`` (those that answer with
    retrieval on) receive passages of the library from now on, as the window's consent
    dialog does."""
    for model in models:
        provider = services.needs_consent(model)
        if provider:
            services.allow_remote(provider)


def require_consent(services: Services, model_id: str, allowed: bool, doing: str) -> None:
    """Before work that sends passages to ``model_id``: nothing to do for a local model or
    a provider that agreed; with ``allowed`` (``--allow-remote``) the provider agrees now;
    otherwise UsageError saying ``doing`` (e.g. "Generating with X") needs the flag."""
    provider = services.needs_consent(model_id)
    if not provider:
        return
    if not allowed:
        raise UsageError(
            f"{doing} sends passages of your documents to {provider}. "
            "Run again with --allow-remote to agree."
        )
    services.allow_remote(provider)


def check_output(services: Services, target: str, flag: str, *, force: bool = False) -> Path:
    """Where ``target`` (given with ``flag``) would be written, checked without writing.

    Raises UsageError naming the flag and path for an empty path or ``-`` (stdout to many
    tools), a folder, a device or pipe, a file inside Folio's data folder (its databases must
    not be overwritten), a missing folder or a name the system refuses (too long), or a file
    there already unless ``force`` (``--force``), so a command can refuse before it does any
    work.
    """
    if not target.strip():
        raise UsageError(f"{flag} needs a file name.")
    if target == "-":
        # Many tools read "-" as stdout; a file named "-" written instead would surprise.
        raise UsageError(f"{flag} -: give a file name (./- names a file called '-').")
    if target.endswith(("/", os.sep)):
        raise UsageError(f"{flag} {target}: a folder; give a file name.")
    try:
        path = Path(target).expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop (RuntimeError before 3.13)
        raise UsageError(
            f"{flag} {target}: cannot write it (a symlink loop, or a link that cannot be "
            "followed); fix or remove the link, or give another file name."
        ) from exc
    home = services.home.resolve()
    if path == home or home in path.parents:
        raise UsageError(
            f"{flag} {target}: that is inside Folio's data folder; choose another place."
        )
    try:
        there = path.stat()
    except FileNotFoundError:
        there = None
    except OSError as exc:  # a name too long, a folder that cannot be entered
        raise UsageError(f"{flag} {target}: cannot write it ({exc.strerror or exc}).") from exc
    if there is not None and not stat.S_ISREG(there.st_mode):
        kind = "a folder" if stat.S_ISDIR(there.st_mode) else "not a regular file"
        raise UsageError(f"{flag} {target}: {kind}; give a file name.")
    if there is not None and not force:
        # A file a person keeps (last month's report) is never replaced unasked.
        raise UsageError(
            f"{flag} {target}: the file exists already; add --force to replace it, or give "
            "another file name."
        )
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {target}: the folder {path.parent} does not exist.")
    return path


def write_output(
    services: Services, target: str, text: str, flag: str, *, force: bool = False
) -> Path:
    """Write ``text`` to the file a person named with ``flag`` (``--to``, ``--html``),
    atomically (a temporary file renamed over it), and return where it went. A symlink is
    written through to its file. A file there already is replaced only with ``force``.

    Raises UsageError as ``check_output`` does, or naming the flag and path for a write the
    system refuses.
    """
    path = check_output(services, target, flag, force=force)
    try:
        write_atomically(path, [text])
    except OSError as exc:
        raise UsageError(f"{flag} {target}: cannot write it ({exc.strerror or exc}).") from exc
    return path


def grid_specs(services: Services, configs: list[str] | None, set_name: str | None) -> list[str]:
    """The cell specs of ``--set NAME`` (a saved comparison set) followed by the ``--config``
    ones, as given. The set is the one spelled so, else the only one whose name reads the
    same (``find_name``; saving under such a name replaces the set). UsageError naming the
    saved sets when ``set_name`` finds none of them."""
    specs = list(configs or [])
    if set_name is None:
        return specs
    sets = services.comparer.saved.sets()
    name = set_name.strip()
    found = find_name(name, sets)
    if found is None:
        known = ", ".join(repr(n) for n in sets) or "none yet"
        raise UsageError(f"--set: there is no comparison set {name!r} (saved sets: {known}).")
    return sets[found] + specs


def check_cells(services: Services, configs: list[CellConfig]) -> None:
    """UsageError naming every configuration whose model or persona is not there, and the
    commands that list them, before anything is searched, asked or saved."""
    problems: list[str] = []
    lists: dict[str, None] = {}  # the listing commands to name, in order, once each
    for config in configs:
        try:
            services.check_model(config.model)
            if config.persona:
                services.chats.personas.get(config.persona)
        except ModelError as exc:
            problems.append(f"configuration {config.spec()!r}: {str(exc).rstrip('.')}")
            lists["`folio-cli models list` shows the models"] = None
        except ChatError as exc:
            problems.append(f"configuration {config.spec()!r}: {str(exc).rstrip('.')}")
            lists["`folio-cli personas list` shows the personas"] = None
    if problems:
        raise UsageError(f"Nothing was asked: {'; '.join(problems)}. {'; '.join(lists)}.")
