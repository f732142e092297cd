"""Markdown files: the text, titled by its first heading."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.readers.encoding import decode_text

MARKDOWN_TYPES = frozenset({".md", ".markdown"})


class MarkdownReader(BaseReader):
    """The whole file as one document; its ``title`` is the first ``# `` heading."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        text = decode_text(file, file.read_bytes())
        title = next(
            (line.lstrip("#").strip() for line in text.splitlines() if line.startswith("# ")),
            None,
        )
        return [Document(text=text, metadata={"title": title} if title else {})]
