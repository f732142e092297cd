"""Asking the real embedded model: retrieval on and off, personas, history, stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage

from desktop.core.chat.history import ChatGone
from desktop.core.chat.personas import FOUNDING_PERSONA_NAME, Persona
from desktop.core.chat.prompts import fit_to_context
from desktop.core.chat.service import CHAT_DELETED
from desktop.core.errors import Cancelled, ChatError, ContextTooLong, ModelError
from desktop.core.library.citation import Citation
from desktop.core.settings import Settings
from desktop.core.tasks import CancelToken

pytestmark = pytest.mark.slow


@pytest.fixture
def library(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days. "
        "The bluefin committee approves exceptions."
    )
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    services.ingestor.ingest([folder])
    return services


def test_answer_streams_and_cites_numbered_sources(library) -> None:  # type: ignore[no-untyped-def]
    tokens: list[str] = []
    answer = library.chat.ask("How many days of leave carry over?", top_k=2, on_token=tokens.append)
    assert answer.text and "".join(tokens) == answer.text
    assert answer.retrieval and answer.citations[0].file_name == "leave.md"
    system_prompt = answer.prompt[0].content
    assert "[1] leave.md" in system_prompt and "up to 5 days" in system_prompt
    assert "cite the sources" in system_prompt
    assert answer.prompt[-1].content == "How many days of leave carry over?"
    stored = library.chats.messages(answer.chat_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].citations == answer.citations
    assert (stored[1].model, stored[1].retrieval, stored[1].persona) == (
        "local:default",
        True,
        None,
    )


def test_retrieval_off_sends_no_document_text(library) -> None:  # type: ignore[no-untyped-def]
    answer = library.chat.ask("Who approves leave exceptions?", retrieval=False)
    assert answer.citations == [] and not answer.retrieval
    sent = " ".join(m.content or "" for m in answer.prompt)
    assert "bluefin" not in sent and "Sources" not in sent
    assert library.chats.messages(answer.chat_id)[1].retrieval is False


def test_retrieval_off_never_opens_the_store(services) -> None:  # type: ignore[no-untyped-def]
    services.chat.ask("Say hello.", retrieval=False)
    assert "store" not in services.__dict__ and "retriever" not in services.__dict__


def test_persona_is_the_system_prompt(library) -> None:  # type: ignore[no-untyped-def]
    personas = library.chats.personas
    assert FOUNDING_PERSONA_NAME in [p.name for p in personas.all()]
    personas.save(Persona("Pirate", "You are a pirate. Answer like one.", temperature=0.9))
    answer = library.chat.ask("What is a laptop?", persona="pirate", retrieval=False)
    assert answer.persona == "Pirate"
    assert answer.prompt[0].role.value == "system"
    assert answer.prompt[0].content.startswith("You are a pirate.")
    assert library.chats.messages(answer.chat_id)[1].persona == "Pirate"
    with_sources = library.chat.ask("What is a laptop?", persona=FOUNDING_PERSONA_NAME)
    assert with_sources.prompt[0].content.startswith("You are a sarcastic young techie")


def test_unknown_persona_and_model(library) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChatError, match=r"Known personas: .*Sarcastic techie"):
        library.chat.ask("Hi", persona="Nobody")
    with pytest.raises(ModelError, match="local:default"):
        library.chat.ask("Hi", model="local:missing")


def test_configured_gguf_that_is_missing(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop.core.models.local import LLMCache

    settings = Settings(local_models={"big": str(tmp_path / "nowhere.gguf")})
    with pytest.raises(ModelError, match=r"nowhere\.gguf"):
        LLMCache(settings).get("local:big")


def test_follow_up_sends_history(library) -> None:  # type: ignore[no-untyped-def]
    first = library.chat.ask("Tell me about laptops.", retrieval=False)
    second = library.chat.ask("And how often?", chat_id=first.chat_id, retrieval=False)
    roles = [m.role.value for m in second.prompt]
    assert roles == ["system", "user", "assistant", "user"]
    assert second.prompt[1].content == "Tell me about laptops."
    assert len(library.chats.messages(first.chat_id)) == 4


def test_stop_keeps_the_partial_answer(library) -> None:  # type: ignore[no-untyped-def]
    token = CancelToken()
    received: list[str] = []

    def on_token(text: str) -> None:
        received.append(text)
        if len(received) == 3:
            token.cancel()

    answer = library.chat.ask(
        "Write a long story.", retrieval=False, on_token=on_token, cancel=token
    )
    assert answer.interrupted and answer.text == "".join(received) and len(received) == 3
    assert library.chats.messages(answer.chat_id)[1].interrupted
    # The model is free again at once.
    assert library.chat.ask("Hi", retrieval=False).text


def test_stop_before_the_first_token_keeps_the_question_and_no_empty_answer(library) -> None:  # type: ignore[no-untyped-def]
    token = CancelToken()
    token.cancel()  # Stop pressed as soon as the question was sent
    answer = library.chat.ask("Write a long story.", retrieval=False, cancel=token)
    assert answer.interrupted and answer.text == "" and answer.message_id is None
    stored = library.chats.messages(answer.chat_id)
    assert [(m.role, m.content) for m in stored] == [("user", "Write a long story.")]


def test_a_chat_deleted_while_answering_drops_its_answer(library) -> None:  # type: ignore[no-untyped-def]
    chat = library.chats.create("Stories")
    received: list[str] = []

    def on_token(text: str) -> None:
        if not received:  # deleted from elsewhere (the window's chat list) mid-answer
            library.chats.delete(chat.id)
        received.append(text)

    with pytest.raises(Cancelled) as dropped:
        library.chat.ask("Write a long story.", retrieval=False, chat_id=chat.id, on_token=on_token)
    assert str(dropped.value) == CHAT_DELETED and received
    assert library.chats.all() == [] and library.chats.messages(chat.id) == []
    with pytest.raises(ChatGone):
        library.chats.add_message(chat.id, "user", "Still there?")
    assert library.chat.ask("Hi", retrieval=False).text  # the model is free again


def test_chats_survive_a_restart(make_services) -> None:  # type: ignore[no-untyped-def]
    first = make_services()
    answer = first.chat.ask("Remember this chat.", retrieval=False)
    first.chats.rename(answer.chat_id, "Kept")
    first.close()
    second = make_services()
    assert [c.title for c in second.chats.all()] == ["Kept"]
    assert [c.title for c in second.chats.all(search="ep")] == ["Kept"]
    assert second.chats.messages(answer.chat_id)[0].content == "Remember this chat."


def test_long_prompts_drop_history_then_sources() -> None:
    sources = [
        Citation(f"/d/{i}.md", None, 1.0 - i / 10, "word " * 100, f"{i}.md") for i in range(3)
    ]
    history = [
        ChatMessage(role="user", content="old " * 100),
        ChatMessage(role="assistant", content="reply " * 100),
    ]

    def count(text: str) -> int:
        return len(text.split())

    messages, kept, trimmed = fit_to_context("Question?", None, sources, history, 260, count)
    assert trimmed and kept is not None and len(kept) == 2
    assert [m.role.value for m in messages] == ["system", "user"]
    assert sum(count(m.content or "") + 4 for m in messages) <= 260
    with pytest.raises(ContextTooLong, match="Shorten the question"):
        fit_to_context("why " * 300, None, sources, history, 260, count)
    # A persona's prompt that fills the context is named, not the short question.
    with pytest.raises(ContextTooLong, match=r"persona's prompt is too long.*about 300 tokens"):
        fit_to_context("Hi?", "talk " * 300, sources, history, 260, count)


def test_persona_examples_come_first_and_go_after_history_before_sources() -> None:
    sources = [Citation("/d/0.md", None, 1.0, "fact " * 50, "0.md")]
    history = [
        ChatMessage(role="user", content="old " * 50),
        ChatMessage(role="assistant", content="reply " * 50),
    ]
    examples = [("first " * 30, "voice " * 30), ("second " * 30, "tone " * 30)]

    def count(text: str) -> int:
        return len(text.split())

    def shape(budget: int) -> list[str]:
        messages, _, _ = fit_to_context(
            "Question?", "Be you.", sources, history, budget, count, examples=examples
        )
        assert sum(count(m.content or "") + 4 for m in messages) <= budget
        return [f"{m.role.value}:{(m.content or '').split()[0]}" for m in messages]

    everything = ["system:Be", "user:first", "assistant:voice", "user:second"]
    assert shape(1000) == [
        *everything,
        "assistant:tone",
        "user:old",
        "assistant:reply",
        "user:Question?",
    ]
    assert shape(300) == [*everything, "assistant:tone", "user:Question?"]  # history went first
    assert shape(200) == ["system:Be", "user:first", "assistant:voice", "user:Question?"]
    sent, kept, trimmed = fit_to_context(
        "Question?", "Be you.", sources, history, 120, count, examples=examples
    )
    assert trimmed and kept == sources and len(sent) == 2  # the facts outlast the voice
    assert "fact" in (sent[0].content or "")


def test_a_question_too_long_for_the_model_is_refused_and_leaves_no_chat(services) -> None:  # type: ignore[no-untyped-def]
    question = "Why is the sky blue? " * 900  # about 5,400 tokens; the model reads 4,096
    for retrieval in (False, True):
        with pytest.raises(ContextTooLong, match="too long for this model"):
            services.chat.ask(question, retrieval=retrieval)
    assert services.chats.all() == []  # no chat left behind without its question
    # The same prompt sent past Folio's own check: llama.cpp's refusal is named alike.
    llm = services.llm(services.settings.default_model)
    with pytest.raises(ContextTooLong, match="choose a model with a longer context"):
        list(llm.stream_chat([ChatMessage(role="user", content=question)]))
    assert services.chat.ask("Say yes.", retrieval=False).text  # the model still answers


def test_a_title_is_one_line_and_a_search_takes_its_words_as_typed(services) -> None:  # type: ignore[no-untyped-def]
    kept = services.chats.create("Kept")
    odd = services.chats.create("100% sure_thing")
    services.chats.rename(kept.id, "Two\nlines\x1b and " + "x" * 200)
    title = services.chats.get(kept.id).title
    assert title.startswith("Two lines\x1b and ") and "\n" not in title and len(title) == 80
    with pytest.raises(ChatError, match="cannot be empty"):
        services.chats.rename(kept.id, " \u200b ")
    assert services.chats.get(kept.id).title == title  # left as it was
    # '%' and '_' are searched for, not LIKE's wildcards.
    assert [c.id for c in services.chats.all(search="%")] == [odd.id]
    assert [c.id for c in services.chats.all(search="e_t")] == [odd.id]
    assert services.chats.all(search="_x") == []
