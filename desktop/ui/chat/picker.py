"""The model picker: every provider's models, grouped Base / Persona / Fine-tuned, and retrieval.

Each entry shows the model's name (``names.display_name``); its id is the first line of its
tooltip. Local models are listed at once. Remote providers are asked in the background (a
``Job`` calling ``all_models``), so a slow or unreachable server never freezes the window;
until they answer, the models they listed last time stay in the list. Fine-tuned models say
where they came from (base model, dataset, persona, date) when Folio ran the job that made
them.
"""

from __future__ import annotations

import dataclasses
import json

from desktop.core.errors import FolioError
from desktop.core.finetune.records import Job as FineTuneJob
from desktop.core.finetune.records import JobState, ft_lineage
from desktop.core.models.ids import split_model_id
from desktop.core.models.local_files import ModelInfo, list_models
from desktop.core.models.names import display_name
from desktop.core.models.providers import all_models, remote_providers
from desktop.services import Services
from desktop.ui.chat.pane import Choice
from desktop.ui.qt import QCheckBox, QComboBox, QHBoxLayout, QLabel, Qt, QWidget, Signal
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

_ROLE = Qt.ItemDataRole.UserRole
_TIP = Qt.ItemDataRole.ToolTipRole
REMOTE_MARK = "↗ remote"


def _key(model: str, persona: str | None) -> str:
    # A plain string: Qt compares item data reliably only for its own value types. JSON,
    # since a server's model id or an older persona's name can hold any character.
    return json.dumps([model, persona or ""])


def _unkeyed(key: str) -> tuple[str, str]:
    """The model id and persona name ("" for none) of ``_key``'s string."""
    model, persona = json.loads(key)
    return model, persona


def remote_tooltip(provider_label: str) -> str:
    """What choosing a remote model means, in the words the picker shows."""
    return (
        "Sends your question — and, with retrieval on, passages of your documents — "
        f"to {provider_label}."
    )


def lineage_tooltip(model_id: str, job: FineTuneJob | None) -> str:
    """Where a fine-tuned model came from: base, dataset, persona and date, as far as known."""
    lineage = ft_lineage(model_id, job)
    base = lineage["base"] or "an unknown base model"
    if job is None:
        return f"Fine-tuned from {base} outside this Folio: its dataset and persona are unknown."
    return "\n".join(
        [
            f"Fine-tuned from {base} on {lineage['date']}",
            f"Dataset: {lineage['dataset'] or 'unknown'}",
            f"Persona: {lineage['persona'] or 'none'}",
            f"Job: {job.id}",
        ]
    )


def _label(name: str, model: ModelInfo, persona: str | None, lineage: FineTuneJob | None) -> str:
    # Names a person gave (personas, datasets, model files) are set apart: one holding a
    # right-to-left override would turn the rest of the entry around.
    text = f"{line_shown(persona)} · {line_shown(name)}" if persona else line_shown(name)
    if lineage is not None and (lineage.persona or lineage.dataset):
        text += f"  (from {line_shown(lineage.persona or lineage.dataset or '')})"
    if model.remote:
        text += f"  {REMOTE_MARK}"
    if not model.available:
        text += " (unreachable)" if model.remote else " (missing)"
    return f"  {text}"


