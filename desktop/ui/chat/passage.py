"""A cited passage on its own, the question's words highlighted, with the ways to its file."""

from __future__ import annotations

import html

from desktop.core.library.citation import Citation
from desktop.ui.qt import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.shown import name_shown
from desktop.ui.viewer.file_text import UnreachableFolder
from desktop.ui.viewer.highlight import fill, mark_words
from desktop.ui.viewer.open_file import open_or_offer, show_in_folio
from desktop.ui.viewer.passage_text import is_markdown
from desktop.ui.viewer.window import SourceViewer


class PassageDialog(QDialog):
    """The exact retrieved passage as Folio shows text (Markdown rendered, HTML's permalink
    marks dropped), with the question's words highlighted; from here the file opens in
    Folio's viewer at the passage or in the system's app (``unreachable`` goes to the
    viewer, ``SourceViewer``)."""

    def __init__(
        self,
        citation: Citation,
        query: str,
        parent: QWidget | None = None,
        unreachable: UnreachableFolder | None = None,
    ) -> None:
        super().__init__(parent)
        self.citation, self.query = citation, query
        self.unreachable = unreachable
        self.setWindowTitle(f"Passage from {name_shown(citation.file_name)}")
        self.resize(640, 420)
        where = f" — page {citation.page}" if citation.page is not None else ""
        path = html.escape(name_shown(citation.path))
        header = QLabel(f"<b>{path}</b>{where} · score {citation.score:.3f}")
        header.setTextFormat(Qt.TextFormat.RichText)  # the path is escaped
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # a link in the passage must not replace it
        fill(self.browser.document(), citation.text, is_markdown(citation.path))
        mark_words(self.browser.document(), query)
        self.in_folio_button = QPushButton("Show in Folio")
        self.in_folio_button.setToolTip("The passage in its file, highlighted, inside Folio")
        self.in_folio_button.clicked.connect(self.show_in_folio)
        self.open_button = QPushButton("Open in default app")
        self.open_button.clicked.connect(self.open_externally)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.in_folio_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.browser)
        layout.addLayout(buttons)

    def show_in_folio(self) -> SourceViewer:
        """Folio's viewer on the passage, in its file."""
        return show_in_folio(self.citation, self.query, self.parentWidget(), self.unreachable)

    def open_externally(self) -> QWidget | None:
        """The file in the system's app; the message offering Folio's viewer when there is
        none."""
        return open_or_offer(
            self.citation, self.query, self.parentWidget(), unreachable=self.unreachable
        )
