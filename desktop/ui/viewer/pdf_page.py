"""A PDF in Qt's own viewer, at the cited page, with a phrase of the passage highlighted."""

from __future__ import annotations

import os
import time

from desktop.core.library.citation import Citation
from desktop.core.library.filenames import os_path
from desktop.core.plurals import counted
from desktop.ui.qt import (
    QBuffer,
    QByteArray,
    QIODevice,
    QPdfDocument,
    QPdfSearchModel,
    QPdfView,
    QPointF,
    QShowEvent,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import name_shown
from desktop.ui.viewer.file_text import UnreachableFolder, gone_message
from desktop.ui.viewer.locate import pdf_phrases

# Counting the search results before the cited page searches those pages; in slices this
# long, so a thousand-page manual never holds the window (about 2 ms a page, measured on
# the maintainer's guide).
_SLICE_S = 0.02
_PROBLEMS = {
    QPdfDocument.Error.InvalidFileFormat: "it is damaged or not really a PDF",
    QPdfDocument.Error.IncorrectPassword: "it is protected by a password",
    QPdfDocument.Error.UnsupportedSecurityScheme: "it is encrypted in a way Qt cannot open",
}


class PdfPage(QWidget):
    """The cited PDF, all pages scrollable, opened at the cited page.

    The page is searched for a phrase of the passage (the line with most of the question's
    words first, then the passage's lines in order); the first phrase found on that page is
    highlighted and scrolled to. ``shown`` carries a notice for the person (empty when the
    passage was found), ``failed`` why the PDF could not be shown; ``unreachable`` tells
    whether a missing file's library folder is unavailable (``file_text.gone_message``).

    A file whose name is not UTF-8 opens too: its bytes are read into a buffer kept as long
    as the document.
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
        self.citation, self.query = citation, query
        self.unreachable = unreachable
        self.page = (citation.page or 1) - 1
        self.document = QPdfDocument(self)
        self._bytes: QBuffer | None = None  # the file's bytes, when Qt cannot open it by name
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.document)
        self.search = QPdfSearchModel(self)
        self.search.setDocument(self.document)
        self.view.setSearchModel(self.search)
        self.found: QPointF | None = None  # where the phrase is on the page, in points
        self._ready = False
        self._placed = False
        self._next_page = 0
        self._results_before = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.document.statusChanged.connect(self._status)
        # After the window connects to ``shown`` and ``failed`` and shows itself. Loading
        # only opens the file and reads its table of pages: pages are read, drawn and
        # searched when shown.
        QTimer.singleShot(0, self, self._load)

    def _load(self) -> None:
        try:
            error = self._open(os_path(self.citation.path))
        except FileNotFoundError:
            error = QPdfDocument.Error.FileNotFound
        except OSError as exc:  # no permission, a disk error: said as the file's problem
            self._cannot_show(exc.strerror or "it could not be read")
            return
        if error == QPdfDocument.Error.FileNotFound:
            self.failed.emit(gone_message(self.citation.path, self.unreachable))
        elif error != QPdfDocument.Error.None_:
            self._cannot_show(_PROBLEMS.get(error, "Qt could not open it"))

    def _open(self, real: str) -> QPdfDocument.Error:
        """Load the PDF at OS path ``real``: by its name, or, for a name no QString holds
        (bytes that are not UTF-8, PEP 383), from its bytes as Python reads them.

        Raises:
            OSError: the bytes could not be read (FileNotFoundError: there is no such file).
        """
        try:
            real.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return self.document.load(real)
        with open(os.fsencode(real), "rb") as file:
            data = file.read()
        self._bytes = QBuffer(self)
        self._bytes.setData(QByteArray(data))
        self._bytes.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._bytes)  # returns nothing: the document's error() says
        return self.document.error()

    def _cannot_show(self, problem: str) -> None:
        self.failed.emit(
            f"Folio cannot show {name_shown(self.citation.file_name)}: {problem}. "
            "Open in default app may still open it."
        )

    def _status(self, status: QPdfDocument.Status) -> None:
        if status == QPdfDocument.Status.Ready and not self._ready:
            self._ready = True
            cited, count = self.page, self.document.pageCount()
            self.page = min(max(cited, 0), count - 1)
            if cited >= count:  # the file lost pages since it was indexed
                self.shown.emit(
                    f"{name_shown(self.citation.file_name)} has {counted(count, 'page')} now, "
                    f"and the passage was cited from page {cited + 1}: the file changed since "
                    "Folio indexed it. Sync the library to index it again. Its last page is "
                    "shown."
                )
            else:
                self._find_passage()
            if self.isVisible():
                QTimer.singleShot(0, self, self._place)

    def _find_passage(self) -> None:
        for phrase in pdf_phrases(self.citation.text, self.query):
            self.search.setSearchString(phrase)
            results = self.search.resultsOnPage(self.page)  # searches this page only
            if results:
                self.found = results[0].location()
                self._count_results_before()
                self.shown.emit("")
                return
        self.search.setSearchString("")
        self.shown.emit(
            f"The passage's words were not found on page {self.page + 1} of "
            f"{name_shown(self.citation.file_name)} (a scanned page, or the file changed "
            "since Folio indexed it): this is the page it came from."
        )

    def _count_results_before(self) -> None:
        """Make the phrase on the cited page the current result, which Qt outlines, once
        the results on the pages before it are counted."""
        deadline = time.monotonic() + _SLICE_S
        while self._next_page < self.page and time.monotonic() < deadline:
            self._results_before += len(self.search.resultsOnPage(self._next_page))
            self._next_page += 1
        if self._next_page < self.page:
            QTimer.singleShot(0, self, self._count_results_before)
        else:
            self.view.setCurrentSearchResultIndex(self._results_before)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._ready:
            QTimer.singleShot(0, self, self._place)

    def _place(self) -> None:
        """Scroll to the cited page, the phrase a third of the way down; once, so the view
        then stays where the person scrolls it."""
        if self._placed or not self._ready or not self.isVisible():
            return
        self._placed = True
        self.view.pageNavigator().jump(self.page, QPointF(), 0)
        if self.found is None:
            return
        # The view puts the page's top at the top and ignores a location on the page;
        # fitted to the width, a point is this many pixels.
        margins = self.view.documentMargins()
        width = self.view.viewport().width() - margins.left() - margins.right()
        pixels_per_point = width / self.document.pagePointSize(self.page).width()
        bar = self.view.verticalScrollBar()
        offset = int(self.found.y() * pixels_per_point) - self.view.viewport().height() // 3
        bar.setValue(bar.value() + max(offset, 0))
