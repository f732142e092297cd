"""Delimited text tables (CSV)."""

from __future__ import annotations

from llama_index.core.readers.base import BaseReader


def csv_reader() -> BaseReader:
    """LlamaIndex's CSV reader (pandas), all rows in one document."""
    from llama_index.readers.file import PandasCSVReader

    return PandasCSVReader(concat_rows=True)
