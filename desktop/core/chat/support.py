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
        """The support ``to_json`` wrote, its passage found again among ``citations`` (the
        answer's sources): one at the same path and page that holds the sentence, else the
        first at that path and page, else a passage of the sentence alone (its source was
        left out of the prompt, or the row was written by hand)."""
        sentence = data["sentence"]
        here = [c for c in citations if c.path == data["path"] and c.page == data.get("page")]
        holding = [c for c in here if _squeezed(sentence) in _squeezed(c.text)]
        for c in holding or here:
            return cls(sentence, c)
        return cls(
            sentence, Citation(data["path"], data.get("page"), 0.0, sentence, data["file_name"])
        )


def _squeezed(text: str) -> str:
    """``text`` with each run of white space one space: a sentence is found in its passage
    across the line breaks the splitter joined."""
    return " ".join(text.split())
