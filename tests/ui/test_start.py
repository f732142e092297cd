"""What an installed copy relies on at start: the version, the icon and ``--self-test``."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from desktop import __version__
from desktop.ui.dialogs import show_about
from desktop.ui.main_window import app_icon
from desktop.ui.qt import QApplication, QMessageBox, QTimer, QWidget

ROOT = Path(__file__).resolve().parents[2]


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def test_version_comes_from_pyproject() -> None:
    assert __version__ == project_version()


def test_about_box_names_the_version(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    QTimer.singleShot(0, read_and_close)
    show_about(parent)
    assert seen and f"Folio {project_version()}" in seen[0]


def test_window_icon_has_every_size() -> None:
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert {16, 32, 48, 256, 512} <= sizes


def _folio(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_self_test_saves_the_window_and_quits(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Note\n\nThe boiler is serviced every October.\n")
    home = tmp_path / "home"
    # A library with a folder, so the start-up sync has work to finish before the shot.
    from desktop.cli import main as cli

    assert cli(["--home", str(home), "ingest", str(docs)]) == 0
    (docs / "late.md").write_text("# Late\n\nAdded while Folio was closed.\n")

    shot = tmp_path / "window.png"
    proc = _folio("--home", str(home), "--self-test", str(shot))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    image = QImage(str(shot))
    assert image.width() > 600 and image.height() > 400
    # The start-up sync had finished: the file added while closed is indexed.
    from desktop.core.library.catalog import Library

    library = Library(home / "library.db")
    try:
        records = library.files_under(str(docs.resolve()))
        assert {Path(p).name: r.status for p, r in records.items()} == {
            "note.md": "indexed",
            "late.md": "indexed",
        }
    finally:
        library.close()


def test_self_test_reports_a_start_up_error_without_a_dialog(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text('{"top_k": "many"}')
    proc = _folio("--home", str(home), "--self-test", str(tmp_path / "shot.png"), timeout=60)
    assert proc.returncode == 1
    assert "top_k" in proc.stderr and "settings.json" in proc.stderr
    assert not (tmp_path / "shot.png").exists()


def test_a_window_on_a_data_folder_too_deep_for_a_socket_opens_even_without_its_channel(
    tmp_path: Path,
) -> None:
    from desktop.core.library.channel import SUN_PATH_MAX

    home = tmp_path / ("d" * (SUN_PATH_MAX - len(str(tmp_path)))) / "home"
    assert len(str(home / "folio.sock")) > SUN_PATH_MAX
    # The user's socket folder in a shared temporary folder, made by someone else's rules
    # (open to others): the channel is not served there, and the window opens regardless.
    shared = tmp_path / "tmp"
    (shared / f"folio-{os.getuid()}").mkdir(parents=True, mode=0o755)
    shared.chmod(0o1777)
    shot = tmp_path / "window.png"
    proc = _folio("--home", str(home), "--self-test", str(shot), env={"TMPDIR": str(shared)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and shot.exists()
    logged = (home / "folio.log").read_text()
    assert "folio-cli cannot ask this window (no channel)" in logged
    assert "is not this user's alone" in logged
