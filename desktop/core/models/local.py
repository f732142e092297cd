"""Language models behind LlamaIndex's LLM interface; the local one runs llama.cpp in-process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from desktop.core.errors import ContextTooLong, ModelError
from desktop.core.models.ids import LOCAL_FT_PREFIX, LOCAL_PREFIX, split_model_id
from desktop.core.models.local_files import local_llm_path
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings

if TYPE_CHECKING:
    from desktop.core.models.remote import RemoteChatModel

# (base GGUF, adapter GGUF) of a "local:ft:<name>" model, or ModelError.
AdapterLookup = Callable[[str], tuple[Path, Path]]

DEFAULT_TEMPERATURE = 0.2
MAX_ANSWER_TOKENS = 512
# llama.cpp's repetition penalty per local model, measured on bench/answer_facts.py (see
# docs/PERFORMANCE.md, "Answers"); other models keep llama.cpp's default, 1.0 (none).
REPEAT_PENALTY = {"local:default": 1.1}
# What llama.cpp adds to the logit of each token of the sources' sentences while a local
# model answers from them (``LocalLlama.copy_logit_bias``), per model, measured on
# bench/copy_bias.py (docs/PERFORMANCE.md, "Copy bias"); other models get none.
COPY_BIAS = {"local:default": 2.5}
# Local models whose rewrite of a follow-up question searches worse than the follow-up with
# the earlier question (desktop.core.chat.followup), measured on bench/answer_facts.py.
PLAIN_FOLLOWUPS = frozenset({"local:default"})
# Memory for saved prompt states (llama-cpp-python's LlamaRAMCache), per loaded model: a
# state holds the KV cache of its tokens (about 23 KB a token for SmolLM2-135M) and a copy
# of the last logits (up to 512 × the vocabulary, float32: about 100 MB for SmolLM2).
PROMPT_CACHE_BYTES = 256 << 20


def _prompt_cache(base: type, capacity: int) -> Any:
    """A ``LlamaRAMCache`` (``base``, passed in so llama.cpp loads only with a model) whose
    size counts every byte a saved state holds.

    llama-cpp-python's ``cache_size`` counts only ``llama_state_size``, not the copy of the
    logits (``scores``) and token ids each ``LlamaState`` carries, so its limit let the
    cache grow to gigabytes (0.3.36, ``llama_cache.py`` and ``Llama.save_state``).
    """

    class PromptCache(base):
        @property
        def cache_size(self) -> int:
            return sum(
                state.llama_state_size + state.scores.nbytes + state.input_ids.nbytes
                for state in self.cache_state.values()
            )

    return PromptCache(capacity_bytes=capacity)


class LocalLlama(CustomLLM):
    """A GGUF model run by llama.cpp, prompted with the model's own chat template.

    LlamaIndex's ``LlamaCPP`` formats prompts as plain ``system: … user: …`` text, which
    chat-tuned GGUFs answer poorly; ``create_chat_completion`` applies the template the
    GGUF carries (ChatML for SmolLM2).
    """

    model_path: str = Field(description="Path of the GGUF file.")
    lora_path: str | None = Field(
        default=None, description="A GGUF LoRA adapter llama.cpp applies to the model."
    )
    context_window: int = Field(default=4096)
    threads: int = Field(default=2)
    temperature: float = Field(default=DEFAULT_TEMPERATURE)
    max_tokens: int = Field(default=MAX_ANSWER_TOKENS)
    repeat_penalty: float = Field(default=1.0, description="llama.cpp's; 1.0 is none.")
    copy_bias: float = Field(
        default=0.0, description="Logit bias toward the sources' words (COPY_BIAS); 0 is none."
    )
    # Small local models can loop; the chat ends an answer that repeats itself
    # (desktop.core.chat.loops). Remote models are left to their providers.
    stops_loops: bool = Field(default=True)
    # Whether a follow-up is rewritten by this model before it is searched (followup.py).
    rewrites_followups: bool = Field(default=True)

    _llama: Any = PrivateAttr(default=None)
    # llama.cpp contexts are not thread-safe: one generation at a time.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any, /) -> None:
        """Load the GGUF file (llama.cpp) once the fields are set."""
        # Imported on first use: it loads llama.cpp, which takes a while.
        from llama_cpp import Llama, LlamaRAMCache

        try:
            self._llama = Llama(
                model_path=self.model_path,
                lora_path=self.lora_path,
                n_ctx=self.context_window,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            # llama-cpp-python's own message names the file again ("Failed to load model
            # from file: PATH"): said once, with what to do.
            detail = str(exc).replace(f": {self.model_path}", "").strip().rstrip(".")
            raise ModelError(
                f"Could not load the model file {self.model_path} ({detail}). "
                "Check that it is a whole GGUF file, or choose another model."
            ) from exc
        # llama.cpp reuses the longest prefix shared with the previous prompt by itself; the
        # RAM cache keeps the states of earlier prompts too, so a system prompt and persona
        # prefix evaluated once are found again after another persona's question.
        self._llama.set_cache(_prompt_cache(LlamaRAMCache, PROMPT_CACHE_BYTES))

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's name for this LLM class."""
        return "FolioLocalLlama"

    @property
    def metadata(self) -> LLMMetadata:
        """Context window and answer length in tokens, and that it is a chat model."""
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    def close(self) -> None:
        """Free the model's memory; it cannot answer after this. A model answering in
        another thread is left to its destructor: freeing it mid-answer would crash."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._llama is not None:
                self._llama.close()
        finally:
            self._lock.release()

    def prompt_counters(self) -> dict[str, int]:
        """llama.cpp's own counters since the model was loaded: ``prompt_tokens_evaluated``
        (prompt tokens it computed) and ``generated_tokens`` (llama_perf_context)."""
        # Imported here as in model_post_init: llama.cpp loads with the model.
        import llama_cpp

        data = llama_cpp.llama_perf_context(self._llama._ctx.ctx)
        return {"prompt_tokens_evaluated": int(data.n_p_eval), "generated_tokens": int(data.n_eval)}

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary."""
        return len(self._tokens(text, special=True))

    def copy_logit_bias(self, sources: str, unbiased: str) -> dict[int, float] | None:
        """llama.cpp's ``logit_bias`` (token id -> added to its logit at every step) that
        nudges the answer toward the words of ``sources``: ``copy_bias`` for each token of
        ``sources`` that ``unbiased`` (the question and the system prompt) does not hold, so
        the model writes the source's fact rather than echo the question. None when
        ``copy_bias`` is 0 or there are no sources.

        The embedded 135M model often reads a fact and writes another ("25 days" beside a
        source that says 5); measured on bench/copy_bias.py, the nudge put the fact in the
        answer for 55 % of held-out questions against 35 % (docs/PERFORMANCE.md, "Copy bias").
        """
        if not self.copy_bias or not sources.strip():
            return None
        # A source's "<|im_end|>" is its text, not the chat's special token: never nudged.
        nudged = set(self._tokens(sources)) - set(self._tokens(unbiased))
        return {token: self.copy_bias for token in sorted(nudged)}

    def _tokens(self, text: str, special: bool = False) -> list[int]:
        """``text``'s token ids (no BOS); with ``special``, "<|im_start|>" and the like are
        read as the special tokens they name, as the chat template's own are."""
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def _chunks(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[tuple[str, str]]:
        """(new text, finish reason) pairs; the reason is "" until the last, then llama.cpp's
        ("stop", or "length" at the token limit).

        ``copy_from`` and ``copy_except`` (texts) give ``copy_logit_bias`` its sources and
        the text left unbiased; the chat passes them to models with a ``copy_bias``.
        """
        payload = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        with self._lock:
            bias = self.copy_logit_bias(kwargs.get("copy_from", ""), kwargs.get("copy_except", ""))
            chunks = self._llama.create_chat_completion(
                messages=payload,
                stream=True,
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                repeat_penalty=self.repeat_penalty,
                logit_bias=bias,
            )
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    delta = choice["delta"].get("content") or ""
                    finish = choice.get("finish_reason") or ""
                    if delta or finish:
                        yield delta, finish
            except ValueError as exc:
                # llama-cpp-python's words for a prompt longer than n_ctx: "Requested
                # tokens (4529) exceed context window of 4096".
                if "exceed context window" not in str(exc):
                    raise
                raise ContextTooLong(
                    f"The question and its sources are too long for this model ({exc}). "
                    "Shorten the question, or choose a model with a longer context."
                ) from exc

    def _stream(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[str]:
        for delta, _ in self._chunks(messages, **kwargs):
            if delta:
                yield delta

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream an answer with the model's own chat template (one generation at a time).
        The last response's ``additional_kwargs`` carry ``finish_reason`` as OpenAI names it
        ("stop", or "length" when the answer reached its token limit)."""

        def gen() -> ChatResponseGen:
            text = ""
            for delta, finish in self._chunks(messages, **kwargs):
                text += delta
                yield ChatResponse(
                    message=ChatMessage(role="assistant", content=text),
                    delta=delta,
                    additional_kwargs={"finish_reason": finish} if finish else {},
                )

        return gen()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """The whole answer at once (``stream_chat`` collected)."""
        text = "".join(self._stream(messages, **kwargs))
        return ChatResponse(message=ChatMessage(role="assistant", content=text))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion of a bare prompt."""

        def gen() -> CompletionResponseGen:
            text = ""
            for delta in self._stream([ChatMessage(role="user", content=prompt)], **kwargs):
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """A completion of a bare prompt, whole."""
        messages = [ChatMessage(role="user", content=prompt)]
        return CompletionResponse(text="".join(self._stream(messages, **kwargs)))


log = logging.getLogger(__name__)

# llama.cpp maps a GGUF's weights into memory and adds its KV cache and buffers: loading a
# model beside others needs about this many times its file size still available.
MEMORY_PER_FILE_BYTE = 1.5


def available_memory() -> int:
    """Bytes of memory a new allocation can take now without swapping (psutil's
    ``available``: free plus reclaimable cache)."""
    return int(psutil.virtual_memory().available)


class LLMCache:
    """Loads each local model once and keeps it: loading costs far more than a question.

    Where memory is short, one local model at a time: before loading another, the loaded
    ones are let go when what is available would not hold it (``MEMORY_PER_FILE_BYTE``), so
    a grid of local models (Compare) answers one model after another instead of swapping.

    Remote models cost nothing to set up and are made afresh for each use, so a changed key
    or server URL takes effect at once.
    """

    def __init__(self, settings: Settings, secrets: Secrets | None = None) -> None:
        self.settings = settings
        self.secrets = secrets or Secrets()
        self._loaded: dict[str, LocalLlama] = {}
        self._remote_models: dict[tuple[object, ...], RemoteChatModel] = {}
        self._lock = threading.Lock()

    def _remote(self, model_id: str) -> RemoteChatModel:
        """A remote model, kept while its provider's URL, key and limits stay the same.

        Keeping it keeps its HTTP client: a new one costs a TLS context and a connection,
        about 40 ms before every first token.
        """
        # Imported on first use: it loads the OpenAI SDK, which takes a while.
        from desktop.core.models.providers import api_key, provider
        from desktop.core.models.remote import RemoteChatModel

        name, model = split_model_id(model_id)
        p = provider(name, self.settings)
        s = self.settings
        key: tuple[object, ...] = (model_id, p, api_key(p, self.secrets))
        key += (s.request_timeout, s.max_answer_tokens, s.context_window)
        with self._lock:
            if key not in self._remote_models:
                self._remote_models = {
                    k: m for k, m in self._remote_models.items() if k[0] != model_id
                }
                self._remote_models[key] = RemoteChatModel(
                    p, model, self.secrets, s, DEFAULT_TEMPERATURE
                )
            return self._remote_models[key]

    def configure(self, settings: Settings) -> None:
        """Use new settings; a loaded model whose file changed is loaded again on next use."""
        with self._lock:
            self.settings = settings
            for key, model in list(self._loaded.items()):
                model_id = key.partition("@")[0]
                try:
                    same = str(local_llm_path(model_id, settings)) == model.model_path
                except ModelError:
                    same = False
                if not same:
                    del self._loaded[key]

    def _make_room(self, path: Path) -> None:
        """Let the loaded local models go when ``path`` would not fit beside them; each is
        freed once no answer still uses it. Called with the lock held."""
        if not self._loaded:
            return
        needed = path.stat().st_size * MEMORY_PER_FILE_BYTE
        available = available_memory()
        if available < needed:
            log.info(
                "%.0f MB available, %.0f MB needed for %s: unloading %s.",
                available / 1e6, needed / 1e6, path.name, ", ".join(self._loaded),
            )  # fmt: skip
            self._loaded.clear()

    def unload(self) -> None:
        """Let every local model go (each is freed once no answer still uses it)."""
        with self._lock:
            self._loaded.clear()

    def close(self) -> None:
        """Free every local model now; only when nothing will answer again (the app or the
        command is ending). llama.cpp would otherwise free a model still referenced at
        interpreter exit from its destructor, after the library it calls is unloaded."""
        with self._lock:
            for model in self._loaded.values():
                model.close()
            self._loaded.clear()

    def loaded(self) -> list[str]:
        """The local models held in memory now (their cache keys), oldest first."""
        with self._lock:
            return list(self._loaded)

    def get(
        self, model_id: str, adapters: AdapterLookup | None = None
    ) -> LocalLlama | RemoteChatModel:
        """The model for ``model_id``; raises ModelError naming what is wrong.

        ``adapters`` finds the (base GGUF, adapter GGUF) of a ``local:ft:<name>`` model in
        the data folder that made it; the model is kept per adapter file, so two libraries
        with a model of the same name never share it.
        """
        if not model_id.startswith(LOCAL_PREFIX):
            return self._remote(model_id)
        lora: Path | None = None
        if model_id.startswith(LOCAL_FT_PREFIX):
            if adapters is None:
                raise ModelError(f"{model_id} is a fine-tuned model of a library not open here.")
            path, lora = adapters(model_id)
        key = f"{model_id}@{lora}" if lora else model_id
        with self._lock:
            if key not in self._loaded:
                if lora is None:
                    path = local_llm_path(model_id, self.settings)
                self._make_room(Path(path))
                self._loaded[key] = LocalLlama(
                    model_path=str(path),
                    lora_path=str(lora) if lora else None,
                    context_window=self.settings.context_window,
                    threads=self.settings.threads,
                    max_tokens=self.settings.max_answer_tokens,
                    repeat_penalty=REPEAT_PENALTY.get(model_id, 1.0),
                    copy_bias=COPY_BIAS.get(model_id, 0.0),
                    rewrites_followups=model_id not in PLAIN_FOLLOWUPS,
                )
            return self._loaded[key]
