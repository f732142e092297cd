"""A passage in its context: the whole file's text, the passage highlighted and in view."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.library.citation import Citation
from desktop.ui.qt import QTextBrowser, QTextCursor, QTextDocument, QThread, QTimer, QWidget, Signal
from desktop.ui.shown import name_shown
from desktop.ui.viewer.file_text import UnreachableFolder, file_text
from desktop.ui.viewer.highlight import PASSAGE_BACKGROUND, fill, mark, mark_words, rendered
from desktop.ui.viewer.locate import locate
from desktop.ui.viewer.passage_text import is_markdown
from desktop.ui.workers import Job


@dataclass
class InContext:
    """A file's text as a document, where the passage is in it (None: not there at all), and
    whether it is there word for word (or only placed by some of its words)."""

    document: QTextDocument
    passage: tuple[int, int] | None
    exact: bool


def passage_in_context(
    citation: Citation,
    query: str,
    thread: QThread,
    unreachable: UnreachableFolder | None = None,
) -> InContext:
    """The cited file's text as a document with the passage and the question's words in it
    highlighted, handed to ``thread`` (the window's). Raises LibraryError as ``file_text``.

    Reading, rendering and finding the passage take seconds on a big file, so this runs off
    the window's thread: a QTextDocument may be built on any thread, then moved to the one
    that shows it.
    """
    markdown = is_markdown(citation.path)
    document = QTextDocument()
    fill(document, file_text(citation.path, unreachable), markdown)
    text, wanted = document.toPlainText(), rendered(citation.text, markdown)
    passage = locate(text, wanted)
    if passage is None:
        mark_words(document, query)
    else:
        mark(document, *passage, PASSAGE_BACKGROUND)
        mark_words(document, query, *passage)
    exact = passage is not None and (
        text[passage[0] : passage[1]].casefold().split() == wanted.casefold().split()
    )
    document.moveToThread(thread)
    return InContext(document, passage, exact)


class ContextView(QTextBrowser):
    """The cited file's text as Folio's readers read it, prepared off the window's thread.

    The passage gets a pale background and the question's words in it a stronger one; the
    view scrolls to it. ``shown`` carries a notice for the person (empty when the passage was
    found), ``failed`` why the file could not be shown; ``unreachable`` tells whether a
    missing file's library folder is unavailable (``file_text.gone_message``).
    """

    shown = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        citation: Citation,
        query: str,
        parent: QWidget | None = None,
        unreachable: UnreachableFolder | None = None,
    ) -> None:
        super().__init__(parent)
        self.citation = citation
        self.passage: tuple[int, int] | None = None
        self._scrolled = False
        self.setOpenLinks(False)  # a link in a rendered page must not replace the page
        self.setPlainText(f"Reading {name_shown(citation.file_name)}…")
        window_thread = self.thread()
        self.job = Job(lambda _job: passage_in_context(citation, query, window_thread, unreachable))
        # Bound methods, not lambdas: Qt drops them if this view is closed first.
        self.job.succeeded.connect(self._show)
        self.job.failed.connect(self._fail)
        self.job.start()

    def _show(self, found: InContext) -> None:
        found.document.setParent(self)
        self.setDocument(found.document)
        self.passage = found.passage
        name = name_shown(self.citation.file_name)
        if self.passage is None:
            self.shown.emit(
                f"The passage is no longer in {name} (the file changed since Folio indexed "
                "it): the question's words are highlighted instead. Sync the library to "
                "index it again."
            )
            return
        # Qt lays a big document out in slices while the window stays responsive; scrolling
        # to a place not laid out yet would lay out everything before it at once (half a
        # second for 2 MB of text), so the scroll waits for the layout to get there.
        self.document().documentLayout().documentSizeChanged.connect(self._scroll_when_laid_out)
        QTimer.singleShot(0, self, self._scroll_when_laid_out)
        self.shown.emit(
            ""
            if found.exact
            else f"{name} changed since Folio indexed it: the passage is highlighted where "
            "its words are now. Sync the library to index it again."
        )

    def _scroll_when_laid_out(self) -> None:
        if self._scrolled or self.passage is None:
            return
        end = self.document().findBlock(self.passage[1])
        if end.isValid() and end.layout().lineCount() == 0:
            return  # called again as the layout grows
        self._scrolled = True
        self.scroll_to_passage()

    def scroll_to_passage(self) -> None:
        """Bring the passage into view, its first line near the top."""
        if self.passage is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.passage[1])
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        cursor.setPosition(self.passage[0])
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def _fail(self, message: str) -> None:
        # Said once, by the viewer's notice (``failed``); the page is left empty.
        self.clear()
        self.failed.emit(message)
