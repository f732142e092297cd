"""The Compare window with the real model and store: a two-cell grid streams both cells,
saves them, reopens from the list, takes thumbs and exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.evaluate.cells import CellConfig
from desktop.core.settings import Settings
from desktop.ui.compare.window import CompareWindow
from desktop.ui.qt import Qt
from desktop.ui.workers import wait_for_jobs

QUESTION = "How many days of leave carry over?"


@pytest.fixture
def window(qtbot, make_services, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days."
    )
    services = make_services(Settings(max_answer_tokens=24))
    services.ingestor.ingest([folder])
    compare = CompareWindow(services)
    qtbot.addWidget(compare)
    yield compare
    compare.close()
    wait_for_jobs()


@pytest.mark.slow
def test_a_two_cell_grid_streams_saves_reopens_and_exports(  # type: ignore[no-untyped-def]
    qtbot, window: CompareWindow, tmp_path: Path
) -> None:
    # The default grid: base and persona rows, retrieval on and off; no fine-tuned row yet.
    assert [c.spec() for c in window.configs()] == [
        "local:default,retrieval=on",
        "local:default,retrieval=off",
        "local:default,persona=Sarcastic techie,retrieval=on",
        "local:default,persona=Sarcastic techie,retrieval=off",
    ]
    assert "No model is fine-tuned yet" in window.message.text()
    for cell in window.cells[2:]:
        qtbot.mouseClick(cell.remove_button, Qt.MouseButton.LeftButton)
    assert len(window.cells) == 2

    streamed: list[int] = []
    for position, cell in enumerate(window.cells):
        show = cell.stream

        def stream(text: str, position: int = position, show=show) -> None:  # type: ignore[no-untyped-def]
            streamed.append(position)
            show(text)

        cell.stream = stream  # type: ignore[method-assign]
    window.question.setText(QUESTION)
    with qtbot.waitSignal(window.finished, timeout=120_000) as done:
        assert window.run() is not None
        assert not window.cells[0].model.isEnabled()  # fixed while it runs
    comparison = done.args[0]
    assert set(streamed) == {0, 1}  # both cells streamed
    on, off = window.cells
    assert on.answer.text == comparison.cells[0].answer.text and on.answer.text
    assert on.answer.sources.count() == 1 and off.answer.sources.isHidden()
    assert "first token" in on.figures.text() and "free, on this computer" in on.figures.text()
    qtbot.waitUntil(lambda: window.job is None)
    assert on.model.isEnabled() and window.history.count() == 1

    # Thumbs on a cell rate its stored answer, as in a chat.
    qtbot.mouseClick(off.answer.like_button, Qt.MouseButton.LeftButton)
    [(asked, liked)] = window.services.chats.liked()
    assert (asked.content, liked.content) == (QUESTION, off.answer.text)

    # A saved set, then the saved comparison reopened into a changed grid.
    window.save_set("leave pair")
    window.set_configs([CellConfig("local:default", retrieval=False)])
    window.open_saved(window.history.item(0).data(Qt.ItemDataRole.UserRole))
    assert [c.config() for c in window.cells] == [r.config for r in comparison.cells]
    assert window.cells[1].answer.text == comparison.cells[1].answer.text
    assert window.cells[1].answer.like_button.isChecked()
    window.use_set("leave pair")
    assert len(window.cells) == 2

    exported = tmp_path / "leave.md"
    assert window.export(exported)
    text = exported.read_text(encoding="utf-8")
    assert text.startswith(f"# {QUESTION}") and "## SmolLM2 135M · built in, no retrieval" in text
    assert "1. leave.md" in text
    assert window.export(tmp_path / "leave.html")
    assert "<section>" in (tmp_path / "leave.html").read_text(encoding="utf-8")


def test_a_run_in_which_no_cell_answered_says_so_and_lists_nothing(  # type: ignore[no-untyped-def]
    qtbot, make_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    compare = CompareWindow(make_services())
    qtbot.addWidget(compare)
    try:
        compare.set_configs(
            [
                CellConfig("openai:gpt-4o-mini", retrieval=False),
                CellConfig("openai:gpt-4o", retrieval=False),
            ]
        )
        compare.question.setText(QUESTION)
        assert compare.run() is not None
        qtbot.waitUntil(lambda: compare.job is None, timeout=30_000)
        text = compare.message.text()
        assert text.startswith("No configuration answered: cell 1") and "nothing was saved" in text
        assert compare.history.count() == 0 and not compare.export_button.isEnabled()
        assert compare.shown is None
    finally:
        compare.close()
        wait_for_jobs()
