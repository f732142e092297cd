"""The studio's Train locally tab: a LoRA adapter trained on this computer.

Start measures first: a trainer process loads the base, tokenizes the dataset and times its
two largest steps, and the person sees the tokens, the time it will take here and the peak
memory before choosing Train. Nothing leaves the computer. When the training packages are
missing, the tab says how to add them: ``pip install 'folio[train]'`` from a source install,
or, in the packaged app, its Install training support button (``training_support``).
"""

from __future__ import annotations

from typing import Any

from desktop.core.errors import FinetuneError, FolioError
from desktop.core.finetune.local.config import TrainConfig
from desktop.core.finetune.local.runs import (
    FT_PREFIX,
    MODEL_NAME_RULE,
    check_model_name,
    estimate_text,
)
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.models.local_files import DEFAULT_LLM_ID, list_models
from desktop.services import Services
from desktop.ui.dialogs import ask
from desktop.ui.finetune.train_form import TrainForm
from desktop.ui.finetune.training_support import TrainingSupport
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QWidget,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

DEFAULTS = TrainConfig()


class LocalTrainPanel(TrainForm):
    """Dataset, local base model, name and settings; Start… measures, then asks."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, "Train locally message", parent)
        self._name_refused = False  # the message line says why the typed name cannot be used
        self.base = QComboBox()
        self.base.setAccessibleName("Base model")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional: the model is local:ft:<name> (default: dataset)")
        self.name.setMaxLength(64)
        self.name.setAccessibleName("Model name")
        self.name.textChanged.connect(lambda _: self._on_name_edited())
        self.epochs = QSpinBox(minimum=1, maximum=100, value=DEFAULTS.epochs)
        self.rank = QSpinBox(minimum=1, maximum=256, value=DEFAULTS.rank)
        self.rank.setToolTip("LoRA rank: larger learns more and trains slower; alpha is twice it")
        self.learning_rate = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=1.0)
        self.learning_rate.setSingleStep(0.0001)
        self.learning_rate.setValue(DEFAULTS.learning_rate)
        self.max_seq_len = QSpinBox(minimum=32, maximum=32768, value=DEFAULTS.max_seq_len)
        self.max_seq_len.setToolTip("Longer examples are refused with their line numbers")
        self.missing = message_label()
        self.support = TrainingSupport(services.local_training.runtime)
        self.support.installed.connect(self.reload)
        form = QFormLayout()
        form.addRow("", self.missing)
        form.addRow("", self.support)
        form.addRow("Dataset", self.dataset)
        form.addRow("Base model", self.base)
        form.addRow("Name", self.name)
        form.addRow("Epochs", self.epochs)
        form.addRow("LoRA rank", self.rank)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Max sequence length", self.max_seq_len)
        form.addRow("Persona", self.persona)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        form.addRow("", self.message)
        self.lay_out(form)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Datasets, local base models, personas and training support as they are now."""
        base = self.base_model() or DEFAULT_LLM_ID
        self.base.clear()
        for model in list_models(self.services.settings):
            if model.available:
                # A local model's id holds the name it was added under: shown set apart.
                self.base.addItem(line_shown(model.id), model.id)
        self.base.setCurrentIndex(max(self.base.findData(base), 0))
        runtime = self.services.local_training.runtime
        missing = not runtime.available()
        say(
            self.missing,
            runtime.missing_message()
            if missing
            else "Trains a LoRA adapter on this computer; nothing leaves it.",
            error=missing,
        )
        self.support.setVisible(missing and runtime.offers_install)
        self.support.install_button.setText(
            "Update training support…"
            if runtime.environment.outdated()
            else "Install training support…"
        )
        self.reload_choices(select)

    def base_model(self) -> str:
        """The chosen base model's id ("" when there is none)."""
        return str(self.base.currentData() or "")

    def can_start(self) -> bool:
        """Whether Start… may be pressed: the shared rule, and training support present."""
        return super().can_start() and self.services.local_training.runtime.available()

    def config(self) -> TrainConfig:
        """The settings as chosen (FinetuneError if out of range)."""
        return TrainConfig.chosen(
            epochs=self.epochs.value(),
            rank=self.rank.value(),
            alpha=2 * self.rank.value(),
            learning_rate=self.learning_rate.value(),
            max_seq_len=self.max_seq_len.value(),
        )

    def model_name(self) -> str | None:
        """The name typed for the model, or None for the default (the dataset's)."""
        return self.name.text().strip() or None

    def name_problem(self) -> str | None:
        """Why the typed model name cannot be used (not a usable name, or another local
        model's), or None when it can: checked before anything is measured."""
        name = self.model_name()
        if name is None:
            return None
        try:
            check_model_name(name)
        except FinetuneError:
            return f'The model name "{line_shown(name)}" cannot be used: {MODEL_NAME_RULE}.'
        try:
            taken = self.services.local_training.taken(name)
        except (FolioError, OSError) as exc:
            return f"Cannot read the local models to check the name: {error_text(exc)}"
        if taken is not None:
            return (
                f"A local fine-tuned model is already called {line_shown(FT_PREFIX + taken)}: "
                "choose another name, or remove that one first."
            )
        return None

    def _on_name_edited(self) -> None:
        """Say at once whether the name typed can be used; a step of starting keeps the
        message line for itself."""
        if self.job is not None or self.confirm_box is not None:
            return
        problem = self.name_problem()
        if problem is not None:
            say(self.message, problem, error=True)
            self._name_refused = True
        elif self._name_refused:
            say(self.message, "")
            self._name_refused = False

    def start(self) -> Job | None:
        """Check the model name, then measure this computer on the chosen run in the
        background, then ask."""
        name, base = self.dataset_name(), self.base_model()
        if not name or self.job is not None or self.confirm_box is not None:
            return None
        problem = self.name_problem()
        self._name_refused = problem is not None
        if problem is not None:
            say(self.message, f"Not started: {problem}", error=True)
            return None
        try:
            config = self.config()
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return None
        training = self.services.local_training

        def work(_job: Job) -> dict[str, Any]:
            return training.estimate(name, base, config)

        return self._run(
            work,
            lambda estimate: self.confirm(estimate, config),
            f"Measuring how long {line_shown(name)} takes to train here (a minute or so)…",
        )

    def confirm(self, estimate: dict[str, Any], config: TrainConfig) -> QMessageBox:
        """The measured plan, and one question: Train or Cancel."""
        box = ask(
            self,
            "Train on this computer?",
            f"Train {line_shown(self.base_model())} on {line_shown(self.dataset_name())}?",
            estimate_text(estimate)
            + "\n\nIt runs in the background at low priority; you can close this window.",
            "Train",
            lambda allowed: self._on_confirmed(allowed, config),
        )
        self.confirm_box = box
        return box

    def _on_confirmed(self, allowed: bool, config: TrainConfig) -> None:
        if not allowed:
            self._declined("Not started.")
            return
        self.confirm_box = None
        training = self.services.local_training
        dataset, base = self.dataset_name(), self.base_model()
        name = self.model_name()
        persona = self.persona_name()

        def work(_job: Job) -> FineTuneJob:
            return training.start(dataset, base, config, name, persona)

        self._run(work, self._on_started, f"Starting training on {line_shown(dataset)}…")

    def _on_started(self, job: FineTuneJob) -> None:
        say(self.message, f"Started {job.id}: follow it in the Jobs tab.")
        self.started.emit(job)
