"""Switching a library's embedding model: finished, cancelled, killed, resumed, caught up.

The library starts on the real local embedder; the new model is SmolLM2 behind llama.cpp's
real OpenAI-compatible server on 127.0.0.1, set up as a user's server named ``llamacpp``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from desktop.cli import answer, main
from desktop.core.errors import EmbeddingMismatchError
from desktop.core.library.catalog import EMBEDDING_SWITCH_KEY, FileStatus
from desktop.core.library.channel import ChannelServer
from desktop.core.library.ingest import Ingestor
from desktop.core.library.reembed import (
    DEFAULT_COLLECTION,
    EmbeddingSwitch,
    abandon_switch,
    active_collection,
    pending_switch,
)
from desktop.core.library.search import Retriever
from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID
from desktop.core.settings import ServerSettings, Settings, save_settings
from desktop.core.store.edge import EdgeVectorStore
from desktop.core.tasks import CancelToken, Progress
from desktop.services import Services
from tests.consistency import assert_consistent
from tests.core.test_embeddings_remote import SERVER_DIM, BatchCounter

NEW_MODEL = "llamacpp:smollm2"
# One short, one-chunk file per topic; the query word appears in that file only.
TOPICS = {
    "glacier": "The glacier retreated two kilometres over the last century.",
    "saxophone": "She practised the saxophone every evening after dinner.",
    "volcano": "Ash from the volcano covered the village for a week.",
    "invoice": "Send the invoice to accounting before the end of the month.",
    "orchard": "The orchard gave three hundred kilos of apples this autumn.",
    "telescope": "Through the telescope we could see the rings of Saturn.",
    "marathon": "He finished the marathon in just under four hours.",
    "lighthouse": "The lighthouse keeper logged every passing ship by hand.",
    "sourdough": "Feed the sourdough starter with flour and water each morning.",
    "badminton": "The badminton club meets on Thursday nights in the gym.",
    "earthquake": "The earthquake damaged the old bridge across the river.",
    "violin": "The violin was made in Cremona almost three centuries ago.",
}
LATE_TOPIC = ("falconry", "Falconry takes patience: the hawk returns only when it trusts you.")


@pytest.fixture
def settings(llama_server: str) -> Settings:
    return Settings(threads=2, servers={"llamacpp": ServerSettings(base_url=llama_server)})


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TOPICS.items():
        (folder / f"{name}.md").write_text(f"{text}\n")
    return folder


@pytest.fixture
def library_home(make_services, settings: Settings, docs: Path, home: Path) -> Path:  # type: ignore[no-untyped-def]
    """A library of ``docs`` indexed with the local model, closed again."""
    save_settings(home, settings)
    services = make_services(settings)
    report = services.ingestor.ingest([docs])
    assert report.added == len(TOPICS) and report.chunks_embedded == len(TOPICS)
    services.close()
    return home


def counting_loader(services: Services) -> BatchCounter:
    """Count every text the switch sends to the new model, as the model itself reports it."""
    counter = BatchCounter()
    load = services.load_embedding_model

    def load_counted(model_id: str) -> BaseEmbedding:
        model = load(model_id)
        model.callback_manager.add_handler(counter)
        return model

    services.load_embedding_model = load_counted  # type: ignore[method-assign]
    return counter


def assert_search_finds_each_topic(services: Services, topics: dict[str, str]) -> None:
    """Each file comes first for its own text (hybrid and dense) and for its topic word.

    A file's own text finds it only if its vector is the model's vector of that text. (A
    single word is left to BM25: SmolLM2's mean-pooled vectors are too weak to rank one.)
    """
    search = services.retriever.search
    for name, text in topics.items():
        assert search(text, k=1, mode="dense")[0].file_name == f"{name}.md"
        assert search(name, k=1, mode="keyword")[0].file_name == f"{name}.md"
    for name, text in list(topics.items())[:2]:  # fusion of the two, on a few
        assert search(text, k=1)[0].file_name == f"{name}.md"


def store_dirs(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "store").iterdir())


def status(capsys: pytest.CaptureFixture[str], home: Path) -> dict:  # type: ignore[type-arg]
    assert main(["--home", str(home), "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_switch_completes_and_the_old_model_is_refused(  # type: ignore[no-untyped-def]
    make_services, library_home: Path, settings: Settings, embed_model, capsys
) -> None:
    services = make_services(settings)
    # Searched with the old model first: its cached query vectors must not outlive it.
    assert_search_finds_each_topic(services, TOPICS)
    counter = counting_loader(services)
    seen: list[Progress] = []
    report = services.switch_embedding_model(NEW_MODEL, seen.append, batch_size=5)

    assert report.swapped and not report.cancelled and not report.resumed
    assert (report.chunks, report.embedded) == (len(TOPICS), len(TOPICS))
    assert sum(counter.batches) == len(TOPICS) + 1  # every chunk once, and one probe
    assert [p.chunks_done for p in seen] == [0, 5, 10, 12]
    assert all(p.chunks_total == len(TOPICS) for p in seen)
    assert services.embed_model_name == NEW_MODEL
    active = active_collection(services.library)
    assert active.model == NEW_MODEL and store_dirs(library_home) == [active.directory]
    assert not (library_home / "store" / DEFAULT_COLLECTION).exists()
    assert_consistent(services)
    assert_search_finds_each_topic(services, TOPICS)

    # Asking with the old model now is refused, naming both models and the way out.
    old = Retriever(services.library, services.store, embed_model, LOCAL_EMBEDDING_ID, 3)
    with pytest.raises(EmbeddingMismatchError) as refused:
        old.search("glacier")
    message = str(refused.value)
    assert NEW_MODEL in message and LOCAL_EMBEDDING_ID in message
    assert f"folio-cli reembed {LOCAL_EMBEDDING_ID}" in message
    ingestor = Ingestor(services.library, services.store, embed_model, LOCAL_EMBEDDING_ID, settings)
    try:
        with pytest.raises(EmbeddingMismatchError, match="Switch back to llamacpp:smollm2"):
            ingestor.sync()
    finally:
        ingestor.close()
    services.close()

    # folio-cli, once the library is free (it takes the library's lock), reads the same.
    data = status(capsys, library_home)
    assert data["embedding_model"] == NEW_MODEL and data["embedding_switch"] is None
    assert data["files"]["indexed"] == len(TOPICS) and data["chunks"] == len(TOPICS)

    # A new start finds the model and the collection from the library alone.
    reopened = Services(library_home, settings)
    try:
        assert reopened.embed_model_name == NEW_MODEL
        assert reopened.retriever.search(TOPICS["violin"], k=1)[0].file_name == "violin.md"
        assert_consistent(reopened)
    finally:
        reopened.close()


def test_cancelled_halfway_search_goes_on_then_resumes(  # type: ignore[no-untyped-def]
    make_services, library_home: Path, settings: Settings, capsys
) -> None:
    services = make_services(settings)
    cancel = CancelToken()

    def stop_after_two_batches(p: Progress) -> None:
        if p.chunks_done >= 4:
            cancel.cancel()

    report = services.switch_embedding_model(
        NEW_MODEL, stop_after_two_batches, cancel, batch_size=2
    )
    assert report.cancelled and not report.swapped and report.embedded == 4
    switch = pending_switch(services.library)
    assert switch is not None and (switch.model, switch.done, switch.total) == (NEW_MODEL, 4, 12)
    # folio-cli is answered by the Folio that has the library open, as by the window.
    channel = ChannelServer(library_home, lambda line: answer(services, line))
    try:
        assert status(capsys, library_home)["embedding_switch"] == {
            "target": NEW_MODEL,
            "done": 4,
            "total": len(TOPICS),
        }
    finally:
        channel.close()

    # Meanwhile the library is still the old model's, whole and searchable.
    assert services.embed_model_name == LOCAL_EMBEDDING_ID
    assert active_collection(services.library).directory == DEFAULT_COLLECTION
    assert_consistent(services)
    assert_search_finds_each_topic(services, TOPICS)

    counter = counting_loader(services)
    resumed = services.switch_embedding_model(NEW_MODEL, batch_size=2)
    assert resumed.resumed and resumed.swapped and resumed.chunks == len(TOPICS)
    assert resumed.embedded == len(TOPICS) - 4
    assert sum(counter.batches) == len(TOPICS) - 4 + 1  # the rest once, and one probe
    assert store_dirs(library_home) == [switch.directory]
    assert_consistent(services)
    assert_search_finds_each_topic(services, TOPICS)


@pytest.mark.slow
def test_killed_midway_then_finished_by_running_again(  # type: ignore[no-untyped-def]
    make_services, library_home: Path, settings: Settings
) -> None:
    command = [sys.executable, "-m", "desktop.cli", "--home", str(library_home), "reembed"]
    command += [NEW_MODEL, "--batch", "2", "--allow-remote", "--json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    assert child.stderr is not None
    for line in child.stderr:
        progress = re.match(r"(\d+)/(\d+) chunks re-embedded", line)
        if progress and int(progress[1]) >= 2:  # a batch committed, four to go
            child.send_signal(signal.SIGKILL)
            break
    assert child.wait(timeout=60) == -signal.SIGKILL

    services = make_services(settings)
    assert_consistent(services)
    assert_search_finds_each_topic(services, TOPICS)
    switch = pending_switch(services.library)
    assert switch is not None and switch.model == NEW_MODEL
    assert sorted(store_dirs(library_home)) == sorted([DEFAULT_COLLECTION, switch.directory])
    target = EdgeVectorStore(library_home / "store" / switch.directory, SERVER_DIM)
    already = len(target.ids())
    target.close()
    assert 2 <= already < len(TOPICS)
    services.close()

    finished = subprocess.run(command, capture_output=True, env=env, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["model"] == NEW_MODEL and report["resumed"] and report["swapped"]
    assert (report["chunks"], report["embedded"]) == (len(TOPICS), len(TOPICS) - already)

    # Not make_services: its shared local model is no longer the library's.
    services = Services(library_home, settings)
    try:
        assert services.embed_model_name == NEW_MODEL
        assert store_dirs(library_home) == [switch.directory]
        assert_consistent(services)
        assert_search_finds_each_topic(services, TOPICS)
    finally:
        services.close()


def test_files_added_and_removed_during_the_switch_are_caught_up(  # type: ignore[no-untyped-def]
    make_services, library_home: Path, settings: Settings, docs: Path
) -> None:
    services = make_services(settings)
    late_name, late_text = LATE_TOPIC

    def add_a_file_midway(p: Progress) -> None:
        if p.chunks_done == 3 and not (docs / f"{late_name}.md").exists():
            (docs / f"{late_name}.md").write_text(late_text)
            assert services.ingestor.sync().added == 1  # on the old model, as ever

    # The long part alone, which may overlap ingestion; then more changes; then the swap.
    bulk = services.switch_embedding_model(NEW_MODEL, add_a_file_midway, swap=False, batch_size=3)
    assert not bulk.swapped and bulk.embedded == len(TOPICS)
    (docs / "volcano.md").unlink()
    (docs / "orchard.md").write_text("The orchard was sold; the new owners grow lavender.")
    report = services.ingestor.sync()
    assert (report.removed, report.updated) == (1, 1)

    finished = services.switch_embedding_model(NEW_MODEL, batch_size=3)
    assert finished.swapped and finished.resumed
    assert finished.embedded == 2  # the late file and the new orchard text
    expected = {name: text for name, text in TOPICS.items() if name not in ("volcano", "orchard")}
    expected[late_name] = late_text
    indexed = {
        Path(r.path).stem for r in services.library.all_files() if r.status == FileStatus.INDEXED
    }
    assert indexed == {*expected, "orchard"}
    assert_consistent(services)
    assert_search_finds_each_topic(services, expected)
    assert services.retriever.search("lavender", k=1, mode="keyword")[0].file_name == "orchard.md"
    hits = services.retriever.search(TOPICS["volcano"], k=len(TOPICS))
    assert "volcano.md" not in {hit.file_name for hit in hits}


def test_leftovers_are_cleaned_and_a_switch_can_be_abandoned(  # type: ignore[no-untyped-def]
    make_services, library_home: Path, settings: Settings
) -> None:
    store = library_home / "store"
    (store / "edge-old-model-1234abcd").mkdir()  # an old collection a crash left behind
    (store / "edge-abandoned-5678ef01").mkdir()  # a target no switch records any more
    (store / "notes").mkdir()  # not a collection: never touched
    services = make_services(settings)
    pending = EmbeddingSwitch(NEW_MODEL, "edge-llamacpp-smollm2-00000000")
    services.library.set_meta(EMBEDDING_SWITCH_KEY, json.dumps(asdict(pending)))
    (store / "edge-llamacpp-smollm2-00000000").mkdir()
    services.store  # noqa: B018  (opening the store is what cleans up)
    assert store_dirs(library_home) == ["edge", "edge-llamacpp-smollm2-00000000", "notes"]

    # Asking for the library's own model abandons the switch in progress.
    report = services.switch_embedding_model(LOCAL_EMBEDDING_ID)
    assert not report.swapped and report.chunks == len(TOPICS)
    assert pending_switch(services.library) is None
    assert store_dirs(library_home) == ["edge", "notes"]
    assert not abandon_switch(services.library, store)
    assert_consistent(services)
