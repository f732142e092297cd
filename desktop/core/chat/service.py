"""Chats: asking a model, with or without retrieval, and keeping the conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from llama_index.core.base.llms.types import ChatMessage

from desktop.core.chat.history import ChatStore
from desktop.core.chat.personas import Persona
from desktop.core.chat.prompts import fit_to_context
from desktop.core.errors import ChatError, ConsentRequired, ContextTooLong, StreamDropped
from desktop.core.library.citation import Citation
from desktop.core.library.search import Retriever
from desktop.core.tasks import CancelToken

# Earlier turns sent with a question: enough for follow-ups, small enough for a small model.
HISTORY_MESSAGES = 6


@dataclass
class Answer:
    """The result of ``ChatService.ask``."""

    text: str
    citations: list[Citation]
    model: str
    persona: str | None
    retrieval: bool
    chat_id: str
    interrupted: bool = False
    prompt: list[ChatMessage] = field(default_factory=list)
    usage: dict[str, int] | None = None
    notice: str | None = None  # what a person should know about this answer
    message_id: int | None = None  # the stored answer, to rate it

    def to_json(self) -> dict[str, Any]:
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
        }


@dataclass
class _Reply:
    """What has arrived of an answer so far: kept whatever stops the stream."""

    text: str = ""
    interrupted: bool = False
    usage: dict[str, int] | None = None


class ChatModel(Protocol):
    """What a chat needs from an LLM: LlamaIndex's streaming chat, and a token count."""

    def stream_chat(self, messages: Any, **kwargs: Any) -> Any: ...

    def count_tokens(self, text: str) -> int: ...

    @property
    def metadata(self) -> Any: ...


class ChatService:
    """Answers questions: retrieval (optional), persona, model, streaming, history."""

    def __init__(
        self,
        store: ChatStore,
        retriever: Callable[[], Retriever],
        models: Callable[[str], ChatModel],
        default_model: str,
        needs_consent: Callable[[str], str | None] = lambda model_id: None,
    ) -> None:
        self.store = store
        # Factories: a chat with retrieval off needs neither the vector store nor embeddings.
        self._retriever = retriever
        self._models = models
        self.default_model = default_model
        # The remote provider that has not yet agreed to receive document text, if any.
        self._needs_consent = needs_consent

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
    ) -> Answer:
        """Answer ``question``, streaming tokens to ``on_token``; the turn is saved.

        ``on_chat`` learns the chat's id as soon as the question is stored, so a caller
        whose answer then fails can send again into the same chat.
        """
        if not question.strip():
            raise ChatError("The question is empty.")
        model_id = model or self.default_model
        if retrieval:
            provider = self._needs_consent(model_id)
            if provider is not None:
                raise ConsentRequired(provider)
        chosen: Persona | None = self.store.personas.get(persona) if persona else None
        llm = self._models(model_id)
        chat = self.store.get(chat_id) if chat_id else self.store.create(question)
        history = [
            ChatMessage(role=m.role, content=m.content)
            for m in self.store.messages(chat.id)[-HISTORY_MESSAGES:]
        ]
        citations = self._retriever().search(question, k=top_k) if retrieval else None
        budget = llm.metadata.context_window - llm.metadata.num_output
        system = chosen.prompt if chosen else None
        messages, kept, trimmed = fit_to_context(
            question, system, citations, history, budget, llm.count_tokens
        )
        self.store.add_message(
            chat.id,
            "user",
            question,
            model=model_id,
            persona=chosen.name if chosen else None,
            retrieval=retrieval,
        )
        if on_chat is not None:
            on_chat(chat.id)
        kwargs: dict[str, Any] = {}
        if chosen and chosen.temperature is not None:
            kwargs["temperature"] = chosen.temperature
        reply, notice = _Reply(), None
        while True:
            try:
                _generate(llm, messages, kwargs, reply, on_token, cancel)
                break
            except StreamDropped as exc:
                reply.interrupted, notice = True, str(exc)
                break
            except ContextTooLong as exc:
                # A remote model's real limit can be below what Folio assumed: halve the
                # sources and try again, and say so.
                if reply.text or not kept:
                    raise
                messages, kept, _ = fit_to_context(
                    question, system, kept[: len(kept) // 2], history, budget, llm.count_tokens
                )
                trimmed = True
                notice = f"{exc} Fewer sources were sent."
        if reply.usage is None and reply.text:
            # Not every server reports usage when streaming (llama.cpp's does not): count.
            reply.usage = {
                "prompt_tokens": sum(llm.count_tokens(m.content or "") for m in messages),
                "completion_tokens": llm.count_tokens(reply.text),
                "estimated": 1,
            }
        if trimmed and notice is None:
            notice = "Some sources or earlier turns were left out to fit the model's context."
        sources = kept or []
        message_id = self.store.add_message(
            chat.id,
            "assistant",
            reply.text,
            model=model_id,
            persona=chosen.name if chosen else None,
            retrieval=retrieval,
            citations=sources,
            interrupted=reply.interrupted,
            usage=reply.usage,
        )
        text, interrupted = reply.text, reply.interrupted
        return Answer(
            text=text,
            citations=sources,
            model=model_id,
            persona=chosen.name if chosen else None,
            retrieval=retrieval,
            chat_id=chat.id,
            interrupted=interrupted,
            prompt=messages,
            usage=reply.usage,
            notice=notice,
            message_id=message_id,
        )


def _generate(
    llm: ChatModel,
    messages: list[ChatMessage],
    kwargs: dict[str, Any],
    reply: _Reply,
    on_token: Callable[[str], None] | None,
    cancel: CancelToken | None,
) -> None:
    """Stream one answer into ``reply``; what arrived stays there if the stream fails."""
    stream = llm.stream_chat(messages, **kwargs)
    try:
        for response in stream:
            if cancel is not None and cancel.cancelled:
                reply.interrupted = True
                break
            delta = response.delta or ""
            reply.text += delta
            if on_token and delta:
                on_token(delta)
            counts = getattr(response, "additional_kwargs", None) or {}
            if counts.get("total_tokens"):
                reply.usage = {k: int(v) for k, v in counts.items() if k.endswith("_tokens")}
    finally:
        stream.close()  # ends generation at once and frees the model for the next turn
