"""The supporting sentence of an answer: the sources' sentence that best answers the
question, and the passage it is in.

Its own module so that reading chats (``history``) does not load the sentence scoring
(``focus``: LlamaIndex, Qdrant's BM25), which every ``folio-cli`` command would then pay for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.library.citation import Citation


@dataclass(frozen=True)
class Support:
    """The sentence of the sources that best answers a question, and where it is."""

    sentence: str
    citation: Citation

    def to_json(self) -> dict[str, Any]:
        """``{"sentence", "path", "page", "file_name"}``."""
        c = self.citation
        return {"sentence": self.sentence, "path": c.path, "page": c.page, "file_name": c.file_name}

    @classmethod
    def from_json(cls, data: dict[str, Any], citations: Sequence[Citation]) -> Support:
        """The support ``to_json`` wrote, its citation found again among ``citations`` (the
        answer's sources) by path and page."""
        for c in citations:
            if c.path == data["path"] and c.page == data.get("page"):
                return cls(data["sentence"], c)
        return cls(
            data["sentence"],
            Citation(data["path"], data.get("page"), 0.0, data["sentence"], data["file_name"]),
        )
