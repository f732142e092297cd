"""HTML pages: the text of the body, titled by ``<title>``."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

HTML_TYPES = frozenset({".html", ".htm", ".xhtml"})


class HtmlReader(BaseReader):
    """LlamaIndex's ``HTMLTagReader`` on ``<body>``, plus the page's ``<title>``."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        from bs4 import BeautifulSoup
        from llama_index.readers.file import HTMLTagReader

        docs = HTMLTagReader(tag="body").load_data(file)
        head = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser").title
        title = head.get_text(" ", strip=True) if head else ""
        for doc in docs:
            doc.metadata = {"title": title} if title else {}
        return docs
