"""Two Folios on one library: the second is refused at once and the first never notices."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from desktop.cli import answer
from desktop.core.library.channel import SUN_PATH_MAX, ChannelServer, Reply, call
from desktop.core.library.lock import LOCK_FILE, LibraryInUseError
from desktop.core.settings import Settings, save_settings

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}


def _snapshot(home: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``home``: its bytes and modification time (ns)."""
    return {
        str(p.relative_to(home)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def held(make_services, home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A first Folio on ``home`` that has indexed two folders and removed one, still open."""
    save_settings(home, Settings(max_answer_tokens=16, threads=2))
    _write(tmp_path / "kept" / "leave.md", "Unused leave carries over up to 5 days.")
    _write(tmp_path / "gone" / "badge.md", "Error code QZ-881 means the badge reader is off.")
    first = make_services()
    first.ingestor.ingest([tmp_path / "kept", tmp_path / "gone"])
    first.ingestor.remove(tmp_path / "gone")
    first.chats  # noqa: B018  (the first has every database open, as a window does)
    first.finetune_jobs  # noqa: B018
    return first


def test_every_cli_command_is_refused_in_one_line_and_touches_nothing(
    held, home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    new = _write(tmp_path / "new" / "atlas.md", "The atlas shows the northern coast.")
    jsonl = _write(
        tmp_path / "train.jsonl",
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", '
        '"content": "hello"}]}\n',
    )
    commands = [
        ["ingest", str(new)],
        ["sync"],
        ["remove", str(tmp_path / "kept")],
        ["status", "--json"],
        ["search", "leave", "--json"],
        ["ask", "How many days carry over?", "--no-retrieval", "--json"],
        ["reembed", "local:all-MiniLM-L6-v2"],
        ["models", "list", "--json"],
        ["models", "add-server", "lab", "--base-url", "http://127.0.0.1:9/v1"],
        ["models", "remove", "lab"],
        ["personas", "list", "--json"],
        ["personas", "add", "Pirate", "--prompt", "Talk like a pirate."],
        ["personas", "remove", "Pirate"],
        ["finetune", "datasets", "--json"],
        ["finetune", "import", str(jsonl), "--name", "greetings"],
        ["finetune", "validate", str(jsonl)],
        ["finetune", "status", "--json"],
        ["finetune", "from-chats", "liked"],
    ]
    before = _snapshot(home)
    assert LOCK_FILE in before
    for argv in commands:
        done = subprocess.run(
            [sys.executable, "-m", "desktop.cli", "--home", str(home), *argv],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        assert done.returncode == 1, (argv, done.stderr)
        assert done.stdout == "", argv
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (argv, done.stderr)
        assert f"The library at {home} is open in another Folio" in lines[0], argv
        assert _snapshot(home) == before, argv


def test_bad_input_to_a_read_only_command_the_open_folio_answers_is_exit_2_in_one_line(
    held,
) -> None:  # type: ignore[no-untyped-def]
    reply = answer(held, ["search", " ", "--json"])
    assert reply.code == 2 and reply.stdout == ""
    assert reply.stderr == "folio-cli: QUERY is empty: give the words to search the library for."
    reply = answer(held, ["search", "leave", "--json"])
    assert reply.code == 0 and json.loads(reply.stdout)["results"]


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--home", str(home), *argv],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )


READ_ONLY = [
    ["status", "--json"],
    ["search", "leave carries over", "-k", "3", "--json"],
    ["personas", "list", "--json"],
    ["models", "list", "--json"],
]


def test_read_only_commands_are_answered_by_the_open_folio_as_when_run_alone(
    held, home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelServer(home, lambda line: answer(held, line))
    try:
        through_window = {}
        for argv in READ_ONLY:
            done = _cli(home, *argv)
            assert done.returncode == 0, (argv, done.stderr)
            through_window[argv[0]] = json.loads(done.stdout)
        before = _snapshot(home)
        for argv in (
            ["sync"],
            ["ingest", str(tmp_path / "kept")],
            ["personas", "add", "P", "--prompt", "x"],
        ):
            refused = _cli(home, *argv)
            assert refused.returncode == 1, argv
            assert refused.stderr.strip().endswith(
                "wait for that command to end, or make the change in the window (or close it "
                "and try again)."
            ), argv
            assert len(refused.stderr.strip().splitlines()) == 1, argv
        assert _snapshot(home) == before
    finally:
        channel.close()
    held.close()

    assert through_window["status"]["files"]["indexed"] == 1
    assert through_window["search"]["results"][0]["path"].endswith("leave.md")
    for argv in READ_ONLY:
        alone = _cli(home, *argv)
        assert alone.returncode == 0, (argv, alone.stderr)
        assert json.loads(alone.stdout) == through_window[argv[0]], argv


def test_a_stale_channel_left_by_a_crash_is_not_trusted(held, home: Path) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelServer(home, lambda line: answer(held, line))
    channel.close()
    (home / "folio.key").write_bytes(b"left behind by a crashed window")
    done = _cli(home, "status", "--json")
    assert done.returncode == 1 and "is open in another Folio" in done.stderr


def test_a_data_folder_too_deep_for_a_socket_is_served_from_the_users_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unix(7): a socket's path holds at most 107 bytes; the data folder's would hold more.
    home = tmp_path / ("d" * (SUN_PATH_MAX - len(str(tmp_path)))) / "home"
    home.mkdir(parents=True)
    short = Path(tempfile.mkdtemp(prefix="f"))  # a temporary folder as short as /tmp
    monkeypatch.setenv("TMPDIR", str(short))
    tempfile.tempdir = None  # read TMPDIR again
    try:
        channel = ChannelServer(home, lambda argv: Reply(0, f"answered {argv}", ""))
        try:
            sockets = list(short.glob("folio-*/folio-*.sock"))
            assert len(sockets) == 1 and not (home / "folio.sock").exists()
            assert (short / f"folio-{os.getuid()}").stat().st_mode & 0o777 == 0o700
            assert call(home, ["status"]) == Reply(0, "answered ['status']", "")
            assert channel.address == str(sockets[0])
            # TMPDIR changed while the window is open: the socket made is still the one removed.
            monkeypatch.setenv("TMPDIR", str(tmp_path))
            tempfile.tempdir = None
        finally:
            channel.close()
        assert not sockets[0].exists()
    finally:
        tempfile.tempdir = None
        shutil.rmtree(short)


def test_a_second_window_is_refused_without_a_dialog_and_touches_nothing(
    held, home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(home)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            "--home",
            str(home),
            "--self-test",
            str(tmp_path / "s.png"),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "is open in another Folio" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "s.png").exists()
    assert _snapshot(home) == before


def test_a_running_window_answers_read_only_commands_and_closes_cleanly_on_sigterm(
    home: Path, tmp_path: Path
) -> None:
    _write(tmp_path / "docs" / "leave.md", "Unused leave carries over up to 5 days.")
    save_settings(home, Settings(threads=2))
    assert _cli(home, "ingest", str(tmp_path / "docs")).returncode == 0
    alone = {argv[0]: json.loads(_cli(home, *argv).stdout) for argv in READ_ONLY}

    window = subprocess.Popen(
        [sys.executable, "-m", "desktop", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        # The channel is up once the window has the library open and its key written.
        for _ in range(600):  # up to two minutes on a busy machine
            if (home / "folio.key").exists() or window.poll() is not None:
                break
            time.sleep(0.2)
        assert window.poll() is None
        for argv in READ_ONLY:
            done = _cli(home, *argv)
            assert done.returncode == 0, (argv, done.stderr)
            assert json.loads(done.stdout) == alone[argv[0]], argv
        refused = _cli(home, "sync")
        assert refused.returncode == 1 and "make the change in the window" in refused.stderr
    finally:
        window.terminate()
        _, err = window.communicate(timeout=120)
    assert window.returncode == 0, err
    assert "Traceback" not in err
    assert not (home / "folio.key").exists() and not (home / "folio.sock").exists()
    assert json.loads(_cli(home, "status", "--json").stdout) == alone["status"]


def test_the_first_keeps_indexing_syncing_and_closing_after_refusals(
    held, make_services, home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    for argv in (["sync"], ["search", "leave", "--json"]):
        refused = subprocess.run(
            [sys.executable, "-m", "desktop.cli", "--home", str(home), *argv],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        assert refused.returncode == 1, refused.stderr
    _write(tmp_path / "kept" / "atlas.md", "The atlas shows the northern coast of Norway.")
    assert held.ingestor.sync().added == 1
    _write(tmp_path / "more" / "tide.md", "High tide reaches the harbour wall at noon.")
    assert held.ingestor.ingest([tmp_path / "more"]).added == 1
    assert held.retriever.search("northern coast atlas", k=1)[0].file_name == "atlas.md"
    assert held.retriever.search("harbour tide", k=1)[0].file_name == "tide.md"
    held.close()

    reopened = make_services()
    stats = reopened.library.stats()
    assert stats.by_status.get("indexed") == 3
    assert stats.chunks == 3 and reopened.store.count() == 3
    assert reopened.ingestor.sync().unchanged == 3


def test_a_second_holder_in_the_same_process_is_refused_too(held, make_services) -> None:  # type: ignore[no-untyped-def]
    second = make_services()
    with pytest.raises(LibraryInUseError, match="open in another Folio"):
        second.library  # noqa: B018
    held.close()
    assert second.library.stats().by_status.get("indexed") == 1


def test_closing_the_channel_never_waits_on_its_own_wake_up(tmp_path: Path) -> None:
    from desktop.core.library.channel import Reply, call

    # The serving thread may leave its loop between a request and close(), as it does when
    # close() comes right after a command was answered. Make it leave first: mark the
    # channel closed and wake its accept() with a connection that hangs up at once.
    server = ChannelServer(tmp_path, lambda argv: Reply(0, "answered", ""))
    assert call(tmp_path, ["status"]) == Reply(0, "answered", "")
    server._closed.set()
    with socket.socket(socket.AF_UNIX) as wake:
        wake.connect(str(tmp_path / "folio.sock"))
    server._thread.join(timeout=5)
    assert not server._thread.is_alive()

    closer = threading.Thread(target=server.close, daemon=True)
    closer.start()
    closer.join(timeout=10)
    assert not closer.is_alive(), "close() hung waiting for an answer nobody would send"
    assert not (tmp_path / "folio.key").exists() and not (tmp_path / "folio.sock").exists()
    assert call(tmp_path, ["status"]) is None


def test_a_data_folder_that_cannot_be_made_or_written_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # the in-process entry, as `folio-cli` runs it

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    for home, why in (
        (a_file, "it is a file, not a folder"),
        (a_file / "inside", "a part of the path is a file, not a folder"),
    ):
        assert main(["--home", str(home), "status"]) == 2  # bad input
        err = capsys.readouterr().err
        assert f"{home} cannot be Folio's data folder: {why}" in err
        assert "Traceback" not in err
    # The lock file cannot be opened (here a folder is in its place): not "open elsewhere".
    home = tmp_path / "home"
    (home / LOCK_FILE).mkdir(parents=True)
    assert main(["--home", str(home), "status"]) == 1
    err = capsys.readouterr().err
    assert f"cannot write its lock file {home / LOCK_FILE}: a folder stands there" in err
    assert "another Folio" not in err
    assert a_file.read_text(encoding="utf-8") == "not a folder"
    # A folder where no file can be made (and that even root cannot write in), which the
    # lock library reports as a lock held elsewhere.
    proc = Path("/proc/self")
    if proc.is_dir():  # (it holds other files, so it is refused before any write is tried)
        assert main(["--home", str(proc), "status"]) == 2
        err = capsys.readouterr().err
        assert "/proc/self cannot be Folio's data folder" in err and "another Folio" not in err
