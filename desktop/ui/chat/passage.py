"""A cited passage: shown with the question's words marked, or its file opened in a viewer."""

from __future__ import annotations

import html
import re

from desktop.core.library.citation import Citation
from desktop.core.library.filenames import file_url
from desktop.ui.qt import (
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QTextBrowser,
    QUrl,
    QVBoxLayout,
    QWidget,
)


def highlight(text: str, query: str) -> str:
    """``text`` as HTML with the query's words (3+ letters) marked."""
    words = sorted({w for w in re.findall(r"\w{3,}", query)}, key=len, reverse=True)
    escaped = html.escape(text)
    if not words:
        return escaped
    pattern = re.compile("|".join(re.escape(html.escape(w)) for w in words), re.IGNORECASE)
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)


def open_source(citation: Citation) -> bool:
    """Open the cited file in the system's viewer (at the page, where the viewer allows)."""
    # From the file's own bytes, so a name that is not UTF-8 opens too.
    url = QUrl.fromEncoded(file_url(citation.path).encode("ascii"))
    if citation.page is not None and citation.path.lower().endswith(".pdf"):
        url.setFragment(f"page={citation.page}")
    return QDesktopServices.openUrl(url)


class PassageDialog(QDialog):
    """The exact retrieved passage, with the question's words highlighted."""

    def __init__(self, citation: Citation, query: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Passage from {citation.file_name}")
        self.resize(640, 420)
        where = f" — page {citation.page}" if citation.page is not None else ""
        self.browser_html = (
            f"<p><b>{html.escape(citation.path)}</b>{where} · score {citation.score:.3f}</p>"
            f"<p style='white-space: pre-wrap'>{highlight(citation.text, query)}</p>"
        )
        self.browser = QTextBrowser()
        self.browser.setHtml(self.browser_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
