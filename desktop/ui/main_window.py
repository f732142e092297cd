"""The main window: library and chats on the left, the conversation on the right."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from desktop.core.errors import FolioError
from desktop.core.finetune.jobs import POLL_SECONDS
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.paths import resources_dir
from desktop.services import Services
from desktop.ui.chat.pane import ChatPane
from desktop.ui.chat.picker import ModelPicker
from desktop.ui.chat.sidebar import ChatList
from desktop.ui.compare.window import CompareWindow
from desktop.ui.dialogs import PersonaDialog, SettingsDialog, show_about
from desktop.ui.evaluate.window import EvaluateWindow
from desktop.ui.finetune.jobs import JobWatcher
from desktop.ui.finetune.studio import FinetuneStudio
from desktop.ui.library_view import LibraryPane
from desktop.ui.messages import failure_text, plain_box
from desktop.ui.providers.dialog import ProvidersDialog
from desktop.ui.qt import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QFileDialog,
    QIcon,
    QKeySequence,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSettings,
    QSplitter,
    Qt,
    QToolBar,
    QWidget,
    Signal,
)
from desktop.ui.state import window_state
from desktop.ui.workers import Job, wait_for_jobs

log = logging.getLogger(__name__)

SWITCH_HOLD = (
    "Switching the embedding model (Models and Providers → Embeddings): indexing waits "
    "until it is done."
)


_W = TypeVar("_W", bound=QWidget)


def _raised(window: _W) -> _W:
    """``window`` shown, in front and active: what opening a modeless window does."""
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def app_icon() -> QIcon:
    """Folio's icon, every size rendered from ``resources/icons/folio.svg``."""
    icon = QIcon()
    for png in sorted((resources_dir() / "icons" / "png").glob("folio-*.png")):
        icon.addFile(str(png))
    return icon


