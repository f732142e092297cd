"""The viewer window: the cited file in Folio, with its own way out to the system's app."""

from __future__ import annotations

import html

from desktop.core.library.citation import Citation
from desktop.ui.messages import message_label, say
from desktop.ui.qt import QDialog, QHBoxLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget
from desktop.ui.shown import name_shown
from desktop.ui.viewer.context_view import ContextView
from desktop.ui.viewer.external import Opener, no_app_message, open_externally
from desktop.ui.viewer.file_text import UnreachableFolder
from desktop.ui.viewer.pdf_page import PdfPage


class SourceViewer(QDialog):
    """A cited file shown in Folio: a PDF at the cited page, anything else as the text the
    library read, the passage highlighted either way. Not modal: the chat stays usable.

    ``unreachable`` tells whether a missing file's library folder is unavailable, so the
    window says to reconnect the folder rather than to sync (``file_text.gone_message``).
    """

    def __init__(
        self,
        citation: Citation,
        query: str,
        parent: QWidget | None = None,
        opener: Opener | None = None,
        unreachable: UnreachableFolder | None = None,
    ) -> None:
        super().__init__(parent)
        self.citation = citation
        self.opener = opener
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        where = f" — page {citation.page}" if citation.page is not None else ""
        self.setWindowTitle(f"{name_shown(citation.file_name)}{where}")
        self.resize(900, 760)
        self.heading = QLabel(f"<b>{html.escape(name_shown(citation.path))}</b>{where}")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice = message_label()
        self.notice.setVisible(False)
        self.content: PdfPage | ContextView
        if citation.path.lower().endswith(".pdf"):
            self.content = PdfPage(citation, query, self, unreachable)
        else:
            self.content = ContextView(citation, query, self, unreachable)
        self.content.shown.connect(self._notice)
        self.content.failed.connect(lambda message: self._notice(message, error=True))
        self.open_button = QPushButton("Open in default app")
        self.open_button.clicked.connect(self.open_externally)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.notice)
        layout.addWidget(self.content, 1)
        layout.addLayout(buttons)

    def _notice(self, message: str, error: bool = False) -> None:
        say(self.notice, message, error)
        self.notice.setVisible(bool(message))

    def open_externally(self) -> bool:
        """Open the file in the system's app; when there is none, say so here."""
        opened = open_externally(self.citation, self.opener)
        if not opened:
            self._notice(f"{no_app_message(self.citation)} It is shown here meanwhile.", True)
        return opened
