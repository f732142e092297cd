"""Read-only ``folio-cli`` commands answered by the Folio that has the library open.

While the window holds the library's lock (``desktop.core.library.lock``) no other process
may open the store, so a second process cannot search it itself: Qdrant Edge 0.9 has no
read-only open (``EdgeShard.load`` takes the shard's WAL lock and writes its index files),
and SQLite's ``mode=ro`` alone would leave the store out. Instead the window serves a local
channel and runs the command on its own services, the ones it searches with; the answer is
the same JSON the command prints when run alone.

The channel is ``multiprocessing.connection`` (a Unix socket in the data folder, a named
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
import sys
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


def _address(home: Path) -> str:
    if sys.platform == "win32":
        digest = hashlib.sha256(str(home.resolve()).encode("utf-8", "surrogatepass")).hexdigest()
        return rf"\\.\pipe\folio-{digest[:24]}"
    return str(home / SOCKET_FILE)


class ChannelServer:
    """Serves ``handler`` to ``folio-cli`` processes on ``home`` until ``close``.

    Only the process holding the library's lock may start one: it replaces any socket and
    key a crashed Folio left behind.
    """

    def __init__(self, home: Path, handler: Handler) -> None:
        self.home = home
        self._handler = handler
        self._closed = threading.Event()
        key = secrets.token_bytes(32)
        key_path = home / KEY_FILE
        key_path.unlink(missing_ok=True)
        if sys.platform != "win32":
            (home / SOCKET_FILE).unlink(missing_ok=True)
        self._listener = Listener(_address(home), authkey=key)
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
                wake.connect(_address(self.home))
        self._listener.close()
        self._thread.join(timeout=5)
        (self.home / KEY_FILE).unlink(missing_ok=True)
        if sys.platform != "win32":
            (self.home / SOCKET_FILE).unlink(missing_ok=True)

    def _wake_with_client(self) -> None:
        # A named pipe takes no raw connection; this caller fails to authenticate, or
        # finds the pipe gone once the listener is closed.
        with contextlib.suppress(OSError, EOFError, AuthenticationError):
            Client(_address(self.home), authkey=b"").close()


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
