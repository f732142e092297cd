"""The Storage tab: move the library between Qdrant Edge and a Qdrant server.

The window's counterpart of ``folio-cli store move``; the move runs as one ``Job``, with a
progress bar and Cancel, and resumes where it stopped when started again.
"""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.core.settings import key_variable_problem
from desktop.core.store.move import MoveReport, pending_move
from desktop.core.tasks import Progress
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

EDGE = "edge"
QDRANT = "qdrant"


class StorageTab(QWidget):
    """Where the library's vectors live, and a move to a Qdrant server or back to Edge."""

    moved = Signal()  # the library's store changed: whatever holds the old one must let go

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.job: Job | None = None
        self.current = QLabel()
        self.current.setWordWrap(True)
        self.target = QComboBox()
        self.target.addItem("Qdrant server", QDRANT)
        self.target.addItem("Qdrant Edge (this computer)", EDGE)
        self.target.setAccessibleName("Move to")
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://localhost:6333")
        self.url.setAccessibleName("Qdrant server URL")
        self.api_key_env = QLineEdit(services.settings.store.api_key_env)
        self.api_key_env.setAccessibleName("API key environment variable")
        self.collection = QLineEdit(services.settings.store.collection)
        self.collection.setAccessibleName("Collection")
        self.move_button = QPushButton("Move")
        self.move_button.clicked.connect(self.start_move)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = message_label()
        self.message.setAccessibleName("Storage message")
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.bar, 1)
        progress_row.addWidget(self.cancel_button)
        form = QFormLayout()
        form.addRow("Library is on", self.current)
        form.addRow("Move to", self.target)
        form.addRow("Server URL", self.url)
        form.addRow("API key variable", self.api_key_env)
        form.addRow("Collection", self.collection)
        form.addRow("", self.move_button)
        form.addRow("", progress_row)
        form.addRow("", self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Every chunk's vectors and text are copied (nothing is embedded again); the "
                "library switches only once the copy is complete. A stopped move resumes."
            )
        )
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_state()

    def show_state(self) -> None:
        """The store in use, a move left unfinished, and which controls apply now."""
        running = self.job is not None
        text = self.services.store_label().strip("()")
        try:
            move = pending_move(self.services.library)
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            move = None
        if move is not None and not running:
            text += f"; a move to {move.url or 'Edge'} is unfinished ({move.done}/{move.total})"
        self.current.setText(text)
        for widget in (self.target, self.url, self.api_key_env, self.collection):
            widget.setEnabled(not running)
        self.move_button.setEnabled(not running)
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def _form_problem(self, backend: str, url: str | None, key_env: str | None) -> str | None:
        """What in the form cannot work, named by its label, as folio-cli checks its flags
        (``store move``); None when the move can start."""
        # Imported here: it loads qdrant-client, which the tab needs only to move.
        from desktop.core.store.server import collection_problem, in_data_folder, url_problem

        problem = None
        if backend == QDRANT and url:
            problem = url_problem(url) or in_data_folder(url, self.services.home)
        if problem is not None:
            self.url.setFocus()
            return f'URL "{line_shown(url or "")}" {problem}.'
        collection = self.collection.text().strip()
        problem = collection_problem(collection) if backend == QDRANT and collection else None
        if problem is not None:
            self.collection.setFocus()
            return f'Collection "{line_shown(collection)}" {problem}.'
        problem = key_variable_problem(key_env) if backend == QDRANT and key_env else None
        if problem is not None:
            self.api_key_env.setFocus()
            return f"API key variable {key_env!r} {problem}."
        return None

    def start_move(self) -> Job | None:
        """Start the move the form describes; None when the form is incomplete."""
        if self.job is not None:
            return None
        backend = str(self.target.currentData())
        url = self.url.text().strip() or None
        if backend == QDRANT and not url:
            say(self.message, "Enter the Qdrant server's URL.", error=True)
            return None
        key_env = self.api_key_env.text().strip() or None
        problem = self._form_problem(backend, url, key_env)
        if problem is not None:
            say(self.message, problem, error=True)
            return None
        collection = self.collection.text().strip() or None
        services = self.services

        def work(job: Job) -> MoveReport:
            return services.move_store(backend, url, key_env, collection, job.report, job.cancel)

        job = Job(work)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(lambda: say(self.message, "Stopped; Move again goes on from there."))
        job.finished.connect(self._on_finished)
        self.job = job
        self.bar.setRange(0, 0)  # busy until the chunks are counted
        say(self.message, "Connecting…")
        self.show_state()
        return job.start()

    def cancel(self) -> None:
        """Stop after the current batch; what was copied is kept for the next move."""
        if self.job is not None:
            self.job.cancel.cancel()
            self.cancel_button.setEnabled(False)
            say(self.message, "Stopping after the current batch…")

    def _on_progress(self, p: Progress) -> None:
        self.bar.setRange(0, max(p.chunks_total, 1))
        self.bar.setValue(p.chunks_done)
        self.bar.setFormat(f"{p.chunks_done}/{p.chunks_total} chunks")

    def _on_done(self, r: MoveReport) -> None:
        if r.cancelled:
            say(self.message, "Stopped; Move again goes on from there.")
        else:
            say(self.message, f"The library is now on {r.backend} ({r.chunks} chunks).")
            self.moved.emit()

    def _on_failed(self, message: str) -> None:
        say(self.message, " ".join(message.split()), error=True)

    def _on_finished(self) -> None:
        self.job = None
        self.show_state()
