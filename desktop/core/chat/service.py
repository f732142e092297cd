"""Chats: asking a model, with or without retrieval, and keeping the conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, cast

from llama_index.core.base.llms.types import ChatMessage

from desktop.core.chat.focus import KEEP_SENTENCES, SentenceRanker, focus, own_text, supporting
from desktop.core.chat.followup import condense, with_earlier
from desktop.core.chat.history import ChatGone, ChatStore
from desktop.core.chat.loops import LoopGuard, keep_before, loop_start
from desktop.core.chat.personas import Persona
from desktop.core.chat.prompts import DEFAULT_SYSTEM_PROMPT, fit_to_context
from desktop.core.chat.support import Support
from desktop.core.errors import (
    Cancelled,
    ChatError,
    ConsentRequired,
    ContextTooLong,
    ModelError,
    ProviderError,
    StreamDropped,
)
from desktop.core.library.citation import Citation
from desktop.core.library.search import Retriever
from desktop.core.tasks import CancelToken

# What to do, in the window's words; ``cli_notice`` gives folio-cli's.
ADD_A_FOLDER = "Add a folder to the Library to answer from your documents."
SYNC_THE_LIBRARY = "Sync the Library to index the missing ones again."
EMPTY_LIBRARY_NOTICE = (
    f"Your library is empty, so nothing was searched: this answer is the model's own. "
    f"{ADD_A_FOLDER}"
)
NO_MATCH_NOTICE = "No passage in your library matched, so this answer is the model's own."
PARTIAL_STORE_NOTICE = (
    "These sources may leave some of your library out: the vector store holds only {held} of "
    "its {listed} chunks. " + SYNC_THE_LIBRARY
)
_CLI_DIRECTIONS = {
    ADD_A_FOLDER: "Add a folder with `folio-cli ingest FOLDER` to answer from your documents.",
    SYNC_THE_LIBRARY: "Run `folio-cli sync` to index the missing ones again.",
}


def cli_notice(notice: str) -> str:
    """An answer's ``notice`` with what to do said as folio-cli does it."""
    for window, cli in _CLI_DIRECTIONS.items():
        notice = notice.replace(window, cli)
    return notice


# Earlier turns sent with a question: enough for follow-ups, small enough for a small model.
HISTORY_MESSAGES = 6
LOOP_NOTICE = "The answer started repeating itself, so it was ended there."
CHAT_DELETED = "The chat was deleted while it was answering, so its answer was dropped."


@dataclass
class Answer:
    """The result of ``ChatService.ask``."""

    text: str
    citations: list[Citation]
    model: str
    persona: str | None
    retrieval: bool
    chat_id: str | None  # None for an answer kept in no chat (``ChatService.answer``)
    interrupted: bool = False
    prompt: list[ChatMessage] = field(default_factory=list)
    usage: Usage | None = None
    notice: str | None = None  # what a person should know about this answer
    message_id: int | None = None  # the stored answer, to rate it
    support: Support | None = None  # the sources' sentence that best answers the question
    searched: str | None = None  # what was searched, when not the question (a follow-up)
    cut_off: bool = False  # stopped at the answer token limit, mid-sentence maybe

    def to_json(self) -> dict[str, Any]:
        """``ask``'s JSON shape (README, "folio-cli"), with ``support``, ``searched`` and
        ``cut_off`` added."""
        return {
            "answer": self.text,
            "sources": [c.to_json() for c in self.citations],
            "model": self.model,
            "persona": self.persona,
            "retrieval": self.retrieval,
            "chat_id": self.chat_id,
            "interrupted": self.interrupted,
            "usage": self.usage,
            "notice": self.notice,
            "support": self.support.to_json() if self.support else None,
            "searched": self.searched,
            "cut_off": self.cut_off,
        }


class Usage(TypedDict, total=False):
    """Tokens an answer took, as OpenAI's API reports them (``usage`` of a completion);
    ``estimated`` is 1 where Folio counted them itself because the server did not say."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: int


@dataclass
class _Reply:
    """What has arrived of an answer so far: kept whatever stops the stream."""

    text: str = ""
    interrupted: bool = False
    usage: Usage | None = None
    notice: str | None = None  # what went wrong on the way, for the person
    cut_off: bool = False  # the model stopped at its token limit
    stopped: bool = False  # ended by the cancel token (Stop, Ctrl+C), not by the stream


@dataclass
class _Turn:
    """One question's choices: model, persona, chat and the history sent with it."""

    question: str
    model_id: str
    llm: ChatModel
    persona: Persona | None
    chat_id: str | None  # None when the answer is kept in no chat
    history: list[ChatMessage]
    searched: str | None = None  # the text searched, when not the question (a follow-up)
    rank_for: str | None = None  # what the sources' sentences answer, when not the question

    @property
    def persona_name(self) -> str | None:
        return self.persona.name if self.persona else None

    @property
    def system(self) -> str | None:
        return self.persona.prompt if self.persona else None

    @property
    def budget(self) -> int:
        """Prompt tokens the model takes, leaving room for the answer."""
        return int(self.llm.metadata.context_window - self.llm.metadata.num_output)


