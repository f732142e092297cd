"""A cited file's text as the library read it, for showing a passage in its context; what
to say when the file is not there."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import LibraryError
from desktop.core.library.filenames import os_path
from desktop.core.library.readers import Unreadable, read_documents
from desktop.ui.shown import name_shown

# The library folder holding a stored path that cannot be reached now (unplugged,
# unmounted, renamed: ``Library.unavailable_folders``), or None. Asked only once the file
# is found missing, so the library is read only then.
UnreachableFolder = Callable[[str], str | None]


def gone_message(path: str, unreachable: UnreachableFolder | None = None) -> str:
    """What to tell a person when the file at stored name ``path`` is not there.

    A sync keeps the files of a library folder it cannot reach, so for a file in one the
    way out is the folder itself: reconnect it, or remove it from the library.
    """
    folder = unreachable(path) if unreachable is not None else None
    if folder is not None:
        return (
            f"{name_shown(path)} cannot be reached now: its library folder "
            f"{name_shown(folder)} is unavailable (unplugged, unmounted or renamed?). "
            "Reconnect it or give it its name back to see the file, or remove the folder "
            "from the library so Folio stops citing it."
        )
    return (
        f"{name_shown(path)} is no longer there. Put it back, or sync the library so Folio "
        "stops citing it."
    )


def file_text(path: str, unreachable: UnreachableFolder | None = None) -> str:
    """The text Folio's readers take from the file at stored name ``path``, its pages or
    slides one after another; slow for big files and scans (run it off the window's thread).

    Raises:
        LibraryError: the file is gone (``gone_message``, ``unreachable`` telling whether
            its library folder is) or no longer readable, in words a person can act on.
    """
    real = os_path(path)
    if not os.path.isfile(real):
        raise LibraryError(gone_message(path, unreachable))
    try:
        documents = read_documents(Path(real))
    except Unreadable as exc:
        raise LibraryError(
            f"Folio could not read {name_shown(Path(path).name)} again to show the passage "
            f"in it: {exc.reason}. Show passage still shows the passage itself."
        ) from exc
    return "\n\n".join(document.text for document in documents)
