"""The chat pane: a conversation, streamed answers with their sources, and the question box."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.chat.history import Message
from desktop.core.chat.personas import UnknownPersona
from desktop.core.chat.service import Answer
from desktop.core.errors import ChatError, ConsentRequired, FolioError
from desktop.core.library.catalog import is_under
from desktop.core.library.citation import Citation
from desktop.core.models.ids import LOCAL_FT_PREFIX, is_remote, split_model_id
from desktop.core.models.names import display_name
from desktop.core.models.providers import provider
from desktop.core.names import is_blank, shown_name
from desktop.services import Services
from desktop.ui.chat.message import MessageView
from desktop.ui.chat.model_note import ModelNote
from desktop.ui.dialogs import ask_consent, remember_consent
from desktop.ui.qt import (
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QShortcut,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

RENDER_INTERVAL_MS = 50  # re-render streamed Markdown at most this often
# What "Continue" asks after an answer cut at its token limit (a turn of its own, so the
# person sees what was asked).
CONTINUE_QUESTION = "Continue from where you stopped."
# An answer stopped before its first word is not kept: the question stays, unanswered.
STOPPED_BEFORE_IT_BEGAN = "*(stopped before the answer began)*"
# Where a reopened chat's last question has no answer (stopped before its first word, or the
# model failed): the store cannot tell which, and Regenerate answers it either way.
NOT_ANSWERED = "*(not answered: Regenerate asks for an answer)*"


@dataclass(frozen=True)
class Choice:
    """What the picker and the retrieval switch say for the next question."""

    model: str
    persona: str | None
    retrieval: bool

    def describe(self, name: str | None = None) -> str:
        """What the header says, "<model> as <persona> · retrieval on"; ``name`` is shown in
        place of the model's id when given. The persona's name, and a model's (a GGUF's file
        name), are set apart so their characters cannot reorder the line."""
        model = line_shown(name or self.model)
        who = f"{model} as {line_shown(self.persona)}" if self.persona else model
        return f"{who} · retrieval {'on' if self.retrieval else 'off'}"


def _choice_of(made: Message | None) -> Choice | None:
    """The model, persona and retrieval ``made`` was answered with (None: the picker's)."""
    return Choice(made.model or "", made.persona, made.retrieval) if made else None


def persona_gone(name: str) -> str:
    """What the chat says when ``name``, the persona a question was to be answered in, no
    longer exists (deleted since it was chosen, or since the answer Regenerate asks again
    was made): the name set apart, read as written, and where to choose another."""
    return (
        f'The persona "{line_shown(shown_name(name))}" no longer exists. Choose another '
        "persona in the model picker, then press Regenerate or ask again."
    )


def model_name(model_id: str, services: Services) -> str:
    """``names.display_name`` of ``model_id``, with what the settings and the fine-tuning
    jobs know: the file of a GGUF the person added, the base of a model trained here."""
    base = None
    if model_id.startswith(LOCAL_FT_PREFIX):
        try:
            base = services.local_training.find(model_id).base
        except (FolioError, OSError):  # unknown or unreadable: named without its base
            base = None
    return display_name(model_id, local_files=services.settings.local_models, base=base)


def provider_label(name: str, services: Services) -> str:
    """How the remote provider called ``name`` is shown: ``OpenAI``, or the server's name."""
    try:
        return provider(name, services.settings).label
    except FolioError:  # a server removed since: its name is all there is
        return name


class ChatPane(QWidget):
    """A chat: its messages, the question box, Send and Stop.

    A question that cannot be answered is never lost: it stays in the conversation and goes
    back into the question box. Document text goes to a remote provider only after the person
    has allowed it, once per provider.
    """

    answer_finished = Signal(object)  # Answer
    chat_changed = Signal(str)  # chat id, when a new chat was started by a question
    shown = Signal(object)  # the chat now shown, however it came to be: its id, None for new
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
        self.header.setTextFormat(Qt.TextFormat.RichText)  # the names in it are escaped
        self.header.setAccessibleName("Chat header")
        self.note = ModelNote(services)
        self.messages = QVBoxLayout()
        self.messages.addStretch(1)
        inner = QWidget()
        inner.setLayout(self.messages)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        self.input = QPlainTextEdit()
        self.input.setAccessibleName("Question")
        self.input.setPlaceholderText("Ask about your documents…  (Ctrl+Enter to send)")
        # A question has no use for tab characters: Tab and Shift+Tab move on, so the
        # answers, their sources and actions can be reached from the keyboard.
        self.input.setTabChangesFocus(True)
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
        layout.addWidget(self.note)
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
        """The chat's title and the chosen model's name (its id in the tooltip); the note
        suggesting a better model shows only while the built-in one is chosen."""
        title = self.services.chats.get(self.chat_id).title if self.chat_id else "New chat"
        choice = self.choice()
        where = ""
        if is_remote(choice.model):
            name = split_model_id(choice.model)[0]
            where = f" · ↗ sends to {provider_label(name, self.services)}"
        described = choice.describe(model_name(choice.model, self.services))
        shown = html.escape(line_shown(title))
        self.header.setText(f"<b>{shown}</b> — {html.escape(described + where)}")
        self.header.setToolTip(choice.model)
        self.note.show_for(choice.model)

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

    def unreachable_folder(self, path: str) -> str | None:
        """The library folder holding stored name ``path`` that cannot be reached now
        (unplugged, unmounted, renamed), or None; the viewer asks once a cited file is
        missing, from any thread."""
        unavailable = self.services.library.unavailable_folders()
        return next((folder for folder in unavailable if is_under(path, folder)), None)

    def _append(self, view: MessageView) -> MessageView:
        view.unreachable = self.unreachable_folder
        self.messages.insertWidget(self.messages.count() - 1, view)
        view.regenerate.connect(lambda: self.regenerate(view))
        view.continue_answer.connect(lambda: self.continue_cut_answer(view))
        view.rated.connect(lambda rating: self.rate(view, rating))
        QTimer.singleShot(0, self._scroll_to_end)
        return view

    def _set_waiting(self, waiting: bool) -> None:
        """Every answer shown waits (``MessageView.set_waiting``) while one is being made."""
        for view in self.message_views():
            if view is not self._streaming:
                view.set_waiting(waiting)

    def _scroll_to_end(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())

    def show_chat(self, chat_id: str | None) -> None:
        """Show a stored chat (or an empty new one for ``None``); a last question left
        without an answer is shown with Regenerate beneath it."""
        if self.busy:
            self.stop()
        # The answer still streaming belongs to the chat left: its view goes with _clear,
        # and what is left of its stream must not be written into a deleted view.
        self._streaming = None
        self.chat_id = chat_id
        self._clear()
        last_question = ""
        messages = self.services.chats.messages(chat_id) if chat_id else []
        for message in messages:
            meta = ""
            if message.role == "assistant":
                choice = Choice(message.model or "", message.persona, message.retrieval)
                meta = choice.describe(model_name(choice.model, self.services))
                meta += " · stopped" if message.interrupted else ""
            view = self._append(MessageView(message.role, message.content, meta))
            if message.role == "user":
                last_question = message.content
            else:
                view.set_sources(message.citations, last_question)
                view.set_support(message.support)
                view.set_cut_off(message.cut_off)
                view.set_notice(message.notice)
                view.set_usage(message.usage)
                view.set_state("done")
                view.set_stored(message.id, message.rating)
        if messages and messages[-1].role == "user":
            # An answer's actions stand in for the answer: Regenerate, reached with the
            # mouse or Tab as on any answer, is the way to have the question answered.
            unanswered = self._append(MessageView("assistant", NOT_ANSWERED))
            unanswered.set_state("failed")
            unanswered.copy_button.setEnabled(False)  # there is no answer to copy
        self.update_header()
        self.shown.emit(chat_id)

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
        """Ask what the question box holds; a question with nothing visible in it (spaces,
        zero-width characters) is not sent."""
        question = self.input.toPlainText().strip()
        if is_blank(question) or self.busy:
            return
        self.input.clear()
        self.ask(question)

    def ask(
        self,
        question: str,
        choice: Choice | None = None,
        *,
        sources: list[Citation] | None = None,
        rank_for: str | None = None,
    ) -> None:
        """Ask in the background; tokens stream into a new answer view. ``choice`` (model,
        persona, retrieval) defaults to what the picker and the switch say now; ``sources``
        and ``rank_for`` as ``ChatService.ask`` takes them (a continuation's)."""
        choice = choice or self.choice()
        self._append(MessageView("user", question))
        self._streaming = self._append(
            MessageView("assistant", "", choice.describe(model_name(choice.model, self.services)))
        )
        self._streaming.set_state("streaming")
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
                    sources=sources,
                    rank_for=rank_for,
                )
            except ConsentRequired as exc:
                # Not an error but a question for the person: handed back as a result,
                # since a failed job carries only its message.
                return exc
            except UnknownPersona as exc:
                if is_blank(exc.name):
                    raise
                # Said here, where the persona was chosen: the picker is the way out.
                raise ChatError(persona_gone(exc.name)) from exc

        job = Job(work, self)
        job.token.connect(self._on_token)
        job.succeeded.connect(lambda result: self._on_result(result, question))
        job.failed.connect(lambda message: self._on_failed(message, question, started))
        job.finished.connect(self._on_finished)
        self._job = job
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._set_waiting(True)
        job.start()

    def stop(self) -> None:
        if self._job is not None:
            self._job.cancel.cancel()

    def _turn_of(self, view: MessageView | None) -> tuple[str, Message | None] | None:
        """The question ``view``'s answer replied to and that answer as stored; for an
        answer not stored (it failed) or no view, the chat's last question, with its answer
        if it has one. None for a chat with no question."""
        if self.chat_id is None:
            return None
        messages = self.services.chats.messages(self.chat_id)
        made = next((m for m in messages if view is not None and m.id == view.message_id), None)
        questions = [m for m in messages if m.role == "user" and (made is None or m.id < made.id)]
        if not questions:
            return None
        if made is None:
            answers = [m for m in messages if m.role == "assistant" and m.id > questions[-1].id]
            made = answers[-1] if answers else None
        return questions[-1].content, made

    def regenerate(self, view: MessageView | None = None) -> None:
        """Ask again the question ``view`` answered (the last one without a view), with the
        model, persona and retrieval its answer was made with (the answer's header says
        which); the picker's when it has no answer."""
        turn = None if self.busy else self._turn_of(view)
        if turn is not None:
            question, made = turn
            self.ask(question, _choice_of(made))

    def continue_cut_answer(self, view: MessageView | None = None) -> None:
        """Ask the model of ``view``'s answer, cut at its token limit, to go on: with the
        same sources (no new search), their sentences chosen for the question it answered."""
        turn = None if self.busy else self._turn_of(view)
        if turn is not None:
            question, made = turn
            sources = made.citations if made is not None and made.retrieval else None
            self.ask(CONTINUE_QUESTION, _choice_of(made), sources=sources, rank_for=question)

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
        if self._streaming is not None and answer.interrupted and answer.message_id is None:
            # Stopped before its first token: nothing was kept, and Regenerate asks again.
            self._streaming.set_text(STOPPED_BEFORE_IT_BEGAN)
            self._streaming.set_notice(answer.notice)
            self._streaming.set_state("failed")
        elif self._streaming is not None:
            # A dropped connection comes with a notice; a press on Stop does not.
            mark = "interrupted" if answer.notice else "stopped"
            suffix = f"\n\n*({mark})*" if answer.interrupted else ""
            self._streaming.set_text(answer.text + suffix)
            self._streaming.set_sources(answer.citations, question)
            self._streaming.set_support(answer.support)
            self._streaming.set_cut_off(answer.cut_off)
            self._streaming.set_notice(answer.notice)
            self._streaming.set_usage(answer.usage)
            self._streaming.set_state("done")
            if answer.message_id is not None:
                self._streaming.set_stored(answer.message_id, None)
        if answer.chat_id is not None and self._streaming is not None:
            # Always from ask, unless the person opened another chat meanwhile: then the
            # pane stays on the chat they chose.
            self._enter_chat(answer.chat_id)

    def _enter_chat(self, chat_id: str) -> None:
        """Make ``chat_id`` the pane's chat (a new one is announced to the chat list)."""
        if self.chat_id != chat_id:
            self.chat_id = chat_id
            self.chat_changed.emit(chat_id)
            self.shown.emit(chat_id)
        self.update_header()

    def _on_failed(self, message: str, question: str, started: list[str]) -> None:
        if self._streaming is not None:
            self._streaming.set_failure(message)
        if started and self._streaming is not None:
            # The question was stored before the answer failed: sending it again belongs
            # in the same chat, not a new one (unless another chat was opened meanwhile).
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
        self._set_waiting(False)
        if answered:
            # Announced only now, once the pane is ready for the next question.
            self.answer_finished.emit(self.last_answer)
        elif self._consent_for is not None:
            question, name = self._consent_for
            self._consent_for = None
            self.ask_consent(question, name)

    def ask_consent(self, question: str, name: str) -> QMessageBox:
        """Ask whether ``name`` may receive document text; Allow asks ``question`` again."""
        label = provider_label(name, self.services)
        self.consent_box = ask_consent(
            self,
            "Send documents to a remote model?",
            f"Send your question and passages of your documents to {label}?",
            f"With retrieval on, Folio sends your question and the passages it finds in your "
            f"documents to {label} to answer it; they leave this computer. Folio asks once "
            f"for {label}. To keep your documents here, Cancel and turn Retrieval off or "
            "choose a local model.",
            lambda allowed: self._on_consent(allowed, question, name),
        )
        return self.consent_box

    def _on_consent(self, allowed: bool, question: str, name: str) -> None:
        self.consent_box = None
        if not allowed:
            self._restore_question(question)
            return
        problem = remember_consent(self.services, [name])
        if problem is not None:
            self._restore_question(question)
            self.error.emit(problem)
            return
        self.ask(question)
