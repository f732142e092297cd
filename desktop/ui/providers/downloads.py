"""The Downloads tab: catalog models fetched in the background, resumable."""

from __future__ import annotations

import glob
from pathlib import Path

from desktop.core.models.downloads import CATALOG, CatalogEntry, catalog_rows, download
from desktop.services import Services
from desktop.ui.messages import message_label, say
from desktop.ui.providers.common import save_change
from desktop.ui.qt import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QObject,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job


class DownloadRow(QObject):
    """One catalog model's progress bar and button; its download runs as a ``Job``."""

    downloaded = Signal(str, str)  # entry name, path of the file
    failed = Signal(str)
    done = Signal()  # the download ended, however

    def __init__(self, entry: CatalogEntry, dest: Path, parent: QObject) -> None:
        super().__init__(parent)
        self.entry = entry
        self.dest = dest
        self.job: Job | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)  # per mille: byte counts overflow a Qt int
        self.bar.setTextVisible(True)
        self.button = QPushButton()
        self.button.clicked.connect(self.toggle)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def show_state(self, registered: bool) -> None:
        if self.busy:
            return
        path = self.dest / self.entry.filename
        partial = any(self.dest.glob(f"{glob.escape(self.entry.filename)}.*.incomplete"))
        if path.is_file():
            self.bar.setValue(1000)
            self.bar.setFormat("Downloaded")
            self.button.setText("Downloaded" if registered else "Add to models")
            self.button.setEnabled(not registered)
        else:
            self.bar.setValue(0)
            self.bar.setFormat("Paused: resumes where it stopped" if partial else "Not downloaded")
            self.button.setText("Resume" if partial else "Download")
            self.button.setEnabled(True)

    def toggle(self) -> None:
        if self.job is not None:
            self.job.cancel.cancel()
            self.button.setEnabled(False)
            self.bar.setFormat("Stopping…")
        else:
            self.start()

    def start(self) -> Job:
        entry, dest = self.entry, self.dest

        def work(job: Job) -> str:
            def on_progress(done: int, total: int) -> None:
                job.report((done, total))

            return str(download(entry, dest, on_progress, job.cancel))

        job = Job(work)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_finished)
        self.job = job
        self.button.setText("Cancel")
        self.bar.setFormat("Starting…")
        return job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel.cancel()

    def _on_progress(self, progress: tuple[int, int]) -> None:
        done, total = progress
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.bar.setFormat(f"%p%  ({done / 2**20:.0f} of {total / 2**20:.0f} MB)")

    def _on_done(self, path: str) -> None:
        self.downloaded.emit(self.entry.name, path)

    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)

    def _on_finished(self) -> None:
        self.job = None
        self.done.emit()


class DownloadsTab(QWidget):
    """The catalog: small models that run on a laptop, downloaded into the data folder."""

    changed = Signal()
    COLUMNS = ("Model", "Download", "RAM", "Licence", "Description", "Status", "")

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.dest = services.home / "models" / "gguf"
        self.table = QTableWidget(len(CATALOG), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(5, 220)  # room for "40%  (380 of 941 MB)"
        self.rows: dict[str, DownloadRow] = {}
        for number, (entry, row) in enumerate(zip(CATALOG, catalog_rows(self.dest), strict=True)):
            cells = (
                entry.name,
                f"{row.size_gb:.1f} GB",
                f"{row.ram_gb:.1f} GB",
                row.licence,
                row.description,
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(number, column, cell)
            download_row = DownloadRow(entry, self.dest, self)
            download_row.downloaded.connect(self._register)
            download_row.failed.connect(self._on_failed)
            download_row.done.connect(self.reload)
            self.table.setCellWidget(number, 5, download_row.bar)
            self.table.setCellWidget(number, 6, download_row.button)
            self.rows[entry.name] = download_row
        self.message = message_label()
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"Models are saved in {self.dest}. A stopped download resumes where it stopped.")
        )
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.reload()

    def reload(self) -> None:
        """Show each row's state, e.g. after a model was removed from the local files."""
        local = self.services.settings.local_models
        for name, row in self.rows.items():
            row.show_state(registered=name in local)

    def _register(self, name: str, path: str) -> None:
        """A finished download becomes ``local:<name>``, as ``folio-cli models download`` does."""
        local = {**self.services.settings.local_models, name: path}
        if save_change(self.services, self.message, local_models=local):
            say(self.message, f"Downloaded {name}: choose local:{name} in the model list.")
            self.changed.emit()
        self.reload()

    def _on_failed(self, message: str) -> None:
        say(self.message, message, error=True)

    def cancel_all(self) -> None:
        for row in self.rows.values():
            row.cancel()

    @property
    def busy(self) -> bool:
        return any(row.busy for row in self.rows.values())