@dataclass
class _Prompt:
    """The messages sent, the sources among them, and whether some had to be left out."""

    messages: list[ChatMessage]
    kept: list[Citation] | None
    trimmed: bool
    support: Support | None = None
    searched: str | None = None
    notice: str | None = None  # about the sources, e.g. that none were found
    quotable: str = ""  # the kept sources' own text, as the model reads it

    def replace(self, other: _Prompt) -> None:
        self.messages, self.kept, self.quotable = other.messages, other.kept, other.quotable


class ChatModel(Protocol):
    """What a chat needs from an LLM: LlamaIndex's streaming chat, and a token count."""

    def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
        """LlamaIndex's streaming chat: responses whose ``delta`` is the new text."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's own tokenizer."""

    @property
    def metadata(self) -> Any:
        """LlamaIndex's ``LLMMetadata``: ``context_window`` and ``num_output`` in tokens."""


class ChatService:
    """Answers questions: retrieval (optional), persona, model, streaming, history."""

    def __init__(
        self,
        store: ChatStore,
        retriever: Callable[[], Retriever],
        models: Callable[[str], ChatModel],
        default_model: str,
        needs_consent: Callable[[str], str | None] = lambda model_id: None,
        ranker: SentenceRanker | None = None,
    ) -> None:
        """``ranker`` scores the retrieved passages' sentences: with it, the model reads the
        sentences that bear on the question (``focused_context``) and each answer carries
        its supporting sentence; without it, whole passages and no support."""
        self.store = store
        # Factories: a chat with retrieval off needs neither the vector store nor embeddings.
        self._retriever = retriever
        self._models = models
        self.default_model = default_model
        # The remote provider that has not yet agreed to receive document text, if any.
        self._needs_consent = needs_consent
        self.ranker = ranker
        # Measured on bench/answer_facts.py: see docs/PERFORMANCE.md, "Answers".
        self.focused_context = True
        self.focus_sentences = KEEP_SENTENCES
        self.condense_followups = True

    def ask(
        self,
        question: str,
        *,
        model: str | None = None,
        persona: str | None = None,
        retrieval: bool = True,
        chat_id: str | None = None,
        top_k: int | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
        on_chat: Callable[[str], None] | None = None,
        sources: list[Citation] | None = None,
        rank_for: str | None = None,
    ) -> Answer:
        """Answer ``question``, streaming tokens to ``on_token``; the turn is saved.

        The steps: choose the model and persona, retrieve (when on), build the prompt,
        stream the answer, store it. ``on_chat`` learns the chat's id as soon as the
        question is stored, so a caller whose answer then fails can send again into the
        same chat. ``sources``, when given with retrieval on, are this question's search
        results already found (a comparison searches once for all its cells). ``rank_for``
        is the question the sources' sentences are chosen for when it is not ``question``:
        "Continue" goes on with the sources and the question of the answer it continues.

        An answer stopped (``cancel``) before its first token is not stored: the question
        stays unanswered, and ``message_id`` of the result is None.

        Raises:
            ChatError: the question is empty, or the chat or persona does not exist.
            Cancelled: the chat was deleted while the question was being answered; the
                answer is dropped (``CHAT_DELETED``).
            ConsentRequired: retrieval would send document text to a remote provider that
                has not agreed to receive it.
            ProviderError: the model failed (a dropped stream is not raised: the partial
                answer is kept, marked interrupted).
        """
        turn = self._choose(question, model, persona, retrieval, chat_id)
        assert turn.chat_id is not None  # _choose makes a chat when none is given
        turn.rank_for = rank_for
        try:
            searched = self._searched(turn, retrieval, sources)
            turn.searched = searched if searched != turn.question else None
            found = self._sources(searched, retrieval, sources, top_k)
            prompt = self._prompt(turn, found)
        except BaseException:
            # Refused before the question was stored (a search that failed, a question too
            # long for the model): a chat made for it would be left empty in the list.
            if chat_id is None:
                self.store.delete(turn.chat_id)
            raise
        prompt.notice = self._sources_notice(found)
        try:
            self.store.add_message(
                turn.chat_id,
                "user",
                question,
                model=turn.model_id,
                persona=turn.persona_name,
                retrieval=retrieval,
            )
        except ChatGone as exc:
            raise Cancelled(CHAT_DELETED) from exc
        if on_chat is not None:
            on_chat(turn.chat_id)
        reply = self._stream(turn, prompt, on_token, cancel)
        return self._store(turn, prompt, reply, retrieval)

    def answer(
        self,
        question: str,
        *,
        model: str | None = None,
        persona: str | None = None,
        retrieval: bool = True,
        sources: list[Citation] | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Answer:
        """Answer ``question`` as ``ask`` does, as a first turn, but keep it in no chat.

        For an evaluation run, whose hundreds of answers are kept with the run, not in the
        Chat list. ``chat_id`` and ``message_id`` of the result are None. Raises as ``ask``.
        """
        turn = self._choose(question, model, persona, retrieval, None, keep=False)
        found = self._sources(question, retrieval, sources, None)
        prompt = self._prompt(turn, found)
        prompt.notice = self._sources_notice(found)
        reply = self._stream(turn, prompt, on_token, cancel)
        return self._result(turn, prompt, reply, retrieval, None)

    def consent_needed(self, model_id: str) -> str | None:
        """The remote provider of ``model_id`` that has not agreed to receive passages of
        the library, or None (a local model, or one that agreed)."""
        return self._needs_consent(model_id)

    def search(self, question: str, top_k: int | None = None) -> list[Citation]:
        """The sources ``ask`` would retrieve for ``question`` (hybrid search, ``top_k``
        passages or the settings' number); StoreError/LibraryError as the retriever raises."""
        return self._retriever().search(question, k=top_k)

    def _sources(
        self, question: str, retrieval: bool, sources: list[Citation] | None, top_k: int | None
    ) -> list[Citation] | None:
        """The passages sent with the question: None with retrieval off, else those given
        (already searched) or a new search."""
        if not retrieval:
            return None
        return list(sources) if sources is not None else self.search(question, top_k)

    def _choose(
        self,
        question: str,
        model: str | None,
        persona: str | None,
        retrieval: bool,
        chat_id: str | None,
        *,
        keep: bool = True,
    ) -> _Turn:
        """The model, persona, chat and history this question is answered with; with
        ``keep`` False no chat is made and there is no history."""
        if not question.strip():
            raise ChatError("The question is empty.")
        model_id = model or self.default_model
        if retrieval:
            provider = self._needs_consent(model_id)
            if provider is not None:
                raise ConsentRequired(provider)
        chosen: Persona | None = self.store.personas.get(persona) if persona else None
        llm = self._models(model_id)
        if not keep:
            return _Turn(question, model_id, llm, chosen, None, [])
        chat = self.store.get(chat_id) if chat_id else self.store.create(question)
        history = [
            ChatMessage(role=m.role, content=m.content)
            for m in self.store.messages(chat.id)[-HISTORY_MESSAGES:]
        ]
        return _Turn(question, model_id, llm, chosen, chat.id, history)

    def _sources_notice(self, found: list[Citation] | None) -> str | None:
        """What a person should know about the sources of an answer with retrieval on:
        that none were found (the library is empty, or nothing in it matched), or that the
        store lacks some of the library's chunks (its files were lost or damaged); None
        otherwise."""
        if found is None:
            return None
        retriever = self._retriever()
        if not found:
            empty = retriever.library.indexed_chunks() == 0
            return EMPTY_LIBRARY_NOTICE if empty else NO_MATCH_NOTICE
        missing = retriever.missing()
        if missing is None:
            return None
        return PARTIAL_STORE_NOTICE.format(held=missing[0], listed=missing[1])

    def _searched(self, turn: _Turn, retrieval: bool, sources: list[Citation] | None) -> str:
        """What to search for: the question, or with history a standalone rewrite of it
        (``followup.condense``) so a follow-up finds what it refers to; for a model whose
        rewrites do not help (``rewrites_followups`` False), the question with the earlier
        one (``followup.with_earlier``)."""
        if not retrieval or sources is not None or not turn.history:
            return turn.question
        if not self.condense_followups:
            return turn.question
        if not getattr(turn.llm, "rewrites_followups", True):
            return with_earlier(turn.question, turn.history)
        try:
            return condense(turn.question, turn.history, turn.llm)
        except (ProviderError, ModelError):
            # A model that refuses the rewrite's settings (some reasoning models refuse a
            # temperature) must not cost the answer: search as the embedded model does.
            return with_earlier(turn.question, turn.history)

    def _prompt(self, turn: _Turn, citations: list[Citation] | None) -> _Prompt:
        """The messages, with as many sources and earlier turns as the context holds; with a
        ranker, the passages' best sentences and the supporting sentence."""
        focused: list[str | None] | None = None
        support = None
        if citations and self.ranker is not None:
            # The question as asked: the searched text of a follow-up carries the earlier
            # question, whose words would pull in sentences about the earlier topic.
            ranked = self.ranker.rank(turn.rank_for or turn.question, citations)
            support = supporting(ranked, citations)
            if self.focused_context:
                focused = focus(citations, ranked, keep=self.focus_sentences)
        messages, kept, trimmed = fit_to_context(
            turn.question,
            turn.system,
            citations,
            turn.history,
            turn.budget,
            turn.llm.count_tokens,
            focused,
            turn.persona.examples if turn.persona else (),
        )
        prompt = _Prompt(messages, kept, trimmed, support, turn.searched)
        if kept and focused is not None:
            # Sources are dropped from the end to fit, so the kept ones lead ``focused``.
            prompt.quotable = "\n".join(own_text(text) for text in focused[: len(kept)] if text)
        elif kept:
            prompt.quotable = "\n".join(c.text for c in kept)
        return prompt

    def _stream(
        self,
        turn: _Turn,
        prompt: _Prompt,
        on_token: Callable[[str], None] | None,
        cancel: CancelToken | None,
    ) -> _Reply:
        """Stream the answer; a remote model's real context limit below what Folio assumed
        halves the sources and tries again (and says so)."""
        kwargs: dict[str, Any] = {}
        if turn.persona and turn.persona.temperature is not None:
            kwargs["temperature"] = turn.persona.temperature
        reply = _Reply()
        while True:
            try:
                copying = _copy_kwargs(turn, prompt)
                _generate(turn.llm, prompt.messages, kwargs | copying, reply, on_token, cancel)
                return reply
            except StreamDropped as exc:
                reply.interrupted, reply.notice = True, str(exc)
                return reply
            except ContextTooLong as exc:
                if reply.text or not prompt.kept:
                    raise
                fewer = prompt.kept[: len(prompt.kept) // 2]
                smaller = self._prompt(turn, fewer)
                # A source the model read nothing of (focused context left it out) makes no
                # prompt shorter when dropped: halve again until the prompt does shrink.
                while fewer and _chars(smaller) >= _chars(prompt):
                    fewer = fewer[: len(fewer) // 2]
                    smaller = self._prompt(turn, fewer)
                prompt.replace(smaller)
                prompt.trimmed = True
                reply.notice = f"{exc} Fewer sources were sent."

    def _store(self, turn: _Turn, prompt: _Prompt, reply: _Reply, retrieval: bool) -> Answer:
        """Save the answer with its sources and usage; the ``Answer`` the caller gets.

        An answer stopped before its first token is not saved: an empty message would stand
        in the chat for an answer there never was.

        Raises:
            Cancelled: the chat was deleted meanwhile (``CHAT_DELETED``): nothing is saved.
        """
        assert turn.chat_id is not None
        if reply.stopped and not reply.text:
            return self._result(turn, prompt, reply, retrieval, None)
        self._count_usage(turn, prompt, reply)
        try:
            message_id = self.store.add_message(
                turn.chat_id,
                "assistant",
                reply.text,
                model=turn.model_id,
                persona=turn.persona_name,
                retrieval=retrieval,
                citations=prompt.kept or [],
                interrupted=reply.interrupted,
                usage=reply.usage,
                support=prompt.support,
                searched=prompt.searched,
                cut_off=reply.cut_off,
                notice=_notice(prompt, reply),
            )
        except ChatGone as exc:
            raise Cancelled(CHAT_DELETED) from exc
        return self._result(turn, prompt, reply, retrieval, message_id)

    @staticmethod
    def _count_usage(turn: _Turn, prompt: _Prompt, reply: _Reply) -> None:
        """Count the tokens where the server reported none (llama.cpp's stream does not)."""
        if reply.usage is None and reply.text:
            reply.usage = Usage(
                prompt_tokens=sum(turn.llm.count_tokens(m.content or "") for m in prompt.messages),
                completion_tokens=turn.llm.count_tokens(reply.text),
                estimated=1,
            )

    def _result(
        self,
        turn: _Turn,
        prompt: _Prompt,
        reply: _Reply,
        retrieval: bool,
        message_id: int | None,
    ) -> Answer:
        """The ``Answer`` the caller gets, with the notice a person should read."""
        self._count_usage(turn, prompt, reply)
        return Answer(
            text=reply.text,
            citations=prompt.kept or [],
            model=turn.model_id,
            persona=turn.persona_name,
            retrieval=retrieval,
            chat_id=turn.chat_id,
            interrupted=reply.interrupted,
            prompt=prompt.messages,
            usage=reply.usage,
            notice=_notice(prompt, reply),
            message_id=message_id,
            support=prompt.support,
            searched=prompt.searched,
            cut_off=reply.cut_off,
        )


def _notice(prompt: _Prompt, reply: _Reply) -> str | None:
    """What a person should read about an answer: how its reply went, then its sources."""
    notes = [reply.notice, prompt.notice]
    if prompt.trimmed and reply.notice is None:
        notes.append(
            "Some sources, earlier turns or persona examples were left out to fit the "
            "model's context."
        )
    return " ".join(n for n in notes if n) or None


def _copy_kwargs(turn: _Turn, prompt: _Prompt) -> dict[str, str]:
    """For a model with a ``copy_bias`` (the embedded one), the sources' text it is nudged
    toward and the text left unbiased: the system prompt and the question
    (``LocalLlama.copy_logit_bias``); nothing for other models."""
    if not getattr(turn.llm, "copy_bias", 0.0):
        return {}
    system = turn.system or DEFAULT_SYSTEM_PROMPT
    return {"copy_from": prompt.quotable, "copy_except": f"{system}\n{turn.question}"}


def _generate(
    llm: ChatModel,
    messages: list[ChatMessage],
    kwargs: dict[str, Any],
    reply: _Reply,
    on_token: Callable[[str], None] | None,
    cancel: CancelToken | None,
) -> None:
    """Stream one answer into ``reply``; what arrived stays there if the stream fails.

    A model that ``stops_loops`` (the local ones) has its answer ended where it starts
    repeating itself, the repetition taken off (``desktop.core.chat.loops``); what might
    yet be a repetition reaches ``on_token`` only once it is not, so the pieces passed to
    ``on_token`` always add up to the answer kept.
    """
    guard = LoopGuard() if getattr(llm, "stops_loops", False) else None
    shown, cut = 0, None
    stream = llm.stream_chat(messages, **kwargs)
    try:
        for response in stream:
            if cancel is not None and cancel.cancelled:
                reply.interrupted = reply.stopped = True
                break
            delta = response.delta or ""
            reply.text += delta
            counts = getattr(response, "additional_kwargs", None) or {}
            if counts.get("total_tokens"):
                reply.usage = cast(
                    Usage, {k: int(v) for k, v in counts.items() if k.endswith("_tokens")}
                )
            if _finish_reason(response) == "length":
                reply.cut_off = True
            cut = guard.feed(reply.text) if guard is not None and delta else None
            if cut is not None:
                break
            settled = guard.settled if guard is not None else len(reply.text)
            if on_token and settled > shown:
                on_token(reply.text[shown:settled])
                shown = settled
        if guard is not None and not reply.interrupted:
            # Checked once more on the whole answer: the last pieces may end a repetition.
            cut = cut if cut is not None else loop_start(reply.text)
            if cut is not None:
                reply.text = keep_before(reply.text, cut)
                reply.notice = LOOP_NOTICE
    finally:
        stream.close()  # ends generation at once and frees the model for the next turn
        if on_token and len(reply.text) > shown:
            on_token(reply.text[shown:])  # what was held back, now that the answer ended


def _chars(prompt: _Prompt) -> int:
    """Characters of a prompt's messages: enough to compare two prompts' sizes."""
    return sum(len(m.content or "") for m in prompt.messages)


def _finish_reason(response: Any) -> str | None:
    """Why the model stopped, on the response that says so: Folio's local models put it in
    ``additional_kwargs``; LlamaIndex's OpenAI responses carry the API's chunk as ``raw``."""
    extra = getattr(response, "additional_kwargs", None) or {}
    if extra.get("finish_reason"):
        return str(extra["finish_reason"])
    raw = getattr(response, "raw", None)
    choices = raw.get("choices") if isinstance(raw, dict) else getattr(raw, "choices", None)
    if not choices:
        return None
    first = choices[0]
    reason = (
        first.get("finish_reason")
        if isinstance(first, dict)
        else getattr(first, "finish_reason", None)
    )
    return str(reason) if reason else None
