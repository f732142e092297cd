"""Folio's defaults never touch the network, and its core never loads Qt."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.settings import Settings
from desktop.services import Services


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return isinstance(address, (str, bytes))  # a Unix socket path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse, and record, every connection and name lookup not on 127.0.0.1."""
    attempts: list[object] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            attempts.append(address)
            raise OSError(f"network disabled in tests: {address}")
        real_connect(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if host is not None and not _is_loopback(host):
            attempts.append(host)
            raise socket.gaierror(f"network disabled in tests: {host}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_the_guard_catches_a_connection(no_network: list[object]) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert no_network


@pytest.mark.slow
def test_ingest_search_and_ask_stay_offline(no_network: list[object], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("The observatory opens at nine in the evening.")
    # Models are loaded here, from scratch, under the guard: not from a shared fixture.
    services = Services(home, Settings(max_answer_tokens=16, threads=2))
    try:
        assert services.ingestor.ingest([docs]).added == 1
        assert services.retriever.search("when does the observatory open")[0].file_name == "a.md"
        assert services.chat.ask("When does the observatory open?").citations
    finally:
        services.close()
    assert no_network == []


def test_core_never_imports_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import desktop.core, desktop.services, desktop.app, desktop.cli\n"
        "for m in pkgutil.walk_packages(desktop.core.__path__, 'desktop.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "qt = sorted(n for n in sys.modules if n.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
        "assert not qt, qt\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
