"""Status labels: one line beside the controls it is about, saying what happened."""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.ui.qt import QLabel, Qt


def message_label() -> QLabel:
    """A label for what just happened (or went wrong) beside the controls it is about."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def say(label: QLabel, text: str, error: bool = False) -> None:
    label.setStyleSheet("color: #b00020" if error else "")
    label.setText(text)


def error_text(exc: BaseException) -> str:
    """What the window says for ``exc``: a Folio error's own message, which names no
    ``folio-cli`` command (``str()`` is folio-cli's wording), else the exception's text."""
    return exc.message if isinstance(exc, FolioError) else str(exc)
