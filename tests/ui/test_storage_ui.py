"""The Storage tab: moving the library to a Qdrant server and back from the window.

The server is qdrant-client's local mode on disk (``file://FOLDER``): no Qdrant server
binary can be installed here, and local mode is a real implementation of its API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.store.move import pending_move
from desktop.services import Services
from desktop.ui.providers.dialog import ProvidersDialog
from desktop.ui.providers.storage import EDGE, StorageTab
from desktop.ui.qt import Qt

FILES = {
    "glacier": "The glacier retreated two kilometres over the last century.",
    "violin": "The violin was made in Cremona almost three centuries ago.",
    "orchard": "The orchard gave three hundred kilos of apples this autumn.",
}


@pytest.fixture
def library(make_services, tmp_path: Path) -> Services:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FILES.items():
        (docs / f"{name}.md").write_text(f"{text}\n")
    services = make_services()
    assert services.ingestor.ingest([docs]).added == len(FILES)
    return services


def open_tab(qtbot, services: Services) -> tuple[ProvidersDialog, StorageTab]:  # type: ignore[no-untyped-def]
    dialog = ProvidersDialog(services, is_busy=lambda: False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.tabs.setCurrentWidget(dialog.storage)
    return dialog, dialog.storage


def test_move_to_a_server_and_back_from_the_storage_tab(qtbot, library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog, tab = open_tab(qtbot, library)
    assert "Qdrant Edge" in tab.current.text()
    url = f"file://{tmp_path / 'server'}"
    tab.url.setText(url)
    tab.collection.setText("lib")
    with qtbot.waitSignal(dialog.store_moved, timeout=60_000):
        qtbot.mouseClick(tab.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.job is None)
    assert tab.message.text() == f"The library is now on qdrant ({len(FILES)} chunks)."
    assert f"Qdrant collection lib at {url}" in tab.current.text()
    assert library.settings.store.backend == "qdrant"
    assert library.retriever.search("rings apples autumn", k=1)[0].file_name == "orchard.md"

    tab.target.setCurrentIndex(tab.target.findData(EDGE))
    with qtbot.waitSignal(dialog.store_moved, timeout=60_000):
        qtbot.mouseClick(tab.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.job is None)
    assert library.settings.store.backend == "edge"
    assert library.store.count() == len(FILES)
    assert pending_move(library.library) is None


def test_a_move_without_a_url_says_what_is_missing(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    _, tab = open_tab(qtbot, library)
    tab.url.setText("")
    assert tab.start_move() is None
    assert tab.message.text() == "Enter the Qdrant server's URL."
    assert library.settings.store.backend == "edge"


def test_an_unreachable_server_is_reported_and_nothing_changes(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    _, tab = open_tab(qtbot, library)
    tab.url.setText("http://127.0.0.1:9")
    job = tab.start_move()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: tab.job is None)
    assert tab.message.text().startswith("Cannot reach the Qdrant server at http://127.0.0.1:9")
    assert library.settings.store.backend == "edge"
    assert library.store.count() == len(FILES)
    assert tab.move_button.isEnabled()


@pytest.mark.parametrize(
    ("url", "key_env", "said", "focused"),
    [
        ("localhost:6333", "", 'URL "localhost:6333" must start with http://', "url"),
        ("http://127.0.0.1:9", "HOME", "API key variable 'HOME' is a variable the", "api_key_env"),
        (
            "file://{home}/store/qdrant",
            "",
            'URL "file://{home}/store/qdrant" is Folio\'s data',
            "url",
        ),
        ("http://127.0.0.1:9", "", 'Collection "a/b" is not a name Qdrant takes', "collection"),
    ],
    ids=[
        "a URL without its scheme",
        "a system variable for the key",
        "a folder in the data folder",
        "a collection name Qdrant refuses",
    ],
)
def test_a_form_that_cannot_work_is_refused_before_the_move_starts(  # type: ignore[no-untyped-def]
    qtbot, library, url: str, key_env: str, said: str, focused: str
) -> None:
    _, tab = open_tab(qtbot, library)
    home = str(library.home.resolve())
    tab.url.setText(url.format(home=home))
    tab.api_key_env.setText(key_env)
    if focused == "collection":
        tab.collection.setText("a/b")
    assert tab.start_move() is None  # checked as folio-cli store move checks its flags
    assert tab.message.text().startswith(said.format(home=home)), tab.message.text()
    assert tab.focusWidget() is getattr(tab, focused)
    assert library.settings.store.backend == "edge" and tab.job is None
