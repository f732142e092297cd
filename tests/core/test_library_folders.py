"""Real folders: odd file names, folders that come and go, overlapping folders and symlinks.

Each test asserts what a person relies on: every file indexed once, shown readably and
opened again; nothing dropped (or embedded again) because a drive was unplugged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.errors import LibraryError
from desktop.core.library.catalog import UNAVAILABLE_REASON, FileStatus
from desktop.core.library.filenames import file_url, os_path, stored_name
from tests.consistency import assert_consistent


def _write(path: Path | bytes, text: str) -> None:
    """Write ``text`` to ``path``, which may be raw bytes (a name that is not UTF-8)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _found(services, query: str, k: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.path for c in services.retriever.search(query, k=k, mode="keyword")]


# -- names ------------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_indexed_shown_and_opened_again(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    raw_docs = os.fsencode(docs)
    # A Latin-1 name from an old archive, sorted before the files after it.
    _write(raw_docs + b"/caf\xe9.txt", "The espresso machine code is CM-4410.")
    _write(raw_docs + b"/r\xe9sum\xe9s/\xff\xfe.md", "Folder and file with bad bytes: RS-2201.")
    _write(docs / "zebra.txt", "Zebra crossings are painted every spring: ZB-9090.")
    report = services.ingestor.ingest([docs])
    assert (report.added, report.failed) == (3, 0)

    latin = str(docs / "caf\\xe9.txt")  # as stored and shown: the bad byte written \xe9
    nested = str(docs / "r\\xe9sum\\xe9s" / "\\xff\\xfe.md")
    assert sorted(r.path for r in services.library.all_files()) == sorted(
        [latin, nested, str(docs / "zebra.txt")]
    )
    assert _found(services, "CM-4410")[0] == latin
    assert _found(services, "RS-2201")[0] == nested
    assert _found(services, "ZB-9090")[0] == str(docs / "zebra.txt")
    # The stored name leads back to the very bytes on disk, to open the file.
    assert os.fsencode(os_path(latin)) == raw_docs + b"/caf\xe9.txt"
    with open(os_path(nested), encoding="utf-8") as handle:
        assert "RS-2201" in handle.read()
    assert file_url(latin) == "file://" + str(docs).replace(" ", "%20") + "/caf%E9.txt"

    # Every later sync goes through, and sees nothing changed.
    again = services.ingestor.sync()
    assert (again.unchanged, again.added, again.failed) == (3, 0, 0)
    # Changing and deleting such a file are picked up like any other.
    _write(raw_docs + b"/caf\xe9.txt", "The espresso machine code is now CM-5520.")
    os.remove(raw_docs + b"/r\xe9sum\xe9s/\xff\xfe.md")
    changed = services.ingestor.sync()
    assert (changed.updated, changed.removed) == (1, 1)
    assert _found(services, "CM-5520")[0] == latin
    assert_consistent(services)


