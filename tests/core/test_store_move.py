"""Moving a library between Qdrant Edge and a Qdrant server.

No Qdrant server binary is on PyPI, Debian or npm here, so the server side is
qdrant-client's local mode on disk (``file://FOLDER``, ``QdrantClient(path=...)``): a real
implementation of the server's API, run in-process.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.settings import load_settings
from desktop.core.store.move import pending_move
from desktop.core.store.server import ServerVectorStore
from desktop.core.tasks import CancelToken, Progress

TOPICS = {
    "glacier": "The glacier retreated two kilometres over the last century.",
    "saxophone": "She practised the saxophone every evening after dinner.",
    "volcano": "Ash from the volcano covered the village for a week.",
    "invoice": "Send the invoice to accounting before the end of the month.",
    "orchard": "The orchard gave three hundred kilos of apples this autumn.",
    "telescope": "Through the telescope we could see the rings of Saturn.",
}


@pytest.fixture
def indexed(make_services, tmp_path: Path):  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in TOPICS.items():
        (docs / f"{name}.md").write_text(f"{text}\n")
    services = make_services()
    services.ingestor.ingest([docs])
    return services


def _move_stopped_at(line: list[str], moved: int, sig: signal.Signals) -> subprocess.Popen[str]:
    """folio-cli run with ``line`` (a ``store move``) in a child process, sent ``sig`` once
    its progress shows at least ``moved`` chunks moved; its stdout is a pipe."""
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", *line],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    assert child.stderr is not None
    for progress in child.stderr:
        done = re.match(r"(\d+)/\d+ chunks moved", progress)
        if done and int(done[1]) >= moved:
            child.send_signal(sig)
            break
    return child


def _top(services, query: str) -> str:  # type: ignore[no-untyped-def]
    return Path(services.retriever.search(query)[0].path).stem


def test_move_to_a_server_and_back_keeps_every_chunk_and_the_top_passage(
    indexed, tmp_path: Path
) -> None:
    url = f"file://{tmp_path / 'server'}"
    before = indexed.store.count()
    assert _top(indexed, "rings of Saturn") == "telescope"

    report = indexed.move_store("qdrant", url, collection="lib")
    assert report.verified and report.moved == before == len(TOPICS)
    assert isinstance(indexed.store, ServerVectorStore)
    assert indexed.store.count() == before
    assert indexed.settings.store.backend == "qdrant" and indexed.settings.store.url == url
    assert _top(indexed, "rings of Saturn") == "telescope"

    back = indexed.move_store("edge")
    assert back.verified and back.chunks == before
    assert indexed.settings.store.backend == "edge"
    assert _top(indexed, "apples this autumn") == "orchard"
    assert pending_move(indexed.library) is None


def test_a_cancelled_move_resumes_where_it_stopped(indexed, tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'server'}"
    cancel = CancelToken()

    def stop_after_first(p: Progress) -> None:
        if p.chunks_done >= 2:
            cancel.cancel()

    first = indexed.move_store(
        "qdrant", url, on_progress=stop_after_first, cancel=cancel, batch_size=2
    )
    assert first.cancelled and first.moved == 2
    assert indexed.settings.store.backend == "edge"
    assert pending_move(indexed.library) is not None
    second = indexed.move_store("qdrant", url, batch_size=2)
    assert second.resumed and second.moved == len(TOPICS) - 2 and second.chunks == len(TOPICS)
    assert indexed.settings.store.backend == "qdrant"


def test_an_unreachable_server_exits_1_with_a_reason_and_changes_nothing(
    indexed, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = indexed.store.count()
    indexed.close()
    code = main(
        ["--home", str(home), "store", "move", "--to", "qdrant", "--url", "http://127.0.0.1:9"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "Cannot reach the Qdrant server at http://127.0.0.1:9" in err
    assert main(["--home", str(home), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["chunks"] == count
    # Settings that name a server that is down: said, named, no traceback.
    settings = {"store": {"backend": "qdrant", "url": "http://127.0.0.1:9"}}
    (home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    assert main(["--home", str(home), "status", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)["store_problem"]
    assert said.startswith("Cannot reach the Qdrant server at http://127.0.0.1:9: ")
    assert main(["--home", str(home), "search", "tea"]) == 1
    err = capsys.readouterr().err
    assert "Cannot reach the Qdrant server at http://127.0.0.1:9" in err and "Traceback" not in err


def test_a_key_variable_the_system_sets_or_an_address_that_cannot_be_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    move = ["--home", home, "store", "move", "--to", "qdrant", "--url", "http://127.0.0.1:9"]
    assert main([*move, "--api-key-env", "PATH"]) == 2  # its folders would go as the key
    err = capsys.readouterr().err
    assert "--api-key-env 'PATH' is a variable the system sets for its own use" in err
    assert err.count("\n") == 1
    # An address that cannot be one is bad input (2), not a server that cannot be reached (1).
    wrong = (
        ("http://[::1", "is not a valid address"),
        ("http://db:0", "must have a port"),
        ("file://", "must name a folder after file://"),
    )
    for url, why in wrong:
        assert main([*move[:-1], url]) == 2
        assert f"--url {url!r} {why}" in capsys.readouterr().err
    refused = (
        ("", "must name an environment variable (e.g. LAB_API_KEY); leave it out for no key"),
        ("MY-KEY", "is no name a shell can export"),
        ("LD_PRELOAD", "is a variable the system sets for its own use"),
        ("FOLIO_HOME", "is one of Folio's own settings, not one holding a key"),
    )
    for name, why in refused:
        assert main([*move, "--api-key-env", name]) == 2
        assert f"--api-key-env {name!r} {why}" in capsys.readouterr().err
    # Edge lives in the data folder: a server's options with it are a mistake, not ignored.
    edge = ["--home", home, "store", "move", "--to", "edge", "--url", "http://127.0.0.1:9"]
    assert main([*edge, "--collection", "lib"]) == 2
    assert "store move --to edge takes no --url, --collection" in capsys.readouterr().err


def test_a_stopped_move_names_the_line_that_goes_on_and_counts_agree(
    indexed, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chunks = indexed.store.count()
    indexed.close()
    url = f"file://{tmp_path / 'my server'}"
    line = ["--home", str(home), "store", "move", "--to", "qdrant", "--url", url, "--batch", "1"]
    child = _move_stopped_at(line, 1, signal.SIGTERM)  # stops after the batch, as Ctrl+C does
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 130
    advised = re.search(r"run `folio-cli (.+)` again to go on", out)
    assert advised is not None, out
    # The line runs alone (it names where to), on the same library, and finishes the move.
    assert main(shlex.split(advised[1])) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"The library is now on qdrant: {chunks} chunks, in ")


def test_a_server_collection_the_library_was_never_moved_to_is_reported_not_searched(
    indexed, make_services, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.core.errors import StoreError
    from desktop.core.settings import StoreSettings, save_settings, updated

    url = f"file://{tmp_path / 'empty-server'}"
    settings = updated(
        indexed.settings,
        store=StoreSettings(backend="qdrant", url=url, collection="lib").model_dump(),
    )
    indexed.close()
    save_settings(home, settings)
    services = make_services(settings)
    expected = (
        f"The vector store (Qdrant collection lib at {url}) holds none of the library's "
        f"{len(TOPICS)} chunks. If its files were lost or damaged, run `folio-cli sync`"
    )
    problem = services.store_shortfall()
    assert problem is not None and str(problem).startswith(expected)
    with pytest.raises(StoreError, match="holds none of the library's"):
        services.retriever.search("rings of Saturn")
    services.close()
    assert main(["--home", str(home), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    # As folio-cli says it, the commands it advises act on the data folder it was given.
    assert status["store_problem"].startswith(
        expected.replace("`folio-cli ", f"`folio-cli --home {home} ")
    )
    assert status["chunks"] == len(TOPICS)


def test_a_partial_store_says_how_many_chunks_it_holds(indexed) -> None:
    assert indexed.store_shortfall() is None
    ids = sorted(indexed.store.ids())
    indexed.store.delete_nodes(node_ids=ids[:2])
    problem = indexed.store_shortfall()
    assert problem is not None
    assert f"holds only {len(TOPICS) - 2} of the library's {len(TOPICS)} chunks" in str(problem)


@pytest.mark.slow
def test_a_killed_move_finishes_when_run_again_with_no_duplicates(
    make_services, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "many"
    docs.mkdir()
    for n in range(60):
        (docs / f"note{n:03}.md").write_text(f"Note {n}: the shipment code is ZX{n:04}.\n")
    services = make_services()
    services.ingestor.ingest([docs])
    chunks = services.store.count()
    services.close()

    url = f"file://{tmp_path / 'server'}"
    move = ["--home", str(home), "store", "move", "--to", "qdrant", "--url", url, "--json"]
    child = _move_stopped_at([*move, "--batch", "1"], 2, signal.SIGKILL)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL

    # Killed: the library is still on Edge, whole, with the move recorded.
    after_kill = make_services()
    assert after_kill.settings.store.backend == "edge"
    assert after_kill.store.count() == chunks
    pending = pending_move(after_kill.library)
    assert pending is not None and pending.url == url and 2 <= pending.done < chunks
    after_kill.close()

    assert main(move) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "qdrant"
    assert report["chunks"] == chunks and report["moved"] < chunks
    moved = make_services()
    assert moved.settings.store.backend == "qdrant"
    assert moved.store.count() == chunks
    assert len(moved.store.ids()) == chunks
    assert moved.store_shortfall() is None
    assert Path(moved.retriever.search("ZX0042")[0].path).name == "note042.md"


def _move(home: Path, *options: str) -> list[str]:
    return ["--home", str(home), "store", "move", "--to", "qdrant", *options]


def _folio_cli(*line: str) -> subprocess.CompletedProcess[str]:
    """folio-cli run in a child process, so that what it prints (warnings too) is its own."""
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *line],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["a/b", "../x", "x\ny", "", ".", "..", " lib", "a" * 256])
def test_a_collection_name_qdrant_does_not_take_is_refused_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    server = tmp_path / "server"
    code = main([*_move(tmp_path / "home", "--url", f"file://{server}"), "--collection", name])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"folio-cli: --collection {name!r} is not a name Qdrant takes")
    assert "Traceback" not in err and err.count("\n") == 1
    assert not server.exists()


def test_moving_to_where_the_library_is_says_so_and_another_collection_there_works(
    indexed, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chunks = indexed.store.count()
    server = tmp_path / "server"
    assert indexed.move_store("qdrant", f"file://{server}").verified
    indexed.close()
    (tmp_path / "link").symlink_to(server)
    # The same folder, however spelled, is where the library is: nothing to move, and a
    # script that moves it twice is not failed for it.
    for url in (f"file://{server}/", f"file://{tmp_path}/link", f"file://{server}/../server"):
        assert main([*_move(home, "--url", url), "--collection", "folio"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("The library is already on the Qdrant collection folio at "), url
        assert out.endswith(": nothing to move.\n")
    # Another collection in the folder the library's store has open: moved there.
    assert main([*_move(home, "--url", f"file://{server}/"), "--collection", "other"]) == 0
    assert capsys.readouterr().out.startswith(f"The library is now on qdrant: {chunks} chunks")
    status = _folio_cli("--home", str(home), "status", "--json")
    assert json.loads(status.stdout)["store_problem"] is None
    # No warning about payload indexes, which qdrant-client's local mode does not have.
    assert status.returncode == 0 and status.stderr == ""


def test_a_url_that_is_relative_a_file_or_in_the_data_folder_is_refused(
    indexed, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    indexed.close()
    monkeypatch.chdir(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    refused = (
        ("file://relative/dir", "must name the folder by its absolute path"),
        (f"file://{a_file}", "names a file, not a folder"),
        (f"file://{home}", f"is Folio's data folder {home} or a folder Folio keeps in it"),
        (f"file://{home}/store/qdrant", f"is Folio's data folder {home} or a folder"),
    )
    for url, why in refused:
        assert main(_move(home, "--url", url)) == 2, url
        err = capsys.readouterr().err
        assert err.startswith(f"folio-cli: --url {url!r} {why}") and err.count("\n") == 1
    assert not (tmp_path / "relative").exists() and not (home / "store" / "qdrant").exists()
    assert main(["--home", str(home), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["store_problem"] is None


@pytest.mark.parametrize("left", [0, 2])
def test_a_store_missing_chunks_is_not_moved_and_sync_is_advised(
    indexed, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], left: int
) -> None:
    ids = sorted(indexed.store.ids())
    indexed.store.delete_nodes(node_ids=ids[left:])
    indexed.store.commit()
    indexed.close()
    server = tmp_path / "server"
    assert main([*_move(home, "--url", f"file://{server}"), "--json"]) == 1
    captured = capsys.readouterr()
    found = f"only {left} of" if left else "none of"
    assert captured.err == (
        f"folio-cli: The library was not moved: its current store holds {found} the "
        f"library's {len(TOPICS)} chunks. Run `folio-cli --home {home} sync` first to index "
        "the missing chunks again, then move it.\n"
    )
    assert captured.out == ""
    assert not server.exists()
    assert main(["--home", str(home), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chunks"] == len(TOPICS)
    assert load_settings(home).store.backend == "edge"


def test_moving_points_from_a_short_store_copies_nothing(indexed, tmp_path: Path) -> None:
    from desktop.core.errors import StoreError
    from desktop.core.store.move import StoreMove, move_points
    from desktop.core.store.server import connect

    indexed.store.delete_nodes(node_ids=sorted(indexed.store.ids())[:1])
    url = f"file://{tmp_path / 'server'}"
    target = connect(url, None, "lib")
    try:
        with pytest.raises(StoreError, match=f"holds only {len(TOPICS) - 1} of the library's"):
            move_points(indexed.library, indexed.store, target, StoreMove("qdrant", url, "lib"))
        assert target.count() == 0 and pending_move(indexed.library) is None
    finally:
        target.close()


class _NotQdrant(http.server.BaseHTTPRequestHandler):
    """A web server that is not Qdrant: a page for every address, as a proxy's may be."""

    def do_GET(self) -> None:
        status = 404 if self.path.startswith("/collections/") else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!DOCTYPE HTML>\n<html><body>Not here</body></html>\n")

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_a_server_that_is_not_qdrant_or_is_not_there_is_said_so_in_one_line(
    indexed, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    indexed.close()
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotQdrant)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{web.server_address[1]}"
        assert main(_move(home, "--url", url)) == 1
        assert capsys.readouterr().err == (
            f"folio-cli: The server at {url} answered, but not as a Qdrant server does "
            "(HTTP 404): check the address and port.\n"
        )
    finally:
        web.shutdown()
        web.server_close()
    with socket.socket() as free:  # a port nothing listens on once this socket is closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    down = _folio_cli(*_move(home, "--url", url))
    assert down.returncode == 1
    # One line, and no warning of qdrant-client's beside it.
    assert down.stderr == (
        f"folio-cli: Cannot reach the Qdrant server at {url}: nothing answers there. Is the "
        "Qdrant server running, on that port?\n"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/wchan")
def test_ctrl_c_once_the_move_is_switched_still_ends_in_success(
    indexed, home: Path, tmp_path: Path
) -> None:
    indexed.close()
    url = f"file://{tmp_path / 'server'}"
    # The child's stdout is a pipe filled beforehand: it blocks writing its result, after the
    # switch, and Ctrl+C comes then.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filler = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            filler += os.write(write_end, b"x" * 4096)
    os.set_blocking(write_end, True)
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", *_move(home, "--url", url), "--json"],
        stdout=write_end,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    wchan = Path(f"/proc/{child.pid}/wchan")
    deadline = time.monotonic() + 60
    while "pipe" not in wchan.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "pipe" in wchan.read_text(), "the child never wrote its result"
    child.send_signal(signal.SIGINT)
    with os.fdopen(read_end, "rb") as out:
        written = out.read()
    assert child.wait(timeout=60) == 0
    report = json.loads(written[filler:])
    assert report["verified"] and not report["cancelled"] and report["chunks"] == len(TOPICS)
    assert load_settings(home).store.backend == "qdrant"
