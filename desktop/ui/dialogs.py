"""Dialogs: personas, settings, about, the one confirmation asked before deleting, and the one
consent asked before document text goes to a remote provider."""

from __future__ import annotations

from collections.abc import Callable

from desktop import __version__
from desktop.core.chat.personas import Persona
from desktop.core.errors import FolioError
from desktop.core.models.local_files import gguf_problem, model_file_path
from desktop.core.settings import (
    InvalidSettings,
    SettingProblem,
    field_bounds,
    updated,
)
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, plain_box, say
from desktop.ui.persona_examples import ExampleTable
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
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.shown import line_shown, name_shown


def confirm_deletion(parent: QWidget | None, question: str, consequence: str) -> bool:
    """Ask ``question`` (e.g. 'Delete the chat "Leave"?') with ``consequence`` beneath; True to go.

    Used before deleting a chat, a persona, a library folder, a training dataset, an
    evaluation set or a server (with its stored key). Each of these is deleted at once and
    for good (its rows, a folder's vectors, a key in the keyring), so one confirmation, the
    same for all, is asked first rather than an undo that would need every store to keep
    deleted things around. Cancel is the default button, so Enter keeps everything.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete")
    box.setText(question)
    box.setInformativeText(consequence)
    plain_box(box)
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
    plain_box(box)
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


def remember_consent(services: Services, providers: list[str]) -> str | None:
    """Save that ``providers`` may receive document text (the person allowed it); None when
    saved, else what to tell the person ("Could not save the permission for …: why")."""
    for provider in providers:
        try:
            services.allow_remote(provider)
        except (FolioError, OSError) as exc:
            return f"Could not save the permission for {provider}: {error_text(exc)}"
    return None


class PersonaDialog(QDialog):
    """Create, edit and delete personas."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Personas")
        self.resize(760, 560)
        self.personas = services.chats.personas
        self._editing: str | None = None  # the persona being edited; None for a new one
        self.list = QListWidget()
        self.name = QLineEdit()
        self.prompt = QPlainTextEdit()
        self.prompt.setTabChangesFocus(True)  # Tab moves on, as in every other field
        self.use_temperature = QCheckBox("Own temperature")
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, value=0.7)
        self.use_temperature.toggled.connect(self.temperature.setEnabled)
        self.temperature.setEnabled(False)
        self.examples = ExampleTable()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # it names personas
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
        form.addRow("Example exchanges", self.examples)
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
        self.list.currentItemChanged.connect(lambda item, _previous: self._show(item))
        self._reload()

    def _reload(self, select: str | None = None) -> None:
        self.list.clear()
        names = [p.name for p in self.personas.all()]
        for name in names:
            # Shown set apart (``shown``), kept whole in the row's data.
            item = QListWidgetItem(line_shown(name))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        if names:
            self.list.setCurrentRow(names.index(select) if select in names else 0)

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        persona = self.personas.get(name)
        self._editing = persona.name
        self.name.setText(persona.name)
        self.prompt.setPlainText(persona.prompt)
        self.use_temperature.setChecked(persona.temperature is not None)
        if persona.temperature is not None:
            self.temperature.setValue(persona.temperature)
        self.examples.set_examples(persona.examples)

    def new(self) -> None:
        self._editing = None
        self.list.clearSelection()
        self.name.clear()
        self.prompt.clear()
        self.use_temperature.setChecked(False)
        self.examples.set_examples(())
        self.name.setFocus()

    def save(self) -> None:
        temperature = self.temperature.value() if self.use_temperature.isChecked() else None
        persona = Persona(
            self.name.text().strip(),
            self.prompt.toPlainText().strip(),
            temperature,
            self.examples.examples(),
        )
        try:
            if self._editing is None:
                self.personas.save(persona)
            else:
                self.personas.update(self._editing, persona)
        except FolioError as exc:
            # The form keeps what the person typed, so they can change the name and save again.
            self.message.setText(error_text(exc))
            return
        self.message.setText(f"Saved {line_shown(persona.name)}.")
        self._reload(persona.name)

    def delete(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        if not confirm_deletion(
            self,
            f'Delete the persona "{line_shown(name)}"?',
            "Its system prompt is lost. Chats that used it keep their answers.",
        ):
            return
        self.personas.remove(name)
        self.message.setText(f"Deleted {line_shown(name)}.")
        self._reload()


# Each setting the dialog shows, by its field in ``Settings``: the label beside it, which is
# also how a refusal names it.
SETTING_LABELS = {
    "chunk_size": "Chunk size (tokens)",
    "chunk_overlap": "Chunk overlap (tokens)",
    "top_k": "Sources per answer (top-k)",
    "max_file_mb": "Skip files larger than (MB)",
    "ignore_patterns": "Ignore patterns",
    "local_models": "Local model file",
    "threads": "CPU threads",
    "ocr": "Read scanned pages and images (OCR)",
}


def bound(spin: QSpinBox | QDoubleSpinBox, field: str) -> None:
    """Offer in ``spin`` exactly the values ``Settings`` accepts for ``field``, read from the
    field's own limits so the two cannot drift apart."""
    limits = field_bounds(field)
    step = 1 if isinstance(spin, QSpinBox) else 10 ** -spin.decimals()
    low, high = float(spin.minimum()), float(spin.maximum())
    if limits.minimum is not None:
        low = limits.minimum + (step if limits.above_minimum else 0)
    if limits.maximum is not None:
        high = limits.maximum - (step if limits.below_maximum else 0)
    if isinstance(spin, QSpinBox):
        spin.setRange(int(low), int(high))
    else:
        spin.setRange(low, high)


def typed_number_problem(spin: QSpinBox | QDoubleSpinBox, label: str) -> str | None:
    """Why the number shown in ``spin`` is not one it takes, naming it by its ``label``, or
    None when it is (and is then the value ``spin`` holds).

    A spin box lets a person type a number outside its range on the way to one inside it
    (a "1" on the way to "128" when the least is 32; a "0" where the least is 0.01) and
    keeps holding its last value meanwhile; only leaving the field puts that value back in
    sight. Saving then would store a number other than the one on screen.
    """
    if spin.hasAcceptableInput():
        spin.interpretText()  # a number in range typed but not yet taken (no tracking)
        return None
    typed = spin.cleanText().strip()
    shown = f'"{line_shown(typed)}" is not a value it takes' if typed else "it is empty"
    return f"{label}: {shown}: enter a number from {spin.minimum():g} to {spin.maximum():g}."


def refusal_text(problems: list[SettingProblem]) -> str:
    """Refused settings, each named by its label in the dialog ("Chunk size (tokens): must be
    at most 256.")."""
    return " ".join(
        f"{SETTING_LABELS.get(p.field, p.field)}: {p.rule.rstrip('.')}." for p in problems
    )


class SettingsDialog(QDialog):
    """The settings a person can change; invalid values are explained and not saved.

    Number fields offer only the values the settings accept; what can still be wrong (a
    model file that is not a GGUF model) is said by the field's label as soon as it is
    chosen or typed.
    """

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.services = services
        s = services.settings
        self.chunk_size = QSpinBox()
        self.chunk_overlap = QSpinBox()
        self.top_k = QSpinBox()
        self.max_file_mb = QDoubleSpinBox()
        self.threads = QSpinBox()
        self._numbers: dict[str, QSpinBox | QDoubleSpinBox] = {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "top_k": self.top_k,
            "max_file_mb": self.max_file_mb,
            "threads": self.threads,
        }
        for field, spin in self._numbers.items():
            bound(spin, field)
            spin.setValue(getattr(s, field))
        # The overlap is shared by neighbouring chunks, so it stays below the chunk size.
        self._overlap_limit = int(self.chunk_overlap.maximum())
        self.chunk_size.valueChanged.connect(self._limit_overlap)
        self._limit_overlap(self.chunk_size.value())
        self.chunk_overlap.setValue(s.chunk_overlap)
        self.ignore = QPlainTextEdit("\n".join(s.ignore_patterns))
        self.ignore.setPlaceholderText("One gitignore pattern a line, e.g. *.log or drafts/")
        self.ignore.setTabChangesFocus(True)
        self.model_path = QLineEdit(s.local_models.get("custom", ""))
        self.model_path.setPlaceholderText("Any GGUF file; available as local:custom")
        self.model_path.editingFinished.connect(self.check_model_path)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.ocr = QCheckBox(SETTING_LABELS["ocr"])
        self.ocr.setChecked(s.ocr)
        self.error = message_label()
        self.error.setAccessibleName("Settings message")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Data folder", QLabel(name_shown(str(services.home))))
        form.addRow(SETTING_LABELS["chunk_size"], self.chunk_size)
        form.addRow(SETTING_LABELS["chunk_overlap"], self.chunk_overlap)
        form.addRow(SETTING_LABELS["top_k"], self.top_k)
        form.addRow(SETTING_LABELS["max_file_mb"], self.max_file_mb)
        form.addRow(SETTING_LABELS["ignore_patterns"], self.ignore)
        form.addRow(SETTING_LABELS["local_models"], model_row)
        form.addRow(SETTING_LABELS["threads"], self.threads)
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

    def _limit_overlap(self, size: int) -> None:
        self.chunk_overlap.setMaximum(min(self._overlap_limit, size - 1))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF (*.gguf)")
        if path:
            self.model_path.setText(path)
            self.check_model_path()

    def check_model_path(self) -> bool:
        """Say what is wrong with the model file chosen or typed; True when it can be used
        (or none is given)."""
        typed = self.model_path.text().strip()
        problem = gguf_problem(model_file_path(typed)) if typed else None
        if problem is not None:
            say(self.error, f"{SETTING_LABELS['local_models']}: {problem}.", error=True)
            return False
        say(self.error, "")
        return True

    def save(self) -> bool:
        """Validate and save; on invalid input say which field and keep the dialog open."""
        for field, spin in self._numbers.items():
            problem = typed_number_problem(spin, SETTING_LABELS[field])
            if problem is not None:
                say(self.error, problem, error=True)
                spin.setFocus()
                return False
        if not self.check_model_path():
            return False
        models = dict(self.services.settings.local_models)
        if self.model_path.text().strip():
            # Absolute: a relative path would name another file once Folio starts elsewhere.
            models["custom"] = str(model_file_path(self.model_path.text().strip()))
        else:
            models.pop("custom", None)
        try:
            settings = updated(
                self.services.settings,
                chunk_size=self.chunk_size.value(),
                chunk_overlap=self.chunk_overlap.value(),
                top_k=self.top_k.value(),
                max_file_mb=self.max_file_mb.value(),
                ignore_patterns=[
                    line.strip() for line in self.ignore.toPlainText().splitlines() if line.strip()
                ],
                local_models=models,
                threads=self.threads.value(),
                ocr=self.ocr.isChecked(),
            )
            # A settings file that cannot be written is said here too; the form is kept.
            self.services.change_settings(settings)
        except InvalidSettings as exc:
            say(self.error, refusal_text(exc.problems), error=True)
            return False
        except FolioError as exc:
            say(self.error, error_text(exc), error=True)
            return False
        self.accept()
        return True


def show_about(parent: QWidget) -> None:
    """Folio's version and what it is for."""
    QMessageBox.about(
        parent,
        "About Folio",
        f"<h3>Folio {__version__}</h3><p>Chat with your own documents, offline.</p>",
    )
