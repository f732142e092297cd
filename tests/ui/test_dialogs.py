"""Personas, settings and the chat sidebar, driven as a person would."""

from __future__ import annotations

import json

import pytest

from desktop.ui.chat_list import ChatList
from desktop.ui.dialogs import PersonaDialog, SettingsDialog
from desktop.ui.model_picker import ModelPicker


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
    dialog.delete()
    assert [p.name for p in services.chats.personas.all()] == ["Sarcastic techie"]

    picker = ModelPicker(services)
    qtbot.addWidget(picker)
    assert picker.select("local:default", "Sarcastic techie")
    assert not picker.select("local:default", "Captain")


def test_settings_are_validated_then_saved(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.top_k.setValue(0)
    assert dialog.save() is False
    assert "top_k" in dialog.error.text()
    assert not (services.home / "settings.json").exists()

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
    with qtbot.waitSignal(sidebar.selected) as blocker:
        sidebar.delete(first.id)
    assert blocker.args == [None]
    assert sidebar.titles() == ["Holiday plans"]
