"""A drop-down of models that shows their names and gives back their ids.

Each entry reads as a person reads a model ("SmolLM2 135M · built in",
``names.display_name``); its id is the entry's data and tooltip. An editable one also takes
an id typed in full, for a model the list does not hold (a server's model not yet listed).
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.models.names import display_name
from desktop.services import Services
from desktop.ui.chat.pane import model_name
from desktop.ui.qt import QComboBox, Qt, QWidget
from desktop.ui.shown import line_shown


def services_names(services: Services) -> Callable[[str], str]:
    """Names as the chat shows them, with what the settings and fine-tuning jobs know."""
    return lambda model_id: model_name(model_id, services)


class ModelCombo(QComboBox):
    """Models by name; ``model_id()`` is the chosen one's id (or the id typed)."""

    def __init__(
        self,
        models: list[str],
        name: Callable[[str], str] = display_name,
        *,
        editable: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Model")
        self.setEditable(editable)
        self._name = name
        for model_id in models:
            # A server names its own models: set apart, so none can turn the list around.
            self.addItem(line_shown(name(model_id)), model_id)
            self.setItemData(self.count() - 1, model_id, Qt.ItemDataRole.ToolTipRole)

    def select(self, model_id: str) -> None:
        """Choose ``model_id``: its entry, or (editable) its id as the text."""
        index = self.findData(model_id)
        if index >= 0:
            self.setCurrentIndex(index)
        elif self.isEditable():
            self.setEditText(model_id)

    def model_id(self) -> str:
        """The chosen model's id: the entry's whose name is shown, else the text as typed."""
        text = self.currentText().strip()
        index = self.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            return str(self.itemData(index))
        return text
