"""Fine-tuning jobs end to end: the real ``openai`` SDK, through ``OPENAI_BASE_URL``, against
the stand-in fine-tuning server on 127.0.0.1 (``tests/openai_ft_server.py``), with jobs,
events and metrics in a real SQLite file. The chat with a fine-tuned model is answered by
llama.cpp's server behind it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from desktop.core.errors import DatasetError, FinetuneError, ProviderError
from desktop.core.finetune.examples import Example
from desktop.core.finetune.jobs import EVENTS_PAGE
from desktop.core.finetune.records import JobStore, PendingStart
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings
from desktop.core.tasks import CancelToken
from desktop.services import Services
from tests.openai_ft_server import API_KEY, Config, FineTuningServer

BASE = "gpt-4o-mini-2024-07-18"
ELSEWHERE = f"ft:{BASE}:another-org:legacy:abc12345"  # a model the account made without Folio


def pairs(n: int, word: str = "breathe") -> list[dict[str, str]]:
    return [{"prompt": f"What is step {i}?", "response": f"Step {i}: {word}."} for i in range(n)]


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def examples(n: int, word: str = "breathe") -> list[Example]:
    """The chat-format examples ``pairs`` converts to."""
    return [
        Example(
            [
                {"role": "user", "content": p["prompt"]},
                {"role": "assistant", "content": p["response"]},
            ]
        )
        for p in pairs(n, word)
    ]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FineTuningServer]:
    config = Config(account_models=[ELSEWHERE])
    with FineTuningServer(config=config) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        yield running


@pytest.fixture
def make(home: Path) -> Iterator[Callable[..., Services]]:
    """Services on the test's data folder (keys from the environment); closed afterwards."""
    built: list[Services] = []

    def build(**settings: object) -> Services:
        chosen = Settings.model_validate({"request_timeout": 30, **settings})
        services = Services(home, chosen)
        services.__dict__["secrets"] = Secrets(fail.Keyring())
        built.append(services)
        return services

    yield build
    for services in built:
        services.close()


def finish(services: Services, job_id: str) -> list[str]:
    """Refresh until the job ends; the statuses seen, in order, without repeats."""
    seen = [services.finetune_jobs.get(job_id).status]
    for _ in range(50):
        job = services.finetuning.refresh(job_id)
        if job.status != seen[-1]:
            seen.append(job.status)
        if job.finished:
            return seen
    raise AssertionError(f"{job_id} did not finish: {seen}")


def test_a_job_runs_to_a_model_with_its_lineage(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(12), source="generated", persona="Zen")
    plan = services.finetuning.plan("zen", f"openai:{BASE}")
    [(path, count, size)] = plan.files
    assert path.name == "train.jsonl" and count == 12 and size == path.stat().st_size
    assert plan.report.ok and plan.report.estimated_cost_usd and plan.persona == "Zen"
    assert server.requests == []  # planning sends nothing

    job = services.finetuning.start("zen", f"openai:{BASE}", suffix="zen", epochs=2)
    assert job.status == "validating_files" and job.dataset == "zen" and job.persona == "Zen"
    # Saved at once, where another process would find it.
    again = JobStore(services.home / "finetune.db")
    assert again.get(job.id).status == "validating_files"
    again.close()
    [sent] = server.files().values()
    assert [json.loads(line) for line in sent.decode().splitlines()] == [
        e.to_json() for e in examples(12)
    ]
    [created] = server.jobs()
    assert created["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": "auto",  # left to the server: not sent
        "learning_rate_multiplier": "auto",
    }

    assert finish(services, job.id) == ["validating_files", "queued", "running", "succeeded"]
    done = services.finetune_jobs.get(job.id)
    assert done.fine_tuned_model == f"ft:{BASE}:org-folio-test:zen:{job.id[-8:]}"
    assert done.model_id == f"openai:{done.fine_tuned_model}" and done.error is None
    assert done.trained_tokens and done.finished_at
    assert done.to_json()["job_id"] == job.id and done.to_json()["base"] == BASE

    events = services.finetune_jobs.events(job.id)
    for _ in range(3):  # polling again adds nothing
        services.finetuning.refresh(job.id)
    assert services.finetune_jobs.events(job.id) == events
    assert len({e.id for e in events}) == len(events) == 10
    assert events[0].message.startswith("Created fine-tuning job")
    assert events[-1].message == "The job has successfully completed"
    metrics = services.finetune_jobs.metrics(job.id)
    assert [m.step for m in metrics] == [1, 2, 3, 4]
    losses = [m.train_loss or 0.0 for m in metrics]
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == 4 and losses[-1] > 0

    models, problems = services.models()
    assert problems == {}
    by_id = {m.id: m for m in models}
    trained = by_id[done.model_id]
    assert trained.kind == "fine-tuned" and trained.lineage is not None
    assert trained.lineage["base"] == BASE and trained.lineage["dataset"] == "zen"
    assert trained.lineage["persona"] == "Zen" and trained.lineage["job_id"] == job.id
    assert trained.lineage["trained_here"] is True and trained.lineage["date"]
    other = by_id[f"openai:{ELSEWHERE}"]
    assert other.kind == "fine-tuned" and other.lineage is not None
    assert other.lineage["base"] == BASE and other.lineage["trained_here"] is False
    assert other.lineage["dataset"] is None and other.lineage["persona"] is None
    assert by_id[f"openai:{BASE}"].kind == "base" and by_id[f"openai:{BASE}"].lineage is None
    assert sorted(services.finetuning.account_models()) == sorted(
        [ELSEWHERE, done.fine_tuned_model]
    )


