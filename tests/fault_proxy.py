"""A proxy in front of an OpenAI-compatible server that misbehaves the way real ones do.

Requests pass through to the upstream server (llama.cpp's) unless a fault is set. The error
bodies follow OpenAI's published shape (``{"error": {"message", "type", "code"}}``) and
streamed answers are relayed with chunked encoding, so cutting one mid-way is a broken
transfer to the client, as when a connection drops.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Faults:
    """What the proxy does next; tests set these between requests."""

    def __init__(self) -> None:
        self.status: int | None = None  # answer every request with this HTTP error
        self.code: str = ""  # the error body's "code"
        self.times: int | None = None  # ...only this many times, then pass through
        self.stall_s: float = 0.0  # wait this long before answering at all
        self.cut_after_events: int | None = None  # drop a stream after this many SSE events
        self.cuts = 0  # streams dropped so far (one that ended sooner was not cut)
        self.max_prompt_chars: int | None = None  # 400 context_length_exceeded above this
        # Like OpenAI, end a stream with a usage chunk when the request asks for one.
        self.stream_usage = False
        self.requests = 0
        self.prompt_sizes: list[int] = []
        self.authorizations: list[str | None] = []

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


_MESSAGES = {
    401: ("Incorrect API key provided.", "invalid_request_error"),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error"),
    429: ("Rate limit reached for requests.", "requests"),
    500: ("The server had an error while processing your request.", "server_error"),
}
# Keyed by the body's "code" where OpenAI words an error by its code rather than its status.
_CODE_MESSAGES = {
    "insufficient_quota": (
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
    ),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length))

    def _send_json(self, status: int, body: dict[str, object], **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, body: bytes) -> None:
        faults = self.server.faults
        faults.requests += 1
        faults.authorizations.append(self.headers.get("Authorization"))
        if faults.stall_s:
            time.sleep(faults.stall_s)
        if body and self.path.endswith("/chat/completions"):
            messages = json.loads(body).get("messages", [])
            size = sum(len(m.get("content") or "") for m in messages)
            faults.prompt_sizes.append(size)
            if faults.max_prompt_chars is not None and size > faults.max_prompt_chars:
                return self._send_json(
                    400,
                    {
                        "error": {
                            "message": "This model's maximum context length is exceeded.",
                            "type": "invalid_request_error",
                            "code": "context_length_exceeded",
                        }
                    },
                )
        if faults.status is not None and (faults.times is None or faults.times > 0):
            if faults.times is not None:
                faults.times -= 1
            message, kind = _CODE_MESSAGES.get(faults.code) or _MESSAGES.get(
                faults.status, ("Error.", "server_error")
            )
            error = {"message": message, "type": kind, "code": faults.code or None}
            # OpenAI's SDK honours retry-after-ms: keep the test's backoff short.
            return self._send_json(faults.status, {"error": error}, retry_after_ms="50")
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        upstream = http.client.HTTPConnection(self.server.upstream_host, timeout=600)
        headers = {"Content-Type": "application/json"} if body else {}
        upstream.request(self.command, self.server.upstream_path + self.path, body, headers)
        response = upstream.getresponse()
        streaming = "text/event-stream" in (response.getheader("Content-Type") or "")
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type") or "")
        if not streaming:
            data = response.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = 0
        cut = self.server.faults.cut_after_events
        while line := response.readline():
            if line.startswith(b"data: [DONE]") and self.server.faults.stream_usage:
                self._write_chunk(self._usage_event(body, events))
            if line.startswith(b"data:"):
                events += 1
                if cut is not None and events > cut:
                    # Drop the connection without the closing chunk: a broken transfer.
                    self.server.faults.cuts += 1
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    upstream.close()
                    self.close_connection = True
                    return
            self._write_chunk(line)
        self.wfile.write(b"0\r\n\r\n")
        upstream.close()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    @staticmethod
    def _usage_event(body: bytes, events: int) -> bytes:
        """OpenAI's final chunk: no choices, the request's token counts."""
        prompt = sum(len(m.get("content") or "") for m in json.loads(body)["messages"]) // 4
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": events,
            "total_tokens": prompt + events,
        }
        chunk = {"id": "usage", "object": "chat.completion.chunk", "choices": [], "usage": usage}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(upstream)  # http://127.0.0.1:PORT/v1
        self.upstream_host = parts.netloc
        self.upstream_path = ""  # clients already send the /v1 prefix
        self.faults = Faults()


class FaultProxy:
    """``with FaultProxy(upstream_base_url) as proxy:`` ... ``proxy.base_url``, ``proxy.faults``."""

    def __init__(self, upstream_base_url: str) -> None:
        self._server = _ProxyServer(upstream_base_url)
        self.faults = self._server.faults
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> FaultProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
