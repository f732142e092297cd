"""A passage shown beside an answer: where it is and what it says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Citation:
    """One retrieved passage, shown beside an answer."""

    path: str
    page: int | None
    score: float
    text: str
    file_name: str
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A search result's JSON shape (folio-cli's contract): path, page, score, text, plus
        file_name and title."""
        return {
            "path": self.path,
            "page": self.page,
            "score": self.score,
            "text": self.text,
            "file_name": self.file_name,
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        """The citation ``to_json`` wrote (older rows without file_name get it from the path)."""
        return cls(
            path=data["path"],
            page=data.get("page"),
            score=data["score"],
            text=data["text"],
            file_name=data.get("file_name") or data["path"].rsplit("/", 1)[-1],
            title=data.get("title"),
        )
