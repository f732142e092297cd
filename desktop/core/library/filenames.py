"""File names as Folio stores and shows them, whatever bytes the file system holds.

Linux allows any bytes but ``/`` and NUL in a name. Python hands a name that is not valid
UTF-8 over as a ``str`` with lone surrogates (PEP 383: ``caf\\xe9.txt`` arrives as
``'caf\\udce9.txt'``), which SQLite, JSON payloads and ``uuid5`` refuse to encode. Folio
therefore keeps two forms of a path:

- the *stored name* (library.db, chunk payloads, point ids, citations, what a person reads):
  the path itself when it is valid UTF-8, else its bytes decoded as UTF-8 with each invalid
  byte written ``\\xNN`` (Python's ``backslashreplace``), so ``/docs/caf\\xe9.txt``;
- the *OS path*, to open the file: what ``os.walk`` gave, or, from a stored name,
  ``os_path()``, which turns the ``\\xNN`` escapes back into the original bytes.

A valid-UTF-8 name that literally contains ``\\xe9`` reads the same as a Latin-1 ``é``;
``os_path`` prefers the name that exists as written, and ingestion reports the second of two
such files in one folder instead of mixing them up.

What a person reads is a third form, ``one_line()``: a stored name (or any text holding
one) with the characters that do not print written as escapes, so it stays one line of a
listing and reads as written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# The escapes ``backslashreplace`` writes for bytes that are not UTF-8 (always >= 0x80).
_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def stored_name(path: str) -> str:
    """The valid-UTF-8 form of an OS path: itself, or with ``\\xNN`` for each byte not UTF-8."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate not from PEP 383 (Windows allows them)
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def os_path(stored: str) -> str:
    """The path to open for a stored name (see the module docstring); ``stored`` if none exists."""
    if "\\x" not in stored or os.path.lexists(stored):
        return stored
    raw = _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), stored.encode("utf-8"))
    candidate = os.fsdecode(raw)
    return candidate if os.path.lexists(candidate) else stored


def file_url(stored: str) -> str:
    """A ``file://`` URL for a stored name, percent-encoding the file's own bytes (RFC 8089).

    ``pathlib`` quotes the OS bytes of the name, and a desktop's opener (``xdg-open``,
    Finder, Explorer) decodes them back, so a file whose name is not UTF-8 opens too.
    """
    return Path(os.path.abspath(os_path(stored))).as_uri()


# How a character that does not print is written in human output: the escapes Python's
# ``repr`` uses, so a person (or a script reading the text) can tell what is there.
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a file-name byte that is not UTF-8 (PEP 383), as stored
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def one_line(text: str) -> str:
    """``text`` as it is shown in human output: characters that do not print written as
    escapes (``\\n``, ``\\x1b``, ``\\u202e``), so a file name holding a newline, a terminal
    escape or a right-to-left override stays one line of the listing and reads as written.

    ``str.isprintable`` is false for controls, format marks (bidirectional overrides,
    zero-width spaces), separators other than the space, and lone surrogates (file-name
    bytes that are not UTF-8, written ``\\xNN`` as the library stores them). A name that
    holds a backslash itself can read like an escape, as stored names can; JSON output
    keeps the text itself.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)
