"""Training data from liked answers and from documents in a persona's voice (real model)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from desktop.cli.common import UsageError
from desktop.cli.finetune_sources import add_commands
from desktop.core.chat.history import ChatStore
from desktop.core.chat.personas import Persona
from desktop.core.errors import ChatError, FinetuneError, FolioError, NothingIndexed
from desktop.core.finetune.examples import Example, read_examples
from desktop.core.finetune.sources.from_chats import liked_examples
from desktop.core.finetune.sources.generate import (
    EXAMPLE_REPLY,
    GenerationProgress,
    echoes_example,
    generate_pairs,
    pair_prompt,
    parse_pair,
)
from desktop.core.finetune.validate import example_problems, validate_file
from desktop.core.library.citation import Citation
from desktop.core.models.local import LLMCache
from desktop.core.settings import ServerSettings, Settings, StoreSettings, updated
from desktop.core.store.server import ServerVectorStore
from desktop.core.tasks import CancelToken
from desktop.services import Services

# Long enough for a question and a short answer from SmolLM2-135M, short enough to be quick.
WRITER_SETTINGS = Settings(max_answer_tokens=120, threads=2)
PIRATE = Persona("Pirate", "You are a pirate. Answer like one, in one or two sentences.")


# -- ratings ---------------------------------------------------------------------------------


def _turn(store: ChatStore, chat_id: str, question: str, answer: str, **kwargs: Any) -> int:
    store.add_message(chat_id, "user", question, persona=kwargs.get("persona"))
    return store.add_message(chat_id, "assistant", answer, **kwargs)


def test_ratings_are_set_changed_and_taken_back(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "chats.db")
    try:
        chat = store.create("Leave")
        answer = _turn(store, chat.id, "How much leave carries over?", "Up to 5 days.")
        question = answer - 1
        assert store.messages(chat.id)[1].rating is None
        store.rate(answer, 1)
        assert [m.rating for m in store.messages(chat.id)] == [None, 1]
        store.rate(answer, -1)
        assert store.messages(chat.id)[1].rating == -1
        store.rate(answer, None)
        assert store.messages(chat.id)[1].rating is None
        with pytest.raises(ChatError, match=rf"Message {question} is a user message"):
            store.rate(question, 1)
        with pytest.raises(ChatError, match=r"No message with id 999"):
            store.rate(999, 1)
        with pytest.raises(ChatError, match=r"not 5"):
            store.rate(answer, 5)
        assert store.messages(chat.id)[0].rating is None
    finally:
        store.close()


def test_a_chats_file_from_before_ratings_opens_and_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    old = sqlite3.connect(path)
    # The first release's tables: no usage, no rating.
    old.executescript(
        """
        CREATE TABLE chats (
            id TEXT PRIMARY KEY, title TEXT NOT NULL,
            created_at REAL NOT NULL, updated_at REAL NOT NULL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            role TEXT NOT NULL, content TEXT NOT NULL, model TEXT, persona TEXT,
            retrieval INTEGER NOT NULL DEFAULT 0, citations TEXT NOT NULL DEFAULT '[]',
            interrupted INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
        );
        INSERT INTO chats VALUES ('c1', 'Old chat', 1.0, 2.0);
        INSERT INTO messages (chat_id, role, content, created_at)
            VALUES ('c1', 'user', 'What is QZ-881?', 1.0);
        INSERT INTO messages (chat_id, role, content, model, created_at)
            VALUES ('c1', 'assistant', 'The badge reader is offline.', 'local:default', 1.5);
        """
    )
    old.commit()
    old.close()

    store = ChatStore(path)
    try:
        messages = store.messages("c1")
        assert [(m.content, m.rating, m.usage) for m in messages] == [
            ("What is QZ-881?", None, None),
            ("The badge reader is offline.", None, None),
        ]
        store.rate(messages[1].id, 1)
    finally:
        store.close()
    store = ChatStore(path)  # opening a migrated file again changes nothing
    try:
        assert store.messages("c1")[1].rating == 1
        assert [m.content for _, m in store.liked()] == ["The badge reader is offline."]
    finally:
        store.close()


# -- from liked answers ----------------------------------------------------------------------


@pytest.fixture
def rated_chats(tmp_path: Path) -> Iterator[ChatStore]:
    """Two chats: liked, disliked, unrated and interrupted answers, with and without a persona."""
    store = ChatStore(tmp_path / "chats.db")
    store.personas.save(PIRATE)
    store.personas.save(Persona("Butler", "You are a butler. Answer with great formality."))
    one = store.create("Leave").id
    store.rate(_turn(store, one, "Hello?", "Hello! Ask me anything."), 1)
    cite = Citation("/docs/leave.md", "leave.md", None, 0.9, "Up to 5 days carry over.")
    store.rate(
        _turn(
            store,
            one,
            "How much leave carries over?",
            "Arr, five days, matey.",
            persona="Pirate",
            retrieval=True,
            citations=[cite],
        ),
        1,
    )
    store.rate(_turn(store, one, "And sick leave?", "No idea.", persona="Pirate"), -1)
    _turn(store, one, "Who approves exceptions?", "The bluefin committee.")  # unrated
    two = store.create("Laptops").id
    store.rate(_turn(store, two, "When are laptops replaced?", "Every four y", interrupted=True), 1)
    store.rate(
        _turn(
            store, two, "Where do broken laptops go?", "To the help desk, sir.", persona="Butler"
        ),
        1,
    )
    yield store
    store.close()


def _messages(examples: list[Example]) -> list[list[tuple[str, str]]]:
    return [[(m["role"], m["content"]) for m in e.messages] for e in examples]


def test_liked_answers_without_the_system_prompt(rated_chats: ChatStore) -> None:
    examples = liked_examples(rated_chats)
    # One turn per example: earlier turns of the chat are not in it, nor the sources.
    assert _messages(examples) == [
        [("user", "Hello?"), ("assistant", "Hello! Ask me anything.")],
        [("user", "How much leave carries over?"), ("assistant", "Arr, five days, matey.")],
        [("user", "Where do broken laptops go?"), ("assistant", "To the help desk, sir.")],
    ]
    assert all(not example_problems(e) for e in examples)


def test_liked_answers_with_the_personas_current_prompt(rated_chats: ChatStore) -> None:
    rated_chats.personas.update("Pirate", Persona("Pirate", "You are a pirate captain. Say arr."))
    rated_chats.personas.remove("Butler")  # deleted since: its answers come without a prompt
    examples = liked_examples(rated_chats, include_system_prompt=True)
    assert _messages(examples) == [
        [("user", "Hello?"), ("assistant", "Hello! Ask me anything.")],
        [
            ("system", "You are a pirate captain. Say arr."),
            ("user", "How much leave carries over?"),
            ("assistant", "Arr, five days, matey."),
        ],
        [("user", "Where do broken laptops go?"), ("assistant", "To the help desk, sir.")],
    ]
    assert all(not example_problems(e) for e in examples)


def _finetune_parser() -> argparse.ArgumentParser:
    """``finetune``'s subcommands as ``folio-cli`` builds them."""
    parser = argparse.ArgumentParser(prog="folio-cli finetune")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    add_commands(parser.add_subparsers(dest="action", required=True), common)
    return parser


