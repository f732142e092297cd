"""The window's own state, kept beside the data it shows: ``window.ini`` in the data folder.

What is there only serves the window (its layout, a note dismissed); settings a person
chooses are in ``settings.json`` (``core/settings.py``).
"""

from __future__ import annotations

from pathlib import Path

from desktop.ui.qt import QSettings

STATE_FILE = "window.ini"


def window_state(home: Path) -> QSettings:
    """The window's state for the data folder ``home``; ``sync()`` after changing it."""
    return QSettings(str(home / STATE_FILE), QSettings.Format.IniFormat)
