"""What a passage's text looks like on screen: link marks dropped, Markdown tables whole.

Chunks keep what the readers read. From HTML that includes the "¶" permalinks documentation
generators (Sphinx, MkDocs, Python's docs) put after every heading and caption: a browser
shows them only on hover, a reader of the text sees them always. Markdown keeps its markup,
so Folio renders it; a chunk that starts inside a table has rows without the header and
delimiter rows a Markdown table needs, and would show its ``|`` separators as text.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from desktop.core.library.readers.markdown import MARKDOWN_TYPES

# A permalink mark at the start or end of a line (where generators put it), never one
# inside a sentence ("see ¶ 4" stays).
_PERMALINK = re.compile(r"^[ \t]*¶[ \t]*|[ \t]*¶[ \t]*$", re.MULTILINE)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def is_markdown(path: str) -> bool:
    """Whether Folio reads this file as Markdown (and so shows it rendered)."""
    return PurePath(path).suffix.lower() in MARKDOWN_TYPES


def without_permalinks(text: str) -> str:
    """``text`` without the "¶" permalink marks HTML pages put beside headings."""
    return _PERMALINK.sub("", text)


def _is_row(line: str) -> bool:
    return bool(_TABLE_ROW.match(line))


def _is_delimiter(line: str) -> bool:
    # A delimiter row has a pipe; a bare "---" is a rule or a heading's underline.
    return "|" in line and bool(_DELIMITER_ROW.match(line))


def whole_tables(markdown: str) -> str:
    """``markdown`` with each run of table rows that lacks its header made a table again.

    A run that does not start with a header row and a delimiter row gets an empty header,
    so it renders as the table it was cut from rather than as rows of ``|``.
    """
    lines = markdown.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and (_is_row(lines[end]) or _is_delimiter(lines[end])):
            end += 1
        if end == index:
            out.append(lines[index])
            index += 1
            continue
        run = lines[index:end]
        if len(run) > 1 and not _is_delimiter(run[0]) and _is_delimiter(run[1]):
            out += run
        else:
            rows = [row for row in run if not _is_delimiter(row)]
            columns = max(row.strip().strip("|").count("|") + 1 for row in rows) if rows else 1
            out += ["", "|" + " |" * columns, "|" + " --- |" * columns, *rows]
        index = end
    return "\n".join(out)


def shown_text(text: str, markdown: bool) -> str:
    """A passage's or a file's text as Folio shows it (Markdown still to be rendered)."""
    text = without_permalinks(text)
    return whole_tables(text) if markdown else text