def test_the_lineage_persona_defaults_to_the_datasets_and_can_be_changed_or_cleared(
    server: FineTuningServer, make
) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(10), source="generated", persona="Zen")
    chosen = {
        None: "Zen",  # not said: the dataset's
        "Calm cook": "Calm cook",
        "": None,  # cleared: trained from a persona's data, but named for none
        "  ": None,
    }
    for persona, expected in chosen.items():
        job = services.finetuning.start("zen", BASE, persona=persona)
        assert services.finetune_jobs.get(job.id).persona == expected


def test_a_start_stopped_before_creating_its_job_has_its_uploads_deleted_later(
    server: FineTuningServer, make
) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(10), source="import", persona="Zen")
    done = services.finetuning.start("zen", BASE)  # a start that went through
    # One that uploaded its files and stopped there (as if killed): the files are on the
    # server, the start on record, no job anywhere.
    client = services.finetuning.client()
    train = client.files.create(file=("train.jsonl", b"{}\n"), purpose="fine-tune").id
    held = client.files.create(file=("validation.jsonl", b"{}\n"), purpose="fine-tune").id
    stopped = PendingStart(train, held, "openai", BASE, time.time(), dataset="zen")
    services.finetune_jobs.add_pending(stopped)
    assert services.finetuning.recover() == []  # too recent: maybe another Folio's
    assert train in server.files() and services.finetune_jobs.pending() == [stopped]

    assert services.finetuning.recover(min_age_s=0) == []
    assert train not in server.files() and held not in server.files()
    assert services.finetune_jobs.pending() == []
    assert [j.id for j in services.finetune_jobs.all()] == [done.id]  # untouched
    assert len(server.jobs()) == 1


