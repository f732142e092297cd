"""Dialogs: personas, settings, about, the one confirmation asked before deleting, and the one
consent asked before document text goes to a remote provider."""

from __future__ import annotations

from collections.abc import Callable

from desktop import __version__
from desktop.core.chat.personas import Persona
from desktop.core.errors import FolioError
from desktop.core.settings import save_settings, updated
from desktop.services import Services
from desktop.ui.qt import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)


def confirm_deletion(parent: QWidget | None, question: str, consequence: str) -> bool:
    """Ask ``question`` (e.g. 'Delete the chat "Leave"?') with ``consequence`` beneath; True to go.

    Used before deleting a chat, a persona or a library folder. Each of these is deleted at
    once and for good in the stores (its rows, or a folder's vectors), so one confirmation,
    the same for all three, is asked first rather than an undo that would need every store
    to keep deleted things around. Cancel is the default button, so Enter keeps everything.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete")
    box.setText(question)
    box.setInformativeText(consequence)
    delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is delete


def ask(
    parent: QWidget,
    title: str,
    text: str,
    details: str,
    accept: str,
    on_answer: Callable[[bool], None],
) -> QMessageBox:
    """Ask one question with an ``accept`` button and Cancel; ``on_answer(True)`` on accept.

    Window-modal but opened without a nested event loop, like error messages, so the window
    keeps painting and its jobs keep reporting while the person reads. Cancel is the
    default button: Enter does nothing that costs (uploads, downloads, hours of training).
    The box deletes itself once answered.
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setInformativeText(details)
    chosen = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _: on_answer(box.clickedButton() is chosen))
    box.open()
    return box


def ask_consent(
    parent: QWidget, title: str, text: str, details: str, on_answer: Callable[[bool], None]
) -> QMessageBox:
    """Ask whether document text may go to a remote provider; ``on_answer(True)`` on Allow."""
    return ask(parent, title, text, details, "Allow", on_answer)


class PersonaDialog(QDialog):
    """Create, edit and delete personas."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Personas")
        self.resize(640, 400)
        self.personas = services.chats.personas
        self._editing: str | None = None  # the persona being edited; None for a new one
        self.list = QListWidget()
        self.name = QLineEdit()
        self.prompt = QPlainTextEdit()
        self.use_temperature = QCheckBox("Own temperature")
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, value=0.7)
        self.use_temperature.toggled.connect(self.temperature.setEnabled)
        self.temperature.setEnabled(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        new, save, delete = QPushButton("New"), QPushButton("Save"), QPushButton("Delete")
        new.clicked.connect(self.new)
        save.clicked.connect(self.save)
        delete.clicked.connect(self.delete)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("System prompt", self.prompt)
        temperature = QHBoxLayout()
        temperature.addWidget(self.use_temperature)
        temperature.addWidget(self.temperature)
        form.addRow("", temperature)
        buttons = QHBoxLayout()
        for button in (new, save, delete):
            buttons.addWidget(button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.message)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.accept)
        right.addWidget(close)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(right, 2)
        self.list.currentTextChanged.connect(self._show)
        self._reload()

    def _reload(self, select: str | None = None) -> None:
        self.list.clear()
        names = [p.name for p in self.personas.all()]
        self.list.addItems(names)
        if names:
            self.list.setCurrentRow(names.index(select) if select in names else 0)

    def _show(self, name: str) -> None:
        if not name:
            return
        persona = self.personas.get(name)
        self._editing = persona.name
        self.name.setText(persona.name)
        self.prompt.setPlainText(persona.prompt)
        self.use_temperature.setChecked(persona.temperature is not None)
        if persona.temperature is not None:
            self.temperature.setValue(persona.temperature)

    def new(self) -> None:
        self._editing = None
        self.list.clearSelection()
        self.name.clear()
        self.prompt.clear()
        self.use_temperature.setChecked(False)
        self.name.setFocus()

    def save(self) -> None:
        temperature = self.temperature.value() if self.use_temperature.isChecked() else None
        persona = Persona(self.name.text().strip(), self.prompt.toPlainText().strip(), temperature)
        try:
            if self._editing is None:
                self.personas.save(persona)
            else:
                self.personas.update(self._editing, persona)
        except FolioError as exc:
            # The form keeps what the person typed, so they can change the name and save again.
            self.message.setText(str(exc))
            return
        self.message.setText(f"Saved {persona.name}.")
        self._reload(persona.name)

    def delete(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        if not confirm_deletion(
            self,
            f'Delete the persona "{item.text()}"?',
            "Its system prompt is lost. Chats that used it keep their answers.",
        ):
            return
        self.personas.remove(item.text())
        self.message.setText(f"Deleted {item.text()}.")
        self._reload()


class SettingsDialog(QDialog):
    """The settings a person can change; invalid values are explained and not saved."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.services = services
        s = services.settings
        self.chunk_size = QSpinBox(minimum=1, maximum=100_000, value=s.chunk_size)
        self.top_k = QSpinBox(minimum=0, maximum=1000, value=s.top_k)
        self.max_file_mb = QDoubleSpinBox(minimum=0, maximum=100_000, value=s.max_file_mb)
        self.ignore = QPlainTextEdit("\n".join(s.ignore_patterns))
        self.ignore.setPlaceholderText("One gitignore pattern a line, e.g. *.log or drafts/")
        self.model_path = QLineEdit(s.local_models.get("custom", ""))
        self.model_path.setPlaceholderText("Any GGUF file; available as local:custom")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.threads = QSpinBox(minimum=0, maximum=1024, value=s.threads)
        self.ocr = QCheckBox("Read scanned pages and images (OCR)")
        self.ocr.setChecked(s.ocr)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: palette(highlight)")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Data folder", QLabel(str(services.home)))
        form.addRow("Chunk size (tokens)", self.chunk_size)
        form.addRow("Sources per answer (top-k)", self.top_k)
        form.addRow("Skip files larger than (MB)", self.max_file_mb)
        form.addRow("Ignore patterns", self.ignore)
        form.addRow("Local model file", model_row)
        form.addRow("CPU threads", self.threads)
        form.addRow("", self.ocr)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        note = QLabel(
            "Chunk size and overlap apply from the next start, to files indexed after it "
            "(files already indexed keep their chunks until they change). CPU threads apply "
            "to OCR at once and to a model the next time it loads."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF (*.gguf)")
        if path:
            self.model_path.setText(path)

    def save(self) -> bool:
        """Validate and save; on invalid input say which field and keep the dialog open."""
        models = dict(self.services.settings.local_models)
        if self.model_path.text().strip():
            models["custom"] = self.model_path.text().strip()
        else:
            models.pop("custom", None)
        try:
            settings = updated(
                self.services.settings,
                chunk_size=self.chunk_size.value(),
                top_k=self.top_k.value(),
                max_file_mb=self.max_file_mb.value(),
                ignore_patterns=[
                    line.strip() for line in self.ignore.toPlainText().splitlines() if line.strip()
                ],
                local_models=models,
                threads=self.threads.value(),
                ocr=self.ocr.isChecked(),
            )
        except FolioError as exc:
            self.error.setText(str(exc))
            return False
        save_settings(self.services.home, settings)
        self.services.apply_settings(settings)
        self.accept()
        return True


def show_about(parent: QWidget) -> None:
    """Folio's version and what it is for."""
    QMessageBox.about(
        parent,
        "About Folio",
        f"<h3>Folio {__version__}</h3><p>Chat with your own documents, offline.</p>",
    )
