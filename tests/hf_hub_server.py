"""A stand-in for the Hugging Face hub on 127.0.0.1, speaking what file downloads use.

It follows the hub as huggingface_hub 1.x sees it:

- ``HEAD``/``GET /{repo_id}/resolve/{revision}/{filename}`` of an LFS file answers 302 to a
  CDN URL on another host name (``localhost`` instead of ``127.0.0.1``, as the hub sends
  clients to its CDN), with ``X-Repo-Commit``, ``X-Linked-Etag`` (the quoted sha256),
  ``X-Linked-Size`` and ``Accept-Ranges``; huggingface_hub does not follow a redirect that
  leaves the hub's host, it reads the metadata on the 302 itself;
- ``GET /cdn/{sha256}`` sends the bytes, and honours ``Range: bytes=N-`` with 206 and
  ``Content-Range``;
- unknown repos answer 401 with ``X-Error-Code: RepoNotFound`` (what the hub tells an
  anonymous client), unknown revisions and files 404 with ``RevisionNotFound`` /
  ``EntryNotFound``.

Faults for tests: cut the connection after N bytes, advertise a wrong sha256, throttle.
Every request is logged with the bytes of body handed to the socket.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = hashlib.sha1(b"folio test repo").hexdigest()
_CHUNK = 64 * 1024
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Served:
    """One request as the server saw it."""

    method: str
    path: str
    range: str | None
    status: int = 0
    bytes_sent: int = 0


@dataclass
class Faults:
    """What goes wrong on the next requests; tests set these and ``HubServer.reset`` clears them."""

    cut_after: int | None = None  # close the connection after this many body bytes ...
    cut_times: int = 0  # ... on this many file GETs
    wrong_sha256: bool = False  # advertise the sha256 of other content
    bytes_per_second: float | None = None  # throttle file bodies


@dataclass
class _File:
    path: Path
    size: int
    sha256: str


@dataclass
class HubServer:
    """The running server: its endpoint (for ``HF_ENDPOINT``), faults and request log."""

    endpoint: str
    faults: Faults = field(default_factory=Faults)
    log: list[Served] = field(default_factory=list)

    def reset(self) -> None:
        self.faults = Faults()
        self.log.clear()

    def file_gets(self) -> list[Served]:
        """The requests that carried file bytes, in order."""
        return [r for r in self.log if r.method == "GET" and r.path.startswith("/cdn/")]


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _handler(hub: HubServer, repos: dict[str, dict[str, _File]], port: int) -> type:
    by_sha = {f.sha256: f for files in repos.values() for f in files.values()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            served = Served(self.command, self.path, self.headers.get("Range"))
            hub.log.append(served)
            path = self.path.split("?", 1)[0]
            if path.startswith("/cdn/"):
                self._send_file(served, by_sha.get(path.removeprefix("/cdn/")), body)
                return
            match = _RESOLVE.match(path)
            if match is None:
                self._error(served, 404, None, "Not found")
                return
            files = repos.get(match["repo"])
            if files is None:
                self._error(served, 401, "RepoNotFound", "Repository not found")
            elif match["rev"] not in ("main", COMMIT):
                self._error(served, 404, "RevisionNotFound", "Invalid rev id")
            elif match["file"] not in files:
                self._error(served, 404, "EntryNotFound", "Entry not found")
            else:
                self._redirect(served, files[match["file"]])

        def _error(self, served: Served, status: int, code: str | None, message: str) -> None:
            served.status = status
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _redirect(self, served: Served, file: _File) -> None:
            sha = hashlib.sha256(b"other content").hexdigest() if hub.faults.wrong_sha256 else None
            served.status = 302
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/cdn/{file.sha256}?sig=test")
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Etag", f'"{sha or file.sha256}"')
            self.send_header("X-Linked-Size", str(file.size))
            self.send_header("ETag", f'"{sha or file.sha256}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send_file(self, served: Served, file: _File | None, body: bool) -> None:
            if file is None:
                self._error(served, 404, None, "Not found")
                return
            start, end = 0, file.size - 1
            ranged = _RANGE.match(served.range or "")
            if ranged:
                start = int(ranged[1])
                end = min(int(ranged[2]), end) if ranged[2] else end
                if start >= file.size or start > end:
                    served.status = 416
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{file.size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            served.status = 206 if ranged else 200
            self.send_response(served.status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{file.sha256}"')
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{end}/{file.size}")
            self.end_headers()
            if body and self.command == "GET":
                self._stream(served, file.path, start, end - start + 1)

        def _stream(self, served: Served, path: Path, start: int, length: int) -> None:
            faults = hub.faults
            cut = None
            if faults.cut_after is not None and faults.cut_times > 0:
                faults.cut_times -= 1
                cut = faults.cut_after
            began = time.monotonic()
            with path.open("rb") as source:
                source.seek(start)
                while served.bytes_sent < length:
                    size = min(_CHUNK, length - served.bytes_sent)
                    if cut is not None:
                        size = min(size, cut - served.bytes_sent)
                    if size <= 0:
                        break
                    chunk = source.read(size)
                    # Counted before writing, so a client that has every byte sees the count.
                    served.bytes_sent += len(chunk)
                    try:
                        self.wfile.write(chunk)
                    except OSError:  # the client went away (cancelled, killed)
                        self.close_connection = True
                        return
                    if faults.bytes_per_second:
                        ahead = served.bytes_sent / faults.bytes_per_second
                        time.sleep(max(0.0, ahead - (time.monotonic() - began)))
            if cut is not None and served.bytes_sent < length:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@contextlib.contextmanager
def running_hub(repos: dict[str, dict[str, Path]]) -> Iterator[HubServer]:
    """Serve ``{repo_id: {filename: local file}}`` on a free loopback port until the block ends."""
    files = {
        repo: {name: _File(path, path.stat().st_size, _sha256(path)) for name, path in f.items()}
        for repo, f in repos.items()
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = int(server.server_address[1])
    hub = HubServer(endpoint=f"http://127.0.0.1:{port}")
    server.RequestHandlerClass = _handler(hub, files, port)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
