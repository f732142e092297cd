"""Model drop-downs show names and give back ids; an id typed in full is taken as it is."""

from __future__ import annotations

from desktop.core.evaluate.cells import CellConfig
from desktop.ui.compare.cell import CompareCell
from desktop.ui.model_combo import ModelCombo
from desktop.ui.qt import Qt

MODELS = ["local:default", "openai:gpt-4o-mini", "lab:qwen2.5-7b-instruct"]


def test_entries_read_as_names_and_carry_their_ids(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo = ModelCombo(MODELS)
    qtbot.addWidget(combo)
    shown = [combo.itemText(i) for i in range(combo.count())]
    assert shown == ["SmolLM2 135M · built in", "GPT-4o mini · OpenAI", "qwen2.5-7b-instruct · lab"]
    tips = [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())]
    assert tips == MODELS
    combo.select("openai:gpt-4o-mini")
    assert (
        combo.currentText() == "GPT-4o mini · OpenAI" and combo.model_id() == "openai:gpt-4o-mini"
    )
    combo.select("local:nothing-like-it")  # not editable: the choice stays
    assert combo.model_id() == "openai:gpt-4o-mini"


def test_a_compare_cell_takes_a_listed_name_or_a_typed_id(qtbot) -> None:  # type: ignore[no-untyped-def]
    cell = CompareCell(CellConfig("openai:gpt-4o-mini", "Zen", False), MODELS, ["Zen"])
    qtbot.addWidget(cell)
    assert cell.model.currentText() == "GPT-4o mini · OpenAI"
    assert cell.config() == CellConfig("openai:gpt-4o-mini", "Zen", False)
    cell.model.setEditText("lab:llama-3.3-70b")  # a model the server has, not yet listed
    assert cell.config().model == "lab:llama-3.3-70b"
    unlisted = CompareCell(CellConfig("lab:mistral-small"), MODELS, [])
    qtbot.addWidget(unlisted)
    assert unlisted.config() == CellConfig("lab:mistral-small")
