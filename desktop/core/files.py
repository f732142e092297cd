"""Files written so that a crash or a power cut leaves the old content or the new, whole."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

# The mode ``open()`` gives a new file: read-write as the umask allows. Read once, here:
# reading the umask means setting it and setting it back, which is not safe once threads run.
_UMASK = os.umask(0)
os.umask(_UMASK)
NEW_FILE_MODE = 0o666 & ~_UMASK


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write text to a temporary file beside ``path``, sync it, then rename it over ``path``.

    The file keeps the permissions of the one it replaces, or gets a new file's
    (``NEW_FILE_MODE``): the temporary file's own are private to its owner (0600), which
    would otherwise pass to every export and every rewritten file.
    """
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` survive a power cut (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
