"""Office files: Word documents, PowerPoint decks and Excel workbooks."""

from __future__ import annotations

from llama_index.core.readers.base import BaseReader


def docx_reader() -> BaseReader:
    """LlamaIndex's Word reader (docx2txt)."""
    from llama_index.readers.file import DocxReader

    return DocxReader()


def pptx_reader() -> BaseReader:
    """LlamaIndex's PowerPoint reader: one document per slide."""
    from llama_index.readers.file import PptxReader

    return PptxReader(num_workers=0, raise_on_error=True)


def xlsx_reader() -> BaseReader:
    """LlamaIndex's Excel reader (pandas)."""
    from llama_index.readers.file import PandasExcelReader

    return PandasExcelReader()
