"""Chat with a remote model (OpenAI or an OpenAI-compatible server) through LlamaIndex.

Errors from the API become one-line messages that say what to do (``model_errors``); a
connection that drops mid-answer keeps what arrived, marked interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import openai
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, LLMMetadata
from llama_index.core.utils import get_tokenizer
from llama_index.llms.openai.utils import openai_modelname_to_contextsize
from llama_index.llms.openai_like import OpenAILike

from desktop.core.errors import StreamDropped
from desktop.core.models.errors import translate_error
from desktop.core.models.ids import MAX_RETRIES, Provider
from desktop.core.models.providers import key_for, require_usable_server
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings


class RemoteChatModel:
    """A remote chat model with Folio's ``ChatModel`` interface (see ``chat.py``)."""

    def __init__(
        self, p: Provider, model: str, secrets: Secrets, settings: Settings, temperature: float
    ) -> None:
        self.provider = p
        self.model = model
        self.timeout = settings.request_timeout
        require_usable_server(p)
        try:
            context = openai_modelname_to_contextsize(model)
        except ValueError:  # not an OpenAI name: the user's server decides
            context = settings.context_window
        # OpenAILike is LlamaIndex's OpenAI LLM with the model table made optional; the
        # requests are the same as for OpenAI itself.
        self._llm = OpenAILike(
            model=model,
            api_base=p.base_url,
            api_key=key_for(p, secrets),
            context_window=context,
            is_chat_model=True,
            max_tokens=settings.max_answer_tokens,
            temperature=temperature,
            timeout=self.timeout,
            max_retries=MAX_RETRIES,
            additional_kwargs={"stream_options": {"include_usage": True}},
        )
        self._tokenizer = get_tokenizer()

    @property
    def metadata(self) -> LLMMetadata:
        """Context window (from the model's name where OpenAI publishes it) and answer length, in
        tokens."""
        return self._llm.metadata

    @property
    def llm(self) -> OpenAILike:
        """The LlamaIndex LLM behind this model, for LlamaIndex's own components (the
        evaluation set generator and evaluators); its errors are the OpenAI SDK's."""
        return self._llm

    def count_tokens(self, text: str) -> int:
        """An estimate for budgeting: OpenAI's cl100k tokenizer, close for most models."""
        return len(self._tokenizer(text))

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        """One answer, not streamed (for work that needs the whole reply at once)."""
        try:
            return self._llm.chat(messages, **kwargs).message.content or ""
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise translate_error(exc, self.provider, self.model, self.timeout) from exc

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        """LlamaIndex's streaming chat, with errors turned into ``ProviderError``."""
        inner = self._llm.stream_chat(messages, **kwargs)

        def gen() -> Iterator[ChatResponse]:
            received = False
            try:
                for response in inner:
                    received = True
                    yield response
            except (openai.OpenAIError, httpx.HTTPError) as exc:
                error = translate_error(exc, self.provider, self.model, self.timeout)
                if received:
                    raise StreamDropped(
                        f"The connection to {self.provider.label} broke mid-answer ({error}); "
                        "the part that arrived is kept."
                    ) from exc
                raise error from exc
            finally:
                inner.close()

        return gen()
