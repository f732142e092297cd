"""Status labels: one line beside the controls it is about, saying what happened."""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.ui.qt import QLabel, Qt


def message_label() -> QLabel:
    """A label for what just happened (or went wrong) beside the controls it is about,
    shown as plain text: messages name personas, sets, files and server ids, and a name
    such as "<b>x</b>" or "a<br>b" is to be read as written, not applied as markup."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def say(label: QLabel, text: str, error: bool = False) -> None:
    """Show ``text`` in ``label``, in red when it is an ``error``."""
    label.setStyleSheet("color: #b00020" if error else "")
    label.setText(text)


def error_text(exc: BaseException) -> str:
    """What the window says for ``exc``: a Folio error's own message, which names no
    ``folio-cli`` command (``str()`` is folio-cli's wording), else the exception's text."""
    return exc.message if isinstance(exc, FolioError) else str(exc)
