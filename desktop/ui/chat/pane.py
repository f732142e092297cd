"""The chat pane: a conversation, streamed answers with their sources, and the question box."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from desktop.core.chat.prompts import source_label
from desktop.core.chat.service import Answer
from desktop.core.errors import ConsentRequired, FolioError
from desktop.core.library.citation import Citation
from desktop.core.library.filenames import file_url
from desktop.core.models.ids import is_remote, split_model_id
from desktop.core.models.providers import provider
from desktop.core.paths import resources_dir
from desktop.services import Services
from desktop.ui.qt import (
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QIcon,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QShortcut,
    Qt,
    QTextBrowser,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

RENDER_INTERVAL_MS = 50  # re-render streamed Markdown at most this often


@dataclass(frozen=True)
class Choice:
    """What the picker and the retrieval switch say for the next question."""

    model: str
    persona: str | None
    retrieval: bool

    def describe(self) -> str:
        who = f"{self.model} as {self.persona}" if self.persona else self.model
        return f"{who} · retrieval {'on' if self.retrieval else 'off'}"


def usage_text(usage: Mapping[str, object] | None) -> str:
    """Token counts as one short line, e.g. ``812 tokens in · 96 out (estimated)``."""
    if not usage:
        return ""
    text = f"{usage.get('prompt_tokens', 0)} tokens in · {usage.get('completion_tokens', 0)} out"
    return text + (" (estimated)" if usage.get("estimated") else "")


def provider_label(name: str, services: Services) -> str:
    """How the remote provider called ``name`` is shown: ``OpenAI``, or the server's name."""
    try:
        return provider(name, services.settings).label
    except FolioError:  # a server removed since: its name is all there is
        return name


def highlight(text: str, query: str) -> str:
    """``text`` as HTML with the query's words (3+ letters) marked."""
    words = sorted({w for w in re.findall(r"\w{3,}", query)}, key=len, reverse=True)
    escaped = html.escape(text)
    if not words:
        return escaped
    pattern = re.compile("|".join(re.escape(html.escape(w)) for w in words), re.IGNORECASE)
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)


def open_source(citation: Citation) -> bool:
    """Open the cited file in the system's viewer (at the page, where the viewer allows)."""
    # From the file's own bytes, so a name that is not UTF-8 opens too.
    url = QUrl.fromEncoded(file_url(citation.path).encode("ascii"))
    if citation.page is not None and citation.path.lower().endswith(".pdf"):
        url.setFragment(f"page={citation.page}")
    return QDesktopServices.openUrl(url)


