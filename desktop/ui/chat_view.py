"""The chat pane: a conversation, streamed answers with their sources, and the question box."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from desktop.app import Services
from desktop.core.chat import Answer
from desktop.core.prompts import source_label
from desktop.core.retrieval import Citation
from desktop.ui.qt import (
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
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
    url = QUrl.fromLocalFile(citation.path)
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


class MessageView(QFrame):
    """One turn: the text (Markdown) and, for answers, sources and actions."""

    regenerate = Signal()

    def __init__(self, role: str, text: str, meta: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.query = ""
        self.citations: list[Citation] = []
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.sources)
        self.actions = QHBoxLayout()
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
                self.actions.addWidget(button)
            self.actions.addStretch(1)
            layout.addLayout(self.actions)
        self.text = ""
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self.text = text
        self.body.setText(text or "…")

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
    """A chat: its messages, the question box, Send and Stop."""

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
        self._render = QTimer(self, singleShot=True, interval=RENDER_INTERVAL_MS)
        self._render.timeout.connect(self._flush)
        self.last_answer: Answer | None = None

        self.header = QLabel()
        self.header.setAccessibleName("Chat header")
        self.messages = QVBoxLayout()
        self.messages.addStretch(1)
        inner = QWidget()
        inner.setLayout(self.messages)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(inner)
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
        layout.addWidget(self.scroll, 1)
        layout.addLayout(row)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.send)
        QShortcut(QKeySequence("Esc"), self, activated=self.stop)
        self.update_header()

    @property
    def busy(self) -> bool:
        return self._job is not None

    def update_header(self) -> None:
        title = self.services.chats.get(self.chat_id).title if self.chat_id else "New chat"
        self.header.setText(
            f"<b>{html.escape(title)}</b> — {html.escape(self.choice().describe())}"
        )

    def _clear(self) -> None:
        while self.messages.count() > 1:
            item = self.messages.takeAt(0)
            if item.widget():
                item.widget().deleteLater()

    def message_views(self) -> list[MessageView]:
        views = []
        for i in range(self.messages.count()):
            widget = self.messages.itemAt(i).widget()
            if isinstance(widget, MessageView):
                views.append(widget)
        return views

    def _append(self, view: MessageView) -> MessageView:
        self.messages.insertWidget(self.messages.count() - 1, view)
        view.regenerate.connect(self.regenerate)
        QTimer.singleShot(0, self._scroll_to_end)
        return view

    def _scroll_to_end(self) -> None:
        bar = self.scroll.verticalScrollBar()
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
        self.update_header()

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

        def work(job: Job) -> Answer:
            return self.services.chat.ask(
                question,
                model=choice.model,
                persona=choice.persona,
                retrieval=choice.retrieval,
                chat_id=chat_id,
                on_token=job.stream,
                cancel=job.cancel,
            )

        job = Job(work, self)
        job.token.connect(self._on_token)
        job.succeeded.connect(lambda answer: self._on_answer(answer, question))
        job.failed.connect(self._on_failed)
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

    def _on_answer(self, answer: Answer, question: str) -> None:
        self.last_answer = answer
        if self._streaming is not None:
            stopped = "\n\n*(stopped)*" if answer.interrupted else ""
            self._streaming.set_text(answer.text + stopped)
            self._streaming.set_sources(answer.citations, question)
        if self.chat_id != answer.chat_id:
            self.chat_id = answer.chat_id
            self.chat_changed.emit(answer.chat_id)
        self.update_header()

    def _on_failed(self, message: str) -> None:
        if self._streaming is not None:
            self._streaming.set_text(f"*{message}*")
        self.error.emit(message)

    def _on_finished(self) -> None:
        self._render.stop()
        answered = self._job is not None and self._job.result is not None
        self._job = None
        self._streaming = None
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if answered:
            # Announced only now, once the pane is ready for the next question.
            self.answer_finished.emit(self.last_answer)
