"""Where Folio keeps data and where it finds its bundled resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Folio"


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``override``, else ``$FOLIO_HOME``, else the platform default."""
    chosen = override or os.environ.get("FOLIO_HOME")
    path = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def resources_dir() -> Path:
    """``resources/`` from the source tree, or from the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
