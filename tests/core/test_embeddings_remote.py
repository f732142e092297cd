"""Remote embedding models against llama.cpp's real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import math
import socket
import threading
from pathlib import Path

import pytest
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.embeddings.openai import OpenAIEmbedding

from desktop.core.errors import ModelError
from desktop.core.models.embeddings import (
    LOCAL_EMBEDDING_ID,
    REMOTE_EMBED_BATCH_SIZE,
    embedding_dim,
    embedding_for,
)
from desktop.core.models.ids import MAX_RETRIES
from desktop.core.settings import ServerSettings, Settings
from desktop.services import Services
from tests.llama_server import free_port

SERVER_DIM = 576  # SmolLM2-135M's hidden size, mean-pooled by the test server


class BatchCounter(BaseCallbackHandler):
    """Records the size of every batch LlamaIndex sends to the embedding model."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.batches: list[int] = []

    def on_event_start(self, event_type, payload=None, event_id="", parent_id="", **kwargs):  # type: ignore[no-untyped-def]
        return event_id

    def on_event_end(self, event_type, payload=None, event_id="", **kwargs):  # type: ignore[no-untyped-def]
        if event_type == CBEventType.EMBEDDING and payload:
            self.batches.append(len(payload.get(EventPayload.CHUNKS, [])))

    def start_trace(self, trace_id=None):  # type: ignore[no-untyped-def]
        pass

    def end_trace(self, trace_id=None, trace_map=None):  # type: ignore[no-untyped-def]
        pass


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_openai_model_through_a_compatible_server(llama_server: str, tmp_path: Path) -> None:
    model = embedding_for(
        "openai:text-embedding-3-small", tmp_path, 2, api_key="sk-test", base_url=llama_server
    )
    assert isinstance(model, OpenAIEmbedding)
    assert model.embed_batch_size == REMOTE_EMBED_BATCH_SIZE
    text = "The heron waded through the marsh at dawn."
    vector = model.get_text_embedding(text)
    assert len(vector) == SERVER_DIM and embedding_dim(model) == SERVER_DIM
    # A query is embedded the same way as a document here: same text, same vector.
    assert cosine(model.get_query_embedding(text), vector) > 0.999


def test_openai_base_url_comes_from_the_environment(
    llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    model = embedding_for("openai:text-embedding-3-large", tmp_path, 2, api_key="sk-test")
    assert len(model.get_query_embedding("glacier")) == SERVER_DIM


def test_server_model_batches_keep_order(llama_server: str, tmp_path: Path) -> None:
    model = embedding_for("llamacpp:smollm2", tmp_path, 2, base_url=llama_server)
    counter = BatchCounter()
    model.callback_manager.add_handler(counter)
    model.embed_batch_size = 4  # the default (64) would need a long corpus to show batching
    texts = [f"Note {i}: the {word} is here." for i, word in enumerate("abcdefghij")]
    vectors = model.get_text_embedding_batch(texts)
    assert counter.batches == [4, 4, 2]
    assert len(vectors) == 10 and all(len(v) == SERVER_DIM for v in vectors)
    # Each vector belongs to its own text, whichever batch it travelled in.
    for i in (0, 9):
        assert cosine(vectors[i], model.get_text_embedding(texts[i])) > 0.999
    assert cosine(vectors[0], vectors[9]) < 0.999


def test_a_server_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = embedding_for("llamacpp:smollm2", tmp_path, 2, base_url=url)
    with pytest.raises(ModelError, match=f"Cannot reach the embedding server at {url}"):
        model.get_text_embedding_batch(["anything"])
    with pytest.raises(ModelError, match="is the server running"):
        model.get_query_embedding("anything")


def test_a_dropped_connection_is_tried_as_often_as_the_sdk_retries(tmp_path: Path) -> None:
    # A server that accepts each connection and closes it unanswered, counting them: the
    # request is sent 1 + MAX_RETRIES times (the SDK's retries), not LlamaIndex's loop of
    # retries on top of each of those.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def drop() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the test is over
            accepted.append(connection.recv(65536))
            connection.close()

    threading.Thread(target=drop, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    model = embedding_for("llamacpp:smollm2", tmp_path, 2, base_url=url)
    try:
        with pytest.raises(ModelError, match="Cannot reach the embedding server"):
            model.get_text_embedding_batch(["anything"])
    finally:
        listener.close()
    assert len(accepted) == 1 + MAX_RETRIES
    assert all(request.startswith(b"POST /v1/embeddings ") for request in accepted)


def test_unknown_model_ids_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="Unknown embedding model 'minilm'"):
        embedding_for("minilm", tmp_path, 2)
    with pytest.raises(ModelError, match=f"the one installed is {LOCAL_EMBEDDING_ID}"):
        embedding_for("local:bge-small", tmp_path, 2)
    with pytest.raises(ModelError, match="Unknown OpenAI embedding model 'openai:gpt-4o'"):
        embedding_for("openai:gpt-4o", tmp_path, 2, api_key="sk-test")
    with pytest.raises(ModelError, match="no server named 'ollama' is set up"):
        embedding_for("ollama:nomic-embed-text", tmp_path, 2)
    with pytest.raises(ModelError, match="needs an OpenAI API key"):
        embedding_for("openai:text-embedding-3-small", tmp_path, 2)


def test_services_take_credentials_from_the_providers(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = Settings(servers={"lab": ServerSettings(base_url="http://127.0.0.1:8/v1")})
    services = Services(home, settings)
    try:
        assert services.embedding_credentials(LOCAL_EMBEDDING_ID) == (None, None)
        assert services.embedding_credentials("openai:text-embedding-3-small") == (
            "sk-from-env",
            "http://127.0.0.1:9/v1",
        )
        assert services.embedding_credentials("lab:nomic-embed-text") == (
            None,
            "http://127.0.0.1:8/v1",
        )
        with pytest.raises(ModelError, match="Unknown provider 'nowhere'"):
            services.load_embedding_model("nowhere:model")
    finally:
        services.close()
