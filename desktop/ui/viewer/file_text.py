"""A cited file's text as the library read it, for showing a passage in its context."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.errors import LibraryError
from desktop.core.library.filenames import os_path
from desktop.core.library.readers import Unreadable, read_documents


def file_text(path: str) -> str:
    """The text Folio's readers take from the file at stored name ``path``, its pages or
    slides one after another; slow for big files and scans (run it off the window's thread).

    Raises:
        LibraryError: the file is gone or no longer readable, in words a person can act on.
    """
    real = os_path(path)
    name = Path(path).name
    if not os.path.isfile(real):
        raise LibraryError(
            f"{path} is no longer there. Put it back, or sync the library so Folio stops citing it."
        )
    try:
        documents = read_documents(Path(real))
    except Unreadable as exc:
        raise LibraryError(
            f"Folio could not read {name} again to show the passage in it: {exc.reason}. "
            "Show passage still shows the passage itself."
        ) from exc
    return "\n\n".join(document.text for document in documents)