def run_cli(
    services: Services, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, dict[str, Any], str]:
    """Exit code, the JSON document on stdout, and stderr."""
    args = _finetune_parser().parse_args([*argv, "--json"])
    code = int(args.func(services, args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_cli_from_chats(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services(home)
    try:
        with pytest.raises(UsageError, match="No liked answers"):
            run_cli(services, capsys, "from-chats", "liked")
        chat = services.chats.create("Leave").id
        services.chats.rate(_turn(services.chats, chat, "Carry over?", "Five days."), 1)
        code, out, _ = run_cli(services, capsys, "from-chats", "liked", "--include-system-prompt")
        assert code == 0 and out["dataset"] == "liked" and out["examples"] == 1
        info = services.datasets.get("liked")
        assert info.source == "chats"
        train, _ = services.datasets.load("liked")
        assert _messages(train) == [[("user", "Carry over?"), ("assistant", "Five days.")]]
    finally:
        services.close()


def test_cli_generate_asks_before_sending_documents(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = Services(home)
    try:
        services.chats.personas.save(PIRATE)
        # Indexed, so what is left to refuse is the consent (asked after every other check).
        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "leave.md").write_text("# Leave\n\nUnused leave carries over, up to 5 days.")
        services.ingestor.ingest([docs])
        argv = ["generate", "--folder", str(docs), "--persona", "Pirate", "--dataset", "t"]
        with pytest.raises(UsageError, match="sends passages of your documents to openai"):
            run_cli(services, capsys, *argv, "--model", "openai:gpt-4o-mini")
        unknown = r"--persona: No persona named 'Nobody'.*personas list"
        with pytest.raises(UsageError, match=unknown):
            run_cli(services, capsys, *argv[:3], "--persona", "Nobody", "--dataset", "t")
        assert services.settings.remote_consent == [] and services.datasets.all() == []
    finally:
        services.close()


# -- the reply parser, on replies of the kind models write -----------------------------------


@pytest.mark.parametrize(
    ("reply", "pair"),
    [
        (
            "Q: What's the purpose of the bluefin committee?\nA: The bluefin committee is a "
            "special group of people who help make decisions.",
            (
                "What's the purpose of the bluefin committee?",
                "The bluefin committee is a special group of people who help make decisions.",
            ),
        ),
        (  # a second pair begun: only the first counts
            "Q: When are laptops replaced?\nA: Every four years, like clockwork.\n"
            "Q: Where do broken ones go?\nA: The help desk.",
            ("When are laptops replaced?", "Every four years, like clockwork."),
        ),
        (  # an answer over two lines stays whole
            "Q: How does the help desk handle laptops?\nA: They have a repair service.\n"
            "They fix them on the second floor.",
            (
                "How does the help desk handle laptops?",
                "They have a repair service.\nThey fix them on the second floor.",
            ),
        ),
        (  # a question without its label
            "What's the best way to travel on a train?\n\nA: Book through the travel portal.",
            ("What's the best way to travel on a train?", "Book through the travel portal."),
        ),
        (
            "Sure! Here is one.\n\n**Question:** Who approves exceptions?\n"
            '**Answer:** "The bluefin committee, naturally."',
            ("Who approves exceptions?", "The bluefin committee, naturally."),
        ),
        (
            '```json\n{"question": "How many days carry over?", "answer": "Up to five."}\n```',
            ("How many days carry over?", "Up to five."),
        ),
        (
            '{"Question": "Who approves?", "Answer": "The committee."}',
            ("Who approves?", "The committee."),
        ),
    ],
)
def test_parse_pair_reads_question_and_answer(reply: str, pair: tuple[str, str]) -> None:
    assert parse_pair(reply) == pair


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "Sure, happy to help!",
        # What SmolLM2-135M writes when it loses the thread, as it wrote it:
        "What's the answer to the question: \"What's the answer to the question: What's the",
        "Q: How do you get a laptop to the second floor?\nA: Answer:\n"
        "Q: How do you get a laptop to the second floor?\nA: Answer:",
        "Q: How can you tell if a ticket is booked?\nA: Q: How can you tell if a ticket is "
        "booked?\nA: Q: How can you tell",
        "Q: When are laptops replaced?\nA:",
        "Q: When are laptops replaced?\nA: When are laptops replaced?",
        '{"question": "When are laptops replaced?", "answer": ""}',
        '{"question": "When?"}',
    ],
)
def test_parse_pair_refuses_replies_without_a_pair(reply: str) -> None:
    assert parse_pair(reply) is None


def test_the_prompt_is_the_persona_then_the_passage() -> None:
    messages = pair_prompt(PIRATE, "  Laptops are replaced every four years.\n")
    assert messages[0].role.value == "system" and messages[0].content == PIRATE.prompt
    assert messages[-1].role.value == "user"
    assert "Laptops are replaced every four years." in (messages[-1].content or "")
    assert "Q:" in (messages[-1].content or "") and "A:" in (messages[-1].content or "")


# -- generation with the real local model ----------------------------------------------------


@pytest.fixture(scope="module")
def writer() -> Any:
    """The embedded SmolLM2-135M, with room for a question and an answer."""
    return LLMCache(WRITER_SETTINGS).get("local:default")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days. "
        "The bluefin committee approves exceptions."
    )
    (folder / "it.md").write_text(
        "# IT\n\nLaptops are replaced every four years. Broken laptops go to the help desk "
        "on the second floor."
    )
    (folder / "travel.md").write_text(
        "# Travel\n\nTrain tickets are booked through the travel portal. First class is "
        "allowed for journeys longer than four hours."
    )
    (folder / "sub" / "garden.md").write_text(
        "# Garden\n\nTomatoes need six hours of sun a day. Water them in the morning."
    )
    return folder


