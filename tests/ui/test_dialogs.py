"""Personas, settings and the chat sidebar, driven as a person would."""

from __future__ import annotations

import json

import pytest

from desktop.core.chat.personas import MAX_EXAMPLES, Persona
from desktop.ui.chat.picker import ModelPicker
from desktop.ui.chat.sidebar import ChatList
from desktop.ui.dialogs import PersonaDialog, SettingsDialog
from desktop.ui.qt import Qt
from tests.ui.confirm import confirmed


def test_personas_create_edit_delete(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    assert dialog.list.item(0).text() == "Sarcastic techie"
    dialog.new()
    dialog.name.setText("Pirate")
    dialog.prompt.setPlainText("Answer like a pirate.")
    dialog.use_temperature.setChecked(True)
    dialog.temperature.setValue(1.1)
    dialog.save()
    assert services.chats.personas.get("Pirate").temperature == pytest.approx(1.1)

    dialog.name.setText("Captain")  # saving under a new name renames
    dialog.save()
    assert [p.name for p in services.chats.personas.all()] == ["Captain", "Sarcastic techie"]

    dialog.prompt.setPlainText("")
    dialog.save()
    assert "needs a prompt" in dialog.message.text()
    assert services.chats.personas.get("Captain").prompt == "Answer like a pirate."

    dialog.list.setCurrentRow(0)
    confirmed(True, dialog.delete)
    assert [p.name for p in services.chats.personas.all()] == ["Sarcastic techie"]

    picker = ModelPicker(services)
    qtbot.addWidget(picker)
    assert picker.select("local:default", "Sarcastic techie")
    assert not picker.select("local:default", "Captain")


def test_example_exchanges_are_typed_saved_shown_again_and_a_half_one_is_named(  # type: ignore[no-untyped-def]
    qtbot, services
) -> None:
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.new()
    dialog.name.setText("Pirate")
    dialog.prompt.setPlainText("Answer like a pirate.")
    table = dialog.examples
    assert not table.remove.isEnabled()
    table.add_row()
    assert table.table.state() == table.table.State.EditingState  # typing starts at once
    qtbot.keyClicks(table.table.focusWidget() or table.table, "Where is the map?")
    table.table.setCurrentCell(0, 1)
    dialog.save()
    assert "example 1 has no answer" in dialog.message.text()
    assert services.chats.personas.all()[0].name == "Sarcastic techie"  # nothing saved

    table.table.item(0, 1).setText("Arr, under the third palm.")
    table.add_row()  # a row left empty is not an example
    dialog.save()
    assert dialog.message.text() == "Saved Pirate."
    assert services.chats.personas.get("Pirate").examples == (
        ("Where is the map?", "Arr, under the third palm."),
    )
    dialog.list.setCurrentRow(1)  # the founding persona shows its own
    assert table.examples() == services.chats.personas.get("Sarcastic techie").examples
    dialog.list.setCurrentRow(0)
    assert table.table.rowCount() == 1 and table.table.item(0, 0).text() == "Where is the map?"
    table.table.selectRow(0)
    assert table.remove.isEnabled()
    table.remove_row()
    dialog.save()
    assert services.chats.personas.get("Pirate").examples == ()

    for _ in range(MAX_EXAMPLES + 1):
        table.add_row()
    assert table.table.rowCount() == MAX_EXAMPLES and not table.add.isEnabled()
    # Tab leaves the table for the next control, as in every other field.
    table.table.setFocus()
    qtbot.keyClick(table.table, Qt.Key.Key_Tab)
    assert not table.table.hasFocus()


@pytest.mark.parametrize("name", ["Sarcastic techie", "sarcastic techie ", "SARCASTIC TECHIE"])
def test_a_new_persona_with_a_taken_name_is_refused_and_the_form_kept(  # type: ignore[no-untyped-def]
    qtbot, services, name: str
) -> None:
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    dialog.new()
    dialog.name.setText(name)
    dialog.prompt.setPlainText("dup")
    dialog.save()
    assert "already a persona named 'Sarcastic techie'" in dialog.message.text()
    assert (dialog.name.text(), dialog.prompt.toPlainText()) == (name, "dup")
    assert services.chats.personas.get("Sarcastic techie").prompt.startswith("You are a sarcastic")

    dialog.name.setText("Dry techie")  # another name, and the same typed prompt saves
    dialog.save()
    assert dialog.message.text() == "Saved Dry techie."
    assert services.chats.personas.get("Dry techie").prompt == "dup"


def test_editing_a_persona_keeps_its_name_and_renaming_onto_another_is_refused(  # type: ignore[no-untyped-def]
    qtbot, services
) -> None:
    services.chats.personas.save(Persona("Pirate", "Say arr."))
    dialog = PersonaDialog(services)
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(0)
    assert dialog.name.text() == "Pirate"
    dialog.prompt.setPlainText("Say arr, matey.")
    dialog.save()
    assert dialog.message.text() == "Saved Pirate."
    assert services.chats.personas.get("Pirate").prompt == "Say arr, matey."

    dialog.name.setText("sarcastic techie")
    dialog.save()
    assert "already a persona named 'Sarcastic techie'" in dialog.message.text()
    assert dialog.name.text() == "sarcastic techie"
    assert services.chats.personas.get("Pirate").prompt == "Say arr, matey."
    assert [p.name for p in services.chats.personas.all()] == ["Pirate", "Sarcastic techie"]


def test_settings_are_validated_then_saved(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.model_path.setText(str(services.home / "no-such-model.gguf"))
    assert dialog.save() is False
    assert dialog.error.text().startswith("Local model file: no file is at")
    assert not (services.home / "settings.json").exists()
    dialog.model_path.clear()

    dialog.top_k.setValue(8)
    dialog.ignore.setPlainText("*.log\n\ndrafts/\n")
    assert dialog.save() is True
    saved = json.loads((services.home / "settings.json").read_text())
    assert saved["top_k"] == 8 and saved["ignore_patterns"] == ["*.log", "drafts/"]
    assert services.retriever.top_k == 8


def test_chat_sidebar_search_rename_delete(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    first = services.chats.create("Budget questions")
    services.chats.create("Holiday plans")
    sidebar = ChatList(services)
    qtbot.addWidget(sidebar)
    assert sidebar.titles() == ["Holiday plans", "Budget questions"]
    sidebar.search.setText("budget")
    assert sidebar.titles() == ["Budget questions"]
    sidebar.search.clear()
    sidebar.rename(first.id, "Budget 2027")
    assert "Budget 2027" in sidebar.titles()
    with qtbot.waitSignal(sidebar.deleted) as blocker:
        confirmed(True, lambda: sidebar.delete(first.id))
    assert blocker.args == [first.id]
    assert sidebar.titles() == ["Holiday plans"]
