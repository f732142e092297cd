"""Drive the real app in a real X session: drop a folder, ask, take a screenshot.

Run by ``test_xvfb.py`` as ``python -m tests.ui.xvfb_app HOME DOCS SCREENSHOT`` with
``DISPLAY`` pointing at an Xvfb server; prints one JSON line with what happened.
"""

from __future__ import annotations

import json
import sys

from desktop.app import run_window
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import (
    QApplication,
    QDragEnterEvent,
    QDropEvent,
    QMimeData,
    Qt,
    QTimer,
    QUrl,
)

QUESTION = "How many days of leave can I carry over?"


def main(home: str, docs: str, screenshot: str) -> int:
    app = QApplication(sys.argv[:1])
    outcome: dict[str, object] = {}

    def window() -> MainWindow | None:
        found = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        return found[0] if found and found[0].isVisible() else None

    def drop() -> None:
        win = window()
        if win is None:
            QTimer.singleShot(100, drop)
            return
        win.library.ingest_finished.connect(ask)
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(docs)])
        where = win.rect().center().toPointF()
        buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        action = Qt.DropAction.CopyAction
        enter = QDragEnterEvent(where.toPoint(), action, data, buttons, keys)
        app.sendEvent(win, enter)
        outcome["drop_accepted"] = enter.isAccepted()
        app.sendEvent(win, QDropEvent(where, action, data, buttons, keys))

    def ask(report: object) -> None:
        win = window()
        assert win is not None
        outcome["ingest"] = report.to_json()  # type: ignore[attr-defined]
        win.chat.answer_finished.connect(shoot)
        win.chat.input.setPlainText(QUESTION)
        win.chat.send()

    def shoot(answer: object) -> None:
        outcome["answer"] = answer.to_json()  # type: ignore[attr-defined]
        QTimer.singleShot(500, finish)

    def finish() -> None:
        win = window()
        assert win is not None
        # What the X server shows where the window is (not Qt's own rendering of it).
        where = win.frameGeometry()
        shot = app.primaryScreen().grabWindow(
            0, where.x(), where.y(), where.width(), where.height()
        )
        outcome["saved"] = shot.save(screenshot)
        outcome["title"] = win.windowTitle()
        win.close()

    QTimer.singleShot(0, drop)
    QTimer.singleShot(240_000, lambda: app.exit(3))
    code = run_window(["--home", home])
    print(json.dumps(outcome))
    return code


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
