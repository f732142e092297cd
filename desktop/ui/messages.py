"""Status labels: one line beside the controls it is about, saying what happened."""

from __future__ import annotations

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
