"""Models and Providers: the OpenAI key, the user's servers, model downloads and local GGUFs.

The window's counterpart of ``folio-cli models``: it changes the same settings through
``Services.change_settings`` and keeps keys only in the system keyring (``Services.secrets``).
Listing a server's models, downloading and switching the library's embedding model run as
background ``Job``s.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import FolioError
from desktop.core.library.reembed import ReembedReport, pending_switch
from desktop.core.models.downloads import CATALOG, CatalogEntry, catalog_rows, download
from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID, OPENAI_EMBEDDING_MODELS
from desktop.core.models.ids import OPENAI, OPENAI_URL
from desktop.core.models.local_files import ModelInfo
from desktop.core.models.providers import provider, remote_models
from desktop.core.secrets import OPENAI_KEY_ENV
from desktop.core.settings import updated
from desktop.core.tasks import Progress, eta_phrase
from desktop.services import Services
from desktop.ui.messages import message_label, say
from desktop.ui.providers.storage import StorageTab
from desktop.ui.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QObject,
    QProgressBar,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

_ROLE = Qt.ItemDataRole.UserRole
_GGUF_MAGIC = b"GGUF"


def _change(services: Services, label: QLabel, **changes: object) -> bool:
    """Validate and save ``changes``; on failure say why in ``label`` and change nothing."""
    try:
        services.change_settings(updated(services.settings, **changes))
    except (FolioError, OSError) as exc:
        say(label, str(exc), error=True)
        return False
    return True


def _models_summary(label: str, models: list[ModelInfo]) -> str:
    names = ", ".join(m.id.split(":", 1)[1] for m in models[:5])
    more = f", … ({len(models) - 5} more)" if len(models) > 5 else ""
    count = f"{len(models)} model{'' if len(models) == 1 else 's'}"
    return f"{label} answers: {count}" + (f" ({names}{more})." if models else ".")


class _ProviderTab(QWidget):
    """A tab with a Test button that lists a provider's models in the background."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.test_button = QPushButton("Test")
        self.test_result = message_label()
        self.test_result.setAccessibleName("Test result")

    def test_provider(self, name: str) -> Job:
        """The model count, or the one-line reason it cannot be listed, in ``test_result``."""
        settings, secrets = self.services.settings, self.services.secrets

        def work(_job: Job) -> str:
            p = provider(name, settings)
            return _models_summary(p.label, remote_models(p, secrets))

        # Slots are this tab's methods, so a closed dialog simply drops a late answer.
        job = Job(work)
        job.succeeded.connect(self._on_tested)
        job.failed.connect(self._on_test_failed)
        self.test_button.setEnabled(False)
        say(self.test_result, f"Asking {name} for its models…")
        return job.start()

    def _on_tested(self, text: str) -> None:
        say(self.test_result, text)
        self.test_button.setEnabled(True)

    def _on_test_failed(self, text: str) -> None:
        say(self.test_result, text, error=True)
        self.test_button.setEnabled(True)