def test_odd_names_of_every_kind_are_indexed(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "odd names"
    names = {
        "new\nline.txt": "NL-1001",
        "-starts-with-dash.txt": "DA-1002",
        "tab\there.txt": "TB-1003",
        "emoji 📄 notes.txt": "EM-1004",
        "日本語のファイル.txt": "JP-1005",
        "back\\slash.txt": "BS-1006",
        "x" * 240 + ".txt": "LG-1007",
        "  spaces around  .txt": "SP-1008",
        "percent%20and#hash?.txt": "PC-1009",
    }
    for name, code in names.items():
        _write(docs / name, f"This note carries the code {code}.")
    report = services.ingestor.ingest([docs])
    assert (report.added, report.failed) == (len(names), 0)
    for name, code in names.items():
        assert _found(services, code)[0] == str(docs / name), name
        assert os_path(str(docs / name)) == str(docs / name)
    assert services.ingestor.sync().unchanged == len(names)
    assert_consistent(services)


def test_a_reader_failure_quoting_a_bad_name_is_stored_readably(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    raw = os.fsencode(docs) + b"/bericht-\xfc.pdf"
    os.makedirs(docs)
    with open(raw, "wb") as handle:
        handle.write(b"%PDF-1.4 truncated")
    _write(docs / "after.txt", "The file after the broken one is indexed: AF-3003.")
    report = services.ingestor.ingest([docs])
    assert (report.added, report.failed) == (1, 1)
    failure = services.library.stats().failures[0]
    assert failure.path == str(docs / "bericht-\\xfc.pdf")
    assert failure.reason and "damaged" in failure.reason
    assert _found(services, "AF-3003")[0] == str(docs / "after.txt")


def test_two_names_that_read_the_same_are_both_accounted_for(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    _write(os.fsencode(docs) + b"/caf\xe9.txt", "Latin-1 name: LN-1111.")
    _write(docs / "caf\\xe9.txt", "A name with a real backslash: BN-2222.")
    report = services.ingestor.ingest([docs])
    # One is indexed; the other is reported with what to do, never mixed up with it.
    assert (report.added, report.failed) == (1, 1)
    assert "rename one of them" in report.failures[0][1]
    assert len(services.library.all_files()) == 1
    assert_consistent(services)
    # Kept after the run, as other failures are: status and the window list it.
    stats = services.library.stats()
    assert stats.by_status[FileStatus.FAILED] == 1
    assert [(f.path, f.reason) for f in stats.failures] == report.failures
    assert services.ingestor.sync().failures == report.failures  # said again, once
    assert len(services.library.stats().failures) == 1
    # Renamed, it is indexed and no longer listed.
    os.rename(docs / "caf\\xe9.txt", docs / "cafe-backslash.txt")
    assert services.ingestor.sync().added == 1
    stats = services.library.stats()
    assert (stats.failures, stats.by_status.get(FileStatus.FAILED, 0)) == ([], 0)
    # A clash is forgotten with its folder.
    _write(docs / "caf\\xe9.txt", "Back again.")
    services.ingestor.sync()
    assert len(services.library.stats().failures) == 1
    services.ingestor.remove(docs)
    assert services.library.stats().failures == []


def test_stored_name_is_the_path_itself_when_it_is_utf8() -> None:
    assert stored_name("/docs/Müller GmbH/naïve.txt") == "/docs/Müller GmbH/naïve.txt"
    assert stored_name("/docs/caf\udce9.txt") == "/docs/caf\\xe9.txt"
    assert os_path("/no/such/caf\\xe9.txt") == "/no/such/caf\\xe9.txt"


# -- folders that come and go -------------------------------------------------------------------


def test_an_unavailable_folder_is_kept_and_nothing_is_embedded_again(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drive = tmp_path / "usb-drive"
    for i in range(3):
        _write(drive / f"manual-{i}.txt", f"Manual {i} covers the code MV-{i}00.")
    other = tmp_path / "other"
    _write(other / "notes.txt", "Notes that stay: NT-7000.")
    services.ingestor.ingest([drive, other])

    drive.rename(tmp_path / "usb-drive-unplugged")  # unplugged
    report = services.ingestor.sync()
    assert (report.removed, report.unchanged) == (0, 1)
    assert report.unavailable == [str(drive)]
    assert services.library.unavailable_folders() == [str(drive)]
    assert len(services.library.all_files()) == 4
    assert _found(services, "MV-100")[0] == str(drive / "manual-1.txt")
    assert_consistent(services)

    (tmp_path / "usb-drive-unplugged").rename(drive)  # back
    back = services.ingestor.sync()
    assert (back.unchanged, back.chunks_embedded, back.added, back.removed) == (4, 0, 0, 0)
    assert back.unavailable == [] and services.library.unavailable_folders() == []


def test_status_lists_an_unavailable_folder(  # type: ignore[no-untyped-def]
    make_services, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    share = tmp_path / "share"
    _write(share / "plan.txt", "The plan.")
    services = make_services()
    services.ingestor.ingest([share])
    services.close()
    share.rename(tmp_path / "share-unmounted")
    assert main(["--home", str(home), "sync", "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert synced["unavailable"] == [str(share)] and synced["removed"] == 0
    assert main(["--home", str(home), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["unavailable"] == [str(share)]
    assert status["files"]["indexed"] == 1
    assert main(["--home", str(home), "status"]) == 0
    assert f"unavailable: {share}: cannot be reached" in capsys.readouterr().out
    assert main(["--home", str(home), "sync"]) == 0
    synced_text = capsys.readouterr()
    assert "1 folder unavailable, kept as it was" in synced_text.out
    # Each warning is a sentence, with its full stop.
    assert synced_text.err.endswith(f"\n{share}: {UNAVAILABLE_REASON}.\n")


def test_a_single_file_deleted_from_its_folder_is_removed(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    lone = tmp_path / "lone.txt"
    _write(lone, "A file added on its own.")
    services.ingestor.ingest([lone])
    lone.unlink()
    report = services.ingestor.sync()
    assert (report.removed, report.unavailable) == (1, [])
    assert services.library.all_files() == []


# -- overlapping folders, symlinks, paths added twice --------------------------------------------


def test_a_file_stays_while_any_library_folder_covers_it(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    parent = tmp_path / "parent"
    _write(parent / "child" / "inner.txt", "The inner file holds IN-4242.")
    _write(parent / "outer.txt", "The outer file holds OU-4343.")
    services.ingestor.ingest([parent / "child"])
    services.ingestor.ingest([parent])
    assert services.ingestor.remove(parent / "child") == 0
    assert _found(services, "IN-4242") == [str(parent / "child" / "inner.txt")]
    assert services.library.folders() == [str(parent)]
    assert services.library.get(str(parent / "child" / "inner.txt")).root == str(parent)
    assert services.ingestor.sync().unchanged == 2

    # A folder inside a library folder cannot be removed on its own: it would come back.
    with pytest.raises(LibraryError, match=r"inside the library folder .*\.folioignore"):
        services.ingestor.remove(parent / "child")
    # A name inside it that the library does not hold (mistyped, or never there) says so.
    with pytest.raises(LibraryError) as refused:
        services.ingestor.remove(parent / "nothere.txt")
    assert refused.value.message == (
        f"{parent / 'nothere.txt'} is not in the library: {parent} holds no file by that name."
    )
    assert str(refused.value).endswith("(`folio-cli status` lists the library's folders).")
    assert services.ingestor.remove(parent) == 2
    assert services.library.all_files() == [] and services.library.folders() == []
    assert_consistent(services)


def test_removing_the_outer_folder_keeps_what_an_inner_one_covers(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    parent = tmp_path / "parent"
    _write(parent / "child" / "inner.txt", "Inner: IN-5151.")
    _write(parent / "outer.txt", "Outer: OU-5252.")
    services.ingestor.ingest([parent / "child"])
    services.ingestor.ingest([parent])
    leaving = services.library.files_leaving(str(parent))
    assert [r.path for r in leaving] == [str(parent / "outer.txt")]
    assert services.ingestor.remove(parent) == 1
    assert _found(services, "IN-5151") == [str(parent / "child" / "inner.txt")]
    assert _found(services, "OU-5252") == []
    assert services.library.folders() == [str(parent / "child")]
    assert_consistent(services)


def test_a_path_inside_a_library_folder_added_again_is_no_second_entry(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        _write(docs / name, f"File {name}.")
    services.ingestor.ingest([docs])
    again = services.ingestor.ingest([docs / "a.txt", docs / "sub", docs])
    assert again.already_in_library == [str(docs / "a.txt"), str(docs / "sub"), str(docs)]
    assert (again.added, again.unchanged) == (0, 3)
    assert services.library.folders() == [str(docs)]
    assert services.ingestor.sync().unchanged == 3


@pytest.mark.parametrize("order", ["linked folder first", "linking folder first"])
def test_a_symlink_into_another_library_folder_is_one_file(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, order: str
) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    _write(a / "own.txt", "A's own file: AO-1212.")
    _write(b / "shared.txt", "The shared passage holds SH-3434.")
    os.symlink(b, a / "link-to-B")
    os.symlink(b / "shared.txt", a / "shared-link.txt")
    first, second = (b, a) if order == "linked folder first" else (a, b)
    services.ingestor.ingest([first])
    services.ingestor.ingest([second])
    assert _found(services, "SH-3434") == [str(b / "shared.txt")]
    assert sorted(r.path for r in services.library.all_files()) == [
        str(a / "own.txt"),
        str(b / "shared.txt"),
    ]
    report = services.ingestor.sync()
    assert (report.unchanged, report.added, report.removed) == (2, 0, 0)
    assert_consistent(services)


def test_two_links_to_one_file_outside_the_library_are_one_file(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "spec.txt"
    _write(outside, "The specification number is SP-8080.")
    docs = tmp_path / "docs"
    docs.mkdir()
    os.symlink(outside, docs / "spec-link-1.txt")
    os.symlink(outside, docs / "spec-link-2.txt")
    report = services.ingestor.ingest([docs])
    assert report.added == 1
    assert len(_found(services, "SP-8080")) == 1
    assert all(r.status == FileStatus.INDEXED for r in services.library.all_files())


# -- found by trying to break it ----------------------------------------------------------------


@pytest.mark.parametrize("order", ["real path first", "symlink first"])
def test_a_folder_added_through_a_symlink_is_one_library_folder(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, order: str
) -> None:
    real = tmp_path / "real"
    _write(real / "q.txt", "The quokka note: QK-1001.")
    _write(real / "sub" / "w.txt", "The wombat note: WB-2002.")
    link = tmp_path / "link"
    os.symlink(real, link)
    first, second = (real, link) if order == "real path first" else (link, real)
    services.ingestor.ingest([first])
    again = services.ingestor.ingest([second])
    assert (again.added, again.already_in_library) == (0, [str(real)])
    assert services.library.folders() == [str(real)]
    assert _found(services, "QK-1001") == [str(real / "q.txt")]
    assert services.ingestor.sync().unchanged == 2
    # `..` after a symlink is the real parent, as the shell's `cd -P` has it.
    outer = tmp_path / "elsewhere" / "deep"
    _write(outer / "d.txt", "Deep note.")
    os.symlink(outer, real / "to-deep")
    assert services.ingestor.ingest([real / "to-deep" / ".."]).added >= 1
    assert str(tmp_path / "elsewhere") in services.library.folders()


def test_paths_given_together_make_one_entry(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    _write(out / "in" / "i.txt", "Inner.")
    report = services.ingestor.ingest([out, out / "in" / "i.txt", Path(f"{out}/")])
    # None of them was in the library before: none is said to be, and the file is indexed
    # once, as part of its folder.
    assert (report.added, report.already_in_library) == (1, [])
    assert services.library.folders() == [str(out)]
    # Given again, two ways: in the library once, and said once.
    again = services.ingestor.ingest([out, out / "in" / ".." / ".." / "out", out / "in"])
    assert again.already_in_library == [str(out), str(out / "in")]
    assert (again.added, again.unchanged) == (0, 1)
    assert services.ingestor.remove(out) == 1
    assert services.library.all_files() == []


def test_a_folder_emptied_at_once_is_unavailable_not_emptied(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # What an unmounted share looks like: its mount point, an empty folder.
    share = tmp_path / "share"
    _write(share / "a.txt", "Share note A.")
    _write(share / "b" / "b.txt", "Share note B.")
    services.ingestor.ingest([share])
    away = tmp_path / "share-contents"
    away.mkdir()
    for entry in list(share.iterdir()):
        entry.rename(away / entry.name)
    report = services.ingestor.sync()
    assert (report.removed, report.unavailable) == (0, [str(share)])
    assert len(services.library.all_files()) == 2
    for entry in list(away.iterdir()):
        entry.rename(share / entry.name)
    back = services.ingestor.sync()
    assert (back.unchanged, back.chunks_embedded, back.unavailable) == (2, 0, [])


def test_an_unmounted_file_system_is_unavailable(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mount = tmp_path / "mnt"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        _write(mount / "p.txt", "On the share: SH-5150.")
        services.ingestor.ingest([mount])
        subprocess.run(["umount", str(mount)], check=True)
        (mount / "stray.txt").write_text("A file written into the bare mount point.")
        report = services.ingestor.sync()
        assert (report.removed, report.unavailable) == (0, [str(mount)])
        (mount / "stray.txt").unlink()
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)], check=True)
        _write(mount / "p.txt", "On the share: SH-5150.")
        os.utime(mount / "p.txt", ns=(1, 1))
        back = services.ingestor.sync()
        assert (back.unavailable, back.chunks_embedded, back.removed) == ([], 0, 0)
        assert _found(services, "SH-5150") == [str(mount / "p.txt")]
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_deleted_single_file_leaves_the_library_with_its_entry(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    lone = tmp_path / "lone.txt"
    _write(lone, "Kiwi.")
    services.ingestor.ingest([lone])
    lone.unlink()
    first = services.ingestor.sync()
    assert (first.removed, first.unavailable) == (1, [])
    assert services.library.folders() == [] and services.library.unavailable_folders() == []
    assert services.ingestor.sync().unavailable == []


def test_a_folder_that_cannot_be_read_keeps_its_files(  # type: ignore[no-untyped-def]
    home: Path, tmp_path: Path, make_services
) -> None:
    lib = tmp_path / "lib"
    _write(lib / "locked" / "i.txt", "Locked note: LK-4040.")
    _write(lib / "open.txt", "Open note.")
    services = make_services()
    services.ingestor.ingest([lib])
    services.close()
    (lib / "locked").chmod(0)
    try:
        command = [sys.executable, "-m", "desktop.cli", "--home", str(home), "sync", "--json"]
        if os.geteuid() == 0:  # root reads anything: drop that power for this run
            drop = "-dac_override,-dac_read_search"
            command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        (lib / "locked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["removed"] == 0
    assert report["unreadable"] == [{"path": str(lib / "locked"), "reason": "Permission denied"}]
    assert "cannot be read (Permission denied); its files are kept" in done.stderr
    again = make_services().ingestor.sync()
    assert (again.unchanged, again.chunks_embedded) == (2, 0)


def test_a_symlink_to_the_folder_above_leaves_no_duplicates(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    top = tmp_path / "top"
    _write(top / "c.txt", "Top note: TP-1.")
    _write(top / "lib" / "a.txt", "Lib note A.")
    _write(top / "lib" / "b.txt", "Lib note B.")
    os.symlink("..", top / "lib" / "up")
    services.ingestor.ingest([top / "lib"])
    report = services.ingestor.ingest([top])
    # The link copies give way to the real files, whose chunks they lend: nothing re-embedded.
    assert report.chunks_embedded == 0
    assert sorted(r.path for r in services.library.all_files()) == [
        str(top / "c.txt"),
        str(top / "lib" / "a.txt"),
        str(top / "lib" / "b.txt"),
    ]
    again = services.ingestor.sync()
    assert (again.unchanged, again.added, again.removed) == (3, 0, 0)
    assert_consistent(services)


def test_a_library_folder_replaced_by_a_link_to_another_is_not_indexed_twice(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs, other = tmp_path / "docs", tmp_path / "other"
    _write(docs / "dns.md", "The resolver caches answers for 300 seconds.")
    _write(other / "old.md", "An older note.")
    services.ingestor.ingest([docs, other])
    shutil.rmtree(other)
    os.symlink(docs, other)  # the folder is now a link to the library's other folder
    report = services.ingestor.sync()
    assert (report.added, report.removed) == (0, 1)
    assert [r.path for r in services.library.all_files()] == [str(docs / "dns.md")]
    hits = services.retriever.search("resolver cache seconds")
    assert [h.file_name for h in hits] == ["dns.md"]  # once, not once per folder
    assert_consistent(services)


def test_adding_a_folder_reuses_what_a_link_into_it_embedded(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "A", tmp_path / "B"
    _write(a / "own.txt", "A's own.")
    _write(b / "doc.txt", "The document in B: DB-7777. " * 20)
    os.symlink(b, a / "to-B")
    services.ingestor.ingest([a])
    report = services.ingestor.ingest([b])
    assert (report.added, report.chunks_embedded, report.removed) == (1, 0, 1)
    assert report.chunks_reused > 0
    assert set(_found(services, "DB-7777")) == {str(b / "doc.txt")}


def test_a_folder_whose_name_reads_like_a_library_folders_is_refused(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    latin = os.fsencode(tmp_path) + b"/d\xe9"
    _write(latin + b"/one.txt", "One: ON-1.")
    services.ingestor.ingest([Path(os.fsdecode(latin))])
    literal = tmp_path / "d\\xe9"
    _write(literal / "two.txt", "Two.")
    with pytest.raises(LibraryError, match="reads the same as the library folder"):
        services.ingestor.ingest([literal])
    assert _found(services, "ON-1") == [str(tmp_path / "d\\xe9" / "one.txt")]
    assert services.ingestor.sync().unchanged == 1


def test_bad_paths_for_ingest_and_remove_are_usage_errors(  # type: ignore[no-untyped-def]
    make_services, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    _write(docs / "sub" / "a.txt", "A.")
    services = make_services()
    services.ingestor.ingest([docs])
    services.close()
    os.symlink(docs, tmp_path / "docs-link")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = {
        ("remove", str(tmp_path / "nowhere")): "is not in the library",
        ("remove", str(tmp_path / "docs-link" / "sub")): "inside the library folder",
        ("ingest", str(fifo)): "neither a file nor a folder",
    }
    for argv, message in cases.items():
        assert main(["--home", str(home), *argv]) == 2, argv
        assert message in capsys.readouterr().err
    assert make_services().library.folders() == [str(docs)]


def test_a_warning_about_a_folder_not_named_in_utf8_reaches_the_log(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    import io
    import logging

    raw = os.fsencode(tmp_path) + b"/d\xe9p\xf4t"
    _write(raw + b"/note.txt", "A note in the depot: DP-6060.")
    with open(raw + b"/.folioignore", "wb") as handle:
        handle.write(b"\xff\xfe not a rule file\n")
    # folio.log is UTF-8 with strict errors: a raw name would stop the record being written.
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    handler = logging.StreamHandler(stream)
    handler.handleError = lambda record: pytest.fail(f"not logged: {record.msg}")  # type: ignore[method-assign]
    logging.getLogger("desktop").addHandler(handler)
    try:
        report = services.ingestor.ingest([Path(os.fsdecode(raw))])
    finally:
        logging.getLogger("desktop").removeHandler(handler)
    assert report.added == 1
    stream.flush()
    logged = stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    assert "d\\xe9p\\xf4t/.folioignore: is not UTF-8 text; none of its patterns apply" in logged


def test_the_folioignore_line_offered_for_a_file_leaves_it_out(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    _write(library / "keep.txt", "Kept: KE-1010.")
    # A name with bytes that are not UTF-8, a gitignore wildcard and a line break.
    odd = os.fsencode(library / "sub") + b"/bad\xff\xfe [draft]*\nname.txt"
    os.makedirs(os.path.dirname(odd), exist_ok=True)
    with open(odd, "wb") as handle:
        handle.write(b"Odd: OD-2020.")
    assert services.ingestor.ingest([library]).added == 2
    odd_path = stored_name(os.fsdecode(odd))
    with pytest.raises(LibraryError, match="with the line `") as refused:
        services.ingestor.remove(odd_path)
    line = str(refused.value).split("with the line `", 1)[1].split("`", 1)[0]
    assert line == "/sub/bad?? \\[draft]\\*?name.txt"
    (library / ".folioignore").write_text(line + "\n", encoding="utf-8")
    report = services.ingestor.sync()
    assert report.removed == 1
    assert [r.path for r in services.library.all_files()] == [str(library / "keep.txt")]
    assert_consistent(services)


def test_a_folder_whose_path_is_too_long_for_the_system_is_named_with_what_to_do(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    _write(docs / "near.txt", "A note near the top about narwhals.")
    # Folders nested past the 4,096 bytes a path may hold (PATH_MAX), made one at a time
    # relative to the last, as a program can.
    here = os.open(docs, os.O_RDONLY)
    for _ in range(25):
        os.mkdir("d" * 200, dir_fd=here)
        deeper = os.open("d" * 200, os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = deeper
    os.close(here)

    report = services.ingestor.ingest([docs])

    assert report.added == 1
    [(folder, reason)] = report.unreadable
    assert len(folder.encode()) >= 4096 - 201 and folder.startswith(str(docs))
    assert reason == (
        "File name too long: its path is longer than the system allows; move it to a shorter one"
    )
