"""The model picker: base models, persona models and fine-tuned models, plus retrieval."""

from __future__ import annotations

from desktop.app import Services
from desktop.core.models import list_models
from desktop.ui.chat_view import Choice
from desktop.ui.qt import QCheckBox, QComboBox, QHBoxLayout, QLabel, Qt, QWidget, Signal

_ROLE = Qt.ItemDataRole.UserRole


def _key(model: str, persona: str | None) -> str:
    # A plain string: Qt compares item data reliably only for its own value types.
    return f"{model}\n{persona or ''}"


class ModelPicker(QWidget):
    """A grouped model list and a Retrieval switch; ``choice()`` says what is selected."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
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
        self.combo.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.retrieval.toggled.connect(lambda _: self.changed.emit())
        self.reload()

    def _header(self, text: str, hint: bool = False) -> None:
        self.combo.addItem(text)
        item = self.combo.model().item(self.combo.count() - 1)  # type: ignore[attr-defined]
        item.setEnabled(False)
        font = item.font()
        font.setBold(not hint)
        font.setItalic(hint)
        item.setFont(font)

    def reload(self) -> None:
        """Rebuild the list (after personas or models change), keeping the selection."""
        previous = self.combo.currentData(_ROLE)
        self.combo.blockSignals(True)
        self.combo.clear()
        models = [m for m in list_models(self.services.settings) if m.kind == "base"]
        self._header("Base models")
        for model in models:
            label = model.id if model.available else f"{model.id} (missing)"
            self.combo.addItem(f"  {label}", _key(model.id, None))
        self._header("Persona models")
        for persona in self.services.chats.personas.all():
            for model in models:
                self.combo.addItem(f"  {persona.name} · {model.id}", _key(model.id, persona.name))
        self._header("Fine-tuned models")
        fine_tuned = [m for m in list_models(self.services.settings) if m.kind == "fine-tuned"]
        for model in fine_tuned:
            self.combo.addItem(f"  {model.id}", _key(model.id, None))
        if not fine_tuned:
            self._header("  None yet: fine-tune a model to see it here", hint=True)
        index = self.combo.findData(previous, _ROLE) if previous else -1
        if index < 0:
            index = self.combo.findData(_key(self.services.settings.default_model, None), _ROLE)
        self.combo.setCurrentIndex(max(index, 1))
        self.combo.blockSignals(False)
        self.changed.emit()

    def choice(self) -> Choice:
        key = self.combo.currentData(_ROLE) or _key(self.services.settings.default_model, None)
        model, persona = key.split("\n")
        return Choice(model, persona or None, self.retrieval.isChecked())

    def select(self, model: str, persona: str | None) -> bool:
        """Select an entry; False when there is none such."""
        index = self.combo.findData(_key(model, persona), _ROLE)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0
