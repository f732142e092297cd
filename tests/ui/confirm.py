"""Answering the deletion confirmation in tests without blocking on its modal box."""

from __future__ import annotations

from collections.abc import Callable

from desktop.ui.qt import QApplication, QLabel, QMessageBox, Qt, QTimer


class Answer:
    """Answers the next confirmation with Delete or Cancel, and keeps the text it showed."""

    def __init__(self, delete: bool) -> None:
        self.delete = delete
        self.text = ""
        self.plain = False
        QTimer.singleShot(0, self._answer)

    def _answer(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, self._answer)  # the box is not up yet
            return
        self.text = f"{box.text()}\n{box.informativeText()}"
        # Both texts name things ("<b>x</b>" a persona's name): shown as written, not markup.
        self.plain = box.textFormat() == Qt.TextFormat.PlainText and all(
            label.textFormat() == Qt.TextFormat.PlainText
            for label in box.findChildren(QLabel)
            if label.objectName() in ("qt_msgbox_label", "qt_msgbox_informativelabel")
        )
        wanted = "Delete" if self.delete else "Cancel"
        next(b for b in box.buttons() if b.text() == wanted).click()


def confirmed(delete: bool, act: Callable[[], object]) -> tuple[object, str]:
    answer = Answer(delete)
    result = act()
    return result, answer.text
