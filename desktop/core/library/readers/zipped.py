"""The zip container of Office files and EPUB books, checked before a reader unpacks it.

DOCX, PPTX, XLSX and EPUB are zip packages. A package whose parts inflate to many times
their packed size (a "zip bomb") makes python-docx, openpyxl or ebooklib hold the whole
inflated part in memory: a 2 MB DOCX whose text part inflates to 2 GB took 4.5 GB of
memory before failing, and a larger one ends the process. The zip's own central directory
gives each part's packed and inflated sizes, and ``zipfile`` never inflates a part past
the size given there (it fails the part instead), so reading the directory is enough.

The rule is Apache POI's (``ZipSecureFile``, which guards Java's Office readers the same
way): a part larger than ``GRACE_BYTES`` inflated may be at most ``MAX_INFLATE_RATIO``
times its packed size. No Python library here does this check, so it is written here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from desktop.core.library.catalog import FileStatus
from desktop.core.library.readers.base import Unreadable

ZIP_TYPES = frozenset({".docx", ".pptx", ".xlsx", ".epub"})
# Apache POI's defaults: ZipSecureFile.MIN_INFLATE_RATIO = 0.01 (at most 100 times) and
# GRACE_ENTRY_SIZE = 100 kB, below which a part is not checked (tiny parts of repeated
# markup compress very well and can do no harm).
MAX_INFLATE_RATIO = 100
GRACE_BYTES = 100 * 1024


def _megabytes(size: int) -> str:
    megabytes = size / 1024 / 1024
    return f"{megabytes:,.0f}" if megabytes >= 100 else f"{megabytes:.3g}"


def check_package(path: Path) -> None:
    """Raise ``Unreadable`` (skipped) if a part of the zip package at ``path`` inflates to
    more than ``MAX_INFLATE_RATIO`` times its packed size; ``zipfile.BadZipFile`` if
    ``path`` is no zip at all (the caller says the file is damaged)."""
    with zipfile.ZipFile(path) as package:
        for part in package.infolist():
            if part.file_size <= GRACE_BYTES:
                continue
            if part.file_size > MAX_INFLATE_RATIO * max(part.compress_size, 1):
                raise Unreadable(
                    FileStatus.SKIPPED,
                    f"not read: its part {part.filename} would unpack to "
                    f"{_megabytes(part.file_size)} MB from {_megabytes(part.compress_size)} MB, "
                    f"more than {MAX_INFLATE_RATIO} times its packed size (a file made to "
                    "fill memory, or damaged); if it is a document you trust, save it in "
                    "another format (such as PDF) and sync",
                )
