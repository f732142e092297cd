"""What the studio's two Train tabs share (OpenAI's and this computer's): the dataset and
the persona its model learns, Start… running each step of starting in the background, one
question before anything costs, and the message line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.core.errors import FolioError
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QComboBox,
    QFormLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

FORM_WIDTH = 760  # pixels: the form's fields stay readable in a wide window


class TrainForm(QWidget):
    """The shared part of a Train tab; a tab adds its own fields and ``start``.

    ``failure_hint`` follows a failed step's message (e.g. where else to train).
    """

    started = Signal(object)  # FineTuneJob
    failure_hint = ""

    def __init__(
        self, services: Services, message_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.job: Job | None = None  # a step of starting, in the background
        self.confirm_box: QMessageBox | None = None
        self.dataset = QComboBox()
        self.dataset.setAccessibleName("Dataset")
        self.dataset.currentIndexChanged.connect(lambda _: self._fill_persona(self.dataset_name()))
        self.persona = QComboBox()
        self.persona.setEditable(True)
        self.persona.setAccessibleName("Persona")
        self.persona.setToolTip(
            "The persona whose voice the model learns; shown with the model in the picker"
        )
        line = self.persona.lineEdit()
        assert line is not None  # editable
        line.setPlaceholderText("none (the dataset's persona, when it has one, is filled in)")
        self.start_button = QPushButton("Start…")
        self.start_button.clicked.connect(self.start)
        self.message = message_label()
        self.message.setAccessibleName(message_name)

    def lay_out(self, form: QFormLayout) -> None:
        """Put the tab's ``form`` in place: at the top, no wider than it reads well."""
        fields = QWidget()
        fields.setLayout(form)
        fields.setMaximumWidth(FORM_WIDTH)
        layout = QVBoxLayout(self)
        layout.addWidget(fields)
        layout.addStretch(1)

    def start(self) -> Job | None:
        """Begin starting a job (each tab's own); None when it cannot begin now."""
        raise NotImplementedError

    def can_start(self) -> bool:
        """Whether Start… may be pressed now."""
        return self.dataset.count() > 0 and self.job is None and self.confirm_box is None

    def reload_choices(self, select: str | None = None) -> None:
        """Datasets and personas as they are now; ``select`` a dataset (and its persona)."""
        chosen = select or self.dataset_name()
        self.dataset.blockSignals(True)
        self.dataset.clear()
        try:
            for info in self.services.datasets.all():
                # Shown set apart (``shown``); the entry's data is the name the store knows.
                self.dataset.addItem(line_shown(info.name), info.name)
            personas = [p.name for p in self.services.chats.personas.all()]
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            personas = []
        self.dataset.setCurrentIndex(max(self.dataset.findData(chosen), 0))
        self.dataset.blockSignals(False)
        chosen_persona = self.persona_name()
        self.persona.clear()
        self.persona.addItem("", "")
        for persona in personas:
            # Shown set apart (``shown``); the entry's data is the name the store knows.
            self.persona.addItem(line_shown(persona), persona)
        self._show_persona(chosen_persona)
        if select:
            self._fill_persona(self.dataset_name())
        self.start_button.setEnabled(self.can_start())

    def dataset_name(self) -> str:
        """The chosen dataset's name, as stored ("" when there is none)."""
        return str(self.dataset.currentData() or "")

    def persona_name(self) -> str:
        """The persona the model learns, as stored ("" for none): the name behind a listed
        entry's shown text, else the name as typed."""
        text = self.persona.currentText()
        index = self.persona.findText(text)
        if index >= 0:
            return str(self.persona.itemData(index) or "")
        return text.strip()

    def _show_persona(self, name: str) -> None:
        """Choose persona ``name``'s entry, or type ``name`` when it is not listed."""
        index = self.persona.findData(name)
        self.persona.setCurrentIndex(index)
        # Also when the entry was current already: the field may hold other typed text.
        self.persona.setCurrentText(self.persona.itemText(index) if index >= 0 else name)

    def _fill_persona(self, name: str) -> None:
        """The dataset's persona (its lineage), when it has one."""
        try:
            persona = self.services.datasets.get(name).persona if name else None
        except (FolioError, OSError):
            persona = None
        self._show_persona(persona or "")

    def _run(
        self, work: Callable[[Job], object], on_success: Callable[[Any], object], doing: str
    ) -> Job:
        """One step of starting (checking, measuring, uploading) in the background."""
        job = Job(work)
        job.succeeded.connect(on_success)
        job.failed.connect(
            lambda text: say(
                self.message, f"Not started: {text} {self.failure_hint}".rstrip(), error=True
            )
        )
        job.finished.connect(self._on_finished)
        self.job = job
        self.start_button.setEnabled(False)
        say(self.message, doing)
        return job.start()

    def _declined(self, said: str) -> None:
        """The question was answered Cancel."""
        self.confirm_box = None
        say(self.message, said)
        self.start_button.setEnabled(self.can_start())

    def _on_finished(self) -> None:
        self.job = None
        self.start_button.setEnabled(self.can_start())
