"""Where Folio keeps data and where it finds its bundled resources."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from pathlib import Path

import platformdirs

from desktop.core.errors import LibraryError, NotADataFolder

APP_NAME = "Folio"
# What a data folder holds once Folio has used it: the lock every Folio process writes first
# (core/library/lock.py), the settings (core/settings.py), the databases, the window's log
# and channel (core/library/channel.py), the vector store, fine-tuning runs and training
# support. Any one of them makes a folder Folio's.
DATA_FOLDER_MARKS = (
    "folio.lock",
    "settings.json",
    "library.db",
    "chats.db",
    "finetune.db",
    "evaluations.db",
    "folio.log",
    "folio.key",
    "folio.sock",
    "store",
    "finetune",
    "training",
)


# SQLite's Unix file layer opens paths of at most 512 bytes (MAX_PATHNAME in os_unix.c);
# the longest name Folio's databases give a file is a journal's.
SQLITE_MAX_PATH = 512
LONGEST_DATABASE_NAME = "evaluations.db-journal"


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The user's data folder: ``override``, else ``$FOLIO_HOME``, else the platform default;
    made if missing. Returned absolute, symlinks resolved.

    A folder chosen by ``override`` or ``$FOLIO_HOME`` must be a data folder already (it
    holds one of ``DATA_FOLDER_MARKS``), or new, or empty: a mistyped ``--home`` must not
    fill a folder of documents, or the user's own home folder, with databases.

    Raises:
        NotADataFolder (a LibraryError): the chosen path cannot be a data folder: it holds
            other files and none of Folio's, it is the user's home folder or the file
            system's root, it is a file or a broken link, it names an unknown user's ``~``,
            or it cannot be looked into.
        LibraryError: the folder cannot be made (a folder on the way cannot be written).
    """
    chosen = override or os.environ.get("FOLIO_HOME")
    if not chosen:
        path = Path(platformdirs.user_data_dir(APP_NAME))
    else:
        path = Path(os.path.abspath(_expand(str(chosen))))
        problem = _not_a_data_folder(path)
        if problem:
            raise NotADataFolder(
                f"{path} cannot be Folio's data folder: {problem}. Check the folder given "
                "(--home or FOLIO_HOME): it must be Folio's data folder, or a new or empty "
                "folder for a new one."
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise NotADataFolder(
            f"Folio's data folder {path} cannot be made: a file is in the way. Choose a "
            "folder for the data (--home or FOLIO_HOME)."
        ) from exc
    except OSError as exc:
        raise LibraryError(
            f"Folio's data folder {path} cannot be made: {exc.strerror or exc}. Choose a "
            "folder you can write to (--home or FOLIO_HOME)."
        ) from exc
    return path.resolve()


def _expand(chosen: str) -> str:
    """``chosen`` with a leading ``~`` or ``~user`` expanded; NotADataFolder when it names a
    user this system does not know (left as typed, it would make a folder called "~x")."""
    expanded = os.path.expanduser(chosen)
    if expanded.startswith("~"):
        user = expanded[1:].split(os.sep, 1)[0]
        raise NotADataFolder(
            f"{chosen} cannot be Folio's data folder: there is no user {user!r} for its '~'. "
            "Check the path (--home or FOLIO_HOME)."
        )
    return expanded


def _not_a_data_folder(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a data folder, or None.

    Hidden entries (a file manager's ``.DS_Store``) do not count as other files; the home
    folder and the root are refused even when they hold nothing else, as they hold a user's
    whole life. A path the system will not even look up (a name longer than the file
    system's 255 bytes, a path over 4096) is refused with the system's reason: ``Path``'s
    own checks raise rather than say False for those.
    """
    try:
        return _why_not_a_data_folder(path) or _unusable_name(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return "its name is too long for the file system (name a shorter path)"
        return f"it cannot be looked into ({exc.strerror or exc})"


def _unusable_name(path: Path) -> str | None:
    """Why a path the file system takes cannot be Folio's: the libraries Folio opens files
    in it with take less than it does."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        # The embedded models are loaded from it by libraries that take UTF-8 paths only.
        return "its name is not UTF-8 (rename it, or choose another folder)"
    longest = len(os.fsencode(path)) + 1 + len(LONGEST_DATABASE_NAME)
    if longest > SQLITE_MAX_PATH:
        return (
            f"its path is too long for SQLite, which keeps the library ({len(os.fsencode(path))}"
            f" bytes; at most {SQLITE_MAX_PATH - 1 - len(LONGEST_DATABASE_NAME)}): choose a "
            "shorter path"
        )
    return None


def _why_not_a_data_folder(path: Path) -> str | None:
    if path.is_symlink() and not path.exists():
        return "it is a link to something that does not exist (or a link loop)"
    if path.exists() and not path.is_dir():
        return "it is a file, not a folder"
    if path.is_dir():
        resolved = path.resolve()
        if resolved == Path.home().resolve():
            return "it is your home folder"
        if resolved == Path(resolved.anchor):
            return "it is the root folder"
    try:
        names = [entry.name for entry in os.scandir(path)]
    except FileNotFoundError:
        return None  # a new folder
    except NotADirectoryError:
        return "a part of the path is a file, not a folder"
    except OSError as exc:
        return f"it cannot be looked into ({exc.strerror or exc})"
    if any(name in DATA_FOLDER_MARKS for name in names):
        return None
    if any(not name.startswith(".") for name in names):
        return "it holds other files and none of Folio's"
    return None


def resources_dir() -> Path:
    """``resources/`` from the source tree, or from the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def data_folder_problem(home: Path, exc: sqlite3.Error | OSError) -> str:
    """What to say when a file of the data folder ``home`` cannot be used (``exc``: its
    permissions changed, the disk is full or read-only, a database is not one), naming the
    file when the system does, and what to check. SQLite's errors name no file ("attempt to
    write a readonly database"): the data folder's databases this user cannot write, the
    likely cause, are named instead."""
    known = isinstance(exc, OSError) and exc.filename and exc.strerror
    what = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and known else str(exc)
    if not known:
        locked = [p for p in sorted(home.glob("*.db*")) if not os.access(p, os.R_OK | os.W_OK)]
        if not os.access(home, os.W_OK | os.X_OK):
            locked.insert(0, home)
        if locked:
            what += f"; your user cannot write {', '.join(str(p) for p in locked)}"
    return (
        f"A file of the data folder cannot be used ({what}). Check that your user can read "
        f"and write {home} and everything in it, and that its disk has room and is not "
        "read-only."
    )
