"""Chat with a remote model (OpenAI or an OpenAI-compatible server) through LlamaIndex.

Errors from the API become one-line messages that say what to do: a refused key, no credit,
a rate limit that outlasted the SDK's retries, an unknown model, a server that is down or
silent, a connection that dropped mid-answer, a prompt longer than the model's context.
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

from desktop.core.errors import ContextTooLong, ProviderError, StreamDropped
from desktop.core.providers import Provider, api_key
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings

MAX_RETRIES = 3
_CONTEXT_WORDS = ("context_length_exceeded", "context length", "maximum context", "too long")


def _body_code(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    code = error.get("code") if isinstance(error, dict) else None
    return str(code or "")


def server_reason(exc: openai.APIStatusError) -> str:
    """The server's own words for an error: the body's message, else what the SDK says."""
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") if isinstance(body.get("message"), str) else None
    return " ".join((message or exc.message).split())


def translate_error(
    exc: BaseException, p: Provider, model: str | None, timeout: float
) -> ProviderError:
    """The one-line message for an error from ``p``'s API."""
    who = p.label
    what = f"model {model!r}" if model else "the model list"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return ProviderError(
            f"{who} did not answer within {timeout:.0f} s. Try again, or raise the timeout in "
            "Settings."
        )
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(f"Cannot reach {who} at {p.base_url}: is the server running?")
    if isinstance(exc, openai.AuthenticationError):
        where = f" or set {p.key_env}" if p.key_env else ""
        return ProviderError(
            f"{who} refused the API key (401). Enter a valid key in Settings → Models and "
            f"Providers{where}."
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return ProviderError(f"{who} does not allow this key to use {what} (403).")
    if isinstance(exc, openai.NotFoundError):
        return ProviderError(
            f"{who} has no {what} (404). Choose another model; `folio-cli models list` "
            "shows what it offers."
        )
    if isinstance(exc, openai.RateLimitError):
        if _body_code(exc) == "insufficient_quota":
            # Quoted: the provider says which plan or limit, and where to change it.
            return ProviderError(
                f"{who} says the account has no credit left (429): {server_reason(exc)}"
            )
        return ProviderError(
            f"{who} is rate-limiting requests (429) and still was after {MAX_RETRIES} retries; "
            "wait a minute and try again."
        )
    if isinstance(exc, openai.BadRequestError):
        message = server_reason(exc).lower()
        if _body_code(exc) == "context_length_exceeded" or any(
            w in message for w in _CONTEXT_WORDS
        ):
            return ContextTooLong(f"The question and its sources are too long for {what}.")
        return ProviderError(f"{who} rejected the request (400): {server_reason(exc)}")
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(f"{who} failed with HTTP {exc.status_code}: {server_reason(exc)}")
    return ProviderError(f"{who} failed: {exc}")


class RemoteChatModel:
    """A remote chat model with Folio's ``ChatModel`` interface (see ``chat.py``)."""

    def __init__(
        self, p: Provider, model: str, secrets: Secrets, settings: Settings, temperature: float
    ) -> None:
        self.provider = p
        self.model = model
        self.timeout = settings.request_timeout
        try:
            context = openai_modelname_to_contextsize(model)
        except ValueError:  # not an OpenAI name: the user's server decides
            context = settings.context_window
        # OpenAILike is LlamaIndex's OpenAI LLM with the model table made optional; the
        # requests are the same as for OpenAI itself.
        self._llm = OpenAILike(
            model=model,
            api_base=p.base_url,
            api_key=api_key(p, secrets) or "none",
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
        return self._llm.metadata

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