class OpenAITab(_ProviderTab):
    """The OpenAI API key: saved to or forgotten from the keyring; where the key comes from."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        secrets = services.secrets
        self.status = message_label()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("sk-…  (from platform.openai.com → API keys)")
        self.key.setAccessibleName("OpenAI API key")
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.forget_button = QPushButton("Forget")
        self.forget_button.clicked.connect(self.forget)
        self.test_button.clicked.connect(self.test)
        self.message = message_label()
        if not secrets.available:
            # Never somewhere else: without a keyring the key can only come from the environment.
            say(self.message, secrets.unavailable_reason(OPENAI_KEY_ENV), error=True)
            for widget in (self.key, self.save_button, self.forget_button):
                widget.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.key, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.forget_button)
        row.addWidget(self.test_button)
        form = QFormLayout()
        form.addRow("API key", row)
        form.addRow("", self.status)
        form.addRow("", self.message)
        form.addRow("", self.test_result)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_status()

    def show_status(self) -> None:
        """Say where the key comes from (keyring, environment, nowhere) and where it goes."""
        secrets = self.services.secrets
        if secrets.stored(OPENAI):
            text = "A key is stored in the system keyring."
        elif os.environ.get(OPENAI_KEY_ENV):
            text = f"Using the key from the {OPENAI_KEY_ENV} environment variable."
        else:
            text = f"No key yet: add one to list OpenAI's models, or set {OPENAI_KEY_ENV}."
        base_url = provider(OPENAI, self.services.settings).base_url
        if base_url != OPENAI_URL:
            text += f" Requests go to {base_url} (OPENAI_BASE_URL)."
        self.status.setText(text)
        self.forget_button.setEnabled(secrets.stored(OPENAI))

    def save(self) -> bool:
        try:
            self.services.secrets.set(OPENAI, self.key.text(), OPENAI_KEY_ENV)
        except FolioError as exc:
            say(self.message, str(exc), error=True)
            return False
        self.key.clear()
        say(self.message, "Saved the key in the system keyring.")
        self.show_status()
        self.changed.emit()
        return True

    def forget(self) -> None:
        self.services.secrets.forget(OPENAI)
        say(self.message, "Forgot the stored key.")
        self.show_status()
        self.changed.emit()

    def test(self) -> Job:
        return self.test_provider(OPENAI)


class ServersTab(_ProviderTab):
    """OpenAI-compatible servers (Ollama, LM Studio, vLLM, llama.cpp): add, test, remove."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.list = QListWidget()
        self.list.setAccessibleName("Servers")
        self.test_button.clicked.connect(self.test)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. ollama; its models are ollama:<model>")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("e.g. http://localhost:11434/v1")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional; kept in the system keyring")
        self.key_env = QLineEdit()
        self.key_env.setPlaceholderText("optional: environment variable holding the key")
        if not services.secrets.available:
            self.key.setEnabled(False)
            self.key.setToolTip(services.secrets.unavailable_reason("the key variable"))
            self.key.setPlaceholderText("no system keyring here: use an environment variable")
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add)
        self.message = message_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("API key", self.key)
        form.addRow("Key variable", self.key_env)
        form.addRow("", self.add_button)
        form.addRow("", self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.test_result)
        layout.addWidget(QLabel("<b>Add a server</b>"))
        layout.addLayout(form)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self.list.clear()
        secrets = self.services.secrets
        for name, server in sorted(self.services.settings.servers.items()):
            if secrets.stored(name):
                key = "key in the keyring"
            elif server.api_key_env:
                key = f"key from ${server.api_key_env}"
            else:
                key = "no key"
            item = QListWidgetItem(f"{name} — {server.base_url}  ({key})")
            item.setData(_ROLE, name)
            self.list.addItem(item)
            if name == select:
                self.list.setCurrentItem(item)
        self._enable()

    def _enable(self) -> None:
        chosen = self.selected() is not None
        self.remove_button.setEnabled(chosen)
        self.test_button.setEnabled(chosen)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(_ROLE) if item is not None else None

    def add(self) -> bool:
        """Add the server in the fields; its key goes to the keyring, never to settings."""
        settings = self.services.settings
        name = self.name.text().strip()
        if name in settings.servers:
            say(self.message, f"A server called {name} exists: remove it first.", error=True)
            return False
        env = self.key_env.text().strip() or None
        server = {"base_url": self.base_url.text().strip(), "api_key_env": env}
        try:
            new = updated(settings, servers={**settings.servers, name: server})
            key = self.key.text().strip()
            if key:
                self.services.secrets.set(name, key, env or f"the key variable of {name}")
            self.services.change_settings(new)
        except (FolioError, OSError) as exc:
            say(self.message, str(exc), error=True)
            return False
        for field in (self.name, self.base_url, self.key, self.key_env):
            field.clear()
        say(self.message, f"Added {name}: its models are listed as {name}:<model>.")
        self.reload(select=name)
        self.changed.emit()
        return True

    def remove(self) -> bool:
        """Remove the chosen server, its stored key and the permission to send it documents."""
        name = self.selected()
        if name is None:
            return False
        settings = self.services.settings
        servers = {k: v for k, v in settings.servers.items() if k != name}
        consent = [p for p in settings.remote_consent if p != name]
        if not _change(self.services, self.message, servers=servers, remote_consent=consent):
            return False
        self.services.secrets.forget(name)
        say(self.message, f"Removed {name}, its key and its permission to receive documents.")
        say(self.test_result, "")
        self.reload()
        self.changed.emit()
        return True

    def test(self) -> Job | None:
        name = self.selected()
        return self.test_provider(name) if name is not None else None


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
        if _change(self.services, self.message, local_models=local):
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


