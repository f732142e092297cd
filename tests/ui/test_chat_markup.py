"""An answer is a model's Markdown: its bold, lists and code are rendered, and any HTML in
it is shown as the model wrote it, never applied (no live link, no 80 pt text)."""

from __future__ import annotations

from collections.abc import Iterator

from desktop.core.chat.support import Support
from desktop.core.library.citation import Citation
from desktop.ui.chat.links import open_answer_link
from desktop.ui.chat.message import MessageView
from desktop.ui.qt import (
    QDesktopServices,
    QGuiApplication,
    QMessageBox,
    QTextDocument,
    QTextFragment,
    QUrl,
)
from tests.ui.test_library_names import seen
from tests.ui.test_window import plain

ANSWER = (
    "Answer: <a href='file:///etc/passwd'>click</a> "
    "<span style='font-size:80pt'>HUGE</span>\n\n"
    "**Bold** words, `code <b>x</b>` and:\n\n"
    "- an item <img src='file:///etc/hosts'>\n\n"
    "<div style='color: red'>a block</div>\n"
)


def _fragments(rich: str) -> Iterator[QTextFragment]:
    """Each run of ``rich`` as Qt lays it out, in order."""
    document = QTextDocument()
    document.setHtml(rich)
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def _formats(rich: str) -> list[tuple[str, bool, float, int]]:
    """Each run of ``rich`` as a person sees it: its text, whether it is a link, its font
    size in points (0 when the document's own) and weight."""
    return [
        (
            f.text(),
            f.charFormat().isAnchor(),
            f.charFormat().fontPointSize(),
            f.charFormat().fontWeight(),
        )
        for f in _fragments(rich)
    ]


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


def _anchors(rich: str) -> list[str]:
    """The link targets in ``rich``, in order."""
    return [f.charFormat().anchorHref() for f in _fragments(rich) if f.charFormat().isAnchor()]


def test_only_web_and_email_links_in_an_answer_are_opened(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[str] = []

    # The system's launcher: what it is handed is what a click would open.
    def launcher(url: QUrl) -> bool:
        opened.append(url.toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", launcher)
    answer = (
        "See [the guide](https://example.org/guide), [write](mailto:team@example.org), "
        "[passwords](file:///etc/passwd) and [a shell](ssh://host.example.org)."
    )
    view = MessageView("assistant", answer)
    qtbot.addWidget(view)
    links = _anchors(view.body.text())
    assert links == [
        "https://example.org/guide",
        "mailto:team@example.org",
        "file:///etc/passwd",
        "ssh://host.example.org",
    ]
    for link in links:  # as a click on each hands it to the label's handler
        view.body.linkActivated.emit(link)
    assert opened == ["https://example.org/guide", "mailto:team@example.org"]
    boxes = [box for box in view.findChildren(QMessageBox) if box.isVisible()]
    assert sorted(box.text() for box in boxes) == [
        "Folio did not open the link file:///etc/passwd",
        "Folio did not open the link ssh://host.example.org",
    ]
    assert all(
        "opens only web (http, https) and e-mail links" in b.informativeText() for b in boxes
    )
    copy = next(b for b in boxes[0].buttons() if b.text() == "Copy link")
    copy.click()
    assert QGuiApplication.clipboard().text() == boxes[0].text().rsplit(" ", 1)[1]


def test_a_web_link_nothing_opens_is_said_with_the_link(qtbot) -> None:  # type: ignore[no-untyped-def]
    # Qt's launcher returns False when no app takes the URL (no browser set).
    box = open_answer_link("https://example.org/<b>x</b>", None, opener=lambda url: False)
    assert box is not None
    qtbot.addWidget(box)
    assert seen(box.text(), box.textFormat()) == (
        "Folio did not open the link https://example.org/<b>x</b>"
    )
    assert "no app set to open web or e-mail links" in box.informativeText()


def test_a_source_s_tooltips_show_its_path_as_written(qtbot) -> None:  # type: ignore[no-untyped-def]
    path = "/docs/<b>notes</b> & <i>plans</i>.txt"
    citation = Citation(
        path, None, 0.9, "The gecko sleeps by day.", "<b>notes</b> & <i>plans</i>.txt"
    )
    view = MessageView("assistant", "By day.")
    qtbot.addWidget(view)
    view.set_sources([citation], "When does the gecko sleep?")
    view.set_support(Support("The gecko sleeps by day.", citation))
    # A tooltip is rich text whenever Qt takes it for HTML: each must read as the path.
    assert seen(view.sources.item(0).toolTip()) == f"{path}\nThe gecko sleeps by day."
    assert seen(view.support.toolTip()) == path


def test_a_supporting_sentence_from_markdown_shows_without_its_emphasis_marks(qtbot) -> None:  # type: ignore[no-untyped-def]
    sentence = "Visitors park in **lot C** behind the __old__ library; run dh_testroot."
    citation = Citation("/d/visit.md", None, 0.9, sentence, "visit.md")
    view = MessageView("assistant", "Lot C.")
    qtbot.addWidget(view)
    view.set_support(Support(sentence, citation))
    assert seen(view.support.text(), view.support.textFormat()) == (
        "From the sources: “Visitors park in lot C behind the old library; run dh_testroot.”"
        " — visit.md"
    )
