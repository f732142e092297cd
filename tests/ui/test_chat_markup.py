"""An answer is a model's Markdown: its bold, lists and code are rendered, and any HTML in
it is shown as the model wrote it, never applied (no live link, no 80 pt text)."""

from __future__ import annotations

from desktop.ui.chat.message import MessageView
from desktop.ui.qt import QTextDocument
from tests.ui.test_library_names import seen
from tests.ui.test_window import plain

ANSWER = (
    "Answer: <a href='file:///etc/passwd'>click</a> "
    "<span style='font-size:80pt'>HUGE</span>\n\n"
    "**Bold** words, `code <b>x</b>` and:\n\n"
    "- an item <img src='file:///etc/hosts'>\n\n"
    "<div style='color: red'>a block</div>\n"
)


def _formats(rich: str) -> list[tuple[str, bool, float, int]]:
    """Each run of ``rich`` as a person sees it: its text, whether it is a link, its font
    size in points (0 when the document's own) and weight."""
    document = QTextDocument()
    document.setHtml(rich)
    runs = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            form = fragment.charFormat()
            runs.append((fragment.text(), form.isAnchor(), form.fontPointSize(), form.fontWeight()))
            it += 1
        block = block.next()
    return runs


def test_html_in_an_answer_shows_as_written_and_its_markdown_is_rendered(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = MessageView("assistant", ANSWER)
    qtbot.addWidget(view)
    shown = plain(view.body.text())
    assert shown.split("\n") == [
        "Answer: <a href='file:///etc/passwd'>click</a> <span style='font-size:80pt'>HUGE</span>",
        "Bold words, code <b>x</b> and:",
        "an item <img src='file:///etc/hosts'>",
        "<div style='color: red'>a block</div>",
    ]
    runs = _formats(view.body.text())
    assert not any(link for _, link, _, _ in runs)  # nothing to click, nothing opened
    assert all(size < 20 for _, _, size, _ in runs)  # no 80 pt text
    # The Markdown still renders: "Bold" is bold, and only it.
    bold = [text for text, _, _, weight in runs if weight >= 700]
    assert bold == ["Bold"]
    assert view.text == ANSWER  # Copy gives the answer as the model wrote it


def test_a_notice_under_an_answer_shows_its_words_as_written(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = MessageView("assistant", "At noon.")
    qtbot.addWidget(view)
    # A provider's words, quoted in the notice of a dropped connection.
    view.set_notice("The server said <b>busy</b> <a href='file:///etc'>retry</a>.")
    label = view.notice
    assert seen(label.text(), label.textFormat()) == (
        "⚠ The server said <b>busy</b> <a href='file:///etc'>retry</a>."
    )
