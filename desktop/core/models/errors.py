"""One translation of a provider's API errors into messages a person can act on.

Chat, embeddings, model lists and fine-tuning all call OpenAI-compatible APIs through the
``openai`` SDK; whichever fails, the message is made here: a refused key, no credit, a rate
limit that outlasted the SDK's retries, an unknown model, a server that is down or silent, a
prompt longer than the model's context. Status codes and bodies follow OpenAI's published
error codes (https://platform.openai.com/docs/guides/error-codes).
"""

from __future__ import annotations

import httpx
import openai

from desktop.core.errors import ContextTooLong, ProviderError
from desktop.core.models.ids import MAX_RETRIES, OPENAI, Provider

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


def _no_model_list(p: Provider) -> ProviderError:
    """``/models`` is not found at ``p``: its address is most likely not where its
    OpenAI-compatible API starts (a server's root, or a web page, rather than its ``/v1``)."""
    what = f"{p.base_url} has no model list (HTTP 404)"
    if p.name == OPENAI:
        fix = "check that OPENAI_BASE_URL ends where its OpenAI-compatible API starts"
        return ProviderError(f"OpenAI's address {what}: {fix}, e.g. https://api.openai.com/v1.")
    fix = "ends where its OpenAI-compatible API starts, e.g. http://localhost:11434/v1"
    return ProviderError(
        f"The server {p.name} at {what}: check that its address {fix}.",
        cli=f"The server {p.name} at {what}: check that its --base-url {fix} (add it again "
        f"with `folio-cli models add-server {p.name} --base-url URL`).",
    )


def translate_error(
    exc: BaseException, p: Provider, model: str | None, timeout: float
) -> ProviderError:
    """The one-line message for an error from ``p``'s API."""
    who = p.label
    what = f"model {model!r}" if model else "the model list"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        late = f"{who} did not answer within {timeout:.0f} s. Try again, or raise"
        return ProviderError(
            f"{late} the timeout in Settings.",
            cli=f'{late} "request_timeout" (seconds) in settings.json in the data folder.',
        )
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(f"Cannot reach {who} at {p.base_url}: is the server running?")
    if isinstance(exc, openai.AuthenticationError):
        where = f" or set {p.key_env}" if p.key_env else ""
        return ProviderError(
            f"{who} refused the API key (401). Enter a valid key in Settings → Models and "
            f"Providers{where}.",
            cli=f"{who} refused the API key (401). Store a valid one with `folio-cli models "
            f"set-key {p.name}`{where}.",
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return ProviderError(f"{who} does not allow this key to use {what} (403).")
    if isinstance(exc, openai.NotFoundError) and model is None:
        return _no_model_list(p)
    if isinstance(exc, openai.NotFoundError):
        return ProviderError(
            f"{who} has no {what} (404). Choose another model.",
            cli=f"{who} has no {what} (404). Choose another model; `folio-cli models list` "
            "shows what it offers.",
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
