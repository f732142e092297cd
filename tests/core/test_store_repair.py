"""A vector store that lost chunks (its files deleted or damaged) says so wherever the
library is searched, and a sync indexes the missing chunks again, leaving the rest as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from llama_index.core.schema import TextNode

from desktop.cli import main
from desktop.core.chat.service import PARTIAL_STORE_NOTICE
from desktop.core.errors import StoreError
from desktop.core.store import edge
from tests.consistency import assert_consistent

TOPICS = {
    "saturn.md": "# Saturn\n\nThe rings of Saturn are made of ice and rock, some of it dust.",
    "tea.md": "# Tea\n\nGreen tea is steeped at 80 degrees for two minutes, never boiling.",
    "bikes.md": "# Bicycles\n\nA chain is oiled every 300 kilometres, more often in the rain.",
    "bread.md": "# Bread\n\nSourdough rises overnight in a cool kitchen, about 12 hours.",
}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TOPICS.items():
        (folder / name).write_text(text)
    return folder


def _delete_the_store(home: Path) -> None:
    """Delete the vector store's files as a person clearing space, or a failing disk, would;
    library.db is left intact."""
    for entry in (home / "store").iterdir():
        shutil.rmtree(entry)


def test_a_store_whose_files_were_deleted_is_indexed_again_by_sync(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path
) -> None:
    services = make_services()
    chunks = services.ingestor.ingest([docs]).chunks_embedded
    services.close()
    _delete_the_store(home)
    services = make_services()
    problem = services.store_shortfall()
    assert problem is not None
    assert f"holds none of the library's {chunks} chunks" in str(problem)
    assert "run `folio-cli sync`" in str(problem) and "press Sync now" in problem.message
    with pytest.raises(StoreError, match="holds none of the library's"):
        services.retriever.search("rings of Saturn")

    report = services.ingestor.sync()
    assert (report.repaired, report.added, report.updated, report.removed) == (4, 0, 0, 0)
    assert report.chunks_embedded == chunks and report.to_json()["repaired"] == 4
    assert services.store_shortfall() is None
    assert_consistent(services)
    assert services.retriever.search("rings of Saturn")[0].file_name == "saturn.md"
    again = services.ingestor.sync()  # nothing left to mend
    assert (again.repaired, again.unchanged, again.chunks_embedded) == (0, 4, 0)


def test_a_store_missing_some_chunks_answers_with_a_notice_and_sync_mends_only_those(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = make_services()
    services.ingestor.ingest([docs])
    total = services.library.indexed_chunks()
    lost = next(r for r in services.library.all_files() if r.path.endswith("tea.md"))
    services.store.delete_nodes(node_ids=lost.chunk_ids)
    services.store.commit()
    held = total - len(lost.chunk_ids)

    # What is left is still searched, and the answer says its sources may leave things out.
    answer = services.chat.ask("What are the rings of Saturn made of?")
    assert answer.citations and answer.citations[0].file_name == "saturn.md"
    assert answer.notice == PARTIAL_STORE_NOTICE.format(held=held, listed=total)
    assert services.chats.messages(answer.chat_id)[-1].notice == answer.notice
    services.close()

    assert main(["--home", str(home), "search", "rings of Saturn", "--json"]) == 0
    searched = capsys.readouterr()
    data = json.loads(searched.out)
    assert data["results"][0]["file_name"] == "saturn.md"
    assert f"holds only {held} of the library's {total} chunks" in data["store_problem"]
    assert searched.err.startswith("folio-cli: The vector store") and searched.err.count("\n") == 1

    assert main(["--home", str(home), "sync", "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert (synced["repaired"], synced["unchanged"], synced["updated"]) == (1, 3, 0)
    assert synced["chunks_embedded"] == len(lost.chunk_ids)  # the others were left as they were
    assert main(["--home", str(home), "sync"]) == 0
    assert "indexed again" not in capsys.readouterr().out
    assert main(["--home", str(home), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["store_problem"] is None
    services = make_services()
    assert_consistent(services)
    answer = services.chat.ask("At what temperature is green tea steeped?")
    assert answer.citations[0].file_name == "tea.md" and answer.notice is None


def test_a_store_restored_from_an_older_copy_is_brought_in_step_by_sync(  # type: ignore[no-untyped-def]
    make_services, docs: Path
) -> None:
    services = make_services()
    services.ingestor.ingest([docs])
    # An older copy: it lacks the chunks of a file added since, and holds as many of a file
    # removed since (chunks under ids and a path no file of the library lists), so the
    # store's count is the library's.
    lost = next(r for r in services.library.all_files() if r.path.endswith("bread.md"))
    services.store.delete_nodes(node_ids=lost.chunk_ids)
    kept = next(r for r in services.library.all_files() if r.path.endswith("tea.md"))
    (old,) = services.store.get_nodes(node_ids=kept.chunk_ids[:1])
    for n in range(len(lost.chunk_ids)):
        stale = TextNode(
            id_=str(uuid.UUID(int=n + 1)),
            text="An old note on coffee.",
            metadata={**old.metadata, "file_path": str(docs / "coffee.md"), "file_name": "c.md"},
            embedding=old.embedding,
        )
        services.store.add([stale])
    services.store.commit()
    assert services.store.count() == services.library.indexed_chunks()
    services.close()

    services = make_services()  # Folio started again: its first sync compares the ids
    report = services.ingestor.sync()
    assert (report.repaired, report.unchanged, report.chunks_embedded) == (
        1,
        3,
        len(lost.chunk_ids),
    )
    assert_consistent(services)  # the stale chunks are gone, the lost ones back
    assert all(c.file_name in TOPICS for c in services.retriever.search("an old note", k=8))


def test_a_store_whose_files_are_damaged_says_how_to_rebuild_it(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = make_services()
    chunks = services.ingestor.ingest([docs]).chunks_embedded
    services.close()
    edge = home / "store" / "edge"
    (vectors,) = edge.glob("segments/*/vector_storage-dense/vectors/chunk_0.mmap")
    vectors.write_bytes(b"")  # cut short, as a full disk or a failing one leaves it
    services = make_services()
    with pytest.raises(StoreError) as damaged:
        services.retriever.search("rings of Saturn")
    assert f"The vector store at {edge} cannot be read" in str(damaged.value)
    assert "move that folder aside (or delete it) and run `folio-cli sync`" in str(damaged.value)
    assert "press Sync now" in damaged.value.message
    services.close()

    (edge / "edge_config.json").write_text("{not json")  # and one it cannot even open
    services = make_services()
    with pytest.raises(StoreError, match=r"cannot be opened \(.*move that folder aside"):
        services.retriever.search("rings of Saturn")
    services.close()
    # status still reports the library, with the store's problem and the way out.
    assert main(["--home", str(home), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"]["indexed"] == len(TOPICS) and status["chunks"] == chunks
    assert f"The vector store at {edge} cannot be opened" in status["store_problem"]

    shutil.move(edge, home / "damaged-store")  # what the message says to do
    services = make_services()
    report = services.ingestor.sync()
    assert (report.repaired, report.chunks_embedded) == (4, chunks)
    assert services.retriever.search("rings of Saturn")[0].file_name == "saturn.md"
    assert_consistent(services)


def test_a_lost_store_with_a_folder_away_says_its_files_wait_for_it(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path, tmp_path: Path
) -> None:
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "owls.md").write_text("# Owls\n\nBarn owls hunt by sound in complete darkness.")
    services = make_services()
    services.ingestor.ingest([docs, drive])
    services.close()
    _delete_the_store(home)
    drive.rename(tmp_path / "drive-unplugged")
    services = make_services()
    report = services.ingestor.sync()
    assert report.repaired == 4 and report.unavailable == [str(drive)]
    problem = services.store_shortfall()
    assert problem is not None and f"Chunks of files in {drive}, which cannot be reached" in str(
        problem
    )
    services.close()
    (tmp_path / "drive-unplugged").rename(drive)
    services = make_services()
    assert services.ingestor.sync().repaired == 1 and services.store_shortfall() is None
    assert_consistent(services)


def test_a_file_where_the_store_folder_should_be_is_named_as_what_to_move(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = make_services()
    services.ingestor.ingest([docs])
    services.close()
    _delete_the_store(home)
    (home / "store").rmdir()
    (home / "store").write_text("not a folder")
    assert main(["--home", str(home), "status", "--json"]) == 0
    problem = json.loads(capsys.readouterr().out)["store_problem"]
    assert f"The file {home / 'store'} stands where the store's folder should be" in problem
    assert main(["--home", str(home), "search", "rings of Saturn"]) == 1
    assert f"The file {home / 'store'} stands where" in capsys.readouterr().err
    (home / "store").rename(home / "store.old")  # what it says to do
    assert main(["--home", str(home), "sync"]) == 0
    assert main(["--home", str(home), "search", "rings of Saturn", "--json"]) == 0
    assert "saturn.md" in capsys.readouterr().out


def _as_a_user(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``folio-cli --home HOME ARGV`` in a new process that file permissions bind, as they
    bind a person (root's power to write anything is dropped for it)."""
    command = [sys.executable, "-m", "desktop.cli", "--home", str(home), *argv]
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _set_writable(top: Path, writable: bool) -> None:
    for entry in [top, *top.rglob("*")]:
        mode = entry.stat().st_mode
        entry.chmod(mode | stat.S_IWUSR if writable else mode & ~0o222)


