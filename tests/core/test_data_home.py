"""The data folder a person names (--home, FOLIO_HOME) is Folio's, new or empty; any other
folder is refused, untouched, with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.core.errors import NotADataFolder
from desktop.core.paths import DATA_FOLDER_MARKS, data_home


def _entries(path: Path) -> list[str]:
    return sorted(os.listdir(path)) if path.is_dir() else []


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda t: (t / "docs").mkdir() or (t / "docs" / "a.txt").write_text("x"), "other files"),
        (lambda t: (t / "docs").write_text("x"), "it is a file, not a folder"),
        (lambda t: (t / "docs").symlink_to(t / "missing"), "link to something that does not"),
        (lambda t: (t / "docs").symlink_to(t / "docs"), "link loop"),
    ],
    ids=["documents", "a file", "a broken link", "a link loop"],
)
def test_a_folder_that_cannot_be_a_data_folder_is_refused_untouched(
    tmp_path: Path,
    make,
    why: str,  # type: ignore[no-untyped-def]
) -> None:
    make(tmp_path)
    before = _entries(tmp_path / "docs")
    with pytest.raises(NotADataFolder, match=why) as refused:
        data_home(tmp_path / "docs")
    assert str(tmp_path / "docs") in str(refused.value)
    assert _entries(tmp_path / "docs") == before


def test_the_home_folder_the_root_and_an_unknown_users_tilde_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "me"
    (home / ".config").mkdir(parents=True)  # hidden files only, as a new account's
    monkeypatch.setenv("HOME", str(home))
    for chosen in ("~", str(home), str(home) + "/"):
        with pytest.raises(NotADataFolder, match="it is your home folder"):
            data_home(chosen)
    with pytest.raises(NotADataFolder, match="it is the root folder"):
        data_home("/")
    with pytest.raises(NotADataFolder, match="no user 'nobody-here-at-all' for its '~'"):
        data_home("~nobody-here-at-all/folio")
    assert _entries(home) == [".config"]
    assert data_home("~/Folio") == (home / "Folio").resolve()  # a new folder under it is fine


@pytest.mark.parametrize("mark", DATA_FOLDER_MARKS)
def test_a_data_folder_new_empty_or_in_use_is_accepted(tmp_path: Path, mark: str) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / mark).write_text("")
    (used / "exported.csv").write_text("a person's file beside Folio's")
    assert data_home(used) == used.resolve()
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".DS_Store").write_bytes(b"\0")
    assert data_home(hidden) == hidden.resolve()
    assert data_home(tmp_path / "new" / "deeper") == (tmp_path / "new" / "deeper").resolve()


def test_a_relative_data_folder_is_named_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotADataFolder) as refused:
        data_home(".")
    assert str(refused.value).startswith(f"{tmp_path} cannot be Folio's data folder")


@pytest.mark.parametrize(
    "name",
    [lambda t: t / ("n" * 300), lambda t: t.joinpath(*["d" * 200] * 25)],
    ids=["a name over 255 bytes", "a path over 4096 bytes"],
)
def test_a_data_folder_the_file_system_cannot_name_is_refused_with_why(
    tmp_path: Path,
    name,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(NotADataFolder, match="too long for the file system"):
        data_home(name(tmp_path))
    assert _entries(tmp_path) == []


def test_a_data_folder_sqlite_or_the_models_cannot_open_is_refused_with_why(tmp_path: Path) -> None:
    from desktop.core.paths import LONGEST_DATABASE_NAME, SQLITE_MAX_PATH

    most = SQLITE_MAX_PATH - 1 - len(LONGEST_DATABASE_NAME)
    base = tmp_path / ("a" * 200)
    room = most - len(os.fsencode(base)) - 1
    assert data_home(base / ("b" * room)) == (base / ("b" * room)).resolve()
    with pytest.raises(NotADataFolder, match=f"too long for SQLite.*at most {most}"):
        data_home(base / ("c" * (room + 1)))
    with pytest.raises(NotADataFolder, match="its name is not UTF-8"):
        data_home(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    assert os.listdir(base) == ["b" * room]  # nothing made for the refused ones
