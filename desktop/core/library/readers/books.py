"""EPUB books: each chapter's XHTML read as the web reader reads a page."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.encoding import decode_text
from desktop.core.library.readers.web import page_text


class EpubReader(BaseReader):
    """One document per chapter in reading (spine) order, titled by the book's title."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document per chapter; Unreadable for a book with no text."""
        # Imported on first use: it loads EbookLib, which takes a while.
        import ebooklib  # loaded with the first book
        from ebooklib import epub

        book = epub.read_epub(str(file), options={"ignore_ncx": True})
        titles = book.get_metadata("DC", "title")
        title = str(titles[0][0]).strip() if titles else ""
        docs = []
        for item_id, _linear in book.spine:
            item = book.get_item_with_id(item_id)
            if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
                continue
            _, text = page_text(decode_text(file, item.get_content(), html=True))
            docs.append(Document(text=text, metadata={"title": title} if title else {}))
        return docs
