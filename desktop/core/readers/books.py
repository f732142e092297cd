"""EPUB books."""

from __future__ import annotations

from llama_index.core.readers.base import BaseReader


def epub_reader() -> BaseReader:
    """LlamaIndex's EPUB reader (ebooklib + html2text)."""
    from llama_index.readers.file import EpubReader

    return EpubReader()
