"""What a text document paints highlighted, read from its own character formats."""

from __future__ import annotations

from desktop.ui.qt import QColor, QTextDocument


def highlighted(document: QTextDocument, background: QColor) -> list[str]:
    """The runs of text drawn on ``background``, in document order (tables' cells included)."""
    runs: list[str] = []
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.charFormat().background().color() == background:
                runs.append(fragment.text())
            fragments += 1
        block = block.next()
    return runs
