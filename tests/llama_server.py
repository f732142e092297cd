"""llama.cpp's OpenAI-compatible server (``llama_cpp.server``) on 127.0.0.1, for tests.

Run as a module it is the real server with one addition: embedding requests are mean-pooled.
SmolLM2's GGUF names no pooling type, so llama.cpp would return one vector per token, and
the server has no flag to choose pooling; OpenAI's API returns one vector per input.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

MODEL_ALIAS = "smollm2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(gguf: Path, n_ctx: int = 4096) -> Iterator[str]:
    """Start the server on a free loopback port; yield its ``/v1`` base URL."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115  (closed below, after the server)
    command = [sys.executable, "-m", "tests.llama_server", "--model", str(gguf)]
    command += ["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_threads", "2", "--n_ctx", str(n_ctx), "--embedding", "true"]
    proc = subprocess.Popen(
        command,
        stdout=log,
        stderr=log,
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _serve() -> None:
    import llama_cpp
    from llama_cpp.server.__main__ import main

    class MeanPooledLlama(llama_cpp.Llama):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if kwargs.get("embedding"):
                kwargs.setdefault("pooling_type", llama_cpp.LLAMA_POOLING_TYPE_MEAN)
            super().__init__(*args, **kwargs)

    llama_cpp.Llama = MeanPooledLlama  # type: ignore[misc]
    main()


if __name__ == "__main__":
    _serve()
