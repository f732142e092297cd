"""One turn of a chat as the pane shows it: text, sources, actions, rating, token usage."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from desktop.core.chat.prompts import source_label
from desktop.core.chat.support import Support
from desktop.core.library.citation import Citation
from desktop.core.paths import resources_dir
from desktop.ui.chat.links import open_answer_link
from desktop.ui.chat.passage import PassageDialog
from desktop.ui.flow import FlowLayout
from desktop.ui.focus import FocusRing
from desktop.ui.qt import (
    QFrame,
    QGuiApplication,
    QIcon,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    Qt,
    QTextCursor,
    QTextDocument,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import (
    controls_escaped,
    line_shown,
    lines_shown,
    name_shown,
    tooltip_shown,
)
from desktop.ui.viewer.file_text import UnreachableFolder
from desktop.ui.viewer.open_file import open_or_offer, show_in_folio
from desktop.ui.viewer.window import SourceViewer

# How much of a passage a source's tooltip shows: a paragraph, not a page.
TOOLTIP_PASSAGE_CHARS = 400

# Markdown's strong emphasis ("**lot C**", "__lot C__"): a supporting sentence is quoted
# from a Markdown file's source, and the markers would show as written.
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def usage_text(usage: Mapping[str, object] | None) -> str:
    """Token counts as one short line, e.g. ``812 tokens in · 96 out (estimated)``."""
    if not usage:
        return ""
    text = f"{usage.get('prompt_tokens', 0)} tokens in · {usage.get('completion_tokens', 0)} out"
    return text + (" (estimated)" if usage.get("estimated") else "")


# GitHub's Markdown (tables, strikethrough, task lists), with any HTML in it read as text:
# an answer is written by a model, which can copy markup from a passage or be led to write
# it, and Qt would apply it (a live ``file://`` link, 80 pt text, an image loaded).
ANSWER_MARKDOWN = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


def wrapping_html(markdown: str) -> str:
    """``markdown`` as rich text in which every line wraps, code blocks' too; HTML in it
    shows as written (``ANSWER_MARKDOWN``).

    Qt keeps each line of a code block whole, so one long command in an answer would
    widen it past a narrow window, and the whole answer with it.
    """
    document = QTextDocument()
    document.setMarkdown(markdown, ANSWER_MARKDOWN)
    cursor = QTextCursor(document)
    block = document.begin()
    while block.isValid():
        form = block.blockFormat()
        if form.nonBreakableLines():
            form.setNonBreakableLines(False)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(form)
        block = block.next()
    return document.toHtml()


def failure_html(message: str) -> str:
    """Why an answer failed, as rich text that shows ``message`` as written, in italics:
    its lines kept and its controls escaped (``lines_shown``). An error names personas,
    models and files, and a name such as "<b>x</b>" or "a_b_c" is read as written, not
    applied as HTML or Markdown."""
    lines = "<br>".join(html.escape(line) for line in lines_shown(message).split("\n"))
    return f"<p><i>{lines}</i></p>"


def _icon(name: str) -> QIcon:
    """An icon of Folio's own (``resources/icons/NAME.svg``): emoji fonts are not everywhere."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


