"""Links in an answer: a model writes them, so Folio opens only web and e-mail links."""

from __future__ import annotations

from desktop.ui.messages import plain_box
from desktop.ui.qt import QDesktopServices, QGuiApplication, QMessageBox, Qt, QUrl, QWidget
from desktop.ui.shown import line_shown
from desktop.ui.viewer.external import Opener

# What a browser or a mail app opens. A ``file:`` link could open any file on this computer
# in the app set for it (a script, an installer) and other schemes hand the link to
# whatever app registered them, at a click on text a model wrote, perhaps copied from a
# document: those are shown, not opened.
OPENED_SCHEMES = frozenset({"http", "https", "mailto"})


def open_answer_link(
    link: str, parent: QWidget | None, opener: Opener | None = None
) -> QMessageBox | None:
    """Open ``link`` (an answer's Markdown link target, as clicked) in the system's browser
    or mail app when it is a web or e-mail link (``OPENED_SCHEMES``). Otherwise, or when
    nothing opened it, say so in a box naming the link, with a button that copies it; the
    box is returned, not waited for."""
    url = QUrl(link)
    web = url.scheme().lower() in OPENED_SCHEMES
    if web and (opener or QDesktopServices.openUrl)(url):
        return None
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information if not web else QMessageBox.Icon.Warning)
    box.setWindowTitle("Link not opened")
    box.setText(f"Folio did not open the link {line_shown(link)}")
    box.setInformativeText(
        "This computer has no app set to open web or e-mail links. Copy the link and open "
        "it where you read the web."
        if web
        else "An answer is written by the model, so Folio opens only web (http, https) and "
        "e-mail links from it. Copy the link if you mean to open it."
    )
    copy = box.addButton("Copy link", QMessageBox.ButtonRole.ActionRole)
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(link))
    box.addButton(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    plain_box(box).open()
    return box
