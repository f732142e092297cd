"""Model names in the window: the picker and the chat header show names, ids in tooltips; the
note that suggests a better model than the built-in one, until it is dismissed."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.models.downloads import find_entry
from desktop.core.models.local_files import ModelInfo, embedded_llm_path
from desktop.core.models.suggestion import suggested_download, total_memory
from desktop.core.settings import Settings
from desktop.services import Services
from desktop.ui.chat.picker import REMOTE_MARK
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import Qt

GIB = 2**30


@pytest.fixture(autouse=True)
def _no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenAI is listed as a provider without a key, so the picker never goes online."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def gguf_files(tmp_path: Path) -> dict[str, str]:
    """Settings' ``local_models``: a catalog download and a file the person added, both real
    GGUFs (links to the embedded one) under the names such files have."""
    embedded = embedded_llm_path()
    assert embedded is not None
    folder = tmp_path / "gguf"
    folder.mkdir()
    files = {
        "qwen2.5-1.5b": folder / find_entry("qwen2.5-1.5b").filename,
        "mine": folder / "Mistral-7B-Instruct-v0.3-Q5_K_M.gguf",
    }
    for path in files.values():
        path.symlink_to(embedded)
    return {name: str(path) for name, path in files.items()}


def open_window(qtbot, services: Services) -> MainWindow:  # type: ignore[no-untyped-def]
    """The window, once its first look at the remote providers is done."""
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
    return window


def test_the_picker_shows_names_with_ids_in_tooltips(  # type: ignore[no-untyped-def]
    qtbot, make_services, gguf_files: dict[str, str]
) -> None:
    window = open_window(qtbot, make_services(Settings(local_models=gguf_files)))
    picker = window.picker
    # As a refresh leaves them: OpenAI's models for an account with a key.
    picker.remote = [ModelInfo("openai:gpt-4o-mini", "base", "OpenAI", True, remote=True)]
    picker.reload()

    assert picker.entry("local:default") == ("  SmolLM2 135M · built in", "local:default")
    assert picker.entry("local:qwen2.5-1.5b") == ("  Qwen2.5 1.5B", "local:qwen2.5-1.5b")
    assert picker.entry("local:mine") == ("  Mistral 7B Instruct v0.3 (Q5_K_M)", "local:mine")
    text, tip = picker.entry("openai:gpt-4o-mini")  # type: ignore[misc]
    assert text == f"  GPT-4o mini · OpenAI  {REMOTE_MARK}"
    assert tip.splitlines()[0] == "openai:gpt-4o-mini" and "to OpenAI." in tip
    persona = picker.entry("local:default", "Sarcastic techie")
    assert persona == ("  Sarcastic techie · SmolLM2 135M · built in", "local:default")
    # Every entry names a model, never an id; the ids are all in the tooltips.
    for text, tip in picker.entries():
        assert ":" not in text.split(" · ")[0], text
        assert tip.splitlines()[0] in picker.model_ids()
    assert picker.combo.toolTip() == "local:default"  # the chosen entry's id


def test_the_header_shows_the_current_models_name(  # type: ignore[no-untyped-def]
    qtbot, make_services, gguf_files: dict[str, str]
) -> None:
    window = open_window(qtbot, make_services(Settings(local_models=gguf_files)))
    header = window.chat.header
    assert "New chat" in header.text() and "SmolLM2 135M · built in" in header.text()
    assert header.toolTip() == "local:default"

    assert window.picker.select("local:qwen2.5-1.5b", None)
    assert "Qwen2.5 1.5B · retrieval on" in header.text()
    assert "local:" not in header.text() and header.toolTip() == "local:qwen2.5-1.5b"

    assert window.picker.select("local:default", "Sarcastic techie")
    assert "SmolLM2 135M · built in as Sarcastic techie" in header.text()

    window.picker.remote = [ModelInfo("openai:gpt-4o-mini", "base", "OpenAI", True, remote=True)]
    window.picker.reload()
    assert window.picker.select("openai:gpt-4o-mini", None)
    assert "GPT-4o mini · OpenAI" in header.text() and "sends to OpenAI" in header.text()
    assert header.toolTip() == "openai:gpt-4o-mini"


def test_the_note_suggests_a_model_for_this_computer_until_dismissed(  # type: ignore[no-untyped-def]
    qtbot, make_services, gguf_files: dict[str, str]
) -> None:
    services = make_services()
    window = open_window(qtbot, services)
    note = window.chat.note
    expected = suggested_download(total_memory())
    assert expected is not None, "this computer has too little memory for any catalog model"
    assert note.isVisible() and note.suggestion == expected
    assert find_entry(expected.name).size_gb > 0
    assert f"a {expected.size_gb:.1f} GB download" in note.text.text()

    # On an 8 GB computer: Llama 3.2 3B, the catalog's model for 8 GB, a 2.0 GB download.
    note.memory = 8 * GIB
    window.chat.update_header()
    assert "Llama 3.2 3B suits this computer's memory" in note.text.text()
    assert "a 2.0 GB download" in note.text.text()

    # Its button opens the downloads.
    qtbot.mouseClick(note.download_button, Qt.MouseButton.LeftButton)
    dialog = window.providers_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.tabs.currentWidget() is dialog.downloads

    # Only while the built-in model is chosen.
    window.picker.remote = [ModelInfo("openai:gpt-4o-mini", "base", "OpenAI", True, remote=True)]
    window.picker.reload()
    assert window.picker.select("openai:gpt-4o-mini", None)
    assert not note.isVisible()
    assert window.picker.select("local:default", "Sarcastic techie")
    assert note.isVisible()

    qtbot.mouseClick(note.dismiss_button, Qt.MouseButton.LeftButton)
    assert not note.isVisible()
    window.picker.select("local:default", None)
    assert not note.isVisible()
    window.close()
    services.close()

    # Started again on the same data folder: still dismissed.
    again = open_window(qtbot, make_services())
    assert again.picker.choice().model == "local:default"
    assert again.chat.note.dismissed and not again.chat.note.isVisible()
    again.chat.note.memory = 8 * GIB
    again.chat.update_header()
    assert not again.chat.note.isVisible()


def test_no_note_for_another_default_model_or_a_model_already_there(  # type: ignore[no-untyped-def]
    qtbot, make_services, gguf_files: dict[str, str]
) -> None:
    chosen = Settings(local_models=gguf_files, default_model="local:mine")
    window = open_window(qtbot, make_services(chosen))
    note = window.chat.note
    assert window.picker.choice().model == "local:mine"
    assert not note.isVisible() and note.suggestion is None

    # Back on the built-in model, on a computer whose best fit is already in the list.
    note.memory = 6 * GIB  # Qwen2.5 1.5B, which gguf_files holds
    assert window.picker.select("local:default", None)
    assert not note.isVisible() and note.suggestion is None
    # And on one where no catalog model fits: nothing to say.
    note.memory = 1 * GIB
    window.chat.update_header()
    assert not note.isVisible()
    note.memory = 8 * GIB
    window.chat.update_header()
    assert note.isVisible() and note.suggestion == find_entry("llama3.2-3b")
