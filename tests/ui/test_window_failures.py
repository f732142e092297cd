"""What the window says when its own data cannot be used, or something fails where nothing
expected it: a box naming the file and what to do, never only a traceback on a terminal
nobody reads; and every box shows the names in it as written, not as markup."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from desktop.services import Services
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.main_window import MainWindow
from desktop.ui.messages import UNEXPECTED
from desktop.ui.qt import QLabel, Qt
from tests.ui.confirm import Answer

MARKUP = "<b>Bold</b> <img src=x> <i>persona</i>"


def _shown_plain(window: MainWindow) -> str:
    """The last error box's text, checked to be shown as plain text."""
    box = window.last_error
    assert box is not None
    label = box.findChild(QLabel, "qt_msgbox_label")
    assert label is not None and label.textFormat() == Qt.TextFormat.PlainText
    return box.text()


def test_boxes_show_names_as_written(window: MainWindow) -> None:
    answer = Answer(False)
    assert not confirm_deletion(window, f'Delete the persona "{MARKUP}"?', f"{MARKUP} is lost.")
    assert answer.plain and answer.text == f'Delete the persona "{MARKUP}"?\n{MARKUP} is lost.'
    window.show_error(f"No persona named '{MARKUP}'.")
    assert _shown_plain(window) == f"No persona named '{MARKUP}'."


def test_a_slot_that_fails_is_said_in_a_box(window: MainWindow) -> None:
    # sys.excepthook while the window runs (PySide6 hands it what a slot raises).
    window.excepthook(ValueError, ValueError("boom"), None)
    assert _shown_plain(window) == UNEXPECTED
    failure = sqlite3.OperationalError("attempt to write a readonly database")
    window.excepthook(sqlite3.OperationalError, failure, None)
    said = _shown_plain(window)
    assert said.startswith("A file of the data folder cannot be used (attempt to write a")
    assert f"can read and write {window.services.home}" in said


def test_windows_that_cannot_read_their_data_say_so_and_the_rest_works(  # type: ignore[no-untyped-def]
    qtbot, make_services, home: Path
) -> None:
    # Another program's file where the fine-tuning jobs are kept: Compare, Evaluate and
    # Fine-tuning all read it (the default grid lists fine-tuned models).
    (home / "finetune.db").write_text("not a database\n" * 100)
    window = MainWindow(make_services())
    qtbot.addWidget(window)
    for open_window in (window.open_evaluate, window.open_compare, window.open_finetuning):
        assert open_window() is None
        said = _shown_plain(window)
        assert f"{home / 'finetune.db'} is not a database Folio can read" in said
        assert "folio-cli" not in said
        window.last_error = None
    assert (home / "finetune.db").read_text().startswith("not a database")  # left as it was


def _folio_window(home: Path, shot: Path, *, as_a_user: bool) -> subprocess.CompletedProcess[str]:
    """``folio --self-test`` on ``home``; ``as_a_user``: file permissions bind it (root's
    power to write anything dropped)."""
    command = [sys.executable, "-m", "desktop", "--home", str(home), "--self-test", str(shot)]
    if as_a_user and os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_a_database_that_cannot_be_used_stops_the_window_with_its_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = Services(home)
    services.chats  # noqa: B018  (a data folder with its chats' database)
    services.close()
    shot = tmp_path / "shot.png"
    (home / "chats.db").chmod(0o444)
    try:
        done = _folio_window(home, shot, as_a_user=True)
    finally:
        (home / "chats.db").chmod(0o644)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"your user cannot write {home / 'chats.db'}" in done.stderr
    assert not shot.exists()

    (home / "chats.db").write_text("not a database\n" * 100)
    done = _folio_window(home, shot, as_a_user=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"{home / 'chats.db'} is not a database Folio can read" in done.stderr
