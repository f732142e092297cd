"""Shared fixtures: real services on a temporary data folder, real models loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.models.embeddings import local_embedding
from desktop.core.models.local import LLMCache
from desktop.core.settings import Settings
from desktop.services import Services

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embed_model(model_cache: Path):  # type: ignore[no-untyped-def]
    """The real embedded embedder, loaded once for the session."""
    return local_embedding(model_cache, threads=2)


@pytest.fixture(scope="session")
def llms() -> Iterator[LLMCache]:
    """The real embedded LLM, loaded once; short answers keep the suite quick."""
    cache = LLMCache(Settings(max_answer_tokens=48, threads=2))
    yield cache
    cache.close()  # before interpreter exit, when llama.cpp can no longer free it


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def make_services(home: Path, embed_model, llms: LLMCache) -> Iterator:  # type: ignore[no-untyped-def]
    """Build Services on the test's data folder; every one built is closed afterwards, and
    the shared LLM cache gets back the settings it had (a test's servers or model files, set
    through ``apply_settings``, must not reach the next test)."""
    built: list[Services] = []
    shared_settings = llms.settings

    def make(settings: Settings | None = None, at: Path | None = None) -> Services:
        services = Services(at or home, settings, embed_model=embed_model, llms=llms)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()
    llms.configure(shared_settings)


@pytest.fixture
def services(make_services) -> Services:  # type: ignore[no-untyped-def]
    return make_services()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on loopback, serving the embedded GGUF; its /v1 URL."""
    from desktop.core.models.local_files import embedded_llm_path
    from tests.llama_server import running_server

    gguf = embedded_llm_path()
    assert gguf is not None
    with running_server(gguf) as base_url:
        yield base_url