def test_events_are_paged_and_stored_once(server: FineTuningServer, make, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server.config.advance_on_retrieve = False
    server.config.steps = EVENTS_PAGE + 50
    services = make()
    source = write_jsonl(tmp_path / "calm.jsonl", pairs(10))
    job = services.finetuning.start(source, BASE)
    assert job.dataset == str(source) and job.persona is None

    server.advance(job.id, 2 + EVENTS_PAGE + 20)  # validated, queued, then 120 steps
    services.finetuning.refresh(job.id)
    stored = services.finetune_jobs.events(job.id)
    assert len(stored) == 4 + EVENTS_PAGE + 20  # more than one page, every one once
    assert [m.step for m in services.finetune_jobs.metrics(job.id)] == list(range(1, 121))

    server.advance(job.id, 5)
    services.finetuning.refresh(job.id)
    later = services.finetune_jobs.events(job.id)
    assert later[: len(stored)] == stored and len(later) == len(stored) + 5
    assert later[-1].message.startswith("Step 125/150") and later[-1].type == "metrics"


def test_polling_resumes_after_a_restart(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    first = make()
    first.datasets.create("zen", examples(10), source="import")
    job = first.finetuning.start("zen", BASE)
    first.finetuning.refresh(job.id)
    assert first.finetuning.refresh(job.id).status == "running"
    before = first.finetune_jobs.events(job.id)
    first.close()

    second = make()  # as after a restart: a new process on the same data folder
    assert [j.id for j in second.finetune_jobs.unfinished()] == [job.id]
    seen: list[str] = []
    second.finetuning.watch(lambda j: seen.append(j.status), interval=0.01)
    assert seen[-1] == "succeeded" and second.finetune_jobs.unfinished() == []
    after = second.finetune_jobs.events(job.id)
    assert after[: len(before)] == before and len({e.id for e in after}) == len(after)
    assert second.finetune_jobs.get(job.id).fine_tuned_model


def test_watch_stops_when_cancelled_and_outlasts_provider_errors(  # type: ignore[no-untyped-def]
    server: FineTuningServer, make
) -> None:
    server.config.advance_on_retrieve = False  # the job stays running
    services = make()
    services.datasets.create("zen", examples(10), source="import")
    job = services.finetuning.start("zen", BASE)
    cancel = CancelToken()
    updates: list[str] = []

    def on_update(found) -> None:  # type: ignore[no-untyped-def]
        updates.append(found.status)
        cancel.cancel()

    watcher = threading.Thread(
        target=services.finetuning.watch, args=(on_update, cancel, 600.0), daemon=True
    )
    watcher.start()
    watcher.join(60)  # a 600 s pause between polls must not hold it
    assert not watcher.is_alive() and updates == ["validating_files"]

    # A provider that refuses (or cannot be reached) is asked again next round, not fatal.
    server.config.api_key = "sk-rotated"
    cancel, calls = CancelToken(), []
    make_client = services.finetuning.client

    def counting_client():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            cancel.cancel()
        return make_client()

    services.finetuning.client = counting_client
    services.finetuning.watch(cancel=cancel, interval=0.01)
    assert len(calls) == 3 and services.finetune_jobs.get(job.id).status == "validating_files"


def test_a_failed_job_keeps_the_servers_reason(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    server.config.fail_at_step = 2
    server.config.failure = "The job failed due to an internal error. Please try again later."
    services = make()
    services.datasets.create("zen", examples(10), source="import")
    job = services.finetuning.start("zen", BASE)
    assert finish(services, job.id)[-1] == "failed"
    failed = services.finetune_jobs.get(job.id)
    assert failed.error == server.config.failure and failed.fine_tuned_model is None
    assert failed.to_json()["error"] == server.config.failure
    assert services.finetune_jobs.events(job.id)[-1].level == "error"


def test_a_file_the_server_rejects_fails_the_job_with_its_reason(  # type: ignore[no-untyped-def]
    server: FineTuningServer, make
) -> None:
    # Folio cannot check moderation: the file passes its validation, the server's fails it.
    server.config.blocked_text = "forbidden"
    services = make()
    services.datasets.create("rude", examples(10, "forbidden"), source="import")
    job = services.finetuning.start("rude", BASE)
    assert finish(services, job.id) == ["validating_files", "failed"]
    error = services.finetune_jobs.get(job.id).error
    assert error and error.startswith("The job failed due to an invalid training file.")
    assert "moderation" in error


def test_an_invalid_dataset_is_refused_before_anything_is_sent(  # type: ignore[no-untyped-def]
    server: FineTuningServer, make, tmp_path: Path
) -> None:
    records: list[object] = list(pairs(12))
    records[2] = {"messages": [{"role": "user", "content": "Only a question"}]}
    source = write_jsonl(tmp_path / "broken.jsonl", records)
    with source.open("a", encoding="utf-8") as file:
        file.write('{"prompt": "cut short\n')
    services = make()
    with pytest.raises(DatasetError) as refused:
        services.finetuning.start(source, BASE)
    message = str(refused.value)
    assert "line 3: no assistant message" in message and "line 13: not valid JSON" in message
    assert "\n" not in message and "finetune validate" in message
    with pytest.raises(DatasetError, match='There is no dataset named "nothing"'):
        services.finetuning.plan("nothing", BASE)
    assert server.requests == [] and services.finetune_jobs.all() == []


def test_no_quota_saves_no_job_and_leaves_nothing_uploaded(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    server.config.quota_exceeded = True
    services = make()
    services.datasets.create("zen", examples(10), source="import", validation=examples(2, "x"))
    with pytest.raises(ProviderError, match=r"no credit left \(429\)") as refused:
        services.finetuning.start("zen", BASE)
    # The provider's own words, not the SDK's "Error code: 429 - {...}".
    assert str(refused.value).endswith(
        ": You exceeded your current quota, please check your plan and billing details."
    )
    assert services.finetune_jobs.all() == [] and services.finetune_jobs.pending() == []
    assert server.files() == {}  # both uploads were taken back
    assert ("POST", "/v1/fine_tuning/jobs") in server.requests
    train, validation = services.datasets.load("zen")
    assert [e.to_json() for e in train] == [e.to_json() for e in examples(10)]
    assert len(validation) == 2

    server.config.quota_exceeded = False
    with pytest.raises(ProviderError) as unknown:
        services.finetuning.start("zen", "gpt-9-imaginary")
    assert "gpt-9-imaginary is not available for fine-tuning" in str(unknown.value)
    assert "(400)" in str(unknown.value) and services.finetune_jobs.all() == []


def test_a_validation_split_is_uploaded_and_reported(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(10), source="import", validation=examples(3, "x"))
    plan = services.finetuning.plan("zen", BASE)
    assert [(p.name, n) for p, n, _ in plan.files] == [("train.jsonl", 10), ("validation.jsonl", 3)]
    job = services.finetuning.start("zen", BASE)
    assert job.validation_file in server.files() and job.training_file in server.files()
    finish(services, job.id)
    metrics = services.finetune_jobs.metrics(job.id)
    assert metrics and all(m.valid_loss is not None for m in metrics)


def test_cancel(server: FineTuningServer, make) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(10), source="import")
    job = services.finetuning.start("zen", BASE)
    assert services.finetuning.refresh(job.id).status == "queued"
    cancelled = services.finetuning.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.error is None
    assert services.finetune_jobs.get(job.id).status == "cancelled"
    assert services.finetune_jobs.events(job.id)[-1].message == "Fine-tuning job cancelled"
    assert services.finetune_jobs.unfinished() == []
    with pytest.raises(FinetuneError, match="has already been cancelled"):
        services.finetuning.cancel(job.id)
    with pytest.raises(FinetuneError, match="no fine-tuning job 'ftjob-unknown'"):
        services.finetuning.refresh("ftjob-unknown")


def test_a_wrong_key_is_refused(server: FineTuningServer, make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services = make()
    services.datasets.create("zen", examples(10), source="import")
    job = services.finetuning.start("zen", BASE)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with pytest.raises(ProviderError, match=r"refused the API key \(401\).*OPENAI_API_KEY"):
        services.finetuning.start("zen", BASE)
    with pytest.raises(ProviderError, match=r"\(401\)"):
        services.finetuning.refresh(job.id)
    assert [j.id for j in services.finetune_jobs.all()] == [job.id]
    models, problems = services.models()
    assert "(401)" in problems["openai"] and all(not m.remote for m in models)


@pytest.mark.slow
def test_chat_with_the_fine_tuned_model(llama_server: str, make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with FineTuningServer(upstream=llama_server) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        services = make(max_answer_tokens=16)
        services.datasets.create("zen", examples(10), source="import", persona="Zen")
        job = services.finetuning.start("zen", BASE, suffix="zen")
        finish(services, job.id)
        model_id = services.finetune_jobs.get(job.id).model_id
        assert model_id is not None
        picker = {m.id: m for m in services.models()[0]}
        assert picker[model_id].kind == "fine-tuned"

        tokens: list[str] = []
        answer = services.chat.ask(
            "Say hello.", model=model_id, retrieval=False, on_token=tokens.append
        )
        assert answer.text.strip() and "".join(tokens) == answer.text
        assert answer.to_json()["model"] == model_id
        assert ("POST", "/v1/chat/completions") in server.requests
        stored = services.chats.messages(answer.chat_id)
        assert [m.role for m in stored] == ["user", "assistant"] and stored[1].model == model_id
