"""Services: every core service for one data folder, shared by the window and ``folio-cli``.

Services are built on first use, so a command that only lists personas never opens the
vector store or loads a model. Nothing here imports Qt or the window.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

from desktop.core.chat.history import ChatStore
from desktop.core.chat.personas import FOUNDING_PERSONA_NAME
from desktop.core.errors import SettingsError, StoreError, StoreLockedError
from desktop.core.evaluate.cells import CellConfig, default_grid
from desktop.core.finetune.datasets import DatasetStore
from desktop.core.finetune.records import JobStore
from desktop.core.library.catalog import EMBEDDING_MODEL_KEY, Library
from desktop.core.library.lock import LibraryLock
from desktop.core.models.ids import (
    LOCAL_FT_PREFIX,
    LOCAL_PREFIX,
    OPENAI,
    is_remote,
    split_model_id,
)
from desktop.core.models.local_files import EMBED_DIM, local_llm_path
from desktop.core.paths import data_home
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings, StoreSettings, load_settings, save_settings, updated
from desktop.core.tasks import CancelToken, ProgressCallback

# What loads LlamaIndex, ONNX Runtime, llama.cpp or the vector store is imported where it
# is first used: commands that need none of them (models, fine-tuning, personas) start
# about a second sooner.
if TYPE_CHECKING:
    import numpy as np
    import openai
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.llms import LLM

    from desktop.core.chat.focus import SentenceRanker
    from desktop.core.chat.history import ChatStore
    from desktop.core.chat.service import ChatService
    from desktop.core.evaluate.compare import Comparer
    from desktop.core.evaluate.report import Report
    from desktop.core.evaluate.run import Evaluator
    from desktop.core.evaluate.sets import EvalStore
    from desktop.core.finetune.datasets import DatasetStore
    from desktop.core.finetune.jobs import FineTuning
    from desktop.core.finetune.local.runs import LocalTraining
    from desktop.core.finetune.records import JobStore
    from desktop.core.library.ingest import Ingestor
    from desktop.core.library.reembed import ReembedReport
    from desktop.core.library.search import Retriever
    from desktop.core.models.embedding_cache import EmbeddingCache
    from desktop.core.models.local import LLMCache, LocalLlama
    from desktop.core.models.local_files import ModelInfo
    from desktop.core.models.remote import RemoteChatModel
    from desktop.core.models.uses import ModelUses
    from desktop.core.store import FolioStore
    from desktop.core.store.move import MoveReport


def freeze_long_lived_objects() -> None:
    """Keep what was loaded so far (libraries, models, the window) out of full collections.

    A full collection of the ~200,000 objects Folio holds after start-up takes about 100 ms
    and holds the GIL, stalling the window while an ingest runs in the background; frozen
    objects are never scanned again. (No ``gc.collect()`` first: it would be that stall.)
    """
    gc.freeze()


class Services:
    """Every core service for one data folder, each built once, on first use.

    The first service that opens a file in the data folder takes the folder's lock
    (``desktop.core.library.lock``) before it does: a second process on the same folder is
    refused with ``LibraryInUseError`` having written nothing. ``close`` lets it go.
    """

    def __init__(
        self,
        home: Path,
        settings: Settings | None = None,
        *,
        embed_model: BaseEmbedding | None = None,
        llms: LLMCache | None = None,
    ) -> None:
        """``embed_model`` and ``llms`` may be passed in to share models already loaded."""
        self.home = home
        self.lock = LibraryLock(home)
        self.settings = settings or load_settings(home)
        if embed_model is not None:
            self.__dict__["embed_model"] = embed_model
        if llms is not None:
            self.__dict__["llms"] = llms
        # Models passed in are shared with other Services: only models loaded here are
        # freed by ``close``.
        self._owns_llms = llms is None

    def claim(self, wait: float = 0.0) -> None:
        """Take the data folder's lock; ``LibraryInUseError`` if another process still has
        it after ``wait`` seconds."""
        self.lock.acquire(wait)

    @cached_property
    def library(self) -> Library:
        self.claim()
        return Library(self.home / "library.db")

    @cached_property
    def store(self) -> FolioStore:
        """The active embedding model's collection (see ``desktop.core.library.reembed``)."""
        self.claim()
        config = self.settings.store
        if config.backend == "qdrant":
            # Imported on first use: it loads LlamaIndex, which takes a while.
            from desktop.core.store.server import connect

            if not config.url:
                raise SettingsError("store.url: set the Qdrant server URL to use backend 'qdrant'.")
            return connect(config.url, os.environ.get(config.api_key_env), config.collection)
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.library.reembed import active_collection, remove_stale_collections
        from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID, embedding_dim
        from desktop.core.store.edge import EdgeVectorStore, stored_dim

        active = active_collection(self.library)
        path = self.home / "store" / active.directory
        dim = stored_dim(path)
        if dim is None:
            local = active.model == LOCAL_EMBEDDING_ID
            dim = EMBED_DIM if local else embedding_dim(self.embed_model)
        store = EdgeVectorStore(path, dim)
        # Holding the active collection's lock, no other process can be using the others.
        remove_stale_collections(self.library, self.home / "store")
        return store

    @cached_property
    def embed_model(self) -> BaseEmbedding:
        """The model of ``embed_model_name``; one passed to the constructor must be that one."""
        model = self.load_embedding_model(self.embed_model_name)
        freeze_long_lived_objects()
        return model

    @cached_property
    def embed_model_name(self) -> str:
        """The library's embedding model, as it was when first asked (the default if none).

        Fixed from then on, like ``embed_model``: should the library be switched to another
        model behind this object's back, ingestion and search refuse with a clear message
        instead of mixing models.
        """
        # Imported on first use: it loads tiktoken, which takes a while.
        from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID

        return self.library.get_meta(EMBEDDING_MODEL_KEY) or LOCAL_EMBEDDING_ID

    def embedding_credentials(self, model_id: str) -> tuple[str | None, str | None]:
        """The API key and base URL for a remote embedding model (``None`` for local ones).

        They are those of the provider the id names, as for chat models: OpenAI (at
        ``$OPENAI_BASE_URL`` if set) or a server from the settings, with its key from the
        keyring or its environment variable.
        """
        # Imported on first use: it loads the OpenAI SDK, which takes a while.
        from desktop.core.models.providers import api_key, provider

        if not is_remote(model_id):
            return None, None
        p = provider(split_model_id(model_id)[0], self.settings)
        return api_key(p, self.secrets), p.base_url

    def load_embedding_model(self, model_id: str) -> BaseEmbedding:
        """A new instance of the embedding model ``model_id``, with its credentials."""
        # Imported on first use: it loads tiktoken, which takes a while.
        from desktop.core.models.embeddings import embedding_for

        api_key, base_url = self.embedding_credentials(model_id)
        return embedding_for(
            model_id,
            self.home / "models",
            self.settings.threads,
            api_key=api_key,
            base_url=base_url,
        )

    def check_embedding_model(self, model_id: str) -> None:
        """ModelError when ``model_id`` cannot embed here: unknown, its server not set up, or
        OpenAI itself without a key. Nothing is loaded or sent."""
        # Imported on first use: it loads tiktoken, which takes a while.
        from desktop.core.models.embeddings import remote_target

        api_key, base_url = self.embedding_credentials(model_id)
        remote_target(model_id, api_key=api_key, base_url=base_url)

    def switch_embedding_model(
        self,
        model_id: str,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        *,
        swap: bool = True,
        batch_size: int | None = None,
    ) -> ReembedReport:
        """Re-embed the library with ``model_id`` and make it the library's model.

        Search (and ingestion) go on with the current model until the swap. The catch-up
        and swap at the end must not overlap an ingest: in the window, run this as a library
        job, or run it first with ``swap=False`` alongside other jobs (the long part), then
        again as a library job. Cancelled, it resumes when called again.
        """
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.library.reembed import REEMBED_BATCH_SIZE, Reembedder
        from desktop.core.store.edge import EdgeVectorStore

        source = self.store
        if not isinstance(source, EdgeVectorStore):
            raise StoreError(
                "Switching the embedding model works on the embedded store only. For a Qdrant "
                "server, point store.collection at a new collection and ingest again."
            )
        same = model_id == self.embed_model_name
        model = self.embed_model if same else self.load_embedding_model(model_id)
        reembedder = Reembedder(
            self.library,
            self.home / "store",
            source,
            model,
            model_id,
            batch_size or REEMBED_BATCH_SIZE,
        )
        report = reembedder.run(on_progress, cancel, swap=swap)
        if report.swapped:
            # Everything built on the old store and model goes; the next use rebuilds it.
            if "ingestor" in self.__dict__:
                self.__dict__.pop("ingestor").close()
            self.__dict__.pop("retriever", None)
            self.__dict__.pop("embedding_cache", None)
            self.__dict__.update(store=reembedder.store, embed_model=model)
            self.__dict__["embed_model_name"] = model_id
        return report

    def move_store(
        self,
        backend: str,
        url: str | None = None,
        api_key_env: str | None = None,
        collection: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        *,
        batch_size: int | None = None,
    ) -> MoveReport:
        """Copy the library's points to ``backend`` ('edge' or 'qdrant'), verify, switch.

        The settings name the new store only once its ids match the current one's; a
        cancelled or killed move resumes when called again (see ``desktop.core.store.move``).
        Raises ``StoreError`` when the server cannot be reached, with nothing changed.
        """
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.library.reembed import active_collection
        from desktop.core.store.edge import EdgeVectorStore, stored_dim
        from desktop.core.store.move import MOVE_BATCH_SIZE, MoveReport, StoreMove, move_points
        from desktop.core.store.server import connect, unreachable

        current = self.settings.store
        if backend == "qdrant":
            if not url:
                raise SettingsError("store move: a Qdrant server URL is needed (--url).")
            wanted = StoreSettings(
                backend="qdrant",
                url=url,
                api_key_env=api_key_env or current.api_key_env,
                collection=collection or current.collection,
            )
        else:
            wanted = StoreSettings(
                backend="edge", api_key_env=current.api_key_env, collection=current.collection
            )
        source = self.store
        if wanted == current:
            return MoveReport(backend, chunks=source.count(), verified=True)
        target: FolioStore
        if wanted.backend == "qdrant":
            assert wanted.url is not None
            target = connect(wanted.url, os.environ.get(wanted.api_key_env), wanted.collection)
            try:
                target.count()
            except Exception as exc:  # qdrant-client raises transport errors of several kinds
                raise unreachable(wanted.url, exc) from exc
        else:
            path = self.home / "store" / active_collection(self.library).directory
            target = EdgeVectorStore(path, stored_dim(path) or self.library_dim())
        move = StoreMove(wanted.backend, wanted.url, wanted.collection)
        try:
            report = move_points(
                self.library,
                source,
                target,
                move,
                on_progress,
                cancel,
                batch_size or MOVE_BATCH_SIZE,
            )
        except BaseException:
            target.close()  # a local Qdrant folder stays locked by this process otherwise
            raise
        if not report.verified:
            target.close()
            return report
        if "ingestor" in self.__dict__:
            self.__dict__.pop("ingestor").close()
        self.__dict__.pop("retriever", None)
        source.close()
        self.__dict__["store"] = target
        self.change_settings(updated(self.settings, store=wanted.model_dump()))
        return report

    def library_dim(self) -> int:
        """The dense vector size of the library's embedding model."""
        # Imported on first use: it loads tiktoken, which takes a while.
        from desktop.core.models.embeddings import LOCAL_EMBEDDING_ID, embedding_dim

        if self.embed_model_name == LOCAL_EMBEDDING_ID:
            return EMBED_DIM
        return embedding_dim(self.embed_model)

    @cached_property
    def ingestor(self) -> Ingestor:
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.library.ingest import Ingestor

        ingestor = Ingestor(
            self.library, self.store, self.embed_model, self.embed_model_name, self.settings
        )
        freeze_long_lived_objects()
        return ingestor

    @cached_property
    def retriever(self) -> Retriever:
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.library.search import Retriever

        return Retriever(
            self.library,
            self.store,
            self.embed_model,
            self.embed_model_name,
            self.settings.top_k,
            self.store_label(),
            self.embedding_cache.query,
        )

    @cached_property
    def embedding_cache(self) -> EmbeddingCache:
        """Recent query and sentence vectors of ``embed_model``, reused across configurations
        and regenerated answers."""
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.models.embedding_cache import EmbeddingCache

        return EmbeddingCache(self.embed_model)

    def model_uses(self) -> ModelUses:
        """What in this data folder relies on which model (``desktop.core.models.uses``):
        the default model, the library's embedding model as stored now, each local
        fine-tuned model's base and each unfinished local training run's base."""
        # Imported on first use: local training loads its run records.
        from desktop.core.models.ids import LOCAL
        from desktop.core.models.local_files import LOCAL_EMBEDDING_ID
        from desktop.core.models.uses import ModelUses

        tuned = self.local_training.models()
        return ModelUses(
            default_model=self.settings.default_model,
            embedding_model=self.library.get_meta(EMBEDDING_MODEL_KEY) or LOCAL_EMBEDDING_ID,
            fine_tuned={m.id: m.lineage["base"] for m in tuned if m.lineage and m.lineage["base"]},
            training={
                job.id: job.base for job in self.finetune_jobs.unfinished() if job.provider == LOCAL
            },
        )

    def store_label(self) -> str:
        """The store in a person's words: the Qdrant collection and URL, or Edge's folder."""
        config = self.settings.store
        if config.backend == "qdrant":
            return f"(Qdrant collection {config.collection} at {config.url})"
        return f"(Qdrant Edge, in {self.home / 'store'})"

    def store_shortfall(self) -> StoreError | None:
        """Why the store cannot serve the whole library (it cannot be opened or read, or it
        holds fewer chunks than the library lists) and what to do, or None."""
        # Imported on first use: they load LlamaIndex, which takes a while.
        from desktop.core.library.search import chunks_missing
        from desktop.core.store import missing_chunks_error

        try:
            missing = chunks_missing(self.store, self.library)
        except StoreLockedError:
            raise  # not the store's problem: another Folio has it
        except StoreError as exc:  # damaged: said as the store's problem, not raised
            return exc
        if missing is None:
            return None
        unavailable = self.library.unavailable_folders()
        return missing_chunks_error(*missing, self.store_label(), unavailable)

    @cached_property
    def llms(self) -> LLMCache:
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.models.local import LLMCache

        return LLMCache(self.settings, self.secrets)

    @cached_property
    def secrets(self) -> Secrets:
        return Secrets()

    def needs_consent(self, model_id: str) -> str | None:
        """The remote provider behind ``model_id`` if it may not yet receive document text."""

        if not is_remote(model_id):
            return None
        name = split_model_id(model_id)[0]
        return None if name in self.settings.remote_consent else name

    def allow_remote(self, provider: str) -> None:
        """Remember that ``provider`` may receive document text from now on.

        Raises ModelError for a provider that is not configured: a permission kept for a
        name would otherwise pass to a server added under that name later, unasked.
        """
        # Imported on first use, as the providers are.
        from desktop.core.models.providers import provider as configured

        configured(provider, self.settings)
        if provider not in self.settings.remote_consent:
            consent = [*self.settings.remote_consent, provider]
            self.change_settings(updated(self.settings, remote_consent=consent))

    def change_settings(self, settings: Settings) -> None:
        """Save ``settings`` and use them."""
        self.claim()
        save_settings(self.home, settings)
        self.apply_settings(settings)

    @cached_property
    def chats(self) -> ChatStore:

        self.claim()
        return ChatStore(self.home / "chats.db")

    @cached_property
    def datasets(self) -> DatasetStore:

        self.claim()
        return DatasetStore(self.home / "finetune" / "datasets")

    @cached_property
    def finetune_jobs(self) -> JobStore:

        self.claim()
        return JobStore(self.home / "finetune.db")

    @cached_property
    def finetuning(self) -> FineTuning:
        """OpenAI's fine-tuning API (at ``$OPENAI_BASE_URL`` if set), with the OpenAI key."""
        # Imported on first use: it loads httpx, which takes a while.
        from desktop.core.finetune.jobs import FineTuning
        from desktop.core.models.providers import client, provider

        def openai_client() -> openai.OpenAI:
            p = provider(OPENAI, self.settings)
            return client(p, self.secrets, self.settings.request_timeout)

        return FineTuning(
            self.finetune_jobs, self.datasets, openai_client, local=self.local_training
        )

    @cached_property
    def local_training(self) -> LocalTraining:
        """Fine-tuning on this computer, and the ``local:ft:`` models it made."""
        # Imported on first use: it reads the training settings and run folders.
        from desktop.core.finetune.local.runs import LocalTraining

        return LocalTraining(self.home, self.finetune_jobs, self.datasets, self.settings)

    def llm(self, model_id: str) -> LocalLlama | RemoteChatModel:
        """The language model behind ``model_id``, fine-tuned local ones included."""
        return self.llms.get(model_id, self.local_training.resolve)

    def models(self, *, cli: bool = False) -> tuple[list[ModelInfo], dict[str, str]]:
        """``providers.all_models`` with Folio's jobs, so fine-tuned models carry their
        lineage; with ``cli``, the problems are worded for folio-cli."""
        # Imported on first use: it loads the OpenAI SDK, which takes a while.
        from desktop.core.models.providers import all_models

        models, problems = all_models(self.settings, self.secrets, self.finetune_jobs, cli=cli)
        local = [m for m in models if not m.remote]
        remote = [m for m in models if m.remote]
        return [*local, *self.local_training.models(), *remote], problems

    @cached_property
    def chat(self) -> ChatService:
        # Imported on first use: it loads LlamaIndex, which takes a while.
        from desktop.core.chat.service import ChatService

        return ChatService(
            self.chats,
            lambda: self.retriever,
            self.llm,
            self.settings.default_model,
            self.needs_consent,
            ranker=self.sentence_ranker,
        )

    @cached_property
    def sentence_ranker(self) -> SentenceRanker:
        """Scores the sentences of retrieved passages with the library's embedding model."""
        # Imported on first use: it loads LlamaIndex's sentence splitter and numpy.
        from desktop.core.chat.focus import SentenceRanker

        return SentenceRanker(self.embed_texts)

    @cached_property
    def comparer(self) -> Comparer:
        """One question across configurations, side by side; saved comparisons."""
        # Imported on first use: it loads the chat service (LlamaIndex).
        from desktop.core.evaluate.compare import Comparer

        return Comparer(self.chat, self.chats, self.check_model)

    @cached_property
    def evals(self) -> EvalStore:
        """Evaluation sets, runs and results (``evaluations.db``)."""
        # Imported on first use, like the other stores that need LlamaIndex's types.
        from desktop.core.evaluate.sets import EvalStore

        self.claim()
        return EvalStore(self.home / "evaluations.db")

    @cached_property
    def evaluator(self) -> Evaluator:
        """Runs evaluation sets over configurations (Evaluate)."""
        # Imported on first use: it loads the chat service (LlamaIndex).
        from desktop.core.evaluate.run import Evaluator

        return Evaluator(self.chat, self.evals, self.comparer.check, self.llama_index_llm)

    def llama_index_llm(self, model_id: str) -> LLM:
        """``model_id`` as a LlamaIndex LLM, for LlamaIndex's own components (evaluation
        set generation, judges); ModelError/ProviderError as ``llm`` raises."""
        model = self.llm(model_id)
        # A local model is one already; a remote one wraps LlamaIndex's OpenAI LLM.
        if is_remote(model_id):
            return cast("RemoteChatModel", model).llm
        return cast("LocalLlama", model)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """The library's embedding model's vectors of ``texts``: shape (n, d), unit length."""
        import numpy as np  # imported here, as the embedding model is

        vectors = np.asarray(self.embedding_cache.texts(texts), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.where(norms == 0, 1, norms))

    def eval_report(self, run_id: str) -> Report:
        """The report of run ``run_id`` (its set's questions as they are now).

        Raises EvaluationError for an unknown run, DatasetError for a style dataset that
        is gone.
        """
        # Imported on first use: it loads numpy and LlamaIndex's evaluation module.
        from desktop.core.evaluate.report import make_report, style_context

        run = self.evals.run(run_id)
        items = self.evals.get(run.set_name).items
        results = self.evals.results(run.id)
        return make_report(run, items, results, self.embed_texts, style_context(run, self.datasets))

    def default_grid(self) -> list[CellConfig]:
        """The Compare and Evaluate grid for this library: {base, persona-prompted,
        fine-tuned} × {retrieval on, off}, with the default model, the founding persona (else
        the first persona there is) and the newest available model fine-tuned here; a row
        with nothing to put in it is left out."""
        names = [p.name for p in self.chats.personas.all()]
        persona = (
            FOUNDING_PERSONA_NAME if FOUNDING_PERSONA_NAME in names else next(iter(names), None)
        )
        tuned = [m.id for m in self.local_training.models() if m.available]  # newest first
        return default_grid(self.settings.default_model, persona, tuned[0] if tuned else None)

    def check_model(self, model_id: str) -> None:
        """ModelError when ``model_id`` cannot be used here: a malformed id, an unknown
        provider, a local model whose file (or fine-tuned adapter) is missing. A remote
        provider's own models are its to judge, when asked. Nothing is loaded."""
        name, _ = split_model_id(model_id)
        if is_remote(model_id):
            # Imported on first use: it loads the OpenAI SDK, which takes a while.
            from desktop.core.models.providers import provider

            provider(name, self.settings)  # ModelError for a provider that is not set up
        elif model_id.startswith(LOCAL_FT_PREFIX):
            self.local_training.resolve(model_id)
        elif model_id.startswith(LOCAL_PREFIX):
            local_llm_path(model_id, self.settings)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings. Chunking applies from the next start (the splitter is built
        once), to files indexed then; CPU threads apply to OCR at once and to a model the
        next time it loads."""
        self.settings = settings
        if "ingestor" in self.__dict__:
            self.ingestor.settings = settings
        if "retriever" in self.__dict__:
            self.retriever.top_k = settings.top_k
        if "llms" in self.__dict__:
            self.llms.configure(settings)
        if "local_training" in self.__dict__:
            self.local_training.settings = settings

    def close(self) -> None:
        """Release what was opened: the store first, then the databases, then the lock."""
        try:
            if "llms" in self.__dict__ and self._owns_llms:
                self.llms.close()
            for name in ("ingestor", "store", "library", "chats", "finetune_jobs", "evals"):
                if name in self.__dict__:
                    self.__dict__.pop(name).close()
        finally:
            self.lock.release()


def build_services(home: str | os.PathLike[str] | None = None) -> Services:
    """Services on ``home``, else ``$FOLIO_HOME``, else the platform's data folder."""
    return Services(data_home(home))


def log_to_data_folder(home: Path) -> None:
    """Send Folio's log (INFO and up: files that failed, with their tracebacks, stores
    mended) to ``home``/folio.log, once the library's lock is held (a refused second Folio
    writes nothing). What a person must know is said in the window or on folio-cli's
    stderr already; the log keeps the details. Nothing happens when logging was set up
    before (a test run's capture). A log that cannot be written (a folder by that name,
    a read-only file) is said on stderr, and Folio goes on without it: the log is for
    details, never a reason to stop."""
    if logging.getLogger().handlers:
        return
    path = home / "folio.log"
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        print(
            f"folio: the log {path} cannot be written ({exc.strerror or exc}): going on "
            "without it. Make it a file your user can write to keep Folio's log.",
            file=sys.stderr,
        )
        return
    logging.basicConfig(
        handlers=[handler],
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
