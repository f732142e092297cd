"""Highlights Qt renders: a background colour set on the document's own text.

Qt's rich text ignores ``<mark>``; a character format on the document is what it paints,
whatever the document was filled from (plain text, Markdown or HTML).
"""

from __future__ import annotations

from desktop.ui.qt import QColor, QTextCharFormat, QTextCursor, QTextDocument
from desktop.ui.viewer.locate import word_spans
from desktop.ui.viewer.passage_text import shown_text

# Dark text on both, so the highlight reads the same in a dark theme.
WORD_BACKGROUND = QColor("#ffd54f")
PASSAGE_BACKGROUND = QColor("#fff3c4")
_HIGHLIGHT_TEXT = QColor("#000000")


def fill(document: QTextDocument, text: str, markdown: bool) -> None:
    """Put ``text`` in ``document`` as Folio shows it: Markdown rendered, else plain text."""
    document.setUndoRedoEnabled(False)  # highlights are not edits to take back
    shown = shown_text(text, markdown)
    if markdown:
        document.setMarkdown(shown, QTextDocument.MarkdownFeature.MarkdownDialectGitHub)
    else:
        document.setPlainText(shown)


def rendered(text: str, markdown: bool) -> str:
    """The plain text ``fill`` leaves in a document: what to look for in a rendered file."""
    document = QTextDocument()
    fill(document, text, markdown)
    return document.toPlainText()


def mark(document: QTextDocument, start: int, end: int, background: QColor) -> None:
    """Paint ``background`` behind the document's characters ``start`` to ``end``."""
    cursor = QTextCursor(document)
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    style = QTextCharFormat()
    style.setBackground(background)
    style.setForeground(_HIGHLIGHT_TEXT)
    cursor.mergeCharFormat(style)


def mark_words(document: QTextDocument, query: str, start: int = 0, end: int | None = None) -> int:
    """Highlight the question's words in the document (between ``start`` and ``end``);
    returns how many were highlighted."""
    # Offsets in toPlainText() are the document's positions, tables and lists included.
    spans = word_spans(document.toPlainText(), query, start, end)
    for word_start, word_end in spans:
        mark(document, word_start, word_end, WORD_BACKGROUND)
    return len(spans)