class ModelPicker(QWidget):
    """A grouped model list and a Retrieval switch; ``choice()`` says what is selected."""

    changed = Signal()
    refreshed = Signal()  # the remote providers answered (or failed) and the list was rebuilt

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.remote: list[ModelInfo] = []  # what the providers listed at the last refresh
        self.problems: dict[str, str] = {}  # provider name -> why its models are not listed
        self.answered: set[str] = set()  # providers that listed their models at the last refresh
        self.loading = False
        self._asked: set[str] = set()
        self._lineage: dict[str, FineTuneJob] = {}  # ft model id -> the job that made it
        self._generation = 0  # only the latest refresh's answer is used
        self.combo = QComboBox()
        self.combo.setAccessibleName("Model")
        self.combo.setMinimumContentsLength(28)
        self.retrieval = QCheckBox("Retrieval")
        self.retrieval.setToolTip("Answer from your documents (on) or from the model alone (off)")
        self.retrieval.setChecked(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Model:"))
        layout.addWidget(self.combo)
        layout.addWidget(self.retrieval)
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.retrieval.toggled.connect(lambda _: self.changed.emit())
        self.reload()

    def refresh(self) -> None:
        """Ask every remote provider for its models in the background, then rebuild the list."""
        self._generation += 1
        generation = self._generation
        settings, secrets = self.services.settings, self.services.secrets

        def work(_job: Job) -> tuple[int, list[ModelInfo], dict[str, str]]:
            models, problems = all_models(settings, secrets)
            return generation, [m for m in models if m.remote], problems

        self._asked = {p.name for p in remote_providers(settings)}

        job = Job(work)
        job.succeeded.connect(self._on_listed)
        job.failed.connect(self._on_list_failed)
        self.loading = True
        self.reload()
        job.start()

    def _on_listed(self, result: tuple[int, list[ModelInfo], dict[str, str]]) -> None:
        generation, models, problems = result
        if generation != self._generation:
            return
        listed = {m.id for m in models}
        # A provider that does not answer now keeps what it listed before, marked unreachable,
        # so a chosen model stays chosen and says why it may fail.
        kept = [
            dataclasses.replace(m, available=False)
            for m in self.remote
            if m.id not in listed and split_model_id(m.id)[0] in problems
        ]
        self.remote, self.problems, self.loading = models + kept, problems, False
        self.answered = {name for name in self._asked if name not in problems}
        self.reload()
        self.refreshed.emit()

    def _on_list_failed(self, message: str) -> None:
        self.problems, self.loading = {"": message}, False  # "": no provider in particular
        self.reload()
        self.refreshed.emit()

    def _header(self, text: str, hint: bool = False, tooltip: str | None = None) -> None:
        self.combo.addItem(text)
        index = self.combo.count() - 1
        item = self.combo.model().item(index)  # type: ignore[attr-defined]
        item.setEnabled(False)
        font = item.font()
        font.setBold(not hint)
        font.setItalic(hint)
        item.setFont(font)
        if tooltip:
            self.combo.setItemData(index, tooltip, _TIP)

    def _add(self, model: ModelInfo, persona: str | None) -> None:
        lineage = self._lineage.get(model.id) if model.kind == "fine-tuned" else None
        self.combo.addItem(
            _label(self._name(model, lineage), model, persona, lineage), _key(model.id, persona)
        )
        tips = [model.id]
        if model.kind == "fine-tuned":
            tips.append(lineage_tooltip(model.id, lineage))
        if model.remote:
            tips.append(remote_tooltip(model.provider))
            if not model.available:
                name = split_model_id(model.id)[0]
                tips.append(f"Not reachable now: {self.problems.get(name, 'unknown reason')}")
        self.combo.setItemData(self.combo.count() - 1, "\n".join(tips), _TIP)

    def _name(self, model: ModelInfo, job: FineTuneJob | None) -> str:
        """``model``'s name; a fine-tuned one names its base from its lineage or its job."""
        base = model.lineage["base"] if model.lineage else None
        if base is None and job is not None:
            base = job.base
        return display_name(model.id, local_files=self.services.settings.local_models, base=base)

    def _trained_here(self, listed: list[ModelInfo], labels: dict[str, str]) -> list[ModelInfo]:
        """Models Folio's own jobs made, with their lineage; those no provider listed are added.

        A model its provider answered without is left out: it was deleted from the account.
        """
        self._lineage = {}
        try:
            jobs = self.services.finetune_jobs.all()
        except (FolioError, OSError):
            return []  # the list of jobs is unreadable: the models the providers list remain
        ids = {m.id for m in listed}
        added = []
        for job in reversed(jobs):  # oldest first, so a model's latest job wins
            model_id = job.model_id
            if job.status != JobState.SUCCEEDED or model_id is None:
                continue
            self._lineage[model_id] = job
            name = split_model_id(model_id)[0]
            if model_id in ids or name in self.answered or name not in labels:
                continue
            ids.add(model_id)
            added.append(
                ModelInfo(
                    id=model_id,
                    kind="fine-tuned",
                    provider=labels[name],
                    available=name not in self.problems,
                    remote=True,
                )
            )
        return added

    def _local_fine_tuned(self) -> list[ModelInfo]:
        """LoRA adapters trained here (``local:ft:<name>``); none if finetune.db is unreadable."""
        try:
            return self.services.local_training.models()
        except (FolioError, OSError):
            return []

    def reload(self) -> None:
        """Rebuild the list (after personas, models or providers change), keeping the selection."""
        previous = self.combo.currentData(_ROLE)
        settings = self.services.settings
        labels = {p.name: p.label for p in remote_providers(settings)}
        # Servers removed since the last refresh take their models and problems with them.
        remote = [m for m in self.remote if split_model_id(m.id)[0] in labels]
        models = list_models(settings) + self._local_fine_tuned() + remote
        models += self._trained_here(models, labels)
        base = [m for m in models if m.kind == "base"]
        fine_tuned = [m for m in models if m.kind == "fine-tuned"]
        self.combo.blockSignals(True)
        self.combo.clear()
        self._header("Base models")
        for model in base:
            self._add(model, None)
        if self.loading:
            self._header("  Asking remote providers for their models…", hint=True)
        for name, reason in self.problems.items():
            label = labels.get(name) if name else "Remote providers"
            if label is not None:
                self._header(f"  {label}: {reason}", hint=True, tooltip=reason)
        self._header("Persona models")
        for persona in self.services.chats.personas.all():
            for model in base:
                self._add(model, persona.name)
        self._header("Fine-tuned models")
        for model in fine_tuned:
            self._add(model, None)
        if not fine_tuned:
            self._header("  None yet: fine-tune a model to see it here", hint=True)
        index = self.combo.findData(previous, _ROLE) if previous else -1
        if index < 0:
            index = self.combo.findData(_key(settings.default_model, None), _ROLE)
        self.combo.setCurrentIndex(max(index, 1))
        self.combo.blockSignals(False)
        self._on_index_changed()

    def _on_index_changed(self, _index: int = 0) -> None:
        self.combo.setToolTip(self.combo.currentData(_TIP) or "")
        self.changed.emit()

    def choice(self) -> Choice:
        key = self.combo.currentData(_ROLE) or _key(self.services.settings.default_model, None)
        model, persona = _unkeyed(key)
        return Choice(model, persona or None, self.retrieval.isChecked())

    def model_ids(self) -> list[str]:
        """Every listed model's id (no persona entries), in list order."""
        keys = [self.combo.itemData(i, _ROLE) for i in range(self.combo.count())]
        return [model for model, persona in map(_unkeyed, filter(None, keys)) if not persona]

    def entry(self, model: str, persona: str | None = None) -> tuple[str, str] | None:
        """The (text, tooltip) of ``model``'s entry (with ``persona``), or None if not listed."""
        index = self.combo.findData(_key(model, persona), _ROLE)
        if index < 0:
            return None
        return self.combo.itemText(index), self.combo.itemData(index, _TIP) or ""

    def entries(self) -> list[tuple[str, str]]:
        """Every selectable entry's (text, tooltip), in list order."""
        return [
            (self.combo.itemText(i), self.combo.itemData(i, _TIP) or "")
            for i in range(self.combo.count())
            if self.combo.itemData(i, _ROLE)
        ]

    def select(self, model: str, persona: str | None) -> bool:
        """Select an entry; False when there is none such."""
        index = self.combo.findData(_key(model, persona), _ROLE)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0