class LocalFilesTab(QWidget):
    """GGUF files the user already has: add one from disk under a name, or remove it."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QListWidget()
        self.list.setAccessibleName("Local models")
        add = QPushButton("Add GGUF file…")
        add.clicked.connect(self.choose)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        self.message = message_label()
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Models on this computer, used as local:<name>."))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.list.currentItemChanged.connect(
            lambda *_: self.remove_button.setEnabled(self.list.currentItem() is not None)
        )
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for name, file in sorted(self.services.settings.local_models.items()):
            missing = "" if Path(file).expanduser().is_file() else "  (file missing)"
            item = QListWidgetItem(f"local:{name} — {file}{missing}")
            item.setData(_ROLE, name)
            self.list.addItem(item)
        self.remove_button.setEnabled(self.list.currentItem() is not None)

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model file", "", "GGUF models (*.gguf);;All files (*)"
        )
        if not path:
            return
        default = Path(path).stem.lower().replace(":", "-")
        name, ok = QInputDialog.getText(self, "Name the model", "Use it as local:", text=default)
        if ok:
            self.add(Path(path), name.strip())

    def add(self, path: Path, name: str) -> bool:
        """Offer ``path`` as ``local:<name>``; a file that is not a GGUF model is refused."""
        local = self.services.settings.local_models
        if name in local:
            say(self.message, f"local:{name} exists: choose another name.", error=True)
            return False
        try:
            with path.open("rb") as file:
                magic = file.read(len(_GGUF_MAGIC))
        except OSError as exc:
            say(self.message, f"Cannot read {path}: {exc.strerror}.", error=True)
            return False
        if magic != _GGUF_MAGIC:
            say(self.message, f"{path.name} is not a GGUF model file.", error=True)
            return False
        if not _change(self.services, self.message, local_models={**local, name: str(path)}):
            return False
        say(self.message, f"Added local:{name}.")
        self.reload()
        self.changed.emit()
        return True

    def remove(self) -> bool:
        item = self.list.currentItem()
        if item is None:
            return False
        name = item.data(_ROLE)
        local = {k: v for k, v in self.services.settings.local_models.items() if k != name}
        if not _change(self.services, self.message, local_models=local):
            return False
        say(self.message, f"Removed local:{name}; the file itself is left where it is.")
        self.reload()
        self.changed.emit()
        return True


EMBEDDING_CHOICES = (LOCAL_EMBEDDING_ID, *(f"openai:{name}" for name in OPENAI_EMBEDDING_MODELS))


class EmbeddingsTab(QWidget):
    """The library's embedding model: switch it, watch the switch, stop it and resume it.

    The window's counterpart of ``folio-cli reembed``. The whole switch runs as one ``Job``;
    search and chat go on with the current model until its last step swaps in the new one.
    That last step must not overlap an ingest, so a switch is refused while ``is_busy()``
    (the library pane is indexing), and ``running`` tells the window to hold indexing back
    until the switch ends.
    """

    changed = Signal()  # the library's embedding model changed
    running = Signal(bool)  # a switch started (True) or ended (False)

    def __init__(
        self,
        services: Services,
        is_busy: Callable[[], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.is_busy = is_busy or (lambda: False)
        self.job: Job | None = None
        self.consent_box: QMessageBox | None = None
        self.current = QLabel()
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pending = QLabel()
        self.pending.setWordWrap(True)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume)
        self.choice = QComboBox()
        self.choice.setEditable(True)
        self.choice.addItems(EMBEDDING_CHOICES)
        self.choice.setAccessibleName("Embedding model")
        self.choice.setToolTip(
            "Choose a model, or type <server>:<model> for a server added in the Servers tab."
        )
        self.switch_button = QPushButton("Switch")
        self.switch_button.clicked.connect(self.switch)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = message_label()
        self.message.setAccessibleName("Embeddings message")
        pending_row = QHBoxLayout()
        pending_row.addWidget(self.pending, 1)
        pending_row.addWidget(self.resume_button)
        choice_row = QHBoxLayout()
        choice_row.addWidget(self.choice, 1)
        choice_row.addWidget(self.switch_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.bar, 1)
        progress_row.addWidget(self.cancel_button)
        form = QFormLayout()
        form.addRow("Library uses", self.current)
        form.addRow("", pending_row)
        form.addRow("Switch to", choice_row)
        form.addRow("", progress_row)
        form.addRow("", self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Every chunk is embedded again with the new model; search goes on with the "
                "current one until the switch is done. A stopped switch resumes where it "
                "stopped. A remote model receives the text of every document."
            )
        )
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_state()

    @property
    def busy(self) -> bool:
        return self.job is not None or self.consent_box is not None

    def show_state(self) -> None:
        """The library's model, a switch left unfinished, and which buttons apply now."""
        running = self.job is not None
        try:
            self.current.setText(self.services.embed_model_name)
            switch = pending_switch(self.services.library)
        except (FolioError, OSError) as exc:
            say(self.message, str(exc), error=True)
            switch = None
        if switch is not None and not running:
            self.pending.setText(
                f"Switching to {switch.model} is unfinished: {switch.done} of {switch.total} "
                "chunks re-embedded."
            )
        self.pending.setVisible(switch is not None and not running)
        self.resume_button.setVisible(switch is not None and not running)
        self.resume_button.setEnabled(not self.busy)
        self.switch_button.setEnabled(not self.busy)
        self.choice.setEnabled(not self.busy)
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def resume(self) -> bool:
        switch = pending_switch(self.services.library)
        if switch is None:
            self.show_state()
            return False
        self.choice.setCurrentText(switch.model)
        return self.switch()

    def switch(self) -> bool:
        """Switch to the chosen model, asking first to send documents to a remote one.

        Refused while the library pane indexes. An ingest started during the switch is not
        held back (the pane is not told); the re-embedding catches up with what it added,
        but its final swap may then overlap that ingest.
        """
        model_id = self.choice.currentText().strip()
        if self.busy:
            return False
        if ":" not in model_id:
            say(self.message, "Choose a model, or type <server>:<model>.", error=True)
            return False
        if self.is_busy():
            say(self.message, "The library is indexing: switch when it is done.", error=True)
            return False
        name = self.services.needs_consent(model_id)
        if name is not None:
            self.ask_consent(model_id, name)
            return True
        self.start(model_id)
        return True

    def ask_consent(self, model_id: str, name: str) -> QMessageBox:
        """Ask whether ``name`` may receive every document's text; Allow starts the switch."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Send your documents to a remote model?",
            f"Switching to {model_id} sends the text of every document in the library to {name}.",
            parent=self,
        )
        box.setInformativeText(
            f"Every chunk is embedded again by {name}, and so are documents added later and "
            f"your searches; they leave this computer. To keep your documents here, Cancel "
            f"and choose {LOCAL_EMBEDDING_ID}."
        )
        allow = box.addButton("Allow", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _: self._on_consent(box.clickedButton() is allow, model_id))
        self.consent_box = box
        self.show_state()
        box.open()
        return box

    def _on_consent(self, allowed: bool, model_id: str) -> None:
        self.consent_box = None
        name = self.services.needs_consent(model_id)
        if not allowed:
            say(self.message, f"Nothing was sent to {name}.")
        elif self.is_busy():
            say(self.message, "The library is indexing: switch when it is done.", error=True)
        else:
            try:
                if name is not None:
                    self.services.allow_remote(name)
            except (FolioError, OSError) as exc:
                say(self.message, f"Could not save the permission for {name}: {exc}", error=True)
            else:
                self.start(model_id)
                return
        self.show_state()

    def start(self, model_id: str) -> Job:
        """Run the switch in the background; consent, if needed, was given."""
        services = self.services

        def work(job: Job) -> ReembedReport:
            return services.switch_embedding_model(model_id, job.report, job.cancel)

        job = Job(work)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(lambda: say(self.message, "Cancelled."))
        job.finished.connect(self._on_finished)
        self.job = job
        self.bar.setRange(0, 0)  # busy until the first count: loading the model comes first
        self.bar.setFormat("")
        say(self.message, f"Preparing {model_id}…")
        self.show_state()
        self.running.emit(True)
        return job.start()

    def cancel(self) -> None:
        """Stop after the current batch; what was re-embedded is kept for Resume."""
        if self.job is not None:
            self.job.cancel.cancel()
            self.cancel_button.setEnabled(False)
            say(self.message, "Stopping after the current batch…")

    def _on_progress(self, p: Progress) -> None:
        self.bar.setRange(0, max(p.chunks_total, 1))
        self.bar.setValue(p.chunks_done)
        self.bar.setFormat(f"{p.chunks_done}/{p.chunks_total} chunks")
        if self.cancel_button.isEnabled():
            say(self.message, f"Re-embedding the library{eta_phrase(p.eta_seconds)}…")

    def _on_done(self, r: ReembedReport) -> None:
        if r.cancelled:
            say(self.message, f"Stopped; Resume goes on with {r.model} from there.")
        elif r.swapped:
            say(
                self.message,
                f"The library now uses {r.model}: search uses the new model from now on "
                f"({r.chunks} chunks, in {r.seconds:.1f}s).",
            )
            self.changed.emit()
        else:
            say(self.message, f"The library already uses {r.model} ({r.chunks} chunks).")

    def _on_failed(self, message: str) -> None:
        say(self.message, " ".join(message.split()), error=True)  # one line

    def _on_finished(self) -> None:
        self.job = None
        self.show_state()
        self.running.emit(False)


def _library_busy(parent: QWidget | None) -> Callable[[], bool]:
    """Whether the window's library pane (``parent.library``, if any) is running a job."""
    return lambda: bool(getattr(getattr(parent, "library", None), "busy", False))