def test_a_store_that_cannot_be_written_is_named_and_kept_not_called_damaged(  # type: ignore[no-untyped-def]
    make_services, home: Path, docs: Path
) -> None:
    # A read-only store is whole: the advice is to make it writable, never to move it aside
    # (which would throw the index away); the same for a database the user cannot write.
    services = make_services()
    chunks = services.ingestor.ingest([docs]).chunks_embedded
    services.close()
    (docs / "new.md").write_text("# New\n\nA new note about kites.")
    _set_writable(home / "store", False)
    try:
        done = _as_a_user(home, "sync")
    finally:
        _set_writable(home / "store", True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "your user cannot write" in done.stderr and "chmod -R u+w" in done.stderr
    assert "aside" not in done.stderr and "os error" not in done.stderr  # no engine's words
    services = make_services()
    assert services.library.indexed_chunks() == chunks  # nothing stored was lost
    assert services.ingestor.sync().added == 1
    assert_consistent(services)
    services.close()

    questions = home.parent / "questions.jsonl"
    questions.write_text(json.dumps({"question": "Q?", "reference": "A."}) + "\n")
    (home / "evaluations.db").touch()
    (home / "evaluations.db").chmod(0o444)
    try:
        done = _as_a_user(home, "eval", "import", str(questions), "--name", "q")
    finally:
        (home / "evaluations.db").chmod(0o644)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"your user cannot write {home / 'evaluations.db'}" in done.stderr


def test_a_disk_too_full_for_the_store_is_said_before_the_store_is_opened(  # type: ignore[no-untyped-def]
    make_services, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a full disk the store's mapped files end the process (SIGBUS) as they fill: the
    # room is looked at first. The disk here has room, so the room asked for is raised.
    services = make_services()
    chunks = services.ingestor.ingest([docs]).chunks_embedded
    services.close()
    free = shutil.disk_usage(docs).free
    monkeypatch.setattr(edge, "MIN_FREE_BYTES", free + 10**12)
    services = make_services()
    with pytest.raises(StoreError, match=r"has only \d+ MB free, and the store needs \d+ MB"):
        services.store  # noqa: B018
    services.close()
    monkeypatch.undo()
    services = make_services()
    assert services.store.count() == chunks  # nothing was changed
    services.close()


# Run in a process of its own: were the room not looked at, the full disk would end it
# with SIGBUS (return code -7), not fail a test. It prints one line per step.
_FILL_DURING_A_RUN = """
import os, shutil, sys
from pathlib import Path
from desktop.core.errors import StoreError
from desktop.services import Services
home, first, second, filler = map(Path, sys.argv[1:5])
services = Services(home)
print("first", services.ingestor.ingest([first]).added, flush=True)
free = shutil.disk_usage(home).free
with open(filler, "wb") as out:  # another program fills the disk: 2 MB are left
    os.posix_fallocate(out.fileno(), 0, free - 2_000_000)
try:
    services.ingestor.ingest([second])
    print("second indexed", flush=True)
except StoreError as exc:
    print("refused", exc, flush=True)
filler.unlink()
report = services.ingestor.sync()
print("sync", report.added + report.updated, report.failed, report.unchanged, flush=True)
services.close()
"""


def test_a_disk_filled_while_the_store_is_open_stops_writes_with_a_message(  # type: ignore[no-untyped-def]
    make_services, tmp_path: Path, docs: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = ["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(disk)]
    if subprocess.run(mounted, capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        more = tmp_path / "more"
        more.mkdir()
        for number in range(12):
            (more / f"river{number}.md").write_text(f"# River {number}\n\n" + "Fish swim. " * 300)
        script = [sys.executable, "-c", _FILL_DURING_A_RUN]
        done = subprocess.run(
            [*script, str(disk / "home"), str(docs), str(more), str(disk / "filler")],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
        lines = done.stdout.splitlines()
        assert lines[0] == "first 4"
        assert lines[1].startswith("refused The disk holding the vector store at ")
        assert re.search(r"has only [0-2] MB free, and the store needs 67 MB", lines[1])
        assert "free some space on it" in lines[1]
        assert "what was written before is kept" in lines[1]
        # With room again, the rest is indexed, the file the refusal cut short included.
        assert lines[2] == "sync 12 0 4"
        services = make_services(at=disk / "home")
        assert_consistent(services)
        assert len(services.library.all_files()) == 16
        assert services.retriever.search("rings of Saturn")[0].file_name == "saturn.md"
        services.close()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
