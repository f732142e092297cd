"""Status labels: one line beside the controls it is about, saying what happened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.paths import data_folder_problem
from desktop.ui.qt import QLabel, QMessageBox, Qt

UNEXPECTED = "Something went wrong. The details are in folio.log in the data folder."


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


def failure_text(exc: BaseException, home: Path | None) -> str:
    """What the window says for anything raised where no part of it expected it: a Folio
    error's message; for a file of the data folder ``home`` that cannot be used (SQLite's
    and the system's errors), which file and what to check (``data_folder_problem``);
    otherwise (or with no ``home``) that something went wrong, the details being in the
    log."""
    if isinstance(exc, FolioError):
        return exc.message
    if isinstance(exc, sqlite3.Error | OSError) and home is not None:
        return data_folder_problem(home, exc)
    return UNEXPECTED


def plain_box(box: QMessageBox) -> QMessageBox:
    """``box`` with its text and informative text shown as plain text, wrapped: they name
    personas, sets, files, folders and models, and QMessageBox would otherwise take a name
    such as "<b>x</b>" for markup. Called once both texts are set (each has its own label)."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    for label in box.findChildren(QLabel):
        if label.objectName() in ("qt_msgbox_label", "qt_msgbox_informativelabel"):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
    return box


def show_critical(text: str) -> None:
    """An error box with ``text`` (plain text, ``plain_box``), waited on: for what stops
    Folio before its window exists."""
    plain_box(QMessageBox(QMessageBox.Icon.Critical, "Folio", text)).exec()
