"""What ``ingest`` and ``sync`` say about ignore patterns they could not apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main


def test_a_skipped_ignore_line_is_a_warning_not_a_failure(  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("Notes on the survey of moraines.")
    (docs / "debug.log").write_text("log noise")
    (docs / ".folioignore").write_text("*.log\n!\n")
    ignore_file = str(docs / ".folioignore")

    assert main(["--home", str(home), "ingest", str(docs), "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    # The '*.log' line still applied: one file indexed, none failed.
    assert (data["added"], data["failed"], data["failures"]) == (1, 0, [])
    [warning] = data["warnings"]
    assert warning["path"] == ignore_file
    assert warning["reason"].startswith("line 2, '!', has nothing after its '!'")
    # stderr names the file and the line, once, as one sentence (beside the progress lines).
    said = [line for line in err.splitlines() if ".folioignore" in line]
    assert said == [f"{ignore_file}: {warning['reason']}."]

    assert main(["--home", str(home), "sync"]) == 0
    out, err = capsys.readouterr()
    assert "0 failed" in out and "; 1 warning (named above)" in out, out
    assert f"{ignore_file}: line 2, '!'" in err, err