class ProvidersDialog(QDialog):
    """Settings → Models and Providers. Modeless, so downloads go on while the person chats."""

    providers_changed = Signal()  # keys or servers changed: remote lists must be asked again
    local_models_changed = Signal()  # a GGUF was downloaded, added or removed
    embedding_model_changed = Signal()  # the library now uses another embedding model
    embedding_switch_running = Signal(bool)  # hold indexing back while True
    store_moved = Signal()  # the library's vectors now live in another store

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        is_busy: Callable[[], bool] | None = None,
    ) -> None:
        """``is_busy`` says whether the library is indexing; by default, the window's pane."""
        super().__init__(parent)
        self.setWindowTitle("Models and Providers")
        self.resize(1060, 560)
        self.openai = OpenAITab(services)
        self.servers = ServersTab(services)
        self.downloads = DownloadsTab(services)
        self.local = LocalFilesTab(services)
        self.embeddings = EmbeddingsTab(services, is_busy or _library_busy(parent))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.openai, "OpenAI")
        self.tabs.addTab(self.servers, "Servers")
        self.tabs.addTab(self.downloads, "Downloads")
        self.tabs.addTab(self.local, "Local files")
        self.tabs.addTab(self.embeddings, "Embeddings")
        self.storage = StorageTab(services)
        self.tabs.addTab(self.storage, "Storage")
        self.storage.moved.connect(self.store_moved)
        self.embeddings.changed.connect(self.embedding_model_changed)
        self.embeddings.running.connect(self.embedding_switch_running)
        self.openai.changed.connect(self.providers_changed)
        self.servers.changed.connect(self.providers_changed)
        for tab in (self.downloads, self.local):
            tab.changed.connect(self.local_models_changed)
        self.downloads.changed.connect(self.local.reload)
        self.local.changed.connect(self.downloads.reload)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(close)

    def reload(self) -> None:
        """Show the settings as they are now: the Settings dialog or the CLI may have changed."""
        self.openai.show_status()
        self.servers.reload(select=self.servers.selected())
        self.downloads.reload()
        self.local.reload()
        self.embeddings.show_state()
        self.storage.show_state()

    def cancel_downloads(self) -> None:
        """Stop every download at its next block, and an embedding switch at its next batch.

        Each resumes when started again.
        """
        self.downloads.cancel_all()
        self.embeddings.cancel()
        self.storage.cancel()
