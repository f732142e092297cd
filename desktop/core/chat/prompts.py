"""The messages sent to a model: persona, numbered sources, history, question."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llama_index.core.base.llms.types import ChatMessage

from desktop.core.errors import ContextTooLong
from desktop.core.library.citation import Citation

DEFAULT_SYSTEM_PROMPT = "You are Folio, a helpful assistant. Answer clearly and briefly."
SOURCES_INSTRUCTIONS = (
    "Answer the user's question from these numbered sources from their documents, and cite "
    "the sources you use like [1]. If the sources do not contain the answer, say so."
)
NO_SOURCES_NOTE = "No passage in the user's documents matched this question; say so if needed."


def source_label(number: int, citation: Citation) -> str:
    """``[n] file.pdf, page 3`` — how a source is introduced to the model and the person."""
    where = f", page {citation.page}" if citation.page is not None else ""
    return f"[{number}] {citation.file_name}{where}"


def build_messages(
    question: str,
    system_prompt: str | None,
    citations: Sequence[Citation] | None,
    history: Sequence[ChatMessage] = (),
    focused: Sequence[str | None] | None = None,
    examples: Sequence[tuple[str, str]] = (),
) -> list[ChatMessage]:
    """The chat for one question. ``citations=None`` means retrieval is off: no document text.

    ``examples``, a persona's (question, answer) exchanges, come first as earlier turns of
    the chat, so the model has seen answers in the voice before it writes its own.

    Sources go in the system message and the question stays the user's own words: measured
    with the embedded SmolLM2, answers drawn from sources were right far more often this way
    than with sources and question together in the user message. ``focused``, one entry per
    citation, is what the model reads of each (``desktop.core.chat.focus.focus``) instead of
    the whole passage; a None entry leaves that passage out, its number kept so the
    numbers match the sources shown.
    """
    system = system_prompt or DEFAULT_SYSTEM_PROMPT
    if citations is not None:
        texts = list(focused) if focused is not None else [c.text for c in citations]
        blocks = [
            f"{source_label(i, c)}\n{text.strip()}"
            for i, (c, text) in enumerate(zip(citations, texts, strict=True), start=1)
            if text is not None
        ]
        system = f"{system}\n\n{SOURCES_INSTRUCTIONS}\n\n" + (
            "\n\n".join(blocks) if blocks else NO_SOURCES_NOTE
        )
    shown = [
        ChatMessage(role=role, content=text)
        for pair in examples
        for role, text in zip(("user", "assistant"), pair, strict=True)
    ]
    return [
        ChatMessage(role="system", content=system),
        *shown,
        *history,
        ChatMessage(role="user", content=question),
    ]


def _too_long(
    question: str,
    system_prompt: str | None,
    used: int,
    budget: int,
    count_tokens: Callable[[str], int],
) -> ContextTooLong:
    """What does not fit, named: the persona's prompt when it is the larger part (a person
    pasted a book into it), else the question. (The persona's examples are dropped before
    this is reached.)"""
    room = f"it reads at most {budget:,} while leaving room for its answer"
    persona = count_tokens(system_prompt) if system_prompt else 0
    if persona > count_tokens(question):
        return ContextTooLong(
            f"The persona's prompt is too long for this model: about {persona:,} tokens, and "
            f"{room}. Shorten the persona's prompt, ask without the persona, or choose a "
            "model with a longer context."
        )
    return ContextTooLong(
        f"The question is too long for this model: about {used:,} tokens with the "
        f"instructions, and {room}. Shorten the question, or choose a model with a longer "
        "context."
    )


def fit_to_context(
    question: str,
    system_prompt: str | None,
    citations: list[Citation] | None,
    history: list[ChatMessage],
    budget: int,
    count_tokens: Callable[[str], int],
    focused: Sequence[str | None] | None = None,
    examples: Sequence[tuple[str, str]] = (),
) -> tuple[list[ChatMessage], list[Citation] | None, bool]:
    """Drop the oldest history, then the persona's examples (last first: a voice matters
    less than the facts), then the weakest sources, until the prompt fits ``budget``.

    ``focused`` and ``examples`` are as ``build_messages`` takes them. Returns the
    messages, the sources kept, and whether anything was dropped. Raises ContextTooLong
    when the question and the system prompt alone do not fit: nothing is left to drop.
    """
    trimmed = False
    while True:
        texts = focused[: len(citations)] if focused is not None and citations else None
        messages = build_messages(question, system_prompt, citations, history, texts, examples)
        used = sum(count_tokens(m.content or "") + 4 for m in messages)
        if used <= budget:
            return messages, citations, trimmed
        if history:
            history = history[2:]
        elif examples:
            examples = examples[:-1]
        elif citations:
            citations = citations[:-1]
        else:
            raise _too_long(question, system_prompt, used, budget, count_tokens)
        trimmed = True
