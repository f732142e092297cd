"""Open file: the system's app for it, or, when there is none, Folio's viewer on offer."""

from __future__ import annotations

from desktop.core.library.citation import Citation
from desktop.ui.qt import QAbstractButton, QMessageBox, Qt, QWidget
from desktop.ui.viewer.external import Opener, no_app_message, open_externally
from desktop.ui.viewer.file_text import UnreachableFolder
from desktop.ui.viewer.window import SourceViewer


def show_in_folio(
    citation: Citation,
    query: str,
    parent: QWidget | None,
    unreachable: UnreachableFolder | None = None,
) -> SourceViewer:
    """Open Folio's viewer on the cited passage (``unreachable`` as ``SourceViewer`` takes it)."""
    viewer = SourceViewer(citation, query, parent, unreachable=unreachable)
    viewer.show()
    return viewer


def open_or_offer(
    citation: Citation,
    query: str,
    parent: QWidget | None,
    opener: Opener | None = None,
    unreachable: UnreachableFolder | None = None,
) -> QMessageBox | None:
    """Open the cited file in the system's app; when nothing opens it, say so in a message
    naming the file that offers Folio's viewer instead (returned, not waited for;
    ``unreachable`` goes to the viewer)."""
    if open_externally(citation, opener):
        return None
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Cannot open the file")
    box.setText(no_app_message(citation))
    box.setInformativeText("Folio can show it here instead, at the cited passage.")
    show = box.addButton("Show in Folio", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(show)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def clicked(button: QAbstractButton) -> None:
        if box.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
            show_in_folio(citation, query, parent, unreachable)

    box.buttonClicked.connect(clicked)
    box.open()
    return box
