"""The cited passage and the cited page inside Folio, offscreen, on real ingested citations.

Highlights are checked as Qt paints them: the character formats of the shown document, and
the PDF view's search results on the cited page.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.core.library.citation import Citation
from desktop.ui.chat.message import MessageView
from desktop.ui.chat.passage import PassageDialog
from desktop.ui.qt import QGuiApplication, QLabel, QMessageBox, Qt, QUrl
from desktop.ui.viewer.context_view import ContextView
from desktop.ui.viewer.highlight import PASSAGE_BACKGROUND, WORD_BACKGROUND
from desktop.ui.viewer.locate import locate, pdf_phrases, question_words
from desktop.ui.viewer.open_file import open_or_offer
from desktop.ui.viewer.passage_text import whole_tables, without_permalinks
from desktop.ui.viewer.pdf_page import PdfPage
from desktop.ui.viewer.window import SourceViewer
from tests.corpus import write_pdf
from tests.ui.highlights import highlighted
from tests.ui.test_window import plain

MAINT_GUIDE = Path(__file__).resolve().parents[2] / "bench/eval/corpus/maint-guide"
FEES_QUESTION = "What is the monthly fee of the Premium plan?"
TOPICS = (
    "telescope mirrors", "tide tables", "beekeeping hives", "glacier surveys", "violin varnish",
    "sourdough starters", "railway signals", "orchid potting", "lighthouse lamps",
    "chess openings", "volcano sensors", "kite fabrics", "coral nurseries", "clock escapements",
    "falconry gloves", "paper marbling", "canal locks", "cheese caves", "meteor showers",
    "bonsai wiring", "loom shuttles", "salt marshes", "organ pipes", "sundial gnomons",
)  # fmt: skip


def _prose(topic: str) -> str:
    return (
        f"This part of the handbook covers {topic}. Volunteers who look after {topic} keep "
        f"a logbook, check the equipment each week and report damage to the coordinator. "
        f"Older notes on {topic} are archived in the basement reading room."
    )


def _sphinx_page() -> str:
    """A page as documentation generators write it: a "¶" permalink after every heading
    and caption, the fees in a table deep in the page."""

    def section(anchor: str, title: str, body: str) -> str:
        link = f'<a class="headerlink" href="#{anchor}" title="Permalink to this heading">¶</a>'
        return f'<section id="{anchor}"><h2>{title}{link}</h2>{body}</section>'

    before = [section(f"s{i}", t.title(), f"<p>{_prose(t)}</p>") for i, t in enumerate(TOPICS)]
    fees = section(
        "fees",
        "Monthly fees",
        '<table><caption>Fees per plan<a class="headerlink" href="#t1">¶</a></caption>'
        "<tr><th>Plan</th><th>Monthly fee</th></tr>"
        "<tr><td>Basic</td><td>10 euros</td></tr><tr><td>Premium</td><td>25 euros</td></tr>"
        "</table><p>The Premium plan's monthly fee includes the archive pass.</p>",
    )
    after = [
        section(f"e{i}", t.title(), f"<p>{_prose(t)} Again.</p>") for i, t in enumerate(TOPICS)
    ]
    body = "".join([*before, fees, *after])
    return f"<html><head><title>Handbook</title></head><body><h1>Handbook</h1>{body}</body></html>"


def _markdown_page() -> str:
    sections = [f"## {t.title()}\n\n{_prose(t)}\n" for t in TOPICS]
    fees = (
        "## Monthly fees\n\n"
        "| Plan | Monthly fee |\n|------|-------------|\n| Basic | 10 euros |\n"
        "| Premium | 25 euros |\n\n"
        "The **Premium** plan's monthly fee includes the `archive` pass.\n"
    )
    return "---\ntitle: Handbook\n---\n# Handbook\n\n" + "\n".join([*sections, fees, *sections])


@pytest.fixture
def library(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The services with an HTML page and a Markdown file of the same handbook indexed."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "handbook.html").write_text(_sphinx_page(), encoding="utf-8")
    (folder / "handbook.md").write_text(_markdown_page(), encoding="utf-8")
    assert services.ingestor.ingest([folder]).added == 2
    return services


def cited(services, question: str, file_name: str) -> Citation:  # type: ignore[no-untyped-def]
    """The best passage of ``file_name`` for ``question``, as a chat would cite it."""
    found = services.retriever.search(question, k=10)
    return next(c for c in found if c.file_name == file_name)


def assert_only_question_words_highlighted(document, question: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every run painted with the word highlight is a question word, and every question word
    in the shown text is painted: returns the runs."""
    runs = highlighted(document, WORD_BACKGROUND)
    words = question_words(question)
    assert runs and all(run.casefold() in words for run in runs), runs
    shown = document.toPlainText()
    every = [w for w in re.findall(r"\w+", shown) if w.casefold() in words]
    assert len(runs) == len(every), (runs, every)
    return runs


