"""Real folders: odd file names, folders that come and go, overlapping folders and symlinks.

Each test asserts what a person relies on: every file indexed once, shown readably and
opened again; nothing dropped (or embedded again) because a drive was unplugged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.errors import LibraryError
from desktop.core.filenames import file_url, os_path, stored_name
from desktop.core.library import INDEXED
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
    assert all(r.status == INDEXED for r in services.library.all_files())
