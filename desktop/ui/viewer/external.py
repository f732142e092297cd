"""Opening a cited file in the app the system has for it, and saying so when there is none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from desktop.core.library.citation import Citation
from desktop.core.library.filenames import file_url
from desktop.ui.qt import QDesktopServices, QUrl
from desktop.ui.shown import name_shown

# Opens a URL and says whether anything took it. Qt's own only reports failure: with no
# launcher (no desktop environment, no xdg-open) it returns False and prints to stderr.
Opener = Callable[[QUrl], bool]


def source_url(citation: Citation) -> QUrl:
    """The cited file's URL (at the page, for a PDF viewer that reads the fragment)."""
    # From the file's own bytes, so a name that is not UTF-8 opens too.
    url = QUrl.fromEncoded(file_url(citation.path).encode("ascii"))
    if citation.page is not None and citation.path.lower().endswith(".pdf"):
        url.setFragment(f"page={citation.page}")
    return url


def open_externally(citation: Citation, opener: Opener | None = None) -> bool:
    """Open the cited file in the system's app for it; False when nothing opened it."""
    return (opener or QDesktopServices.openUrl)(source_url(citation))


def no_app_message(citation: Citation) -> str:
    """What to tell a person when the system has no app to open the cited file."""
    kind = PurePath(citation.path).suffix.lower() or "these"
    return (
        f"Folio could not open {name_shown(citation.file_name)}: this computer has no app set "
        f"to open {name_shown(kind)} files. Install one (or set a default app for "
        f"{name_shown(kind)} files), or open {name_shown(citation.path)} from your file manager."
    )
