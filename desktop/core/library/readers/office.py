"""Office files: Word documents, PowerPoint decks and Excel workbooks."""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.tables import row_documents

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# Parts of a Word document whose text is indexed, by relationship type (the last segment of
# its URI), in the order they follow the body.
_DOCX_PARTS = ("header", "footer", "footnotes", "endnotes", "comments")
# Footnote entries that hold the separator line, not a note.
_NOTE_SEPARATORS = frozenset({"separator", "continuationSeparator", "continuationNotice"})


class DocxReader(BaseReader):
    """A Word document's body, text boxes, headers, footers, footnotes, endnotes, comments.

    Read from the package's XML parts with the standard library's XML parser: docx2txt and
    python-docx leave footnotes, endnotes and comments out, and docx2txt reads each text box
    twice (Word stores a drawing and a VML copy of it).
    """

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document: body text, then footnotes, endnotes, comments and text boxes."""
        with zipfile.ZipFile(file) as package:
            names = set(package.namelist())
            body = "word/document.xml"
            sections = [_part_text(package.read(body))]
            for part in _related_parts(package, names, body):
                sections.append(_part_text(package.read(part)))
        text = "\n\n".join(section for section in sections if section.strip())
        return [Document(text=text)]


def _related_parts(package: zipfile.ZipFile, names: set[str], body: str) -> list[str]:
    """The body's related parts named in ``_DOCX_PARTS``, in that order."""
    rels = posixpath.join(posixpath.dirname(body), "_rels", posixpath.basename(body) + ".rels")
    if rels not in names:
        return []
    found: dict[str, list[str]] = {kind: [] for kind in _DOCX_PARTS}
    for rel in ElementTree.fromstring(package.read(rels)).iter(_RELS):
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(body), rel.get("Target", "")))
        if kind in found and rel.get("TargetMode") != "External" and target in names:
            found[kind].append(target)
    return [part for kind in _DOCX_PARTS for part in found[kind]]


def _part_text(xml: bytes) -> str:
    """The paragraphs of one WordprocessingML part, one a line; text boxes after theirs."""
    lines: list[str] = []
    root = ElementTree.fromstring(xml)
    for note in list(root):
        if note.get(f"{_W}type") in _NOTE_SEPARATORS:
            root.remove(note)
    _paragraphs(root, lines)
    return "\n".join(lines)


def _paragraphs(element: ElementTree.Element, lines: list[str]) -> None:
    for child in element:
        if child.tag == _MC_FALLBACK:  # the VML copy of a text box already read
            continue
        if child.tag == f"{_W}p":
            nested: list[str] = []
            lines.append(_runs(child, nested))
            lines.extend(nested)
        else:
            _paragraphs(child, lines)


def _runs(paragraph: ElementTree.Element, nested: list[str]) -> str:
    """A paragraph's own text; paragraphs of text boxes inside it go to ``nested``."""
    parts: list[str] = []

    def walk(element: ElementTree.Element) -> None:
        for child in element:
            if child.tag == _MC_FALLBACK:
                continue
            if child.tag == f"{_W}txbxContent":
                _paragraphs(child, nested)
            elif child.tag == f"{_W}t" and child.text:
                parts.append(child.text)
            elif child.tag == f"{_W}tab":
                parts.append("\t")
            elif child.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            else:
                walk(child)

    walk(paragraph)
    return "".join(parts)


def pptx_reader() -> BaseReader:
    """LlamaIndex's PowerPoint reader: one document per slide."""
    # Imported on first use: it loads LlamaIndex, which takes a while.
    from llama_index.readers.file import PptxReader

    return PptxReader(num_workers=0, raise_on_error=True)


def _cell_text(value: object) -> str:
    """A cell's value as Excel shows it unformatted: 42 not 42.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class XlsxReader(BaseReader):
    """Every sheet of a workbook, rows as ``header: value`` text, the sheet in ``sheet``.

    The header is the first row below any title: a row whose cells all sit in cells merged
    across columns is a title, kept as a line of its own. A header row has text in every
    filled cell and at least one row under it; a sheet without one gives its bare values.
    """

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """Documents of whole rows per sheet, each with the sheet's name in its metadata."""
        from openpyxl import load_workbook  # heavy: loaded with the first workbook

        # Not read-only: the read-only mode does not report merged cells.
        book = load_workbook(file, data_only=True)
        docs: list[Document] = []
        try:
            for sheet in book.worksheets:
                docs.extend(_sheet_documents(sheet))
        finally:
            book.close()
        return docs


def _sheet_documents(sheet) -> list[Document]:
    """One worksheet's rows as documents (see ``XlsxReader``)."""
    wide = [cells for cells in sheet.merged_cells.ranges if cells.max_col > cells.min_col]
    rows = [
        (number, values)
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        if any(_cell_text(value).strip() for value in values)
    ]
    titles: list[str] = []
    while rows and _is_title(*rows[0], wide):
        titles.append(" ".join(_cell_text(v) for v in rows.pop(0)[1] if v is not None))
    header = None
    if len(rows) >= 2 and all(isinstance(v, str) for v in rows[0][1] if v is not None):
        header = [_cell_text(value) for value in rows.pop(0)[1]]
    cells = ([_cell_text(value) for value in values] for _, values in rows)
    return row_documents(header, cells, {"sheet": sheet.title}, lead=titles)


def _is_title(number: int, values: tuple[object, ...], wide: list) -> bool:
    """Whether every filled cell of row ``number`` lies in a range merged across columns."""
    filled = [column for column, value in enumerate(values, start=1) if value is not None]
    return bool(filled) and all(
        any(
            cells.min_row <= number <= cells.max_row and cells.min_col <= column <= cells.max_col
            for cells in wide
        )
        for column in filled
    )