class MainWindow(QMainWindow):
    """Folio's window; everything it does goes through ``services``."""

    closed = Signal()

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        finetune_poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """``finetune_poll_seconds``: how often unfinished fine-tuning jobs are asked about."""
        super().__init__(parent)
        self.services = services
        Job.data_folder = services.home
        self.last_error: QMessageBox | None = None
        self.providers_dialog: ProvidersDialog | None = None
        self.finetune_studio: FinetuneStudio | None = None
        self.compare_window: CompareWindow | None = None
        self.evaluate_window: EvaluateWindow | None = None
        self._select_when_listed: str | None = None  # a model to choose once the picker has it
        self.setWindowTitle("Folio")
        self.setAcceptDrops(True)
        self.resize(1180, 760)

        self.picker = ModelPicker(services)
        self.library = LibraryPane(services)
        self.chats = ChatList(services)
        self.chat = ChatPane(services, self.picker.choice)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.library)
        left.addWidget(self.chats)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.chat)
        self.splitter.setStretchFactor(1, 3)
        self.left_splitter = left
        self.setCentralWidget(self.splitter)

        toolbar = QToolBar("Model")
        toolbar.setObjectName("model-toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.picker)
        self.addToolBar(toolbar)
        self._menus()

        self.picker.changed.connect(self.chat.update_header)
        self.picker.refreshed.connect(self._on_picker_refreshed)
        self.chats.selected.connect(self.chat.show_chat)
        self.chats.deleted.connect(self._on_chat_deleted)
        # Whichever way a chat comes on screen (opened, new, a first question, a deletion),
        # the pane says so and the sidebar marks it.
        self.chat.shown.connect(self.chats.show_current)
        self.chat.answer_finished.connect(lambda _: self.chats.reload())  # answered: to the top
        self.chat.error.connect(self.show_error)
        self.chat.note.download_requested.connect(self.open_downloads)
        self.library.error.connect(self.show_error)
        self._restore_state()
        self.statusBar().showMessage(f"Data folder: {services.home}")
        self.picker.refresh()  # remote providers' models arrive in the background
        # Jobs started before a restart are followed again; a finished one shows in the picker.
        self.finetune_watcher = JobWatcher(services, finetune_poll_seconds, self)
        self.finetune_watcher.succeeded.connect(self._on_model_trained)
        self.finetune_watcher.failed.connect(
            lambda text: self.statusBar().showMessage(f"Fine-tuning jobs: {text}", 15_000)
        )
        self.finetune_watcher.start()

    def _menus(self) -> None:
        def action(
            menu: QMenu, text: str, slot: Callable[[], object], shortcut: str | None = None
        ) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        bar = self.menuBar()
        file = bar.addMenu("&File")
        action(file, "Add Folder…", self.choose_folder, "Ctrl+O")
        action(file, "Add Files…", self.choose_files)
        action(file, "Sync Now", self.library.sync)
        file.addSeparator()
        action(file, "Quit", self.close, "Ctrl+Q")
        chat = bar.addMenu("&Chat")
        action(chat, "New Chat", lambda: self.chat.show_chat(None), "Ctrl+N")
        action(chat, "Personas…", self.open_personas)
        action(chat, "Compare…", self.open_compare, "Ctrl+Shift+C")
        action(chat, "Evaluate…", self.open_evaluate, "Ctrl+Shift+E")
        action(chat, "Fine-tuning…", self.open_finetuning, "Ctrl+Shift+F")
        settings = bar.addMenu("&Settings")
        action(settings, "Settings…", self.open_settings, "Ctrl+,")
        action(settings, "Models and Providers…", self.open_providers, "Ctrl+Shift+M")
        help_menu = bar.addMenu("&Help")
        action(help_menu, "About Folio", lambda: show_about(self))

    # -- adding documents -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.library.add_paths(paths)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.library.add_paths([Path(folder)])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add files to the library")
        if files:
            self.library.add_paths([Path(f) for f in files])

    # -- dialogs and errors -----------------------------------------------------------------

    def open_personas(self) -> None:
        PersonaDialog(self.services, self).exec()
        self.picker.reload()

    def open_providers(self) -> ProvidersDialog:
        """One modeless dialog, so downloads go on (and can be watched) while chatting."""
        if self.providers_dialog is None:
            dialog = ProvidersDialog(self.services, self)
            dialog.providers_changed.connect(self.picker.refresh)
            dialog.local_models_changed.connect(self.picker.reload)
            dialog.embedding_switch_running.connect(
                lambda running: self.library.hold(SWITCH_HOLD if running else None)
            )
            self.providers_dialog = dialog
        self.providers_dialog.reload()
        self.providers_dialog.show()
        self.providers_dialog.raise_()
        self.providers_dialog.activateWindow()
        return self.providers_dialog

    def open_downloads(self) -> ProvidersDialog:
        """Models and Providers, on its Downloads tab."""
        dialog = self.open_providers()
        dialog.tabs.setCurrentWidget(dialog.downloads)
        return dialog

    def open_finetuning(self) -> FinetuneStudio | None:
        """One modeless studio, polling with the window's watcher; None when it cannot open
        (its data cannot be read: said in an error box)."""
        if self.finetune_studio is None:
            studio = self._built(
                ("finetune_jobs",),
                lambda: FinetuneStudio(
                    self.services, self, watcher=self.finetune_watcher, models=self.picker.model_ids
                ),
            )
            if studio is None:
                return None
            studio.use_model.connect(self.use_model)
            self.finetune_studio = studio
        else:
            self.finetune_studio.reload()
        return _raised(self.finetune_studio)

    def open_compare(self) -> CompareWindow | None:
        """One Compare window: a question across base, persona and fine-tuned models with
        retrieval on and off; None when it cannot open (said in an error box)."""
        if self.compare_window is None:
            # The grid lists fine-tuned models, from the fine-tuning jobs' database.
            self.compare_window = self._built(
                ("finetune_jobs",),
                lambda: CompareWindow(self.services, self, models=self.picker.model_ids),
            )
            if self.compare_window is None:
                return None
        else:
            self.compare_window.reload()
        return _raised(self.compare_window)

    def open_evaluate(self) -> EvaluateWindow | None:
        """One Evaluate window: evaluation sets from the library, runs over configurations,
        reports; None when it cannot open (its data cannot be read: said in an error box)."""
        if self.evaluate_window is None:
            self.evaluate_window = self._built(
                ("evals", "finetune_jobs"),
                lambda: EvaluateWindow(self.services, self, models=self.picker.model_ids),
            )
            if self.evaluate_window is None:
                return None
        else:
            self.evaluate_window.reload()
        return _raised(self.evaluate_window)

    def _built(self, databases: tuple[str, ...], build: Callable[[], _W]) -> _W | None:
        """``build()``, once the data folder's ``databases`` (``Services`` attributes) it
        reads are open: one that cannot be used is said in a box before any widget exists,
        leaving no half-built window for Qt to delete. None when it cannot be built."""
        try:
            for name in databases:
                getattr(self.services, name)
            return build()
        except (FolioError, sqlite3.Error, OSError) as exc:
            self.show_failure(exc)
            return None

    def use_model(self, model_id: str) -> bool:
        """Choose ``model_id`` in the picker, now or once its provider has listed it."""
        self.picker.reload()
        if self.picker.select(model_id, None):
            self._select_when_listed = None
            return True
        self._select_when_listed = model_id
        self.picker.refresh()
        return False

    def _on_picker_refreshed(self) -> None:
        if self._select_when_listed is not None:
            model_id, self._select_when_listed = self._select_when_listed, None
            if not self.picker.select(model_id, None):
                self.statusBar().showMessage(f"{model_id} is not listed by its provider.", 15_000)

    def _on_model_trained(self, job: FineTuneJob) -> None:
        self.statusBar().showMessage(
            f"Fine-tuning done: {job.fine_tuned_model} is in the model list.", 30_000
        )
        self.picker.refresh()

    def _on_chat_deleted(self, chat_id: str) -> None:
        # Only the deleted chat's own view is closed; any other open chat stays open.
        if self.chat.chat_id == chat_id:
            self.chat.show_chat(None)

    def open_settings(self) -> None:
        if SettingsDialog(self.services, self).exec():
            self.picker.reload()

    def excepthook(
        self, kind: type[BaseException], exc: BaseException, trace: TracebackType | None
    ) -> None:
        """``sys.excepthook`` while the window runs: PySide6 hands it what a slot raises,
        which would otherwise be printed to a terminal nobody reads; shown with
        ``show_failure``. Ctrl+C and exits keep Python's own handling."""
        if isinstance(exc, Exception):
            self.show_failure(exc)
        else:
            sys.__excepthook__(kind, exc, trace)

    def show_failure(self, exc: BaseException) -> None:
        """``exc``, raised where nothing expected it, logged and said in an error box
        (``failure_text``): a slot that fails must never fail silently."""
        log.error("Unexpected error in the window", exc_info=exc)
        self.show_error(failure_text(exc, self.services.home))

    def show_error(self, message: str) -> None:
        """A core error as a readable message; the details are in the log file."""
        self.statusBar().showMessage(message, 15_000)
        box = plain_box(QMessageBox(QMessageBox.Icon.Warning, "Folio", message, parent=self))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal without a nested event loop: background work goes on
        self.last_error = box

    # -- state ------------------------------------------------------------------------------

    def _state(self) -> QSettings:
        return window_state(self.services.home)

    def _restore_state(self) -> None:
        state = self._state()
        if state.value("geometry"):
            self.restoreGeometry(state.value("geometry"))
        for key, splitter in (("splitter", self.splitter), ("left", self.left_splitter)):
            if state.value(key):
                splitter.restoreState(state.value(key))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the layout, stop background work at a safe point, then close.

        Unsaved dataset and evaluation question edits are asked about first; staying cancels
        the close.
        """
        if self.finetune_studio is not None and not self.finetune_studio.editor.maybe_save():
            event.ignore()
            return
        if self.evaluate_window is not None and not self.evaluate_window.editor.maybe_save():
            event.ignore()
            return
        state = self._state()
        state.setValue("geometry", self.saveGeometry())
        state.setValue("splitter", self.splitter.saveState())
        state.setValue("left", self.left_splitter.saveState())
        state.sync()
        self.library.cancel()
        self.chat.stop()
        if self.providers_dialog is not None:
            self.providers_dialog.cancel_downloads()  # they resume at the next download
        if self.finetune_studio is not None:
            self.finetune_studio.shutdown()  # a generation keeps the pairs written so far
        if self.evaluate_window is not None:
            self.evaluate_window.shutdown()  # a build and a run keep what they made
        self.finetune_watcher.stop()  # jobs go on at the provider; polling resumes at start
        wait_for_jobs()
        event.accept()
        self.closed.emit()
