"""Remote models through OpenAI's code path, against llama.cpp's real server on loopback.

``OPENAI_BASE_URL`` points the OpenAI provider at the server, exactly as a user points it at
a proxy or another endpoint; user-added servers go through the same client. Faults come from
``tests/fault_proxy.py`` in front of the same server.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.errors import ConsentRequired, ModelError, ProviderError
from desktop.core.models.providers import all_models
from desktop.core.secrets import Secrets
from desktop.core.settings import ServerSettings, Settings, updated
from desktop.services import Services
from tests.fault_proxy import FaultProxy
from tests.llama_server import MODEL_ALIAS, free_port

pytestmark = pytest.mark.slow

QUESTION = "How many days of leave carry over?"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days."
    )
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    return folder


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch, llama_server: str) -> str:
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return llama_server


def _services(home: Path, embed_model, **settings: object) -> Services:  # type: ignore[no-untyped-def]
    chosen = Settings.model_validate({"max_answer_tokens": 24, "request_timeout": 20, **settings})
    return Services(home, chosen, embed_model=embed_model)


@pytest.fixture
def remote(home: Path, embed_model, docs: Path, openai_env: str) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    services = _services(home, embed_model)
    services.ingestor.ingest([docs])
    yield services
    services.close()


def _stored_messages(home: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(home / "chats.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM messages ORDER BY id").fetchall()
    finally:
        db.close()


def test_models_are_listed_from_each_provider(openai_env: str) -> None:
    settings = Settings(servers={"lab": ServerSettings(base_url=openai_env)})
    models, problems = all_models(settings, Secrets())
    ids = {m.id: m for m in models}
    assert ids["local:default"].remote is False
    assert ids[f"openai:{MODEL_ALIAS}"].remote is True
    assert ids[f"lab:{MODEL_ALIAS}"].provider == "lab"
    assert problems == {}


def test_a_provider_that_is_down_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    down = f"http://127.0.0.1:{free_port()}/v1"
    settings = Settings(servers={"lab": ServerSettings(base_url=down)})
    models, problems = all_models(settings, Secrets())
    assert [m.id for m in models] == ["local:default"]
    assert "Cannot reach lab" in problems["lab"]
    assert "No API key" in problems["openai"]


def test_openai_answer_streams_with_sources_and_usage(remote: Services) -> None:
    model = f"openai:{MODEL_ALIAS}"
    with pytest.raises(ConsentRequired, match="sends passages of your documents"):
        remote.chat.ask(QUESTION, model=model)
    assert _stored_messages(remote.home) == []  # nothing sent, nothing stored
    remote.allow_remote("openai")

    tokens: list[str] = []
    answer = remote.chat.ask(QUESTION, model=model, top_k=2, on_token=tokens.append)
    assert answer.text and "".join(tokens) == answer.text
    assert Path(answer.citations[0].path).name == "leave.md"
    # llama.cpp's server reports no usage when streaming: Folio counts, and says so.
    assert answer.usage is not None and answer.usage["estimated"] == 1
    assert answer.usage["prompt_tokens"] > 20 and answer.usage["completion_tokens"] > 0
    stored = _stored_messages(remote.home)
    assert [r["role"] for r in stored] == ["user", "assistant"]
    assert stored[1]["model"] == model and stored[1]["usage"] is not None


def test_retrieval_off_needs_no_consent(remote: Services) -> None:
    answer = remote.chat.ask("Say hello.", model=f"openai:{MODEL_ALIAS}", retrieval=False)
    assert answer.text and answer.citations == []


def test_a_users_server_and_a_plain_chat(home: Path, embed_model, llama_server: str) -> None:  # type: ignore[no-untyped-def]
    services = _services(home, embed_model, servers={"lab": {"base_url": llama_server}})
    try:
        llm = services.llms.get(f"lab:{MODEL_ALIAS}")
        from llama_index.core.base.llms.types import ChatMessage

        reply = llm.chat([ChatMessage(role="user", content="Say hello.")])
        assert reply.strip()
        answer = services.chat.ask("Say hello.", model=f"lab:{MODEL_ALIAS}", retrieval=False)
        assert answer.text
    finally:
        services.close()


def test_unknown_provider_says_how_to_add_one(remote: Services) -> None:
    with pytest.raises(ModelError, match="add-server"):
        remote.chat.ask("Hi", model="nowhere:model", retrieval=False)


# -- errors a person can act on ------------------------------------------------------------


@pytest.fixture
def faulty(
    home: Path, embed_model, docs: Path, llama_server: str
) -> Iterator[tuple[Services, FaultProxy]]:  # type: ignore[no-untyped-def]
    with FaultProxy(llama_server) as proxy:
        services = _services(
            home,
            embed_model,
            servers={"lab": {"base_url": proxy.base_url}},
            remote_consent=["lab"],
        )
        services.ingestor.ingest([docs])
        yield services, proxy
        services.close()


def _ask_fails(services: Services, match: str) -> None:
    services.chats  # noqa: B018  (opens chats.db, so there is a table to count)
    before = len(_stored_messages(services.home))
    with pytest.raises(ProviderError, match=match):
        services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}")
    stored = _stored_messages(services.home)
    # The question is kept in the chat, whatever went wrong.
    assert [r["content"] for r in stored[before:]] == [QUESTION]


def test_usage_reported_by_the_provider_is_recorded(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.stream_usage = True
    answer = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}")
    expected_prompt = proxy.faults.prompt_sizes[-1] // 4
    assert answer.usage is not None and "estimated" not in answer.usage
    assert answer.usage["prompt_tokens"] == expected_prompt
    assert answer.usage["total_tokens"] == expected_prompt + answer.usage["completion_tokens"]
    stored = _stored_messages(services.home)[-1]
    assert f'"prompt_tokens": {expected_prompt}' in stored["usage"]


def test_wrong_key(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status = 401
    _ask_fails(services, r"lab refused the API key \(401\)")
    assert proxy.faults.requests == 1  # a refused key is not retried


def test_rate_limit_is_retried_with_backoff(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status, proxy.faults.times = 429, 2
    answer = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}")
    assert answer.text
    assert proxy.faults.requests == 3


def test_rate_limit_that_lasts(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status = 429
    _ask_fails(services, r"rate-limiting requests \(429\)")
    assert proxy.faults.requests == 4  # the first try and three retries


def test_no_credit(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status, proxy.faults.code = 429, "insufficient_quota"
    _ask_fails(services, r"no credit left \(429\): You exceeded your current quota, please check")


def test_model_not_found(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status, proxy.faults.code = 404, "model_not_found"
    _ask_fails(services, r"lab has no model 'smollm2' \(404\)")


def test_server_error(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.status = 500
    _ask_fails(services, "lab failed with HTTP 500")


def test_server_down(home: Path, embed_model) -> None:  # type: ignore[no-untyped-def]
    down = f"http://127.0.0.1:{free_port()}/v1"
    services = _services(home, embed_model, servers={"lab": {"base_url": down}})
    try:
        with pytest.raises(ProviderError, match=f"Cannot reach lab at {down}"):
            services.chat.ask("Hi", model="lab:any", retrieval=False)
    finally:
        services.close()


def test_timeout(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    services.apply_settings(updated(services.settings, request_timeout=2))
    proxy.faults.stall_s = 3
    _ask_fails(services, "lab did not answer within 2 s")
    with pytest.raises(ProviderError) as raised:
        services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}")
    # Where to raise it: the window's Settings, or for folio-cli the file it reads.
    assert raised.value.message.endswith("raise the timeout in Settings.")
    assert '"request_timeout" (seconds) in settings.json' in str(raised.value)


def test_connection_dropped_mid_answer_keeps_the_partial_answer(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    proxy.faults.cut_after_events = 4
    tokens: list[str] = []
    # An answer longer than four events, whatever the sampling: a two-word answer would end
    # before the cut and leave nothing to drop.
    long_question = "Write a long essay about the leave policy, in at least ten sentences."
    # The model samples: now and then it ends within four events, and nothing is cut. Ask
    # again then; the test is about a stream that was cut.
    for _ in range(5):
        tokens.clear()
        answer = services.chat.ask(
            long_question, model=f"lab:{MODEL_ALIAS}", on_token=tokens.append
        )
        if proxy.faults.cuts:
            break
    assert proxy.faults.cuts >= 1, "every answer ended before the cut"
    assert answer.interrupted and answer.text and "".join(tokens) == answer.text
    assert answer.notice is not None and "broke mid-answer" in answer.notice
    stored = _stored_messages(services.home)
    assert stored[-1]["content"] == answer.text and stored[-1]["interrupted"] == 1


def test_context_too_long_sends_fewer_sources(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    # Whole passages, so each source sent is in the prompt and one fewer is a shorter prompt.
    services.chat.focused_context = False
    full = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}", top_k=2)
    assert len(full.citations) == 2
    # The server now accepts only a prompt shorter than the one with both sources.
    proxy.faults.max_prompt_chars = proxy.faults.prompt_sizes[-1] - 10
    answer = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}", top_k=2)
    assert answer.text and len(answer.citations) == 1
    assert answer.notice is not None and "Fewer sources were sent" in answer.notice
    assert proxy.faults.prompt_sizes[-1] < proxy.faults.prompt_sizes[-2]


def test_context_too_long_with_focused_context_sends_a_shorter_prompt(faulty) -> None:  # type: ignore[no-untyped-def]
    services, proxy = faulty
    assert services.chat.focused_context  # the default: the model reads chosen sentences
    full = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}", top_k=2)
    assert len(full.citations) == 2
    proxy.faults.max_prompt_chars = proxy.faults.prompt_sizes[-1] - 1
    answer = services.chat.ask(QUESTION, model=f"lab:{MODEL_ALIAS}", top_k=2)
    # A source whose sentences were not sent shortens nothing: sources are dropped until
    # the prompt is shorter, then the server takes it.
    assert answer.text and len(answer.citations) < 2
    assert answer.notice is not None and "Fewer sources were sent" in answer.notice
    refused, taken = proxy.faults.prompt_sizes[-2:]
    assert taken < refused


def test_consent_is_kept_only_for_a_provider_that_is_configured(home: Path, embed_model) -> None:  # type: ignore[no-untyped-def]
    lab = f"http://127.0.0.1:{free_port()}/v1"
    services = _services(home, embed_model, servers={"lab": {"base_url": lab}})
    try:
        with pytest.raises(ModelError, match="Unknown provider 'ghost'"):
            services.allow_remote("ghost")
        assert services.settings.remote_consent == []
        # A server added later under that name is asked about like any new one.
        services.change_settings(
            updated(
                services.settings,
                servers={**services.settings.servers, "ghost": ServerSettings(base_url=lab)},
            )
        )
        assert services.needs_consent("ghost:m") == "ghost"
        services.allow_remote("lab")
        assert services.settings.remote_consent == ["lab"]
    finally:
        services.close()


def test_a_server_with_no_model_list_is_told_to_check_where_its_address_ends() -> None:
    import httpx
    import openai

    from desktop.core.models.errors import translate_error
    from desktop.core.models.ids import Provider

    url = "http://127.0.0.1:8080"
    response = httpx.Response(404, request=httpx.Request("GET", f"{url}/models"))
    not_found = openai.NotFoundError("Not Found", response=response, body=None)
    error = translate_error(not_found, Provider("web", url, None), model=None, timeout=10)
    assert error.message == (
        f"The server web at {url} has no model list (HTTP 404): check that its address ends "
        "where its OpenAI-compatible API starts, e.g. http://localhost:11434/v1."
    )
    assert "its --base-url ends" in str(error) and "models add-server web" in str(error)
    error = translate_error(not_found, Provider("openai", url, None), model=None, timeout=10)
    assert str(error).startswith(f"OpenAI's address {url} has no model list (HTTP 404): check")
    # A model the server does not have is another matter: another model is the way out.
    error = translate_error(not_found, Provider("web", url, None), model="m", timeout=10)
    assert error.message == "web has no model 'm' (404). Choose another model."
