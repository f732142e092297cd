"""Names and a person's own text as the window shows them: one line each, read as written.

Text from outside Folio reaches the window in file names (any bytes but ``/``), in the
documents' passages, and in what a person types: questions become chat titles, personas
get names. Two kinds of character in it would change what the window says around it:

- characters that do not print (a newline, ESC): a newline splits a list's row in two,
  ESC shows as a box. File names are written as folio-cli writes them
  (``filenames.one_line``: ``\\n``, ``\\x1b``); a person's text has its whitespace runs made
  one space (a question keeps its lines) and its other controls written the same way.
- bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin): one in a file name
  shows the rest of its line backwards, so a source row's score 0.58 reads (85.0) and a
  name ending in ``txt.exe`` seems to end in ``.txt``. They are written as escapes
  (``\\u202e``), and text holding right-to-left letters is set in an isolate (U+2068 …
  U+2069), so Hebrew or Arabic in a name keeps its own order without pulling the numbers
  or punctuation beside it in. An answer keeps its Markdown, with its controls escaped:
  a model can copy an override from a passage.
"""

from __future__ import annotations

import html
import re
import unicodedata

from desktop.core.library.filenames import one_line

# The explicit directional formatting characters of the Unicode Bidirectional Algorithm
# (UAX #9, section 2): marks, embeddings, overrides, isolates and their terminators; and the
# C0 and C1 control characters (ESC, NUL, DEL…), which print nothing or a box.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_HIDDEN = re.compile(f"[{_CONTROLS}]")
# The same, but for the line breaks and tabs of text shown on several lines.
_HIDDEN_IN_LINES = re.compile(f"(?![\n\t])[{_CONTROLS}]")
_FIRST_STRONG_ISOLATE, _POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def _escaped(match: re.Match[str]) -> str:
    # As folio-cli writes them (``filenames.one_line``): ``\x1b``, ``\u202e``.
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _isolated(text: str) -> str:
    """``text`` (with no bidirectional controls left) set in an isolate when it holds
    right-to-left letters; left-to-right text is returned as it is, so it reads and
    compares the same everywhere."""
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in text):
        return f"{_FIRST_STRONG_ISOLATE}{text}{_POP_DIRECTIONAL_ISOLATE}"
    return text


def name_shown(path: str) -> str:
    """A file name or path (a stored name, see ``desktop.core.library.filenames``) as the
    window shows it: folio-cli's ``one_line`` form, so a newline or ESC in it reads
    ``\\n`` or ``\\x1b`` and a right-to-left override ``\\u202e``, isolated from the text
    around it when it holds right-to-left letters."""
    return _isolated(one_line(path))


def line_shown(text: str) -> str:
    """A person's text (a chat title, a persona's name) or a passage's, on one line of the
    window: whitespace runs made one space, bidirectional controls written ``\\u202e`` and
    other controls ``\\x1b``, isolated from the text around it when it holds right-to-left
    letters. Other characters (emoji joined by zero-width joiners, accents) stay as typed."""
    return _isolated(_HIDDEN.sub(_escaped, " ".join(text.split())))


def lines_shown(text: str) -> str:
    """A person's text on as many lines as they typed (a question): line breaks and tabs
    kept, bidirectional controls written ``\\u202e`` and other controls ``\\x1b``, each
    line holding right-to-left letters set in an isolate of its own."""
    return "\n".join(_isolated(line) for line in controls_escaped(text).split("\n"))


def controls_escaped(text: str) -> str:
    """``text`` with its bidirectional controls written ``\\u202e`` and its other controls
    but line breaks and tabs ``\\x1b``: for text laid out in blocks of its own (an answer's
    Markdown), where each paragraph takes its direction from its first letter."""
    return _HIDDEN_IN_LINES.sub(_escaped, text.replace("\r\n", "\n"))


def tooltip_shown(text: str) -> str:
    """``text`` (as ``line_shown`` or ``name_shown`` gives it) as a tooltip that shows it
    as written: Qt renders a tooltip that looks like HTML as HTML, so a name such as
    "<b>x</b>" is escaped in a tooltip that is always rich text."""
    return f"<p>{html.escape(text)}</p>"
