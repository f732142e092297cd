"""Bytes of a text file to ``str``, refusing binary data and undecodable text with a reason."""

from __future__ import annotations

import codecs
from pathlib import Path

from desktop.core.library import FAILED
from desktop.core.readers.base import Unreadable

_SNIFF_BYTES = 8192


def decode_text(path: Path, data: bytes) -> str:
    """The text of ``data`` read from ``path``; raises ``Unreadable`` for binary or bad bytes."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
        if data.startswith(bom):
            return data.decode(encoding)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise Unreadable(
            FAILED,
            f"binary data, not text: the {path.suffix or 'file'} name does not match the content",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(
            FAILED,
            f"not valid UTF-8 text (bad byte at offset {exc.start}); "
            "re-save the file as UTF-8 and sync again",
        ) from exc
