"""Chats: asking a model, with or without retrieval, and keeping the conversation."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from llama_index.core.base.llms.types import ChatMessage

from desktop.core import sqlite
from desktop.core.errors import ChatError, ConsentRequired, ContextTooLong, StreamDropped
from desktop.core.personas import Persona, PersonaLibrary
from desktop.core.prompts import fit_to_context
from desktop.core.retrieval import Citation, Retriever
from desktop.core.tasks import CancelToken

# Earlier turns sent with a question: enough for follow-ups, small enough for a small model.
HISTORY_MESSAGES = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    model TEXT,
    persona TEXT,
    retrieval INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    interrupted INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_chat ON messages(chat_id, id);
"""
# Columns added since the first release, each with the statement that adds it to an older file.
_MIGRATIONS = {
    "usage": "ALTER TABLE messages ADD COLUMN usage TEXT",
    "rating": "ALTER TABLE messages ADD COLUMN rating INTEGER",
}
# A person's verdict on an answer: liked answers become training examples (``finetune``).
LIKED, DISLIKED = 1, -1


@dataclass(frozen=True)
class Message:
    """One turn of a chat, with the choices it was made with."""

    id: int
    chat_id: str
    role: str
    content: str
    model: str | None
    persona: str | None
    retrieval: bool
    citations: list[Citation]
    interrupted: bool
    created_at: float
    usage: dict[str, int] | None = None  # tokens, as the provider counted them
    rating: int | None = None  # LIKED, DISLIKED or None (not rated); answers only


@dataclass(frozen=True)
class Chat:
    """A conversation."""

    id: str
    title: str
    created_at: float
    updated_at: float


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
    sources_trimmed: bool = False
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


class ChatStore:
    """Chats and messages in SQLite (``chats.db``); personas live in the same file."""

    def __init__(self, path: Path) -> None:
        # (WAL with NORMAL sync: an fsync per message was most of the time Folio added
        # before a remote model's first token.)
        self._db = sqlite.connect(path, _SCHEMA)
        self.lock = threading.RLock()
        with self.lock:
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(messages)")}
            for column, statement in _MIGRATIONS.items():
                if column not in columns:
                    self._db.execute(statement)
        self.personas = PersonaLibrary(self._db, self.lock)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def create(self, title: str) -> Chat:
        """A new, empty chat."""
        now = time.time()
        chat = Chat(uuid.uuid4().hex, title.strip()[:80] or "New chat", now, now)
        with self.lock:
            self._db.execute(
                "INSERT INTO chats VALUES (?, ?, ?, ?)",
                (chat.id, chat.title, chat.created_at, chat.updated_at),
            )
        return chat

    def get(self, chat_id: str) -> Chat:
        with self.lock:
            row = self._db.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        if row is None:
            raise ChatError(f"No chat with id {chat_id!r}.")
        return Chat(row["id"], row["title"], row["created_at"], row["updated_at"])

    def all(self, search: str | None = None) -> list[Chat]:
        """Chats, most recently used first; ``search`` filters titles."""
        query = "SELECT * FROM chats"
        params: tuple[str, ...] = ()
        if search:
            query, params = query + " WHERE title LIKE ?", (f"%{search}%",)
        with self.lock:
            rows = self._db.execute(query + " ORDER BY updated_at DESC", params).fetchall()
        return [Chat(r["id"], r["title"], r["created_at"], r["updated_at"]) for r in rows]

    def rename(self, chat_id: str, title: str) -> None:
        self.get(chat_id)
        with self.lock:
            self._db.execute("UPDATE chats SET title = ? WHERE id = ?", (title.strip(), chat_id))

    def delete(self, chat_id: str) -> None:
        self.get(chat_id)
        with self.lock:
            self._db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    def add_message(
        self,
        chat_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        persona: str | None = None,
        retrieval: bool = False,
        citations: list[Citation] | None = None,
        interrupted: bool = False,
        usage: dict[str, int] | None = None,
    ) -> int:
        now = time.time()
        cites = json.dumps([c.to_json() for c in citations or []])
        used = json.dumps(usage) if usage else None
        with self.lock:
            cursor = self._db.execute(
                "INSERT INTO messages (chat_id, role, content, model, persona, retrieval,"
                " citations, interrupted, created_at, usage)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, role, content, model, persona, retrieval, cites, interrupted, now, used),
            )
            self._db.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
        return int(cursor.lastrowid or 0)

    def messages(self, chat_id: str) -> list[Message]:
        """A chat's messages, oldest first."""
        with self.lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)
            ).fetchall()
        return [_message(r) for r in rows]

    def rate(self, message_id: int, rating: int | None) -> None:
        """Like (1) or dislike (-1) an answer, or take the rating back (None)."""
        if rating not in (LIKED, DISLIKED, None):
            raise ChatError(f"A rating is 1 (liked), -1 (disliked) or none, not {rating!r}.")
        with self.lock:
            row = self._db.execute(
                "SELECT role FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise ChatError(f"No message with id {message_id}.")
            if row["role"] != "assistant":
                raise ChatError(
                    f"Message {message_id} is a {row['role']} message; only answers are rated."
                )
            self._db.execute("UPDATE messages SET rating = ? WHERE id = ?", (rating, message_id))

    def liked(self) -> list[tuple[Message, Message]]:
        """Every liked answer with the message just before it (its question), oldest first.

        Answers with no user message right before them are left out.
        """
        pairs: list[tuple[Message, Message]] = []
        with self.lock:
            answers = self._db.execute(
                "SELECT * FROM messages WHERE role = 'assistant' AND rating = ? ORDER BY id",
                (LIKED,),
            ).fetchall()
            for answer in answers:
                before = self._db.execute(
                    "SELECT * FROM messages WHERE chat_id = ? AND id < ? ORDER BY id DESC LIMIT 1",
                    (answer["chat_id"], answer["id"]),
                ).fetchone()
                if before is not None and before["role"] == "user":
                    pairs.append((_message(before), _message(answer)))
        return pairs


def _message(r: sqlite3.Row) -> Message:
    return Message(
        r["id"],
        r["chat_id"],
        r["role"],
        r["content"],
        r["model"],
        r["persona"],
        bool(r["retrieval"]),
        [Citation.from_json(c) for c in json.loads(r["citations"])],
        bool(r["interrupted"]),
        r["created_at"],
        json.loads(r["usage"]) if r["usage"] else None,
        r["rating"],
    )


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
            sources_trimmed=trimmed,
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