@pytest.fixture
def library(make_services, docs: Path) -> Services:  # type: ignore[no-untyped-def]
    services = make_services(WRITER_SETTINGS)
    report = services.ingestor.ingest([docs])
    assert report.added == 4 and report.failed == 0
    services.chats.personas.save(PIRATE)
    return services


def _generate(services: Services, folder: Path, writer: Any, dataset: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return generate_pairs(
        services.library,
        services.store,
        folder,
        PIRATE,
        writer,
        services.datasets,
        dataset,
        **kwargs,
    )


@pytest.mark.slow
def test_pairs_are_written_in_the_voice_without_the_prompt(
    library: Services, docs: Path, writer: Any
) -> None:
    progress: list[GenerationProgress] = []
    report = _generate(library, docs, writer, "pirate", max_chunks=3, on_progress=progress.append)

    assert report.chunks_used == 3 and not report.cancelled
    assert report.pairs_written >= 1  # SmolLM2-135M manages most chunks; one is the floor
    assert report.pairs_written + report.chunks_skipped == 3
    assert {p.chunks_total for p in progress} == {3}
    assert progress[-1].chunks_done == 3 and progress[-1].pairs_written == report.pairs_written
    files = [p.current for p in progress if p.current]
    indexed = sorted(r.path for r in library.library.all_files())
    assert sorted(set(files)) == indexed[:3]  # the first three files, in file order
    assert files == sorted(files)

    info = library.datasets.get("pirate")
    assert (info.source, info.persona) == ("generated", "Pirate")
    assert info.train_examples == report.pairs_written
    lines = info.train_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == report.pairs_written
    for line in lines:
        record = json.loads(line)
        assert list(record) == ["messages"]
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
        assert PIRATE.prompt not in line
    read = read_examples(info.train_path)
    assert not read.problems and all(not example_problems(e) for e in read.examples)
    # Only the dataset's size is short of what OpenAI takes (line 0); every example is fine.
    assert [p.line for p in validate_file(info.train_path).errors] == [0]


def test_a_run_whose_model_cannot_be_reached_leaves_no_empty_dataset(
    library: Services, docs: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = ServerSettings(base_url=f"http://127.0.0.1:{port}/v1")
    library.change_settings(updated(library.settings, servers={"down": down}))
    model = library.llm("down:chat")
    with pytest.raises(FolioError, match=r"127\.0\.0\.1"):
        _generate(library, docs, model, "unheard", max_chunks=1)
    assert [d.name for d in library.datasets.all()] == []  # it found none, it leaves none
    # A dataset that was there before is kept, empty or not.
    library.datasets.create("kept", [], source="manual")
    with pytest.raises(FolioError):
        _generate(library, docs, model, "kept", max_chunks=1)
    assert [d.name for d in library.datasets.all()] == ["kept"]


@pytest.mark.slow
def test_a_stop_after_the_first_chunk_keeps_what_was_written(
    library: Services, docs: Path, writer: Any
) -> None:
    kept = Example([{"role": "user", "content": "Ahoy?"}, {"role": "assistant", "content": "Arr."}])
    library.datasets.create("pirate", [kept], source="manual")
    cancel = CancelToken()

    def stop_after_first(p: GenerationProgress) -> None:
        if p.chunks_done == 1:
            cancel.cancel()

    report = _generate(library, docs, writer, "pirate", on_progress=stop_after_first, cancel=cancel)
    assert report.cancelled and report.chunks_used == 1
    assert report.pairs_written + report.chunks_skipped == 1
    train, validation = library.datasets.load("pirate")
    assert validation == []
    assert len(train) == 1 + report.pairs_written
    assert train[0].to_json() == kept.to_json()  # what the dataset held before is untouched
    assert library.datasets.get("pirate").source == "manual"


@pytest.mark.slow
def test_only_the_chosen_folder_and_only_indexed_ones(
    library: Services, docs: Path, writer: Any, tmp_path: Path
) -> None:
    progress: list[GenerationProgress] = []
    report = _generate(library, docs / "sub", writer, "garden", on_progress=progress.append)
    assert report.chunks_used == 1 and {p.chunks_total for p in progress} == {1}
    assert {p.current for p in progress if p.current} == {str(docs / "sub" / "garden.md")}

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(NothingIndexed, match=f"No indexed files under {re.escape(str(elsewhere))}"):
        _generate(library, elsewhere, writer, "nothing")
    with pytest.raises(FinetuneError, match="max_chunks must be at least 1"):
        _generate(library, docs, writer, "nothing", max_chunks=0)
    assert [d.name for d in library.datasets.all()] == ["garden"]


@pytest.mark.slow
def test_chunks_come_from_a_qdrant_server_store_too(make_services, docs: Path, writer: Any) -> None:  # type: ignore[no-untyped-def]
    # qdrant-client's in-memory mode speaks the same client API as a real server.
    settings = updated(WRITER_SETTINGS, store=StoreSettings(backend="qdrant", url=":memory:"))
    services = make_services(settings)
    assert isinstance(services.store, ServerVectorStore)
    services.ingestor.ingest([docs / "sub"])
    passages: list[str] = []

    class Recorder:
        """The writer, keeping the passage of each prompt it is sent."""

        metadata = writer.metadata

        def count_tokens(self, text: str) -> int:
            return int(writer.count_tokens(text))

        def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
            passages.append(messages[-1].content)
            return writer.stream_chat(messages, **kwargs)

    report = generate_pairs(
        services.library,
        services.store,
        docs,
        PIRATE,
        Recorder(),
        services.datasets,
        "garden",
    )
    assert report.chunks_used == 1
    assert len(passages) == 1 and "Tomatoes need six hours of sun a day." in passages[0]


@pytest.fixture
def cli_services(home: Path, embed_model: Any, docs: Path) -> Iterator[Services]:
    """Services whose model cache writes answers as long as ``WRITER_SETTINGS`` allows."""
    services = Services(
        home, WRITER_SETTINGS, embed_model=embed_model, llms=LLMCache(WRITER_SETTINGS)
    )
    services.ingestor.ingest([docs])
    services.chats.personas.save(PIRATE)
    yield services
    services.close()


@pytest.mark.slow
def test_cli_generate_and_ctrl_c(
    cli_services: Services, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate = ["generate", "--folder", str(docs), "--persona", "pirate", "--dataset", "tone"]
    code, out, err = run_cli(cli_services, capsys, *generate, "--max-chunks", "1")
    assert code == 0
    assert set(out) >= {"dataset", "pairs_written", "chunks_used", "chunks_skipped", "cancelled"}
    assert (out["dataset"], out["chunks_used"], out["cancelled"]) == ("tone", 1, False)
    assert f"1/1 chunks, {out['pairs_written']} pairs: " in err  # progress, on stderr
    train = cli_services.datasets.get("tone").train_path
    chunks = cli_services.library.stats().chunks

    # Ctrl+C once a new pair is in the file: the run stops after that chunk, exit 130.
    before = out["pairs_written"]
    stop, late = threading.Event(), []

    def press_ctrl_c() -> None:
        while not stop.wait(0.2):
            if len(train.read_text(encoding="utf-8").splitlines()) > before:
                os.kill(os.getpid(), signal.SIGINT)
                return

    # The handler the command puts back when it ends takes a late signal harmlessly.
    previous = signal.signal(signal.SIGINT, lambda *_: late.append(1))
    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        code, out, err = run_cli(cli_services, capsys, *generate)
    finally:
        stop.set()
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert not late, "the run ended before Ctrl+C reached it"
    assert code == 130 and out["cancelled"] is True
    assert 1 <= out["pairs_written"] <= out["chunks_used"] < chunks
    assert "Stopping after the current chunk" in err
    train_examples, _ = cli_services.datasets.load("tone")
    assert len(train_examples) == before + out["pairs_written"]

    with pytest.raises(SystemExit) as usage:  # the parser's own refusal: exit 2
        run_cli(cli_services, capsys, *generate, "--max-chunks", "0")
    assert usage.value.code == 2 and "0 is less than 1" in capsys.readouterr().err


def test_a_copy_of_the_worked_example_is_told_from_a_pair_about_the_passage() -> None:
    leave = "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days."
    question, answer = EXAMPLE_REPLY.removeprefix("Q: ").split("\nA: ")
    assert echoes_example(question, answer, leave)  # the example's own pair
    assert echoes_example("How many days of leave carry over?", "Every Friday.", leave)
    assert not echoes_example("How many days of leave carry over?", "Up to 5 days, arr.", leave)
    # A passage about the coffee machine may be asked about its cleaning.
    coffee = "The coffee machine is cleaned every Friday by the facilities team."
    assert not echoes_example(question, answer, coffee)


class _OnePairPerTitle:
    """A chat model whose reply is fixed by the passage: a pair about its title, or, for
    the IT passage, the worked example copied (what SmolLM2-135M did in a real run). It
    stands in for a sampling model so that what Folio keeps can be checked exactly."""

    metadata = None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream_chat(self, messages: Any, **kwargs: Any) -> Iterator[Any]:
        passage = messages[-1].content.split("Passage:\n", 1)[1]
        title = passage.split("\n", 1)[0].lstrip("# ")
        reply = (
            EXAMPLE_REPLY if title == "IT" else f"Q: What is the {title} about?\nA: Arr, {title}."
        )
        yield ChatResponse(message=ChatMessage(role="assistant", content=reply), delta=reply)


def test_generation_run_again_leaves_out_questions_the_dataset_has_and_copies_of_the_example(
    library: Services, docs: Path
) -> None:
    model = _OnePairPerTitle()
    # Files in path order: it.md (its reply copies the example), leave.md, sub/, travel.md.
    first = _generate(library, docs, model, "again", max_chunks=2)
    assert (first.pairs_written, first.chunks_skipped, first.duplicates_skipped) == (1, 1, 0)
    second = _generate(library, docs, model, "again")  # started again, as after a stop
    assert (second.pairs_written, second.chunks_skipped, second.duplicates_skipped) == (2, 1, 1)
    train, validation = library.datasets.load("again")
    questions = sorted(e.prompt for e in [*train, *validation])
    assert questions == [
        "What is the Garden about?", "What is the Leave policy about?",
        "What is the Travel about?",
    ]  # fmt: skip
