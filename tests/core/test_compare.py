"""One question across configurations with the real embedded model, store and, for a
remote cell, llama.cpp's OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.chat.history import LIKED
from desktop.core.errors import ChatError
from desktop.core.evaluate.cells import CellConfig, default_grid
from desktop.core.evaluate.compare import STOPPED, CellResult, NothingAnswered
from desktop.core.evaluate.export import to_html, to_markdown
from desktop.core.models import local
from desktop.core.models.local import LLMCache
from desktop.core.models.local_files import embedded_llm_path
from desktop.core.models.prices import cost_usd, price_per_million
from desktop.core.settings import Settings
from desktop.core.tasks import CancelToken
from tests.llama_server import MODEL_ALIAS

QUESTION = "How many days of leave carry over?"


@pytest.fixture
def library(make_services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llama_server: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days. "
        "The bluefin committee approves exceptions."
    )
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    services = make_services(Settings(max_answer_tokens=24))
    services.ingestor.ingest([folder])
    return services


def _counting(services) -> list[str]:  # type: ignore[no-untyped-def]
    """The questions the library is searched for, counted around the real search."""
    searched: list[str] = []
    search: Callable[..., object] = services.retriever.search

    def counted(query: str, **kwargs: object) -> object:
        searched.append(query)
        return search(query, **kwargs)

    services.retriever.search = counted
    return searched


@pytest.mark.slow
def test_cells_stream_share_one_search_and_are_saved(library) -> None:  # type: ignore[no-untyped-def]
    searched = _counting(library)
    configs = [
        CellConfig("local:default"),
        CellConfig("local:default", "Sarcastic techie"),
        CellConfig("local:default", retrieval=False),
        CellConfig(f"openai:{MODEL_ALIAS}", retrieval=False),  # remote, beside the local ones
    ]
    streamed: dict[int, str] = {}
    ended: list[int] = []

    def on_token(position: int, text: str) -> None:
        streamed[position] = streamed.get(position, "") + text

    def on_cell(position: int, result: CellResult) -> None:
        ended.append(position)

    comparison = library.comparer.run(QUESTION, configs, on_token=on_token, on_cell=on_cell)
    assert searched == [QUESTION]  # once for the two retrieval-on cells
    assert sorted(ended) == [0, 1, 2, 3]
    cells = comparison.cells
    assert [c.config for c in cells] == configs and not any(c.error for c in cells)
    for position, cell in enumerate(cells):
        assert cell.answer is not None and cell.answer.text == streamed[position]
        assert cell.ttft_ms is not None and cell.seconds is not None
        assert cell.ttft_ms < cell.seconds * 1000
        assert cell.tokens_in and cell.tokens_out
    assert cells[0].answer.citations == cells[1].answer.citations  # type: ignore[union-attr]
    assert cells[0].answer.citations[0].file_name == "leave.md"  # type: ignore[union-attr]
    assert cells[2].answer.citations == [] and cells[3].answer.citations == []  # type: ignore[union-attr]
    assert cells[1].answer.persona == "Sarcastic techie"  # type: ignore[union-attr]
    # The persona's prompt is sent, so it costs prompt tokens the base cell does not pay.
    assert cells[1].tokens_in > cells[0].tokens_in  # type: ignore[operator]
    assert cells[0].cost_usd == 0.0  # local
    assert cells[3].cost_usd is None  # a server whose prices Folio does not know

    # Saved: reopened as it was, its cells kept out of the chat list, and rated like any answer.
    again = library.comparer.load(comparison.id)
    assert [c.answer.text for c in again.cells] == [c.answer.text for c in cells]  # type: ignore[union-attr]
    assert [c.ttft_ms for c in again.cells] == [c.ttft_ms for c in cells]
    # With what the window shows under an answer: its supporting sentence, cut, notice.
    assert cells[0].answer.support is not None  # type: ignore[union-attr]
    for field in ("support", "searched", "cut_off", "notice"):
        assert [getattr(c.answer, field) for c in again.cells] == [
            getattr(c.answer, field) for c in cells
        ], field
    assert library.chats.all() == []
    library.chats.rate(again.cells[1].answer.message_id, LIKED)  # type: ignore[union-attr]
    [(asked, liked)] = library.chats.liked()
    assert asked.content == QUESTION and liked.content == cells[1].answer.text  # type: ignore[union-attr]
    shape = comparison.to_json()["cells"][0]
    assert {"answer", "sources", "model", "persona", "retrieval", "chat_id"} <= shape.keys()
    assert {"ttft_ms", "seconds", "tokens_in", "tokens_out", "cost_usd"} <= shape.keys()

    library.comparer.saved.delete(comparison.id)
    assert library.comparer.saved.all() == []
    assert all(library.chats.messages(c.chat_id) == [] for c in cells)  # type: ignore[arg-type]


@pytest.mark.slow
def test_stop_keeps_what_arrived_and_a_bad_grid_is_refused_before_it_runs(library) -> None:  # type: ignore[no-untyped-def]
    cancel = CancelToken()

    def on_token(position: int, text: str) -> None:
        cancel.cancel()  # Stop, as soon as the first cell's first token is seen

    configs = [CellConfig("local:default", retrieval=False), CellConfig("local:default")]
    question = "How many days of <leave> carry over & why?"
    comparison = library.comparer.run(question, configs, on_token=on_token, cancel=cancel)
    stopped, later = comparison.cells
    assert stopped.answer is not None and stopped.answer.interrupted and stopped.answer.text
    assert later.answer is None and later.error == STOPPED
    saved = library.comparer.load(comparison.id)
    assert saved.cells[1].error == STOPPED and saved.cells[0].answer.interrupted  # type: ignore[union-attr]

    # Exported: every cell in its place; in HTML, what people and models wrote stays text.
    markdown = to_markdown(saved)
    assert markdown.startswith(f"# {question}\n")
    assert "## SmolLM2 135M · built in, retrieval\n\n_Failed: Stopped before it began._" in markdown
    assert stopped.answer.text.strip() in markdown and "_(stopped before the end)_" in markdown
    page = to_html(saved)
    assert "<h1>How many days of &lt;leave&gt; carry over &amp; why?</h1>" in page
    assert "<leave>" not in page and page.count("<section>") == 2
    # A cell that cannot run is refused before anything is searched, asked or saved.
    with pytest.raises(ChatError, match=r"cell 2 \(Unnamed model, retrieval\): it has no model"):
        library.comparer.run(QUESTION, [CellConfig("local:default"), CellConfig(" ")])
    with pytest.raises(ChatError, match=r"cell 1 .*No persona named 'Nobody'"):
        library.comparer.run(QUESTION, [CellConfig("local:default", "Nobody")])
    assert len(library.comparer.saved.all()) == 1


@pytest.mark.slow
def test_a_remote_cell_without_a_key_fails_in_its_place(  # type: ignore[no-untyped-def]
    library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")  # OpenAI itself, and no key for it
    configs = [CellConfig("openai:gpt-4o-mini", retrieval=False), CellConfig("local:default")]
    remote, local_cell = library.comparer.run(QUESTION, configs).cells
    assert remote.error and remote.error.startswith("No API key for OpenAI: add one in Settings")
    assert local_cell.answer is not None and local_cell.answer.text
    assert len(library.comparer.saved.all()) == 1  # one cell answered: the comparison is kept


def test_a_configuration_is_written_and_read_as_the_cli_takes_it() -> None:
    spec = "local:ft:snark,persona=Sarcastic techie,retrieval=off"
    config = CellConfig.parse(spec)
    assert config == CellConfig("local:ft:snark", "Sarcastic techie", False)
    assert config.spec() == spec and CellConfig.parse(config.spec()) == config
    assert CellConfig.parse("openai:gpt-4o-mini") == CellConfig("openai:gpt-4o-mini")
    # Persona names are free text: commas, '=', other scripts all read back as written.
    names = ("Pirate, polite", "A , B", "a=b, c", "Ünïcode 海賊", "retrieval", "b,retrieval=off",
             "x,persona=y", "retrieval=on", "p,retrieval=on,q")  # fmt: skip
    for name in names:
        for retrieval in (True, False):
            config = CellConfig("local:default", name, retrieval)
            assert CellConfig.parse(config.spec()) == config
    for model in ("local:x=y", "local:a,b"):  # local models' names are free text too
        for config in (CellConfig(model), CellConfig(model, "b,retrieval=off", False)):
            assert CellConfig.parse(config.spec()) == config
    # A label names the persona apart from the retrieval setting when its name has a comma.
    assert CellConfig("local:default", "Bob, retrieval=off", True).label == (
        "SmolLM2 135M · built in + “Bob, retrieval=off”, retrieval"
    )
    assert CellConfig("local:default", "Zen", False).label == (
        "SmolLM2 135M · built in + Zen, no retrieval"
    )
    # Typed in another order or spaced, a spec still reads as a person means it.
    assert CellConfig.parse("local:default, retrieval=off, persona=Zen") == CellConfig(
        "local:default", "Zen", False
    )
    bad_specs = (
        "", "persona=Zen", "local:default,retrieval=maybe", "local:default,temp=1",
        "local:default,retrieval=on,retrieval=off", "local:default,persona=A,persona=B",
    )  # fmt: skip
    for bad in bad_specs:
        with pytest.raises(ChatError, match=r"persona=NAME|start with a model"):
            CellConfig.parse(bad)
    grid = default_grid("local:default", "Zen", "local:ft:zen")
    assert [c.spec() for c in grid] == [
        "local:default,retrieval=on",
        "local:default,retrieval=off",
        "local:default,persona=Zen,retrieval=on",
        "local:default,persona=Zen,retrieval=off",
        "local:ft:zen,retrieval=on",
        "local:ft:zen,retrieval=off",
    ]
    assert len(default_grid("local:default", None, None)) == 2


def test_prices_follow_the_published_table() -> None:
    # 1,000 prompt and 200 answer tokens on gpt-4o-mini: $0.15 and $0.60 per 1M.
    assert cost_usd("openai:gpt-4o-mini", 1000, 200) == pytest.approx(0.00027)
    assert price_per_million("openai:gpt-4o-mini-2024-07-18") == (0.15, 0.60)  # not gpt-4o's
    assert price_per_million("openai:ft:gpt-4o-mini-2024-07-18:org:zen:abc") == (0.30, 1.20)
    assert price_per_million("local:ft:zen") == (0.0, 0.0)
    assert price_per_million("ollama:llama3.2") is None
    assert price_per_million("openai:some-new-model") is None


def test_where_memory_is_short_one_local_model_is_held_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gguf = embedded_llm_path()
    assert gguf is not None
    two = {"copy": str(gguf), "other": str(gguf)}  # two more ids for the same file
    cache = LLMCache(Settings(local_models=two))
    cache.get("local:default")
    cache.get("local:copy")  # this machine has room: both stay loaded
    assert cache.loaded() == ["local:default", "local:copy"]
    # Less available than the file needs beside them (memory pressure cannot be made safely
    # in a test, so the reading is replaced): the loaded ones are let go first.
    monkeypatch.setattr(local, "available_memory", lambda: gguf.stat().st_size)
    cache.get("local:copy")  # already loaded: nothing changes
    assert cache.loaded() == ["local:default", "local:copy"]
    cache.get("local:other")
    assert cache.loaded() == ["local:other"]
    cache.unload()  # freed now, not while the interpreter shuts down
    assert cache.loaded() == []


@pytest.mark.slow
def test_a_remote_model_rewrites_a_follow_up_before_it_is_searched(library) -> None:  # type: ignore[no-untyped-def]
    # llama.cpp's OpenAI-compatible server: a remote model's chat() returns text, which the
    # condense step must read as such.
    remote = f"openai:{MODEL_ALIAS}"
    library.allow_remote("openai")
    first = library.chat.ask("How many days of leave carry over?", model=remote)
    follow = library.chat.ask("Who approves exceptions to it?", model=remote, chat_id=first.chat_id)
    assert follow.searched is not None
    assert follow.searched.endswith("How many days of leave carry over?")
    assert len(follow.searched) > len("How many days of leave carry over?")  # a rewrite first
    assert any(c.file_name == "leave.md" for c in follow.citations)


# Two OpenAI cells with no key and no retrieval: each fails at once, nothing leaves here.
NO_KEY = ["openai:gpt-4o-mini,retrieval=off", "openai:gpt-4o,retrieval=off"]


def test_a_comparison_in_which_no_cell_answered_is_not_saved_and_says_why(  # type: ignore[no-untyped-def]
    services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    ended: list[int] = []
    with pytest.raises(NothingAnswered) as raised:
        services.comparer.run(
            QUESTION,
            [CellConfig.parse(spec) for spec in NO_KEY],
            on_cell=lambda position, result: ended.append(position),
        )
    message = str(raised.value)
    assert message.startswith("No configuration answered: cell 1 (")
    assert "cell 2 (" in message and message.count("No API key for OpenAI") == 2
    assert message.endswith("; nothing was saved.")
    assert sorted(ended) == [0, 1]  # each cell was still shown as it ended
    assert [c.error for c in raised.value.cells if c.error] and services.comparer.saved.all() == []


def test_cli_compare_exits_1_and_saves_nothing_when_no_cell_answered(  # type: ignore[no-untyped-def]
    make_services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    home = tmp_path / "cli-home"
    home.mkdir()
    grid = [arg for spec in NO_KEY for arg in ("--config", spec)]
    assert main(["--home", str(home), "compare", QUESTION, *grid]) == 1
    captured = capsys.readouterr()
    assert "No configuration answered: cell 1" in captured.err
    assert "nothing was saved" in captured.err
    assert "(failed: No API key for OpenAI" in captured.out  # each cell as it ended
    # In folio-cli's words: the command that stores a key, not the window's menu.
    assert "`folio-cli models set-key openai`" in captured.out + captured.err
    assert "Settings" not in captured.out + captured.err
    assert "(comparison " not in captured.err
    assert make_services(at=home).comparer.saved.all() == []


def test_a_set_saved_under_a_name_that_reads_the_same_replaces_it_and_says_so(
    services,  # type: ignore[no-untyped-def]
) -> None:
    saved = services.comparer.saved
    assert saved.save_set("Leave pair", ["local:default"]) is None
    # Case and Unicode normalisation aside, the same name: the one set, saved again.
    assert saved.save_set("LEAVE  PAIR", ["local:default,retrieval=off"]) == "Leave pair"
    assert saved.sets() == {"LEAVE  PAIR": ["local:default,retrieval=off"]}
    for bad in ("new\nline", "x" * 81, "rtl\u202eset"):
        with pytest.raises(ChatError, match="is not usable: at most 80 characters"):
            saved.save_set(bad, ["local:default"])
    assert list(saved.sets()) == ["LEAVE  PAIR"]