class PassageDialog(QDialog):
    """The exact retrieved passage, with the question's words highlighted."""

    def __init__(self, citation: Citation, query: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Passage from {citation.file_name}")
        self.resize(640, 420)
        where = f" — page {citation.page}" if citation.page is not None else ""
        self.browser_html = (
            f"<p><b>{html.escape(citation.path)}</b>{where} · score {citation.score:.3f}</p>"
            f"<p style='white-space: pre-wrap'>{highlight(citation.text, query)}</p>"
        )
        self.browser = QTextBrowser()
        self.browser.setHtml(self.browser_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


def _icon(name: str) -> QIcon:
    """An icon of Folio's own (``resources/icons/NAME.svg``): emoji fonts are not everywhere."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


class MessageView(QFrame):
    """One turn: the text (Markdown) and, for answers, sources, actions and a rating.

    An answer can be rated once it is stored (``message_id`` set): thumbs up marks it as
    one to learn from (Fine-tuning → From liked answers), thumbs down as one to leave out.
    """

    regenerate = Signal()
    rated = Signal(object)  # 1, -1 or None (rating taken back)

    def __init__(self, role: str, text: str, meta: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.query = ""
        self.citations: list[Citation] = []
        self.message_id: int | None = None
        self.rating: int | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.header = QLabel(f"<b>{'You' if role == 'user' else 'Folio'}</b> {html.escape(meta)}")
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.MarkdownText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.body.setOpenExternalLinks(True)
        self.sources = QListWidget()
        self.sources.setAccessibleName("Sources")
        self.sources.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sources.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sources.itemActivated.connect(lambda item: self._open(item))
        self.sources.setVisible(False)
        self.notice = QLabel()
        self.notice.setAccessibleName("Notice")
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
        layout.addWidget(self.notice)
        layout.addWidget(self.sources)
        layout.addWidget(self.usage)
        self.action_bar = QHBoxLayout()
        if role == "assistant":
            self.copy_button = QPushButton("Copy")
            self.copy_button.clicked.connect(self.copy)
            self.passage_button = QPushButton("Show passage")
            self.passage_button.clicked.connect(self.show_passage)
            self.open_button = QPushButton("Open file")
            self.open_button.clicked.connect(lambda: self._open(self.sources.currentItem()))
            self.regenerate_button = QPushButton("Regenerate")
            self.regenerate_button.clicked.connect(self.regenerate)
            for button in (
                self.copy_button,
                self.passage_button,
                self.open_button,
                self.regenerate_button,
            ):
                self.action_bar.addWidget(button)
            self.action_bar.addStretch(1)
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
        self.text = ""
        self.set_text(text)

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
        self.text = text
        self.body.setText(text or "…")

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
            snippet = " ".join(citation.text.split())[:140]
            item = QListWidgetItem(
                f"{source_label(number, citation)}  ({citation.score:.2f})  {snippet}"
            )
            item.setToolTip(citation.path)
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

    def _open(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            open_source(self.citations[self.sources.row(item)])

    def show_passage(self) -> PassageDialog | None:
        row = self.sources.currentRow()
        if row < 0 or row >= len(self.citations):
            return None
        dialog = PassageDialog(self.citations[row], self.query, self)
        dialog.show()
        return dialog


class ChatPane(QWidget):
    """A chat: its messages, the question box, Send and Stop.

    A question that cannot be answered is never lost: it stays in the conversation and goes
    back into the question box. Document text goes to a remote provider only after the person
    has allowed it, once per provider.
    """

    answer_finished = Signal(object)  # Answer
    chat_changed = Signal(str)  # chat id, when a new chat was started by a question
    error = Signal(str)

    def __init__(
        self, services: Services, choice: Callable[[], Choice], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.choice = choice
        self.chat_id: str | None = None
        self._job: Job | None = None
        self._streaming: MessageView | None = None
        self._pending = ""
        self._consent_for: tuple[str, str] | None = None  # (question, provider) to ask about
        self.consent_box: QMessageBox | None = None
        self._render = QTimer(self, singleShot=True, interval=RENDER_INTERVAL_MS)
        self._render.timeout.connect(self._flush)
        self.last_answer: Answer | None = None

        self.header = QLabel()
        self.header.setAccessibleName("Chat header")
        self.messages = QVBoxLayout()
        self.messages.addStretch(1)
        inner = QWidget()
        inner.setLayout(self.messages)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Ask about your documents…  (Ctrl+Enter to send)")
        self.input.setFixedHeight(80)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        column = QVBoxLayout()
        column.addWidget(self.send_button)
        column.addWidget(self.stop_button)
        row.addLayout(column)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll_area, 1)
        layout.addLayout(row)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.send)
        QShortcut(QKeySequence("Esc"), self).activated.connect(self.stop)
        self.update_header()

    @property
    def busy(self) -> bool:
        return self._job is not None

    def update_header(self) -> None:
        title = self.services.chats.get(self.chat_id).title if self.chat_id else "New chat"
        choice = self.choice()
        where = ""
        if is_remote(choice.model):
            name = split_model_id(choice.model)[0]
            where = f" · ↗ sends to {provider_label(name, self.services)}"
        self.header.setText(
            f"<b>{html.escape(title)}</b> — {html.escape(choice.describe() + where)}"
        )

    def _clear(self) -> None:
        while self.messages.count() > 1:
            item = self.messages.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def message_views(self) -> list[MessageView]:
        views = []
        for i in range(self.messages.count()):
            item = self.messages.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, MessageView):
                views.append(widget)
        return views

    def _append(self, view: MessageView) -> MessageView:
        self.messages.insertWidget(self.messages.count() - 1, view)
        view.regenerate.connect(self.regenerate)
        view.rated.connect(lambda rating: self.rate(view, rating))
        QTimer.singleShot(0, self._scroll_to_end)
        return view

    def _scroll_to_end(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())

    def show_chat(self, chat_id: str | None) -> None:
        """Show a stored chat (or an empty new one for ``None``)."""
        if self.busy:
            self.stop()
        self.chat_id = chat_id
        self._clear()
        last_question = ""
        if chat_id:
            for message in self.services.chats.messages(chat_id):
                meta = ""
                if message.role == "assistant":
                    choice = Choice(message.model or "", message.persona, message.retrieval)
                    meta = choice.describe() + (" · stopped" if message.interrupted else "")
                view = self._append(MessageView(message.role, message.content, meta))
                if message.role == "user":
                    last_question = message.content
                else:
                    view.set_sources(message.citations, last_question)
                    view.set_usage(message.usage)
                    view.set_stored(message.id, message.rating)
        self.update_header()

    def rate(self, view: MessageView, rating: int | None) -> bool:
        """Store ``view``'s rating; on failure show the one stored before and say why."""
        if view.message_id is None:
            return False
        try:
            self.services.chats.rate(view.message_id, rating)
        except FolioError as exc:
            stored = {m.id: m.rating for m in self.services.chats.messages(self.chat_id or "")}
            view.show_rating(stored.get(view.message_id))
            self.error.emit(str(exc))
            return False
        return True

    def send(self) -> None:
        question = self.input.toPlainText().strip()
        if not question or self.busy:
            return
        self.input.clear()
        self.ask(question)

    def ask(self, question: str) -> None:
        """Ask in the background; tokens stream into a new answer view."""
        choice = self.choice()
        self._append(MessageView("user", question))
        self._streaming = self._append(MessageView("assistant", "", choice.describe()))
        self._pending = ""
        chat_id = self.chat_id
        started: list[str] = []  # the chat the question went into, even if the answer fails

        def work(job: Job) -> Answer | ConsentRequired:
            try:
                return self.services.chat.ask(
                    question,
                    model=choice.model,
                    persona=choice.persona,
                    retrieval=choice.retrieval,
                    chat_id=chat_id,
                    on_token=job.stream,
                    cancel=job.cancel,
                    on_chat=started.append,
                )
            except ConsentRequired as exc:
                # Not an error but a question for the person: handed back as a result,
                # since a failed job carries only its message.
                return exc

        job = Job(work, self)
        job.token.connect(self._on_token)
        job.succeeded.connect(lambda result: self._on_result(result, question))
        job.failed.connect(lambda message: self._on_failed(message, question, started))
        job.finished.connect(self._on_finished)
        self._job = job
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        job.start()

    def stop(self) -> None:
        if self._job is not None:
            self._job.cancel.cancel()

    def regenerate(self) -> None:
        """Ask the last question again, with the current choice of model."""
        if self.busy or self.chat_id is None:
            return
        questions = [m for m in self.services.chats.messages(self.chat_id) if m.role == "user"]
        if questions:
            self.ask(questions[-1].content)

    def _on_token(self, text: str) -> None:
        self._pending += text
        if not self._render.isActive():
            self._render.start()

    def _flush(self) -> None:
        if self._streaming is not None:
            self._streaming.set_text(self._pending)
            self._scroll_to_end()

    def _on_result(self, result: Answer | ConsentRequired, question: str) -> None:
        if isinstance(result, ConsentRequired):
            # Nothing was sent or stored: take the turn back out and ask once the pane is idle.
            for view in self.message_views()[-2:]:
                self.messages.removeWidget(view)
                view.deleteLater()
            self._streaming = None
            self._consent_for = (question, result.provider)
        else:
            self._on_answer(result, question)

    def _on_answer(self, answer: Answer, question: str) -> None:
        self.last_answer = answer
        if self._streaming is not None:
            # A dropped connection comes with a notice; a press on Stop does not.
            mark = "interrupted" if answer.notice else "stopped"
            suffix = f"\n\n*({mark})*" if answer.interrupted else ""
            self._streaming.set_text(answer.text + suffix)
            self._streaming.set_sources(answer.citations, question)
            self._streaming.set_notice(answer.notice)
            self._streaming.set_usage(answer.usage)
            if answer.message_id is not None:
                self._streaming.set_stored(answer.message_id, None)
        self._enter_chat(answer.chat_id)

    def _enter_chat(self, chat_id: str) -> None:
        """Make ``chat_id`` the pane's chat (a new one is announced to the chat list)."""
        if self.chat_id != chat_id:
            self.chat_id = chat_id
            self.chat_changed.emit(chat_id)
        self.update_header()

    def _on_failed(self, message: str, question: str, started: list[str]) -> None:
        if self._streaming is not None:
            self._streaming.set_text(f"*{message}*")
        if started:
            # The question was stored before the answer failed: sending it again belongs
            # in the same chat, not a new one.
            self._enter_chat(started[0])
        self._restore_question(question)
        self.error.emit(message)

    def _restore_question(self, question: str) -> None:
        """Put ``question`` back in the box, to send again, unless something new is there."""
        if question and not self.input.toPlainText().strip():
            self.input.setPlainText(question)
            self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def _on_finished(self) -> None:
        self._render.stop()
        answered = self._job is not None and isinstance(self._job.result, Answer)
        self._job = None
        self._streaming = None
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if answered:
            # Announced only now, once the pane is ready for the next question.
            self.answer_finished.emit(self.last_answer)
        elif self._consent_for is not None:
            question, name = self._consent_for
            self._consent_for = None
            self.ask_consent(question, name)

    def ask_consent(self, question: str, name: str) -> QMessageBox:
        """Ask whether ``name`` may receive document text; Allow asks ``question`` again.

        The box is window-modal but opened without a nested event loop, like error messages.
        """
        label = provider_label(name, self.services)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Send documents to a remote model?",
            f"Send your question and passages of your documents to {label}?",
            parent=self,
        )
        box.setInformativeText(
            f"With retrieval on, Folio sends your question and the passages it finds in your "
            f"documents to {label} to answer it; they leave this computer. Folio asks once "
            f"for {label}. To keep your documents here, Cancel and turn Retrieval off or "
            "choose a local model."
        )
        allow = box.addButton("Allow", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _: self._on_consent(box.clickedButton() is allow, question, name)
        )
        self.consent_box = box
        box.open()
        return box

    def _on_consent(self, allowed: bool, question: str, name: str) -> None:
        self.consent_box = None
        if not allowed:
            self._restore_question(question)
            return
        try:
            self.services.allow_remote(name)
        except (FolioError, OSError) as exc:
            self._restore_question(question)
            self.error.emit(f"Could not save the permission for {name}: {exc}")
            return
        self.ask(question)
