"""Follow-up questions: what to search for when a question leans on the chat before it.

"Which chapter explains it?" after "What does PLATYPUS stand for?" finds nothing by itself.
Before retrieval, a question asked with history is made standalone with LlamaIndex's
condense-question prompt (``CondenseQuestionChatEngine``'s ``DEFAULT_PROMPT``), answered by
the chat's own model. A small model's rewrite can lose the question, so the searched text
also carries the earlier question itself: hybrid search then matches the earlier question's
words even when the rewrite dropped them.

The embedded 135M model's rewrites are mostly answers, not questions; measured on
bench/answer_facts.py's follow-ups, searching the follow-up with the earlier question alone
(``with_earlier``) found the right passage as often as the question asked in full, and the
rewrite did worse and cost a model call. Models are told apart by ``rewrites_followups``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import messages_to_history_str
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.chat_engine.condense_question import DEFAULT_PROMPT

# The rewrite is one question: a longer reply is the model answering instead.
CONDENSE_MAX_TOKENS = 48
# Earlier turns the rewrite reads: the last question and answer, as a follow-up leans on.
CONDENSE_HISTORY = 2
# An answer in the history is cut to this many characters: the rewrite needs its topic only,
# and every character is prompt time on a small local model.
ANSWER_CHARS = 300


def last_question(history: Sequence[ChatMessage]) -> str | None:
    """The person's most recent question in ``history``, or None."""
    for message in reversed(history):
        if message.role.value == "user" and (message.content or "").strip():
            return (message.content or "").strip()
    return None


def with_earlier(question: str, history: Sequence[ChatMessage]) -> str:
    """The follow-up ``question`` followed by the person's earlier question (the question
    alone when there is none): what to search without asking a model."""
    earlier = last_question(history)
    return question if earlier is None or earlier == question else f"{question} {earlier}"


def condense(question: str, history: Sequence[ChatMessage], llm: Any) -> str:
    """The text to search for ``question`` asked after ``history`` (oldest first).

    ``llm`` is a LlamaIndex LLM (``chat``). With no earlier question the question itself
    is returned and no model is asked. Otherwise: the model's standalone rewrite (first
    line, at most ``CONDENSE_MAX_TOKENS`` tokens) followed by the earlier question; the
    earlier question alone when the rewrite is empty. Errors of the model propagate
    (ProviderError/ModelError as the model raises them).
    """
    earlier = last_question(history)
    if earlier is None:
        return question
    recent = [
        ChatMessage(role=m.role, content=(m.content or "")[:ANSWER_CHARS])
        for m in history[-CONDENSE_HISTORY:]
    ]
    prompt = DEFAULT_PROMPT.format(chat_history=messages_to_history_str(recent), question=question)
    reply = llm.chat(
        [ChatMessage(role="user", content=prompt)],
        max_tokens=CONDENSE_MAX_TOKENS,
        temperature=0.0,
    )
    # Folio's local models answer ``chat`` with LlamaIndex's ChatResponse, remote ones with text.
    text = reply if isinstance(reply, str) else (reply.message.content or "")
    rewrite = next((line.strip() for line in text.splitlines() if line.strip()), "")
    parts = [rewrite or question, earlier]
    return " ".join(dict.fromkeys(p for p in parts if p))
