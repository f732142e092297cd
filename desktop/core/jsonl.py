"""Reading one line of a JSONL file that a person gave Folio, safely.

``parse_line`` is the one place a user's JSONL line becomes a value. Python's ``json``
module reads some lines in ways that crash or mislead instead of saying "bad line":
nesting thousands of lists deep exhausts the recursion limit, an integer of more than
4,300 digits is refused with a ``ValueError`` that is not a ``JSONDecodeError``, and
``NaN``, ``Infinity`` or ``1e999`` become floats that no JSON writer can write back. Each
of those is a ``NotJson`` here, with a reason a person can act on.

JSON also allows ``"\\ud800"``, half of a UTF-16 surrogate pair, with nothing after it;
Python decodes it to a string that no UTF-8 file or SQLite text column can hold, so storing
it fails later, far from the line that carried it. Readers check each line's value with
``unpaired_surrogate`` and name the line instead.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

SURROGATE_PROBLEM = (
    'holds an escape such as "\\ud800" that is half of a surrogate pair, not a character: '
    "fix or remove it"
)

# Lists and objects inside each other. Training examples and evaluation items nest four or
# five levels; the limit keeps every later step that walks a value recursively (writing it
# back, the surrogate check) far from Python's recursion limit of about 1,000.
MAX_DEPTH = 100


class NotJson(ValueError):
    """A line that is not JSON Folio can read; ``str()`` says why, in a person's words."""


def parse_line(line: str | bytes) -> Any:
    """The JSON value on one line of a JSONL file.

    Raises ``NotJson`` for a line that is not JSON, nests more than ``MAX_DEPTH`` levels,
    holds a number Python cannot hold (over 4,300 digits, or beyond a float's range), or
    uses ``NaN``/``Infinity``, which Python reads but JSON does not have.
    """
    try:
        value = json.loads(
            line, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        raise NotJson(_decode_problem(line, exc)) from None
    except RecursionError:
        raise NotJson(_too_deep()) from None
    except UnicodeDecodeError as exc:  # bytes given, and not text
        raise NotJson(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02X})") from None
    if _may_be_too_deep(line) and _depth_over(value, MAX_DEPTH):
        raise NotJson(_too_deep())
    return value


def unpaired_surrogate(value: Any) -> bool:
    """Whether ``value`` (as ``parse_line`` returns it) holds a string that is not valid
    Unicode text (a lone surrogate) anywhere, keys included."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_kind(value: Any) -> str:
    """A JSON value's kind, for messages: "a list", "a string", "a number", ..."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


def _decode_problem(line: str | bytes, exc: json.JSONDecodeError) -> str:
    """Why ``line`` is not JSON, in a person's words where Python's are an instruction to a
    programmer ("decode using utf-8-sig") or point past the real cause ("Extra data")."""
    if exc.msg.startswith("Unexpected UTF-8 BOM"):
        return (
            "starts with a byte order mark (U+FEFF), which JSON does not allow there: "
            "remove it, or save the file as UTF-8 without BOM"
        )
    text = line if isinstance(line, str) else line.decode("utf-8", "replace")
    if exc.msg == "Extra data" and "\r" in text.rstrip("\r"):
        # A raw CR cannot be inside a JSON string, so it is a line end: the file's lines
        # end in CR alone, as classic Mac OS wrote them, and JSONL's end in LF.
        return (
            "more than one line ends in a carriage return (CR) alone: save the file with "
            "LF (or CRLF) line endings"
        )
    for start, plain in _PLAIN_PROBLEMS:
        if exc.msg.startswith(start):
            return f"{plain} (column {exc.colno})"
    return f"{exc.msg} (column {exc.colno})"


# Python's json messages (Lib/json/decoder.py, Modules/_json.c) in a person's words.
_PLAIN_PROBLEMS = (
    ("Expecting value", "a value is missing or is not JSON (text goes in double quotes)"),
    ("Expecting ',' delimiter", "a comma is missing between two items"),
    ("Expecting ':' delimiter", "a colon is missing after a key"),
    (
        "Expecting property name enclosed in double quotes",
        "a key is not in double quotes, or a comma stands before a closing brace",
    ),
    ("Unterminated string", "a text is not closed by its double quote"),
    (
        "Invalid control character",
        "a text holds a tab or line break as it is; JSON writes them \\t and \\n",
    ),
    ("Invalid \\escape", "a backslash escape JSON does not have; write \\\\ for a backslash"),
    ("Invalid \\uXXXX escape", "a \\u escape without four hex digits"),
    ("Extra data", "more than one JSON value on the line; each line holds one"),
)


def _parse_int(digits: str) -> int:
    limit = sys.get_int_max_str_digits()
    count = len(digits.lstrip("-"))
    if limit and count > limit:
        raise NotJson(f"a number with {count:,} digits; Folio reads numbers of up to {limit:,}")
    return int(digits)


def _parse_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        shown = text if len(text) <= 20 else text[:17] + "…"
        raise NotJson(f"the number {shown} is too large to hold")
    return number


def _refuse_constant(name: str) -> float:
    raise NotJson(f"{name} is not a JSON number; write a number or null")


def _too_deep() -> str:
    return f"lists or objects nested more than {MAX_DEPTH} levels deep"


def _may_be_too_deep(line: str | bytes) -> bool:
    """Whether the line has enough brackets to nest past ``MAX_DEPTH`` (counting is C
    speed; walking the value is not, and almost every line has only a few brackets)."""
    if isinstance(line, bytes):
        return line.count(b"[") + line.count(b"{") > MAX_DEPTH
    return line.count("[") + line.count("{") > MAX_DEPTH


def _depth_over(value: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit``; iterative, so any depth the
    parser returned can be measured."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