def on_screen(viewer: SourceViewer, qtbot) -> SourceViewer:  # type: ignore[no-untyped-def]
    qtbot.addWidget(viewer)
    viewer.show()
    return viewer


def words(text: str) -> str:
    return " ".join(text.split()).casefold()


# -- the passage on its own ----------------------------------------------------------------


def _pdf_opened_from_an_answer(qtbot, text: str, citations: list, question: str):  # type: ignore[no-untyped-def,type-arg]
    """The viewer double-clicking an answer's first source opens, and its PDF page, once
    it has found the passage there: (SourceViewer, PdfPage)."""
    answer = MessageView("assistant", text)
    qtbot.addWidget(answer)
    answer.set_sources(citations, question)
    answer.show()
    answer.sources.itemActivated.emit(answer.sources.item(0))
    viewer = answer.findChild(SourceViewer)
    assert viewer is not None and viewer.isVisible()
    pdf = viewer.content
    assert isinstance(pdf, PdfPage)
    qtbot.waitUntil(lambda: pdf.view.currentSearchResultIndex() >= 0, timeout=30_000)
    return viewer, pdf


def test_the_passage_view_highlights_the_questions_words_and_nothing_else(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.html")
    dialog = PassageDialog(citation, FEES_QUESTION)
    qtbot.addWidget(dialog)
    runs = assert_only_question_words_highlighted(dialog.browser.document(), FEES_QUESTION)
    assert {"monthly", "fee", "premium"} <= {run.casefold() for run in runs}
    assert "the" not in {run.casefold() for run in runs}  # it only holds the question together


def test_a_passage_from_an_html_table_and_headings_shows_no_permalink_marks(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.html")
    assert "¶" in citation.text  # what the library holds: the page's permalinks
    dialog = PassageDialog(citation, FEES_QUESTION)
    qtbot.addWidget(dialog)
    shown = dialog.browser.document().toPlainText()
    assert "Monthly fees" in shown and "Premium" in shown
    assert "¶" not in shown and "|" not in shown


def test_a_markdown_passage_is_rendered_without_its_markup(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.md")
    assert "| Premium |" in citation.text and "**Premium**" in citation.text
    # The same passage, and one cut from it inside the table (rows without their header).
    cut = replace(citation, text=citation.text[citation.text.index("| Basic") :])
    for passage in (citation, cut):
        dialog = PassageDialog(passage, FEES_QUESTION)
        qtbot.addWidget(dialog)
        shown = dialog.browser.document().toPlainText()
        assert "25 euros" in shown
        for markup in ("|", "**", "`", "---", "##"):
            assert markup not in shown, (markup, shown)
        assert_only_question_words_highlighted(dialog.browser.document(), FEES_QUESTION)


def test_a_path_holding_markup_heads_the_passage_view_as_written(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "<b>rota<br>"
    folder.mkdir()
    path = folder / "<i>shifts<i>.md"
    text = "The night shift starts at ten."
    path.write_text(text, encoding="utf-8")
    dialog = PassageDialog(Citation(str(path), None, 0.5, text, path.name), "When?")
    qtbot.addWidget(dialog)
    [header] = [label for label in dialog.findChildren(QLabel) if str(path) in plain(label.text())]
    assert header.textFormat() == Qt.TextFormat.RichText  # the path bold, its "<b>" shown
    assert plain(header.text()) == f"{path} · score 0.500"


def test_show_in_folio_from_the_passage_view_opens_the_file_at_the_passage(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.html")
    dialog = PassageDialog(citation, FEES_QUESTION)
    qtbot.addWidget(dialog)
    viewer = on_screen(dialog.show_in_folio(), qtbot)
    assert isinstance(viewer.content, ContextView)
    qtbot.waitUntil(lambda: viewer.content.passage is not None, timeout=30_000)


# -- the passage in its file ---------------------------------------------------------------


def test_an_html_passage_is_shown_in_its_page_highlighted_and_in_view(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.html")
    viewer = on_screen(SourceViewer(citation, FEES_QUESTION), qtbot)
    view = viewer.content
    assert isinstance(view, ContextView)
    with qtbot.waitSignal(view.shown, timeout=30_000) as shown:
        pass
    assert shown.args == [""] and not viewer.notice.isVisible()
    document = view.document()
    page = document.toPlainText()
    assert "Clock Escapements" in page and "Sundial Gnomons" in page  # the whole page
    assert "¶" not in page
    # The passage, and only it, is painted: its text with the question's words stronger.
    passage = "".join(
        text
        for text in itertools.chain(
            highlighted(document, PASSAGE_BACKGROUND), highlighted(document, WORD_BACKGROUND)
        )
    )
    assert view.passage is not None
    start, end = view.passage
    assert words(page[start:end]) == words(without_permalinks(citation.text))
    assert len(words(passage).replace(" ", "")) == len(words(page[start:end]).replace(" ", ""))
    words_in_passage = highlighted(document, WORD_BACKGROUND)
    assert {"premium", "monthly"} <= {w.casefold() for w in words_in_passage}
    # Scrolled to: the page is long and the passage's first line is on screen.
    qtbot.waitUntil(lambda: view.verticalScrollBar().value() > 0)
    cursor = view.textCursor()
    cursor.setPosition(start)
    assert view.viewport().rect().contains(view.cursorRect(cursor).center())


def test_a_markdown_passage_is_shown_in_its_file_rendered_and_highlighted(qtbot, library) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.md")
    viewer = on_screen(SourceViewer(citation, FEES_QUESTION), qtbot)
    view = viewer.content
    assert isinstance(view, ContextView)
    qtbot.waitUntil(lambda: view.passage is not None, timeout=30_000)
    page = view.document().toPlainText()
    assert "|" not in page and "**" not in page and "title: Handbook" not in page
    start, end = view.passage
    assert "Premium" in page[start:end] and "25 euros" in page[start:end]
    assert highlighted(view.document(), PASSAGE_BACKGROUND)
    marked = {w.casefold() for w in highlighted(view.document(), WORD_BACKGROUND)}
    assert {"premium", "monthly", "fee"} <= marked


def test_a_file_changed_since_indexing_shows_the_passage_where_its_words_are_now(  # type: ignore[no-untyped-def]
    qtbot, library
) -> None:
    citation = cited(library, FEES_QUESTION, "handbook.md")
    path = Path(citation.path)
    path.write_text(path.read_text().replace("| 10 euros |", "| 12 euros |"))
    viewer = on_screen(SourceViewer(citation, FEES_QUESTION), qtbot)
    with qtbot.waitSignal(viewer.content.shown, timeout=30_000) as shown:
        pass
    assert "changed since Folio indexed it" in shown.args[0] and viewer.notice.isVisible()
    start, end = viewer.content.passage
    assert "12 euros" in viewer.content.document().toPlainText()[start:end]


def test_a_pdf_citation_opens_at_its_page_with_the_passage_highlighted(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    services.ingestor.ingest([MAINT_GUIDE])
    question = "How do I set up the dquilt alias for quilt?"
    citations = services.retriever.search(question, k=3)
    citation = citations[0]
    assert citation.file_name == "maint-guide.en.pdf" and citation.page and citation.page > 1
    # Double-clicking the source in the answer opens it in Folio, not in another app.
    viewer, pdf = _pdf_opened_from_an_answer(qtbot, "Use an alias.", citations, question)
    page = citation.page - 1
    assert pdf.view.pageNavigator().currentPage() == page
    # A phrase of the passage is what the page is searched for, and it is found there.
    phrase = pdf.search.searchString()
    assert len(phrase.split()) >= 3 and words(phrase) in words(citation.text)
    results = pdf.search.resultsOnPage(page)
    assert len(results) > 0
    current = pdf.search.resultAtIndex(pdf.view.currentSearchResultIndex())
    assert current.page() == page
    rectangles = current.rectangles()
    found = pdf.document.getSelection(
        page, rectangles[0].topLeft(), rectangles[-1].bottomRight()
    ).text()
    assert words(phrase) in words(found)
    assert not viewer.notice.isVisible()


def test_a_pdf_page_without_the_passage_is_still_shown_with_a_notice(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = MAINT_GUIDE / "maint-guide.en.pdf"
    citation = Citation(
        str(pdf), 5, 1.0, "words that are on no page of this guide at all", pdf.name
    )
    viewer = on_screen(SourceViewer(citation, "no such words"), qtbot)
    with qtbot.waitSignal(viewer.content.shown, timeout=30_000) as shown:
        pass
    assert "not found on page 5" in shown.args[0] and viewer.notice.isVisible()
    qtbot.waitUntil(lambda: viewer.content.view.pageNavigator().currentPage() == 4)


def test_a_file_gone_or_damaged_is_named_with_what_to_do(qtbot, library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.html")
    Path(citation.path).unlink()
    viewer = on_screen(SourceViewer(citation, FEES_QUESTION), qtbot)
    with qtbot.waitSignal(viewer.content.failed, timeout=30_000) as failed:
        pass
    assert citation.path in failed.args[0] and "sync the library" in failed.args[0]
    assert viewer.notice.isVisible()
    assert viewer.content.toPlainText() == ""  # said once, in the notice
    missing_pdf = Citation(str(tmp_path / "gone.pdf"), 2, 1.0, "text", "gone.pdf")
    viewer = on_screen(SourceViewer(missing_pdf, FEES_QUESTION), qtbot)
    with qtbot.waitSignal(viewer.content.failed, timeout=30_000) as failed:
        pass
    assert "gone.pdf" in failed.args[0] and "sync the library" in failed.args[0]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this file was cut short")
    damaged = Citation(str(broken), 1, 1.0, "text", broken.name)
    viewer = on_screen(SourceViewer(damaged, FEES_QUESTION), qtbot)
    with qtbot.waitSignal(viewer.content.failed, timeout=30_000) as failed:
        pass
    assert "broken.pdf" in failed.args[0] and "damaged" in failed.args[0]
    assert "Open in default app" in failed.args[0]


def test_a_pdf_whose_name_is_not_utf8_opens_at_the_cited_page(
    qtbot, services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    pages = [
        "The cafeteria opens at eight.\nSoup is served on Mondays.",
        "The archive pass costs twelve euros a month.\nIt opens the basement reading room.",
        "Visitors sign in at reception.\nBadges are returned at the door.",
    ]
    made = write_pdf(folder / "made.pdf", pages)
    # Latin-1 "café.pdf": a name Linux holds but no UTF-8 string spells.
    raw = os.path.join(os.fsencode(folder), b"caf\xe9.pdf")
    os.rename(made, raw)
    assert services.ingestor.ingest([folder]).added == 1
    question = "How much does the archive pass cost?"
    citation = services.retriever.search(question, k=1)[0]
    assert citation.file_name == "caf\\xe9.pdf" and citation.page == 2
    viewer, pdf = _pdf_opened_from_an_answer(qtbot, "Twelve euros.", [citation], question)
    assert pdf.document.pageCount() == 3
    qtbot.waitUntil(lambda: pdf.view.pageNavigator().currentPage() == 1)
    assert "archive pass" in pdf.document.getAllText(1).text()
    assert not viewer.notice.isVisible()
    assert viewer.windowTitle() == "caf\\xe9.pdf — page 2"
    assert "caf\\xe9.pdf" in viewer.heading.text()


def test_a_file_in_an_unavailable_folder_says_to_reconnect_the_folder_not_to_sync(  # type: ignore[no-untyped-def]
    qtbot, window, library, tmp_path: Path
) -> None:
    citation = cited(library, FEES_QUESTION, "handbook.md")
    chat = library.chats.create("Fees")
    library.chats.add_message(chat.id, "user", FEES_QUESTION)
    library.chats.add_message(chat.id, "assistant", "25 euros.", citations=[citation])
    folder = tmp_path / "docs"
    folder.rename(tmp_path / "docs, renamed")  # as a drive unplugged or a share unmounted
    assert library.library.unavailable_folders() == [str(folder)]
    window.chat.show_chat(chat.id)
    answer = window.chat.message_views()[-1]
    answer.sources.itemActivated.emit(answer.sources.item(0))
    viewer = answer.findChild(SourceViewer)
    assert viewer is not None
    with qtbot.waitSignal(viewer.content.failed, timeout=30_000) as failed:
        pass
    said = failed.args[0]
    assert citation.path in said and "cannot be reached now" in said
    assert f"library folder {folder} is unavailable" in said
    assert "remove the folder from the library" in said and "sync" not in said
    assert viewer.notice.isVisible() and "cannot be reached now" in viewer.notice.text()
    # A PDF of the folder says the same.
    manual = Citation(str(folder / "manual.pdf"), 3, 1.0, "text", "manual.pdf")
    pdf_viewer = on_screen(
        SourceViewer(manual, FEES_QUESTION, unreachable=window.chat.unreachable_folder), qtbot
    )
    with qtbot.waitSignal(pdf_viewer.content.failed, timeout=30_000) as failed:
        pass
    assert "manual.pdf cannot be reached now" in failed.args[0]
    assert "sync" not in failed.args[0]


def test_reading_a_big_file_never_holds_the_window(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paragraphs = [f"Paragraph {n}: {_prose(TOPICS[n % len(TOPICS)])}" for n in range(8000)]
    passage = "Paragraph 7900: " + _prose(TOPICS[7900 % len(TOPICS)])
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(paragraphs), encoding="utf-8")
    assert big.stat().st_size > 2_000_000
    # Scrolling to a place Qt has not laid out yet lays out everything before it at once
    # (0.6 s for this file, the window frozen meanwhile). What is checked is the cause, not
    # a time: when the view scrolls, the passage's lines are laid out already.
    laid_out_when_scrolled: list[int] = []
    scroll = ContextView.scroll_to_passage

    def scroll_and_note(view: ContextView) -> None:
        assert view.passage is not None
        block = view.document().findBlock(view.passage[1])
        laid_out_when_scrolled.append(block.layout().lineCount())
        scroll(view)

    monkeypatch.setattr(ContextView, "scroll_to_passage", scroll_and_note)
    viewer = on_screen(
        SourceViewer(Citation(str(big), None, 1.0, passage, big.name), "logbook"), qtbot
    )
    # Read, laid out and scrolled to the passage near its end.
    qtbot.waitUntil(lambda: viewer.content.verticalScrollBar().value() > 0, timeout=60_000)
    assert laid_out_when_scrolled and laid_out_when_scrolled[0] > 0, laid_out_when_scrolled


# -- the system's app, and when there is none -----------------------------------------------


@pytest.fixture
def no_launcher() -> None:
    """Qt's offscreen platform opens no URL (``openUrl`` returns False), like a computer with
    no app for the file: the failure is real, not simulated."""
    if QGuiApplication.platformName() != "offscreen":
        pytest.skip("on a real desktop Open file would launch an app")


def test_open_file_without_an_app_names_the_file_and_offers_folios_view(  # type: ignore[no-untyped-def]
    qtbot, library, no_launcher
) -> None:
    citation = cited(library, FEES_QUESTION, "handbook.html")
    answer = MessageView("assistant", "25 euros.")
    qtbot.addWidget(answer)
    answer.set_sources([citation], FEES_QUESTION)
    answer.show()
    answer.open_button.click()
    box = answer.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    assert "handbook.html" in box.text() and "no app" in box.text()
    offer = next(b for b in box.buttons() if b.text() == "Show in Folio")
    offer.click()
    viewer = answer.findChild(SourceViewer)
    assert viewer is not None and viewer.isVisible()
    qtbot.waitUntil(lambda: viewer.content.passage is not None, timeout=30_000)


def test_the_viewer_says_when_no_app_opens_the_file(qtbot, library, no_launcher) -> None:  # type: ignore[no-untyped-def]
    citation = cited(library, FEES_QUESTION, "handbook.md")
    viewer = on_screen(SourceViewer(citation, FEES_QUESTION), qtbot)
    viewer.open_button.click()
    assert viewer.notice.isVisible()
    assert "handbook.md" in viewer.notice.text() and "shown here" in viewer.notice.text()


def test_an_app_that_opens_the_file_gets_it_at_the_cited_page(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened: list[QUrl] = []

    def opener(url: QUrl) -> bool:
        opened.append(url)
        return True

    citation = Citation(str(tmp_path / "a b.pdf"), 7, 1.0, "text", "a b.pdf")
    assert open_or_offer(citation, "question", None, opener) is None
    assert opened[0].toLocalFile() == str(tmp_path / "a b.pdf")
    assert opened[0].fragment() == "page=7"


# -- the text rules the views share ---------------------------------------------------------


def test_permalink_marks_go_but_a_pilcrow_in_a_sentence_stays() -> None:
    text = "Fee schedule¶\n¶ Refunds\nSee ¶ 4 of the contract."
    assert without_permalinks(text) == "Fee schedule\nRefunds\nSee ¶ 4 of the contract."


def test_table_rows_cut_from_their_header_become_a_table_again() -> None:
    cut = "| Basic | 10 euros |\n| Premium | 25 euros |\n\nAfter --- the table."
    assert whole_tables(cut).split("\n")[:5] == [
        "",
        "| | |",
        "| --- | --- |",
        "| Basic | 10 euros |",
        "| Premium | 25 euros |",
    ]
    whole = "| Plan | Fee |\n|---|---|\n| Basic | 10 |\n\nText\n---\n"
    assert whole_tables(whole) == whole


def test_a_passage_is_found_whatever_its_spacing() -> None:
    text = "Intro.\n\nPlan     Monthly fee\nBasic    10 euros\nPremium  25 euros\n\nEnd."
    start, end = locate(text, "Plan Monthly fee Basic 10 euros\nPremium 25 euros") or (0, 0)
    assert text[start:end] == "Plan     Monthly fee\nBasic    10 euros\nPremium  25 euros"
    changed = locate(text, "Preface that is gone now. Plan Monthly fee Basic 10 euros")
    assert changed is not None and "Basic" in text[changed[0] : changed[1]]
    assert locate(text, "nothing of this is there") is None


def test_a_pdf_that_lost_the_cited_page_says_so_and_to_sync(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Cited from page 200 when the file was indexed; the file has fewer pages now.
    pdf = MAINT_GUIDE / "maint-guide.en.pdf"
    citation = Citation(str(pdf), 200, 1.0, "a passage of a page that is gone", pdf.name)
    viewer = on_screen(SourceViewer(citation, "gone"), qtbot)
    with qtbot.waitSignal(viewer.content.shown, timeout=30_000) as shown:
        pass
    pages = viewer.content.document.pageCount()
    assert shown.args[0] == (
        f"maint-guide.en.pdf has {pages} pages now, and the passage was cited from page 200: "
        "the file changed since Folio indexed it. Sync the library to index it again. Its last "
        "page is shown."
    )
    assert viewer.notice.isVisible()
    qtbot.waitUntil(lambda: viewer.content.view.pageNavigator().currentPage() == pages - 1)


def test_pdf_phrases_come_from_one_line_the_questions_words_first() -> None:
    passage = (
        "Debian New Maintainers' Guide 13 / 57\n"
        "alias dquilt=quilt --quiltrc=${HOME}/.quiltrc-dpkg is the alias for quilt\n"
        "short\n"
    )
    phrases = pdf_phrases(passage, "Which alias for quilt?")
    line = "alias dquilt=quilt --quiltrc=${HOME}/.quiltrc-dpkg is the alias for quilt"
    # The short line whole, its last word outlined too; then without that word, which
    # the reader may have joined across a line break, for when the first is not found.
    assert phrases[:2] == [line, line.removesuffix(" quilt")]
    assert all("\n" not in p for p in phrases) and "short" not in phrases
    # A long line: its first words only, and no second phrase of them.
    long_line = " ".join(f"word{i}" for i in range(20))
    assert pdf_phrases(long_line, "") == [" ".join(f"word{i}" for i in range(8))]
