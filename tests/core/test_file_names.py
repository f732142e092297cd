"""The file name suggested when something named by a person is exported."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.names import NAME_LIMIT, file_name_for


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Release notes", "Release notes.jsonl"),
        ("a/b: c?", "a-b- c-.jsonl"),  # a "/" is not a folder; ":" and "?" Windows refuses
        ('..\\x<y>|"z"*', "-x-y---z--.jsonl"),  # no leading dots: not hidden, not "up"
        ("Night\u202eshift\nrota\x1b", "Night-shift-rota-.jsonl"),
        ("café 2027. ", "café 2027.jsonl"),  # Windows drops trailing dots and spaces
        ("...", "export.jsonl"),
        ("x" * 300, "x" * NAME_LIMIT + ".jsonl"),
    ],
)
def test_a_name_becomes_a_file_name_every_system_takes(name: str, expected: str) -> None:
    assert file_name_for(name, ".jsonl") == expected


def test_the_suggested_name_is_a_file_here(tmp_path: Path) -> None:
    for name in ("a/b: c?", "../../etc/passwd", "\x00nul", "\u2028line"):
        target = tmp_path / file_name_for(name, ".html")
        target.write_text("report", encoding="utf-8")
        assert target.parent == tmp_path and target.is_file()
