"""What every ``folio-cli`` command shares: exit codes, output, Ctrl+C and progress lines.

Results go to stdout (exactly one JSON document with ``--json``); progress and errors go to
stderr. Exit codes (../shared/CLI.md): 0 done, 1 fatal error, 2 bad usage or input, 130
interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.errors import ConsentRequired, FolioError, SettingsError
from desktop.core.files import write_atomically
from desktop.core.tasks import CancelToken

if TYPE_CHECKING:
    from desktop.services import Services

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input on the command line: exit code 2."""


# How a character that does not print is written in human output: the escapes Python's
# ``repr`` uses, so a person (or a script reading the text) can tell what is there.
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a file-name byte that is not UTF-8 (PEP 383), as stored
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def one_line(text: str) -> str:
    """``text`` as it is shown in human output: characters that do not print written as
    escapes (``\\n``, ``\\x1b``, ``\\u202e``), so a file name holding a newline, a terminal
    escape or a right-to-left override stays one line of the listing and reads as written.

    ``str.isprintable`` is false for controls, format marks (bidirectional overrides,
    zero-width spaces), separators other than the space, and lone surrogates (file-name
    bytes that are not UTF-8, written ``\\xNN`` as the library stores them). A name that
    holds a backslash itself can read like an escape, as stored names can; JSON output
    keeps the text itself.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def refusal(exc: UsageError | FolioError) -> tuple[int, str]:
    """The exit code and the one stderr line for an error that ends a command.

    Bad input is 2: a UsageError, a setting with an invalid value, or document text that
    would go to a provider that has not agreed (``--allow-remote``). Any other Folio error
    is a failure while working: 1.
    """
    usage = isinstance(exc, UsageError | ConsentRequired | SettingsError)
    return (EXIT_USAGE if usage else EXIT_ERROR), f"folio-cli: {one_line(str(exc))}"


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print a command's result: ``data`` as JSON with ``--json``, else ``text``."""
    # ``out`` is set when the window runs the command for another process (``answer``).
    print(
        json.dumps(data, ensure_ascii=False) if args.json else text, file=getattr(args, "out", None)
    )


@contextmanager
def interruptible(stopping: str | None = None) -> Iterator[CancelToken]:
    """Ctrl+C cancels the yielded token, so the work stops at its next safe point.

    ``stopping`` is said on stderr when it does ("Stopping after the current file…"). The
    first Ctrl+C also puts the previous handler back, so a second one stops at once.
    """
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        if stopping:
            print(stopping, file=sys.stderr, flush=True)
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


class ProgressLine:
    """Progress on stderr: one line redrawn on a terminal, plain lines otherwise (CLI.md).

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
            sys.stderr.write(f"\r\x1b[K{text}"[:200])
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


def positive_int(text: str) -> int:
    """argparse's type for a count such as ``-k``: a whole number of 1 or more (exit 2
    otherwise, with argparse's message naming the flag)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1; give 1 or more")
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


def check_output(services: Services, target: str, flag: str) -> Path:
    """Where ``target`` (given with ``flag``) would be written, checked without writing.

    Raises UsageError naming the flag and path for an empty path, a folder, a device or
    pipe, a file inside Folio's data folder (its databases must not be overwritten) or a
    missing folder, so a command can refuse before it does any work.
    """
    if not target.strip():
        raise UsageError(f"{flag} needs a file name.")
    path = Path(target).expanduser().resolve()
    home = services.home.resolve()
    if path == home or home in path.parents:
        raise UsageError(
            f"{flag} {target}: that is inside Folio's data folder; choose another place."
        )
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise UsageError(f"{flag} {target}: {kind}; give a file name.")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {target}: the folder {path.parent} does not exist.")
    return path


def write_output(services: Services, target: str, text: str, flag: str) -> Path:
    """Write ``text`` to the file a person named with ``flag`` (``--to``, ``--html``),
    atomically, and return where it went. A symlink is written through to its file.

    Raises UsageError as ``check_output`` does, or naming the flag and path for a write the
    system refuses.
    """
    path = check_output(services, target, flag)
    try:
        write_atomically(path, [text])
    except OSError as exc:
        raise UsageError(f"{flag} {target}: cannot write it ({exc.strerror or exc}).") from exc
    return path


def grid_specs(services: Services, configs: list[str] | None, set_name: str | None) -> list[str]:
    """The cell specs of ``--set NAME`` (a saved comparison set) followed by the ``--config``
    ones, as given. UsageError naming the saved sets when ``set_name`` is not one of them."""
    specs = list(configs or [])
    if set_name is None:
        return specs
    sets = services.comparer.saved.sets()
    name = set_name.strip()
    if name not in sets:
        known = ", ".join(repr(n) for n in sets) or "none yet"
        raise UsageError(f"--set: there is no comparison set {name!r} (saved sets: {known}).")
    return sets[name] + specs
