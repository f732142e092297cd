"""The Embeddings tab: switching the library's embedding model from the window.

The library starts on the real local embedder; the remote models are SmolLM2 behind
llama.cpp's real OpenAI-compatible server on 127.0.0.1, reached as OpenAI (through
``OPENAI_BASE_URL``) or as a user's server named ``lab``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.library.catalog import EMBEDDING_MODEL_KEY, FileStatus
from desktop.core.library.reembed import pending_switch
from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID
from desktop.core.settings import Settings
from desktop.services import Services
from desktop.ui.main_window import MainWindow
from desktop.ui.providers.dialog import ProvidersDialog
from desktop.ui.providers.embeddings import EmbeddingsTab
from desktop.ui.qt import QApplication, QMessageBox, Qt, QTimer

pytestmark = pytest.mark.slow

OPENAI_MODEL = "openai:text-embedding-3-small"
LAB_MODEL = "lab:smollm2"
FILES = {
    "glacier": "The glacier retreated two kilometres over the last century.",
    "violin": "The violin was made in Cremona almost three centuries ago.",
}


@pytest.fixture
def library(  # type: ignore[no-untyped-def]
    make_services, tmp_path: Path, llama_server: str, monkeypatch: pytest.MonkeyPatch
) -> Services:
    """Services whose library holds the two files, indexed with the local model."""
    monkeypatch.setenv("FOLIO_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-folio-embeddings-test")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FILES.items():
        (docs / f"{name}.md").write_text(f"{text}\n")
    services = make_services(Settings(threads=2, servers={"lab": {"base_url": llama_server}}))
    assert services.ingestor.ingest([docs]).added == len(FILES)
    return services


_open: list[ProvidersDialog] = []  # the dialog must outlive the test's use of its tab


@pytest.fixture(autouse=True)
def _close_dialogs() -> Iterator[None]:
    yield
    _open.clear()


def open_tab(qtbot, services: Services, busy: bool = False) -> EmbeddingsTab:  # type: ignore[no-untyped-def]
    dialog = ProvidersDialog(services, is_busy=lambda: busy)
    qtbot.addWidget(dialog)
    _open.append(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.tabs.setCurrentWidget(dialog.embeddings)
    return dialog.embeddings


def answer_consent(qtbot, button: str, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Once the consent box is up, note its text and click ``button`` in it."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()} {box.informativeText()}")
        chosen = next(b for b in box.buttons() if b.text() == button)
        qtbot.mouseClick(chosen, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def assert_search_finds_each_file(services: Services) -> None:
    for name, text in FILES.items():
        hits = services.retriever.search(text, k=1, mode="dense")
        assert hits[0].file_name == f"{name}.md"


def test_switch_to_a_remote_model_asks_first_then_search_uses_it(  # type: ignore[no-untyped-def]
    qtbot, library: Services
) -> None:
    services = library
    tab = open_tab(qtbot, services)
    assert tab.current.text() == LOCAL_EMBEDDING_ID
    assert not tab.resume_button.isVisibleTo(tab) and not tab.bar.isVisibleTo(tab)

    # Cancel in the consent box: nothing is sent, nothing changes.
    tab.choice.setCurrentText(OPENAI_MODEL)
    seen: list[str] = []
    answer_consent(qtbot, "Cancel", seen)
    qtbot.mouseClick(tab.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.consent_box is None and bool(seen))
    assert "every document" in seen[0] and "openai" in seen[0]
    assert services.settings.remote_consent == [] and tab.job is None
    assert services.embed_model_name == LOCAL_EMBEDDING_ID
    assert tab.switch_button.isEnabled()

    # Allow: the permission is saved and the switch runs to the end.
    answer_consent(qtbot, "Allow", seen)
    with qtbot.waitSignal(tab.changed, timeout=30_000):
        qtbot.mouseClick(tab.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.job is None)
    assert services.settings.remote_consent == ["openai"]
    assert "search uses the new model" in tab.message.text()
    assert tab.current.text() == OPENAI_MODEL
    assert services.embed_model_name == OPENAI_MODEL
    assert services.library.get_meta(EMBEDDING_MODEL_KEY) == OPENAI_MODEL
    assert pending_switch(services.library) is None
    assert_search_finds_each_file(services)  # the retriever was rebuilt on the new model

    # Allowed once, never asked again: back to the local model with no box.
    tab.choice.setCurrentText(LOCAL_EMBEDDING_ID)
    with qtbot.waitSignal(tab.changed, timeout=30_000):
        qtbot.mouseClick(tab.switch_button, Qt.MouseButton.LeftButton)
        assert tab.consent_box is None
    qtbot.waitUntil(lambda: tab.job is None)
    assert services.embed_model_name == LOCAL_EMBEDDING_ID
    assert_search_finds_each_file(services)


def test_an_unfinished_switch_is_shown_and_resumed(  # type: ignore[no-untyped-def]
    qtbot, library: Services
) -> None:
    services = library
    services.allow_remote("lab")
    report = services.switch_embedding_model(LAB_MODEL, swap=False)  # as if stopped at the end
    assert not report.swapped
    tab = open_tab(qtbot, services)
    assert tab.resume_button.isVisibleTo(tab)
    assert f"{LAB_MODEL} is unfinished: 2 of 2 chunks" in tab.pending.text()
    assert tab.current.text() == LOCAL_EMBEDDING_ID

    with qtbot.waitSignal(tab.changed, timeout=30_000):
        qtbot.mouseClick(tab.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.job is None)
    assert services.embed_model_name == LAB_MODEL and tab.current.text() == LAB_MODEL
    assert not tab.resume_button.isVisibleTo(tab)
    assert_search_finds_each_file(services)


def test_refused_while_the_library_is_indexing_and_for_unknown_ids(  # type: ignore[no-untyped-def]
    qtbot, library: Services
) -> None:
    tab = open_tab(qtbot, library, busy=True)
    tab.choice.setCurrentText(LAB_MODEL)
    assert not tab.switch()
    assert "indexing" in tab.message.text() and tab.job is None and tab.consent_box is None

    tab.is_busy = lambda: False
    tab.choice.setCurrentText("nowhere:model")
    assert not tab.switch()  # refused before anything starts, consent not asked for it
    assert tab.job is None and tab.consent_box is None
    assert "Unknown provider 'nowhere'" in tab.message.text()
    assert "\n" not in tab.message.text()
    assert library.embed_model_name == LOCAL_EMBEDDING_ID


def test_a_missing_key_is_said_before_consent_is_asked(  # type: ignore[no-untyped-def]
    qtbot, make_services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLIO_TEST_KEYRING", str(tmp_path / "keyring.json"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    services = make_services()
    tab = open_tab(qtbot, services)
    tab.choice.setCurrentText(OPENAI_MODEL)
    assert not tab.switch()
    assert "needs an OpenAI API key" in tab.message.text()
    # Nobody was asked to send their documents to a model that could not take them.
    assert tab.consent_box is None and QApplication.activeModalWidget() is None
    assert tab.job is None and services.settings.remote_consent == []
    assert services.embed_model_name == LOCAL_EMBEDDING_ID


def test_files_dropped_during_a_switch_wait_and_are_indexed_with_the_new_model(  # type: ignore[no-untyped-def]
    qtbot, library: Services, tmp_path: Path
) -> None:
    services = library
    services.allow_remote("lab")
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.library.busy, timeout=60_000)  # the start-up sync
    tab = window.open_providers().embeddings
    late = tmp_path / "late"
    late.mkdir()
    (late / "harbour.md").write_text("The harbour froze over in the winter of 1963.\n")

    tab.choice.setCurrentText(LAB_MODEL)
    with qtbot.waitSignal(tab.changed, timeout=60_000):
        assert tab.switch()
        window.library.add_paths([late])  # dropped while the switch runs
        assert window.library.busy and window.library._job is None  # held, not indexing
        assert "indexing waits" in window.library.status.text()
        assert not window.library.sync_button.isEnabled()
    qtbot.waitUntil(lambda: tab.job is None and window.library._job is None, timeout=60_000)

    # Once the switch ended, the queued folder was indexed, with the library's new model.
    assert services.embed_model_name == LAB_MODEL
    assert (
        services.library.files_under(str(late))[str(late / "harbour.md")].status
        == FileStatus.INDEXED
    )
    hits = services.retriever.search("The harbour froze over in winter", k=1, mode="dense")
    assert hits[0].file_name == "harbour.md"
    assert_search_finds_each_file(services)
    assert window.library.sync_button.isEnabled()
