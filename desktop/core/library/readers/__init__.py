"""Turning one file into LlamaIndex Documents, with a reason a person understands when not.

Parsing is the readers' job, one module per family of file types; this package picks the
reader for a file type and translates failures. Readers import their parsing libraries
when first used, so listing supported types loads none of them.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.errors import Cancelled
from desktop.core.library.catalog import FileStatus
from desktop.core.library.filenames import stored_name
from desktop.core.library.readers.base import Unreadable
from desktop.core.library.readers.books import EpubReader
from desktop.core.library.readers.image import IMAGE_TYPES, ImageReader, ImageUnreadable
from desktop.core.library.readers.markdown import MARKDOWN_TYPES, MarkdownReader
from desktop.core.library.readers.notebook import NotebookReader
from desktop.core.library.readers.ocr import OCR_OFF_REASON, OcrOptions
from desktop.core.library.readers.office import DocxReader, XlsxReader, pptx_reader
from desktop.core.library.readers.pdf import PdfReader
from desktop.core.library.readers.tables import TABLE_TYPES, CsvReader
from desktop.core.library.readers.text import TEXT_NAMES, TEXT_TYPES, TextReader
from desktop.core.library.readers.web import HTML_TYPES, HtmlReader
from desktop.core.library.readers.zipped import ZIP_TYPES, check_package

__all__ = [
    "READERS",
    "READER_KEYS",
    "TEXT_NAMES",
    "TEXT_TYPES",
    "Unreadable",
    "is_supported",
    "read_documents",
]

log = logging.getLogger(__name__)

# Metadata keys readers give their documents that ingestion keeps with each chunk.
READER_KEYS = ("page", "title", "sheet", "front_matter", "ocr")

READERS: dict[str, Callable[[], BaseReader]] = {
    ".pdf": PdfReader,
    **dict.fromkeys(HTML_TYPES, HtmlReader),
    ".docx": DocxReader,
    ".pptx": pptx_reader,
    ".xlsx": XlsxReader,
    **dict.fromkeys(TABLE_TYPES, CsvReader),
    ".epub": EpubReader,
    ".ipynb": NotebookReader,
}
# Readers that recognise text in pictures: they need the OCR options.
OCR_READERS: dict[str, Callable[[OcrOptions], BaseReader]] = {".pdf": PdfReader}
OCR_READERS.update(dict.fromkeys(IMAGE_TYPES, ImageReader))
# What a file of each type is, with its article, for "damaged or not really <kind>".
_KIND = {".docx": "a Word document", ".pptx": "a PowerPoint file", ".xlsx": "an Excel workbook"}
_KIND.update({".epub": "an EPUB book", ".ipynb": "a Jupyter notebook", ".csv": "a CSV file"})
_KIND.update({".pdf": "a PDF", ".html": "an HTML page", ".htm": "an HTML page"})


def _kind(suffix: str) -> str:
    return _KIND.get(suffix, f"a {suffix} file" if suffix else "a file of its kind")


# What to do about a file that is damaged or not of its kind: the reason's last words.
_RESAVE = "open it in the program that made it and save it again"
# zipfile's words for a part a package lacks: "There is no item named 'word/document.xml'
# in the archive".
_NO_ITEM = re.compile(r"There is no item named (.+) in the archive")


def _detail(exc: BaseException) -> str:
    """A reader's error as the detail in brackets: its message without a full stop of its
    own (the reason ends with one) and without the file's path (the reason names it). A
    zip package's missing part and a key a reader looked up in vain (a ``KeyError``'s bare
    key, such as an EPUB's metadata namespace) are said in words."""
    if isinstance(exc, zipfile.BadZipFile):
        return "it is not a zip package, as files of its kind are"
    if isinstance(exc, KeyError) and exc.args:
        missing = _NO_ITEM.fullmatch(str(exc.args[0]))
        if missing:
            return f"it has no part named {missing.group(1)}"
        return f"a part it must have is missing: {exc.args[0]!r}"
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text


def is_supported(path: Path) -> bool:
    """Whether Folio has a reader for this file's type."""
    suffix = path.suffix.lower()
    return (
        suffix in READERS
        or suffix in IMAGE_TYPES
        or suffix in TEXT_TYPES
        or path.name.lower() in TEXT_NAMES
    )


def _read_with(path: Path, suffix: str, ocr: OcrOptions) -> list[Document]:
    if suffix in IMAGE_TYPES and not ocr.enabled:
        raise Unreadable(FileStatus.SKIPPED, f"an image: {OCR_OFF_REASON}")
    try:
        if suffix in ZIP_TYPES:
            check_package(path)
        reader = OCR_READERS[suffix](ocr) if suffix in OCR_READERS else READERS[suffix]()
        docs = reader.load_data(path)
    except ImageUnreadable as exc:
        raise Unreadable(FileStatus.FAILED, str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise Unreadable(
            FileStatus.FAILED, "not valid UTF-8 text; re-save the file as UTF-8 and sync again"
        ) from exc
    except (zipfile.BadZipFile, KeyError) as exc:
        raise Unreadable(
            FileStatus.FAILED,
            f"damaged or not really {_kind(suffix)} ({_detail(exc)}); {_RESAVE}",
        ) from exc
    for number, doc in enumerate(docs, start=1):
        if suffix == ".pptx":  # one document per slide; its "title" is the slide's
            doc.metadata = {"page": number}
        else:  # keep only what Folio uses; readers add bulky extras
            doc.metadata = {k: v for k, v in doc.metadata.items() if k in READER_KEYS and v}
    return docs


def _read_text(path: Path) -> list[Document]:
    reader = MarkdownReader() if path.suffix.lower() in MARKDOWN_TYPES else TextReader()
    return reader.load_data(path)


def read_documents(path: Path, ocr: OcrOptions | None = None) -> list[Document]:
    """The documents in one file; raises ``Unreadable`` with a status and reason.

    PDF pages, PowerPoint slides and TIFF frames become one document each with a ``page``
    number. Images, and PDF pages without a text layer, are read by OCR as ``ocr`` says
    (default: on, one thread); their documents carry ``ocr: True``. ``Cancelled`` raised
    by ``ocr.on_progress`` passes through.
    """
    suffix = path.suffix.lower()
    if not is_supported(path):
        raise Unreadable(FileStatus.SKIPPED, f"unsupported file type ({suffix or 'no extension'})")
    ocr = ocr or OcrOptions()
    try:
        if suffix in READERS or suffix in OCR_READERS:
            docs = _read_with(path, suffix, ocr)
        else:
            docs = _read_text(path)
    except (Unreadable, Cancelled):
        raise
    except FileNotFoundError as exc:
        raise Unreadable(
            FileStatus.FAILED, "the file disappeared while Folio was reading it"
        ) from exc
    except PermissionError as exc:
        raise Unreadable(
            FileStatus.FAILED,
            "permission denied: Folio may not read this file; check its permissions",
        ) from exc
    except Exception as exc:  # a reader's own failure on one file must not stop the run
        log.exception("Reader failed on %s", stored_name(str(path)))
        raise Unreadable(
            FileStatus.FAILED,
            f"could not be read: damaged or not really {_kind(suffix)} ({_detail(exc)}); "
            + _RESAVE,
        ) from exc
    docs = [doc for doc in docs if doc.text.strip()]
    if not docs:
        raise Unreadable(FileStatus.FAILED, "no text found in the file")
    return docs
