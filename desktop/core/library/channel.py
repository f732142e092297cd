"""Read-only ``folio-cli`` commands answered by the Folio that has the library open.

While the window holds the library's lock (``desktop.core.library.lock``) no other process
may open the store, so a second process cannot search it itself: Qdrant Edge 0.9 has no
read-only open (``EdgeShard.load`` takes the shard's WAL lock and writes its index files),
and SQLite's ``mode=ro`` alone would leave the store out. Instead the window serves a local
channel and runs the command on its own services, the ones it searches with; the answer is
the same JSON the command prints when run alone.

The channel is ``multiprocessing.connection`` (a Unix socket in the data folder, or in a
folder of the user's own when the data folder is too deep for a socket's path; a named
pipe on Windows), authenticated with a random key in a file only the user can read: no
other user on the machine can ask it anything. It is the standard library's own
length-prefixed, HMAC-authenticated transport, so nothing here frames or signs by hand.
Requests are answered one at a time on a daemon thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import socket
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path

SOCKET_FILE = "folio.sock"
KEY_FILE = "folio.key"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What a command run by the window printed, and its exit code."""

    code: int
    stdout: str
    stderr: str


Handler = Callable[[list[str]], Reply]


# A Unix socket's path holds at most 107 bytes (``sun_path`` is 108 with its NUL; unix(7)).
SUN_PATH_MAX = 107


def _digest(home: Path) -> str:
    return hashlib.sha256(str(home.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _address(home: Path) -> str:
    """Where the channel of ``home`` listens: a named pipe on Windows; elsewhere the socket
    file in the data folder, or, for a data folder too deep for a socket's path, one named
    by the folder's digest in ``_short_folder``."""
    if sys.platform == "win32":
        return rf"\\.\pipe\folio-{_digest(home)}"
    path = str(home / SOCKET_FILE)
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        return path
    return str(_short_folder() / f"folio-{_digest(home)}.sock")


def _short_folder() -> Path:
    """The user's own folder for sockets of deep data folders: ``folio-<uid>`` in the
    system's temporary folder (``tempfile.gettempdir``, which honours ``TMPDIR``)."""
    return Path(tempfile.gettempdir()) / f"folio-{os.getuid()}"


def _claim_short_folder() -> None:
    """Make ``_short_folder`` for this user alone; OSError when another user owns it or may
    enter it (a folder made in a shared /tmp by someone else is no place for the socket)."""
    folder = _short_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{folder} is not this user's alone: the channel is not served")


class ChannelServer:
    """Serves ``handler`` to ``folio-cli`` processes on ``home`` until ``close``.

    Only the process holding the library's lock may start one: it replaces any socket and
    key a crashed Folio left behind. ``address`` is where it listens (a socket's path, or a
    named pipe's name on Windows).
    """

    def __init__(self, home: Path, handler: Handler) -> None:
        """Listen for ``home``'s callers; OSError when the socket cannot be made (a file
        system without sockets, a temporary folder another user owns)."""
        self.home = home
        self._handler = handler
        self._closed = threading.Event()
        key = secrets.token_bytes(32)
        key_path = home / KEY_FILE
        key_path.unlink(missing_ok=True)
        # Kept, not worked out again at close: ``_address`` resolves the folder's path and
        # reads TMPDIR, either of which may change while the window is open, and the socket
        # made here is the one to remove.
        self.address = _address(home)
        if sys.platform != "win32":
            if self.address != str(home / SOCKET_FILE):
                _claim_short_folder()
            Path(self.address).unlink(missing_ok=True)
        self._listener = Listener(self.address, authkey=key)
        # The key file appears once the socket listens: a caller that finds it can connect.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        self._thread = threading.Thread(target=self._serve, name="folio-channel", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            # Closed, a caller without the key, or the wake-up from close() hanging up.
            except (OSError, EOFError, AuthenticationError):
                if self._closed.is_set():
                    return
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: Connection) -> None:
        try:
            argv = conn.recv()
            reply = self._handler([str(a) for a in argv])
        except Exception as exc:  # one bad request must not stop the channel
            log.exception("channel request failed")
            reply = Reply(1, "", f"folio-cli: {exc}")
        with contextlib.suppress(OSError):  # the caller went away
            conn.send(reply)

    def close(self) -> None:
        """Stop answering and remove the socket and key files; never waits on a caller."""
        self._closed.set()
        # Wake accept() so the thread ends. The wake-up must not wait for the server's
        # challenge: the thread may already have seen ``_closed`` and left, and then
        # nobody would ever answer (a connection queued on a socket nobody accepts).
        if sys.platform == "win32":
            threading.Thread(target=self._wake_with_client, daemon=True).start()
        else:
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as wake:
                wake.settimeout(1.0)
                wake.connect(self.address)
        self._listener.close()
        self._thread.join(timeout=5)
        (self.home / KEY_FILE).unlink(missing_ok=True)
        if sys.platform != "win32":
            Path(self.address).unlink(missing_ok=True)

    def _wake_with_client(self) -> None:
        # A named pipe takes no raw connection; this caller fails to authenticate, or
        # finds the pipe gone once the listener is closed.
        with contextlib.suppress(OSError, EOFError, AuthenticationError):
            Client(self.address, authkey=b"").close()


def call(home: Path, argv: list[str]) -> Reply | None:
    """Run ``argv`` in the Folio serving ``home``; ``None`` if none is serving it.

    Reads the key file and connects; writes nothing in the data folder.
    """
    try:
        key = (home / KEY_FILE).read_bytes()
        with Client(_address(home), authkey=key) as conn:
            conn.send(argv)
            reply = conn.recv()
    except (OSError, EOFError, AuthenticationError):  # no Folio serving, or a stale key
        return None
    return reply if isinstance(reply, Reply) else None
