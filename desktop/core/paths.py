"""Where Folio keeps data and where it finds its bundled resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from desktop.core.errors import LibraryError

APP_NAME = "Folio"


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``override``, else ``$FOLIO_HOME``, else the platform default;
    made if missing. Raises LibraryError when it cannot be: a file is in the way, or a
    folder on the way cannot be written."""
    chosen = override or os.environ.get("FOLIO_HOME")
    path = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP_NAME))
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


def resources_dir() -> Path:
    """``resources/`` from the source tree, or from the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
