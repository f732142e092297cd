"""Counts written as a person reads them: "1 file", "2 files"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` agreeing: "1 question", "2 questions" (``plural`` when not -s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
