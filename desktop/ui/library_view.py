"""The library pane: folders, indexing progress, failures, and the actions on them."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop.core.library.catalog import INTERRUPTED_REASON, UNAVAILABLE_REASON, FileStatus
from desktop.core.library.filenames import stored_name
from desktop.core.library.ingest import IngestReport
from desktop.core.plurals import counted
from desktop.core.tasks import Progress, eta_phrase
from desktop.services import Services
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import name_shown
from desktop.ui.watcher import FolderWatcher
from desktop.ui.workers import Job


def failure_tooltip(path: str, reason: str) -> str:
    """A file that was not indexed and the whole of why, as rich text, which Qt wraps (a
    plain-text tooltip is one line as wide as the reason)."""
    lines = "<br>".join(html.escape(line) for line in reason.splitlines())
    return f"<p><b>{html.escape(name_shown(path))}</b><br>{lines}</p>"


def folder_tooltip(folder: str, state: str | None) -> str:
    """A library folder's whole path and, when it has one, its ``state`` (unavailable,
    stopped before the end) on the line beneath, shown as written.

    Qt takes a tooltip that looks like HTML for HTML, so a folder named "<u>docs" would
    show underlined, its tag gone: a path holding "<" or "&" (the only characters that can
    make text look like HTML) is escaped in a tooltip that is rich text; any other stays
    plain text.
    """
    path = name_shown(folder)
    if "<" not in path and "&" not in path:
        return f"{path}\n{state}" if state else path
    said = f"<br>{html.escape(state)}" if state else ""
    return f"<p>{html.escape(path)}{said}</p>"


def quoted(path: str | Path) -> str:
    """A file or folder name set apart in a status line: in quotes, as ``name_shown`` gives
    it, so a name holding commas or spaces reads as one name."""
    return f'"{name_shown(str(path))}"'


def not_found(paths: Sequence[Path]) -> str:
    """That ``paths``, asked to be added, do not exist (deleted or moved since they were
    dropped or chosen), each named."""
    names = ", ".join(quoted(p) for p in paths)
    if len(paths) == 1:
        return f"{names} does not exist, so it was not added"
    return f"{names} do not exist, so they were not added"


class LibraryPane(QWidget):
    """Shows what the library holds and runs ingest, sync and removal in the background."""

    ingest_finished = Signal(object)  # IngestReport
    error = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._job: Job | None = None
        self._queued: list[Path] = []
        self._sync_queued = False
        self._held: str | None = None  # why indexing waits (an embedding switch), if it does
        # Asked to be added while a run went on, but gone: said with that run's result.
        self._not_found: list[Path] = []

        self.folders = QListWidget()
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.folders.setAccessibleName("Library folders")
        self.empty_hint = QLabel(
            "Drop folders or files anywhere on this window, or use File → Add Folder…, "
            "to add them to your library."
        )
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        # Names files and folders, which can hold anything a name can: shown as written.
        self.status = message_label()
        self.status.setAccessibleName("Library status")
        # The store lacks chunks the library lists (its files lost or damaged): shown until
        # a sync has indexed them again.
        self.store_warning = message_label()
        self.store_warning.setAccessibleName("Vector store warning")
        self.store_warning.setVisible(False)
        # What the last run went on despite (an ignore pattern skipped, an ignore file not
        # read): no file failed, so it is not a row of "Not indexed". Kept until the next run.
        self.warnings = message_label()
        self.warnings.setAccessibleName("Indexing warnings")
        self.warnings.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.sync)
        self.remove_button = QPushButton("Remove folder")
        self.remove_button.clicked.connect(self.remove_selected)
        self.failures = QTreeWidget()
        self.failures.setHeaderLabels(["File", "Why it was not indexed"])
        self.failures.setRootIsDecorated(False)
        self.failures.setAccessibleName("Files not indexed")
        # One line a file: a reason longer than its column ends in "…", and the whole of it
        # is in the row's tooltip.
        self.failures.setUniformRowHeights(True)
        self.failures.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.failures.setWordWrap(False)

        buttons = QHBoxLayout()
        for button in (self.sync_button, self.remove_button, self.cancel_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Library</b>"))
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.store_warning)
        layout.addWidget(self.folders, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.warnings)
        layout.addWidget(QLabel("Not indexed"))
        layout.addWidget(self.failures, 1)

        self.watcher = FolderWatcher(self)
        self.watcher.changed.connect(self.sync)
        self._set_busy(False)
        self.refresh()

    # -- actions ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Indexing, or held back: what is asked meanwhile waits its turn."""
        return self._job is not None or self._held is not None

    def hold(self, reason: str | None) -> None:
        """Hold indexing back, saying ``reason``; ``None`` lets it go on with what waited.

        An embedding switch ends by catching up with the library and swapping stores,
        which must not overlap an ingest; drops, syncs and changes on disk wait meanwhile.
        """
        self._held = reason
        self._set_busy(self._job is not None)
        if reason is not None:
            if self._job is None:
                self.status.setText(reason)
        elif self._job is None:
            self.status.clear()
            self._run_queued()

    def add_paths(self, paths: list[Path]) -> None:
        """Add folders/files and index them in the background (queued if busy).

        One that does not exist (deleted or moved since it was dropped or chosen) is named
        in the status line: at once when there is nothing else to do, else with the result
        of the run going on or starting.
        """
        self._not_found += [p for p in paths if not p.exists()]
        paths = [p for p in paths if p.exists()]
        if not paths:
            if self._not_found and self._job is None:
                said = self._with_not_found("")
                self.status.setText(f"{said} {self._held}" if self._held else said)
            return
        if self.busy:
            self._queued.extend(paths)
            return
        self._watch(added=paths)
        self._run(lambda job: self.services.ingestor.ingest(paths, job.report, job.cancel))

    def _watch(self, added: Sequence[Path] = ()) -> None:
        """Watch the library's folders, and ``added`` before they are first indexed: a file
        changed, added or deleted while they are indexed then queues a sync, as one changed
        later starts one."""
        library = self.services.library
        unavailable = set(library.unavailable_folders())
        roots = [f for f in library.folders() if f not in unavailable]
        roots += [stored_name(os.path.realpath(p)) for p in added]
        self.watcher.watch(list(dict.fromkeys(roots)), sorted(unavailable))

    def sync(self) -> None:
        """Re-scan every folder; changes made while Folio was closed are picked up."""
        if not self.services.library.folders():
            return
        if self.busy:
            self._sync_queued = True
            return
        self._run(lambda job: self.services.ingestor.sync(job.report, job.cancel))

    def cancel(self) -> None:
        """Stop indexing after the current file; what was done is kept."""
        self._queued.clear()
        self._sync_queued = False
        if self._job is not None:
            self._job.cancel.cancel()
            self.status.setText("Stopping after the current file…")

    def remove_selected(self) -> None:
        item = self.folders.currentItem()
        if item is None or self.busy:
            return
        folder = item.data(Qt.ItemDataRole.UserRole)
        # Only what no other library folder covers leaves the library.
        records = self.services.library.files_leaving(folder)
        files, chunks = len(records), sum(len(r.chunk_ids) for r in records)
        if not confirm_deletion(
            self,
            f"Remove the folder {quoted(folder)} from the library?",
            f"Its {files} file{'s' if files != 1 else ''} and {chunks} "
            f"chunk{'s' if chunks != 1 else ''} leave the library (the files on disk are "
            "kept). Adding the folder again re-embeds them all.",
        ):
            return
        self._run(lambda job: self.services.ingestor.remove(Path(folder)))

    # -- plumbing ---------------------------------------------------------------------------

    def _run(self, work: Callable[[Job], object]) -> None:
        job = Job(work, self)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(lambda: self.status.setText(self._with_not_found("Cancelled.")))
        job.finished.connect(self._on_finished)
        self._job = job
        self._set_busy(True)
        self.status.setText("Looking for changes…")
        job.start()

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.sync_button.setEnabled(not self.busy)
        self.remove_button.setEnabled(not self.busy)
        self.progress.setVisible(busy)

    def _on_progress(self, p: Progress) -> None:
        self.progress.setMaximum(max(p.files_total, 1))
        self.progress.setValue(p.files_done)
        self.progress.setFormat(f"{p.files_done}/{p.files_total} files, {p.chunks_done} chunks")
        current = f"Indexing {name_shown(Path(p.current).name)}" if p.current else "Finishing…"
        if p.current and p.detail:
            current += f" ({p.detail})"
        self.status.setText(f"{current}{eta_phrase(p.eta_seconds)}")

    def _on_done(self, result: object) -> None:
        if isinstance(result, IngestReport):
            r = result
            summary = (
                f"{r.added} added, {r.updated} updated, {r.removed} removed, "
                f"{r.failed} failed, {r.skipped} skipped"
            )
            if r.repaired:
                summary += f"; {r.repaired} indexed again, as the store had lost their chunks"
            if r.warnings:
                summary += f"; {counted(len(r.warnings), 'warning')} (below)"
            if r.cancelled:
                summary = "Cancelled: " + summary
            for folders, said in (
                (r.unavailable, "unavailable"),
                (r.unreadable, "could not be read"),
            ):
                if folders:
                    kept = "it was" if len(folders) == 1 else "they were"
                    summary += f"; {counted(len(folders), 'folder')} {said}, kept as {kept}"
            if r.already_in_library:
                names = ", ".join(quoted(os.path.basename(p) or p) for p in r.already_in_library)
                summary += f"; already in the library: {names}"
            self.status.setText(self._with_not_found(summary))
            lines = [f"{name_shown(path)}: {reason}." for path, reason in r.warnings]
            say(self.warnings, "\n".join(lines), error=True)
            self.warnings.setVisible(bool(lines))
        elif isinstance(result, int):  # a removal's count of files
            removed = f"Removed {counted(result, 'file')} from the library."
            self.status.setText(self._with_not_found(removed))

    def _on_failed(self, message: str) -> None:
        self.status.setText(self._with_not_found(message))
        self.error.emit(message)

    def _with_not_found(self, said: str) -> str:
        """``said`` (a run's result) followed by the paths asked for that did not exist,
        if any, which are then said."""
        if not self._not_found:
            return said
        gone = not_found(list(dict.fromkeys(self._not_found)))
        self._not_found = []
        if not said:
            return f"{gone}."
        return f"{said.rstrip('.')}; {gone}."

    def _on_finished(self) -> None:
        job, self._job = self._job, None
        self._set_busy(False)
        self.refresh()
        if job is not None and isinstance(job.result, IngestReport):
            # Announced only now, once the pane is idle and shows the result.
            self.ingest_finished.emit(job.result)
        if self._held is not None:
            self.status.setText(self._held)
        self._run_queued()

    def _run_queued(self) -> None:
        """Start what was asked while the pane was busy, unless it still is (held)."""
        if self.busy:
            return
        if self._queued:
            queued, self._queued = self._queued, []
            self.add_paths(queued)
        elif self._sync_queued:
            self._sync_queued = False
            self.sync()

    def refresh(self) -> None:
        """Re-read folders, per-folder counts and failures from the library."""
        library = self.services.library
        folders = library.folders()
        unavailable = set(library.unavailable_folders())
        interrupted = set(library.interrupted_folders())
        self.folders.clear()
        for folder in folders:
            counts = {FileStatus.INDEXED: 0, FileStatus.FAILED: 0, FileStatus.SKIPPED: 0}
            for record in library.files_under(folder).values():
                counts[record.status] = counts.get(record.status, 0) + 1
            label = (
                f"{name_shown(os.path.basename(folder) or folder)}  ·  "
                f"{counts[FileStatus.INDEXED]} indexed"
            )
            if counts[FileStatus.FAILED] or counts[FileStatus.SKIPPED]:
                label += f", {counts[FileStatus.FAILED] + counts[FileStatus.SKIPPED]} not indexed"
            state = None
            if folder in unavailable:
                label += "  ·  unavailable"
                state = f"{UNAVAILABLE_REASON[0].upper()}{UNAVAILABLE_REASON[1:]}."
            elif folder in interrupted:
                label += "  ·  stopped before the end"
                reason = INTERRUPTED_REASON.replace("a sync", "Sync now")
                state = f"{reason[0].upper()}{reason[1:]}."
            item = QListWidgetItem(label)
            item.setToolTip(folder_tooltip(folder, state))
            item.setData(Qt.ItemDataRole.UserRole, folder)
            self.folders.addItem(item)
        shortfall = self.services.store_shortfall()
        say(self.store_warning, error_text(shortfall) if shortfall else "", error=True)
        self.store_warning.setVisible(shortfall is not None)
        self.empty_hint.setVisible(not folders)
        self.folders.setVisible(bool(folders))
        self.failures.clear()
        for record in library.stats().failures:
            reason = record.reason or str(record.status)
            row = QTreeWidgetItem([name_shown(Path(record.path).name), " ".join(reason.split())])
            tip = failure_tooltip(record.path, reason)
            row.setToolTip(0, tip)
            row.setToolTip(1, tip)
            self.failures.addTopLevelItem(row)
        self._watch()
