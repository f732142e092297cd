"""Training examples in OpenAI's chat format, read from and written to JSONL files.

An example is ``{"messages": [{"role": ..., "content": ...}, ...]}``. Files of
prompt/response pairs (``{"prompt": ..., "response"|"completion": ...}``) are converted on
import. Every problem found while reading names its line.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.errors import DatasetError
from desktop.core.files import write_atomically
from desktop.core.jsonl import (
    SURROGATE_PROBLEM,
    NotJson,
    json_kind,
    parse_line,
    unpaired_surrogate,
)

ROLES = ("system", "user", "assistant")
ANSWER_KEYS = ("response", "completion")  # what a prompt/response pair may call its answer
SHAPES = 'needs "messages", or "prompt" and "response" (or "completion")'
SHOWN_PROBLEMS = 3  # problems a refusal names before it counts the rest


# The largest training file: what OpenAI's Files API takes for one file (512 MB,
# https://platform.openai.com/docs/api-reference/files/create), far above what a local run
# on a CPU gets through.
MAX_DATASET_BYTES = 512_000_000


@dataclass
class Example:
    """One training conversation; ``line`` is where it came from (1-based), if from a file."""

    messages: list[dict[str, str]]
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as it is written and uploaded (``line`` is not part of it)."""
        return {"messages": self.messages}

    @property
    def prompt(self) -> str:
        """The last user message (what the table shows as the question)."""
        return self._last("user")

    @property
    def answer(self) -> str:
        """The last assistant message."""
        return self._last("assistant")

    def _last(self, role: str) -> str:
        # Examples are checked by ``validate``, not here: a malformed one shows as blank.
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == role:
                return text_of(message.get("content")) or ""
        return ""


def text_of(content: Any) -> str | None:
    """A message's text: the string itself, or the text parts of a list of content parts.

    OpenAI also takes content as ``[{"type": "text", "text": ...}, {"type": "image_url",
    "image_url": {...}}, ...]`` (images in user messages, for vision fine-tuning). ``None``
    when it is neither, which validation reports.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        texts = [part.get("text") for part in content if part.get("type") == "text"]
        if all(isinstance(text, str) for text in texts):
            return "\n".join(texts)
    return None


def image_count(content: Any) -> int:
    """How many image parts a message's content has."""
    if not isinstance(content, list):
        return 0
    return sum(isinstance(p, dict) and p.get("type") == "image_url" for p in content)


@dataclass(frozen=True)
class LineProblem:
    """A problem with one line of a file (``line`` is 1-based; 0 for the file as a whole)."""

    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        """``{"line": n, "reason": "..."}``, as ``finetune validate`` lists errors. A problem
        of the whole file (missing, unreadable, too few examples) keeps ``"line": 0``: the
        folio-cli contract gives ``line`` as a number, and text output shows such a problem
        without a line."""
        return {"line": self.line, "reason": self.reason}


def named_problems(
    problems: Sequence[LineProblem], shown: int = SHOWN_PROBLEMS, *, one_a_line: bool = False
) -> str:
    """The first ``shown`` problems by line and a count of the rest.

    As a clause for a sentence to end: "line 3: not valid JSON; line 7: ... (and 4 more)";
    with ``one_a_line``, a list: "line 3: not valid JSON", "line 7: ...", "… and 4 more".
    A problem of the whole file (line 0) is its reason alone.
    """
    # Each reason is a sentence of its own: its full stop would double the one that follows.
    named = [
        f"line {p.line}: {p.reason.rstrip().rstrip('.')}"
        if p.line
        else p.reason.rstrip().rstrip(".")
        for p in problems[:shown]
    ]
    more = len(problems) - shown
    if one_a_line:
        return "\n".join(named + ([f"… and {more} more"] if more > 0 else []))
    return "; ".join(named) + (f" (and {more} more)" if more > 0 else "")


@dataclass
class ReadResult:
    """The examples a file holds, and the lines that could not be read as one."""

    examples: list[Example] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    pairs: int = 0  # how many examples were converted from prompt/response pairs


def example_from_record(record: Any, line: int | None = None) -> Example:
    """The example a JSON record holds, in chat format or as a prompt/response pair.

    Raises ``DatasetError`` saying what is wrong with the record (its shape only: roles,
    order and content are ``validate``'s business).
    """
    example, _ = _convert(record, line, None)
    return example


def _convert(record: Any, line: int | None, system_prompt: str | None) -> tuple[Example, bool]:
    """The example and whether it was a prompt/response pair."""
    where = f"Line {line}: " if line is not None else ""
    if not isinstance(record, dict):
        raise DatasetError(f"{where}not a JSON object ({json_kind(record)}); an example {SHAPES}.")
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list):
            raise DatasetError(
                f'{where}"messages" is {json_kind(messages)}; it must be a list of '
                '{"role": ..., "content": ...} objects.'
            )
        return Example(messages, line), False
    answer_key = next((key for key in ANSWER_KEYS if key in record), None)
    if "prompt" not in record or answer_key is None:
        keys = ", ".join(f'"{key}"' for key in record) or "no keys"
        raise DatasetError(f"{where}an example {SHAPES}; this one has {keys}.")
    pair = [
        {"role": "user", "content": record["prompt"]},
        {"role": "assistant", "content": record[answer_key]},
    ]
    if system_prompt:
        pair.insert(0, {"role": "system", "content": system_prompt})
    return Example(pair, line), True


