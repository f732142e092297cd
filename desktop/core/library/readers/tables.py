"""Tables as text: delimited files (CSV, TSV), and the row layout spreadsheets share.

Each row becomes one line that names its columns, ``Artikelnummer: CS-1201, Lagerort:
Hamburg, Preis: 12,50``, so a question naming a column finds the rows, and values stay
exactly as written (``12,50`` is neither 12.5 nor 1250). Rows are grouped into documents
of about ``_DOCUMENT_CHARS`` characters, each ending on a whole row, so the splitter cuts
between rows rather than inside one.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.encoding import decode_text

TABLE_TYPES = frozenset({".csv", ".tsv", ".tab"})
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
# About one chunk of the default 200 tokens (4 characters a token for Latin text).
_DOCUMENT_CHARS = 800


def row_text(header: Sequence[str] | None, row: Sequence[str]) -> str:
    """One row as a line: ``name: value`` pairs under a header, the bare values without.

    Empty cells are left out; a value beyond the header's width keeps no name.
    """
    parts = []
    for index, value in enumerate(row):
        value = value.strip()
        if not value:
            continue
        name = header[index].strip() if header and index < len(header) else ""
        parts.append(f"{name}: {value}" if name else value)
    return ", ".join(parts)


def row_documents(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    metadata: dict[str, object],
    lead: Sequence[str] = (),
) -> list[Document]:
    """Rows as text grouped into documents of whole rows, each with a copy of ``metadata``.

    ``lead`` lines (a sheet's title) come first, as they are.
    """
    docs: list[Document] = []
    lines: list[str] = []
    size = 0
    for line in itertools.chain(lead, (row_text(header, row) for row in rows)):
        if not line:
            continue
        if lines and size + len(line) > _DOCUMENT_CHARS:
            docs.append(Document(text="\n".join(lines), metadata=dict(metadata)))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        docs.append(Document(text="\n".join(lines), metadata=dict(metadata)))
    return docs


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The sample's dialect by the standard library's sniffer; Excel's when it cannot tell."""
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel_tab if "\t" in sample.partition("\n")[0] else csv.excel
    # The sniffer prefers "," when "," and ";" both split every line evenly; where ";" is
    # the separator, "," is the decimal mark ("12,50") and splits numbers, not columns.
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    counts = {line.count(";") for line in lines}
    if dialect.delimiter == "," and len(counts) == 1 and 0 not in counts:
        return csv.Sniffer().sniff(sample, delimiters=";")
    return dialect


class _DialectSniffer(csv.Sniffer):
    """The standard sniffer's header vote, on the dialect already found.

    ``Sniffer.has_header`` sniffs the dialect again without the delimiters Folio allows,
    and may then split the rows on a space or a letter.
    """

    def __init__(self, dialect: type[csv.Dialect] | csv.Dialect) -> None:
        super().__init__()
        self._dialect = dialect

    def sniff(self, sample: str, delimiters: str | None = None) -> type[csv.Dialect]:
        return self._dialect  # type: ignore[return-value]


def _has_header(
    sample: str, dialect: type[csv.Dialect] | csv.Dialect, rows: list[list[str]]
) -> bool:
    """Whether the first row names the columns.

    A row with an empty or numeric cell is never a header, and a lone row is data. A text
    row above a column of numbers (decimal commas allowed) is one, and so is a row the
    sniffer votes for (do its cells differ in type or length from the rest?). Where every
    column holds text of like lengths, that vote cannot tell: the first row is then the
    header, as pandas' ``read_csv`` takes it by default (``header=0``), when its cells differ
    from each other and none of them comes again in its column below.
    """
    if len(rows) < 2:
        return False
    first = [cell.strip() for cell in rows[0]]
    if any(not cell or _number(cell) for cell in first):
        return False
    later = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    for column in range(len(first)):
        values = [row[column].strip() for row in later if column < len(row) and row[column].strip()]
        if values and all(_number(value) for value in values):
            return True
    try:
        if _DialectSniffer(dialect).has_header(sample):
            return True
    except csv.Error:
        pass
    if len(set(first)) < len(first):
        return False
    return not any(
        column < len(row) and row[column].strip() == name
        for row in later
        for column, name in enumerate(first)
    )


def _number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


class CsvReader(BaseReader):
    """A delimited file: its dialect (delimiter, quoting) sniffed, its header found."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """Documents of whole rows, each row as ``header: value`` pairs when there is a header."""
        text = decode_text(file, file.read_bytes())
        sample = text[:_SNIFF_CHARS]
        if len(text) > _SNIFF_CHARS:  # whole lines only, or the sniffer sees a torn row
            sample = sample[: sample.rfind("\n") + 1] or sample
        dialect = _dialect(sample)
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        head = list(itertools.islice(rows, 20))
        header = head[0] if _has_header(sample, dialect, head) else None
        body = head[1:] if header else head
        return row_documents(header, itertools.chain(body, rows), {})
