"""Atomic writes keep the permissions a person expects: a replaced file its own, a new file
those any program's new file gets (not the temporary file's private 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.core.files import NEW_FILE_MODE, write_atomically


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_file_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("made by open()", encoding="utf-8")
    new = tmp_path / "report.html"
    write_atomically(new, ["<p>report</p>"])
    assert stat.S_IMODE(new.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == NEW_FILE_MODE
    shared = tmp_path / "shared.csv"
    shared.write_text("old", encoding="utf-8")
    shared.chmod(0o664)
    write_atomically(shared, ["new"])
    assert shared.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