class MessageView(QFrame):
    """One turn: the text (Markdown) and, for answers, sources, actions and a rating.

    An answer can be rated once it is stored (``message_id`` set): thumbs up marks it as
    one to learn from (Fine-tuning → From liked answers), thumbs down as one to leave out.
    ``unreachable``, when the chat sets it, tells the viewer whether a missing cited file's
    library folder is unavailable (``file_text.gone_message``).
    """

    regenerate = Signal()
    continue_answer = Signal()  # "Continue" on an answer cut at the token limit
    rated = Signal(object)  # 1, -1 or None (rating taken back)

    def __init__(self, role: str, text: str, meta: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.query = ""
        self._state = "done"
        self._waiting = False  # another answer of the chat is being made (set_waiting)
        self.citations: list[Citation] = []
        self.message_id: int | None = None
        self.rating: int | None = None
        self.unreachable: UnreachableFolder | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.header = QLabel(f"<b>{'You' if role == 'user' else 'Folio'}</b> {html.escape(meta)}")
        self.header.setTextFormat(Qt.TextFormat.RichText)  # ``meta`` is escaped
        self.header.setWordWrap(True)
        self.body = QLabel()
        self.body.setAccessibleName("Answer" if role == "assistant" else "Question")
        # An answer is Markdown, made to wrap (set_text); a question is shown as typed.
        self.body.setTextFormat(
            Qt.TextFormat.PlainText if role == "user" else Qt.TextFormat.RichText
        )
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        # A link the model wrote opens only if it is a web or e-mail one (``links``).
        self.body.linkActivated.connect(lambda link: open_answer_link(link, self))
        self.sources = QListWidget()
        self.sources.setAccessibleName("Sources")
        self.sources.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sources.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sources.itemActivated.connect(lambda item: self._open(item))
        self.sources.setVisible(False)
        # The sources' sentence that best answers the question, chosen without the model.
        self.support = QLabel()
        self.support.setAccessibleName("Supporting sentence")
        self.support.setWordWrap(True)
        self.support.setTextFormat(Qt.TextFormat.RichText)
        self.support.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.support.linkActivated.connect(lambda _link: self.show_support())
        self.support.setVisible(False)
        self.supported_by: Support | None = None
        self.cut_off = QLabel("The answer reached its length limit and was cut here.")
        self.cut_off.setAccessibleName("Cut off")
        self.cut_off.setWordWrap(True)
        self.cut_off.setStyleSheet("font-style: italic")
        self.cut_off.setVisible(False)
        self.notice = QLabel()
        self.notice.setAccessibleName("Notice")
        # A notice can quote a server's or a file's words: read as written, never as HTML.
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("font-style: italic")
        self.notice.setVisible(False)
        self.usage = QLabel()
        self.usage.setAccessibleName("Token usage")
        self.usage.setStyleSheet("color: gray; font-size: small")
        self.usage.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.cut_off)
        layout.addWidget(self.support)
        layout.addWidget(self.notice)
        layout.addWidget(self.sources)
        layout.addWidget(self.usage)
        # Wraps onto a second row in a narrow window rather than widening the answer.
        self.action_bar = FlowLayout()
        if role == "assistant":
            self.copy_button = QPushButton("Copy")
            self.copy_button.clicked.connect(self.copy)
            self.passage_button = QPushButton("Show passage")
            self.passage_button.clicked.connect(self.show_passage)
            self.open_button = QPushButton("Open file")
            self.open_button.setToolTip(
                "The file in the system's app for it (double-click a source to see it in Folio)"
            )
            self.open_button.clicked.connect(
                lambda: self._open(self.sources.currentItem(), in_app=False)
            )
            self.regenerate_button = QPushButton("Regenerate")
            self.regenerate_button.clicked.connect(self.regenerate)
            self.continue_button = QPushButton("Continue")
            self.continue_button.setToolTip("Ask the same model to go on from where it stopped")
            self.continue_button.clicked.connect(self.continue_answer)
            self.continue_button.setVisible(False)
            for button in (
                self.copy_button,
                self.passage_button,
                self.open_button,
                self.regenerate_button,
                self.continue_button,
            ):
                self.action_bar.addWidget(button)
            self.like_button = QPushButton(_icon("thumb-up"), "")
            self.like_button.setAccessibleName("Good answer")
            self.like_button.setToolTip(
                "Good answer: keep it as an example to fine-tune a model on "
                "(Chat → Fine-tuning… → From liked answers). Click again to take it back."
            )
            self.dislike_button = QPushButton(_icon("thumb-down"), "")
            self.dislike_button.setAccessibleName("Bad answer")
            self.dislike_button.setToolTip(
                "Bad answer: never use it for fine-tuning. Click again to take it back."
            )
            for button, value in ((self.like_button, 1), (self.dislike_button, -1)):
                button.setCheckable(True)
                button.setEnabled(False)  # until the answer is stored
                button.clicked.connect(lambda checked, v=value: self._rate(v if checked else None))
                self.action_bar.addWidget(button)
            layout.addLayout(self.action_bar)
            self.focus_ring = FocusRing(
                self,
                [
                    self.sources,
                    self.copy_button,
                    self.passage_button,
                    self.open_button,
                    self.regenerate_button,
                    self.continue_button,
                    self.like_button,
                    self.dislike_button,
                ],
            )
        self.text = ""
        self.set_text(text)

    def set_state(self, state: str) -> None:
        """``"streaming"`` (actions wait for the whole answer), ``"failed"`` (nothing to
        show a passage of, open or rate; Regenerate asks again) or ``"done"``."""
        if self.role != "assistant":
            return
        done = state == "done"
        self._state = state
        self.copy_button.setEnabled(state != "streaming")
        self.regenerate_button.setEnabled(state != "streaming" and not self._waiting)
        self.continue_button.setEnabled(not self._waiting)
        for button in (self.passage_button, self.open_button):
            button.setEnabled(done and bool(self.citations))
        if not done:
            for button in (self.like_button, self.dislike_button):
                button.setEnabled(False)
            self.continue_button.setVisible(False)

    def set_waiting(self, waiting: bool) -> None:
        """Regenerate and Continue wait (disabled) while ``waiting``: the chat is making
        another answer, and asks one question at a time."""
        if self.role != "assistant":
            return
        self._waiting = waiting
        self.regenerate_button.setEnabled(self._state != "streaming" and not waiting)
        self.continue_button.setEnabled(not waiting)

    def set_support(self, support: Support | None) -> None:
        """Show the sentence of the sources that best answers the question, with its file
        and page; a click shows it in Folio's viewer."""
        self.supported_by = support
        if support is None:
            self.support.setVisible(False)
            return
        c = support.citation
        name = name_shown(c.file_name)
        where = f"{name}, page {c.page}" if c.page is not None else name
        sentence = html.escape(line_shown(_STRONG.sub(r"\2", support.sentence)))
        self.support.setText(
            f"<span style='color: gray'>From the sources:</span> “{sentence}”"
            f" — <a href='#support'>{html.escape(where)}</a>"
        )
        self.support.setToolTip(tooltip_shown(name_shown(c.path)))
        self.support.setVisible(True)

    def show_support(self) -> SourceViewer | None:
        """The supporting sentence's passage in Folio's viewer, the sentence highlighted."""
        if self.supported_by is None:
            return None
        return show_in_folio(
            self.supported_by.citation, self.supported_by.sentence, self, self.unreachable
        )

    def set_cut_off(self, cut_off: bool) -> None:
        """Mark an answer that stopped at the token limit, and offer Continue."""
        self.cut_off.setVisible(cut_off)
        if self.role == "assistant":
            self.continue_button.setVisible(cut_off)

    def set_stored(self, message_id: int, rating: int | None) -> None:
        """The answer is stored as ``message_id``: it can be rated from now on."""
        self.message_id = message_id
        self.show_rating(rating)
        for button in (self.like_button, self.dislike_button):
            button.setEnabled(True)

    def show_rating(self, rating: int | None) -> None:
        self.rating = rating
        self.like_button.setChecked(rating == 1)
        self.dislike_button.setChecked(rating == -1)

    def _rate(self, rating: int | None) -> None:
        # Shown at once; the pane stores it and puts the old one back if that fails.
        self.show_rating(rating)
        self.rated.emit(rating)

    def set_text(self, text: str) -> None:
        """Show ``text`` (kept as it is in ``text``, for Copy): a question as typed, its
        lines kept; an answer as Markdown. Controls in either are written as escapes
        (``shown``): an answer can copy a right-to-left override from a passage, and one
        would show the rest of its line backwards."""
        self.text = text
        if self.role == "user":
            self.body.setText(lines_shown(text))
        else:
            self.body.setText(wrapping_html(controls_escaped(text or "…")))

    def set_failure(self, message: str) -> None:
        """Show why the answer failed (``message``, as written: ``failure_html``) in place of
        the answer, and its actions as for a failed one (``set_state``); Copy gives the
        message."""
        self.text = message
        self.body.setText(failure_html(message))
        self.set_state("failed")

    def set_notice(self, notice: str | None) -> None:
        """What a person should know about this answer (a dropped connection, trimmed sources)."""
        self.notice.setText(f"⚠ {notice}" if notice else "")
        self.notice.setVisible(bool(notice))

    def set_usage(self, usage: Mapping[str, object] | None) -> None:
        self.usage.setText(usage_text(usage))
        self.usage.setVisible(bool(usage))

    def set_sources(self, citations: list[Citation], query: str) -> None:
        self.citations, self.query = citations, query
        self.sources.clear()
        for number, citation in enumerate(citations, start=1):
            snippet = line_shown(" ".join(citation.text.split())[:140])
            label = name_shown(source_label(number, citation))
            item = QListWidgetItem(f"{label}  ({citation.score:.2f})  {snippet}")
            # The row is cut at the list's width: the tooltip gives the path and more text.
            longer = line_shown(" ".join(citation.text.split())[:TOOLTIP_PASSAGE_CHARS])
            item.setToolTip(tooltip_shown(name_shown(citation.path)) + tooltip_shown(longer))
            self.sources.addItem(item)
        self.sources.setVisible(bool(citations))
        self.sources.setFixedHeight(min(len(citations), 5) * 24 + 6)
        if citations:
            self.sources.setCurrentRow(0)
        for name in ("passage_button", "open_button"):
            if hasattr(self, name):
                getattr(self, name).setEnabled(bool(citations))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)

    def _open(
        self, item: QListWidgetItem | None, in_app: bool = True
    ) -> SourceViewer | QMessageBox | None:
        """The cited file in Folio's viewer at the passage or, ``in_app`` False, in the
        system's app, with Folio's viewer offered when the system has none."""
        if item is None:
            return None
        citation = self.citations[self.sources.row(item)]
        if in_app:
            return show_in_folio(citation, self.query, self, self.unreachable)
        return open_or_offer(citation, self.query, self, unreachable=self.unreachable)

    def show_passage(self) -> PassageDialog | None:
        row = self.sources.currentRow()
        if row < 0 or row >= len(self.citations):
            return None
        dialog = PassageDialog(self.citations[row], self.query, self, self.unreachable)
        dialog.show()
        return dialog
