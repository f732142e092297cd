"""Where Folio keeps data and where it finds its bundled resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from desktop.core.errors import LibraryError, NotADataFolder

APP_NAME = "Folio"
# What a data folder holds once Folio has used it: the lock every Folio process writes first
# (core/library/lock.py), the settings (core/settings.py) and the databases.
DATA_FOLDER_MARKS = ("folio.lock", "settings.json", "library.db", "chats.db")


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``override``, else ``$FOLIO_HOME``, else the platform default;
    made if missing.

    Raises LibraryError when it cannot be made (a file is in the way, or a folder on the way
    cannot be written), and NotADataFolder (a LibraryError) when a folder chosen by
    ``override`` or ``$FOLIO_HOME`` holds other files and none of a data folder's
    (``DATA_FOLDER_MARKS``): a mistyped ``--home`` must not fill a folder of documents with
    databases.
    """
    chosen = override or os.environ.get("FOLIO_HOME")
    path = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP_NAME))
    if chosen and _foreign(path):
        raise NotADataFolder(
            f"{path} is not a Folio data folder: it holds other files and none of Folio's. "
            "Check the folder given (--home or FOLIO_HOME): it must be Folio's data folder, "
            "or a new or empty folder for a new one."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise LibraryError(
            f"Folio's data folder {path} cannot be made: a file is in the way. Choose a "
            "folder for the data (--home or FOLIO_HOME)."
        ) from exc
    except OSError as exc:
        raise LibraryError(
            f"Folio's data folder {path} cannot be made: {exc.strerror or exc}. Choose a "
            "folder you can write to (--home or FOLIO_HOME)."
        ) from exc
    return path.resolve()


def _foreign(path: Path) -> bool:
    """Whether ``path`` is a folder holding visible entries but no ``DATA_FOLDER_MARKS``
    (hidden ones, such as a file manager's ``.DS_Store``, do not count)."""
    try:
        names = [entry.name for entry in os.scandir(path)]
    except OSError:
        return False  # missing, or not a folder: mkdir below says what is wrong
    if any(name in DATA_FOLDER_MARKS for name in names):
        return False
    return any(not name.startswith(".") for name in names)


def resources_dir() -> Path:
    """``resources/`` from the source tree, or from the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