def read_examples(
    path: Path, system_prompt: str | None = None, *, allow_partial_last_line: bool = False
) -> ReadResult:
    """Every example in a JSONL file; ``system_prompt`` goes first in converted pairs.

    Blank lines are skipped; a line that is not an example (not JSON, not UTF-8 text, not
    an example's shape) becomes a ``LineProblem``. With ``allow_partial_last_line``, a last
    line without its newline that cannot be read is left out silently: that is what an
    append cut short by a crash leaves behind. DatasetError naming the file if it cannot
    be read, or is not UTF-8 text at all (saying where its first bad byte is).
    """
    if path.is_dir():
        raise DatasetError(f"{path} is a folder: choose a JSONL file of examples.")
    if path.exists() and not path.is_file():  # a pipe would block the read until written to
        raise DatasetError(f"{path} is a pipe or a device: choose a JSONL file of examples.")
    try:
        if path.stat().st_size > MAX_DATASET_BYTES:  # refused before it is read into memory
            raise DatasetError(
                f"{path} is over {MAX_DATASET_BYTES // 1_000_000} MB, more than a training "
                "file can be: split it, or keep the examples that matter most."
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetError(f"No such file: {path}.") from exc
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    lines = _decoded_lines(data)
    if allow_partial_last_line and isinstance(lines[-1], _BadByte):
        lines[-1] = ""  # a torn append (the last line has no newline), as below
    bad = [line for line in lines if isinstance(line, _BadByte)]
    if bad and _not_text_at_all(data, lines):
        raise DatasetError(_not_utf8_text(path, data, bad))
    result = ReadResult()
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, _BadByte):
            result.problems.append(LineProblem(number, raw.reason()))
            continue
        if not raw.strip():
            continue
        try:
            record = parse_line(raw)
        except NotJson as exc:
            if allow_partial_last_line and number == len(lines):
                break
            result.problems.append(LineProblem(number, f"not valid JSON: {exc}"))
            continue
        if unpaired_surrogate(record):
            result.problems.append(LineProblem(number, SURROGATE_PROBLEM + "."))
            continue
        try:
            example, was_pair = _convert(record, number, system_prompt)
        except DatasetError as exc:
            reason = str(exc).removeprefix(f"Line {number}: ")
            result.problems.append(LineProblem(number, reason))
            continue
        result.examples.append(example)
        result.pairs += was_pair
    return result


@dataclass(frozen=True)
class _BadByte:
    """The first byte of a line that UTF-8 text does not have: an invalid sequence, or a
    NUL (no text file holds one; UTF-16 text and binary files are full of them)."""

    line: int  # 1-based
    offset: int  # from the start of the file, as a hex viewer counts (0-based)
    value: int

    def reason(self) -> str:
        """What a line holding it is told, as a ``LineProblem``'s reason."""
        return (
            f"not UTF-8 text (byte 0x{self.value:02X}, at byte offset {self.offset:,} of the "
            "file): save the file as UTF-8, or retype that line's non-ASCII characters."
        )


def _decoded_lines(data: bytes) -> list[str | _BadByte]:
    """Each line's text, or its first bad byte.

    Only "\n" ends a line: JSON strings may hold U+2028 and friends, which splitlines() cuts.
    UTF-8 never uses the byte 0x0A inside a character, so splitting the bytes is splitting
    the text.
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    decoded: list[str | _BadByte] = []
    for number, raw in enumerate(data[start:].split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
            at = raw.find(b"\0")
        except UnicodeDecodeError as exc:
            nul = raw.find(b"\0", 0, exc.start)
            at = nul if nul >= 0 else exc.start
        decoded.append(text if at < 0 else _BadByte(number, start + at, raw[at]))
        start += len(raw) + 1
    return decoded


def _not_text_at_all(data: bytes, lines: list[str | _BadByte]) -> bool:
    """Whether a file with bad bytes is not UTF-8 text as a whole, rather than text with a
    few bad lines: a UTF-16 or UTF-32 byte-order mark, NUL bytes, or no line readable.

    Line by line, such a file would be hundreds of "not valid JSON" errors and 0 examples.
    """
    readable = any(isinstance(line, str) and line.strip() for line in lines)
    return not readable or _has_nul(lines) or _other_encoding(data) is not None


def _has_nul(lines: Sequence[str | _BadByte]) -> bool:
    return any(isinstance(line, _BadByte) and line.value == 0 for line in lines)


def _other_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``data`` names, if not UTF-8's."""
    # UTF-32's little-endian mark starts with UTF-16's: it is looked for first.
    marks = [
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ]
    return next((name for mark, name in marks if data.startswith(mark)), None)


def _not_utf8_text(path: Path, data: bytes, bad: list[_BadByte]) -> str:
    """The refusal of a file that is not UTF-8 text: which file, where its first bad byte
    is (line and byte offset), what it looks like instead, and what to do."""
    first, encoding = bad[0], _other_encoding(data)
    if encoding:
        looks = f" (it starts with a {encoding} byte-order mark: it is {encoding} text)"
    elif _has_nul(bad):
        looks = " (it holds NUL bytes, as UTF-16 text or a file that is not text does)"
    else:
        looks = ""
    return (
        f"{path} is not UTF-8 text{looks}: the first byte that does not belong in UTF-8 text "
        f"is 0x{first.value:02X}, on line {first.line} at byte offset {first.offset:,}. Save "
        "it as UTF-8 (a text editor's Save As offers the encoding) and try again."
    )


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Write a JSONL file atomically: a crash leaves the old file or the new one, whole."""
    write_atomically(path, (json_line(example) for example in examples))


def json_line(example: Example) -> str:
    """One example as a JSONL line, newline included (UTF-8 kept as is, not escaped)."""
    return json.dumps(example.to_json(), ensure_ascii=False) + "\n"
