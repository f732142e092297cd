"""Where models come from: local GGUF files, OpenAI, and the user's OpenAI-compatible servers.

Model ids and ``Provider`` are in ``model_ids``; this module finds the providers, their
clients and the models each offers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import httpx
import openai

from desktop.core.errors import ModelError, ProviderError, worded
from desktop.core.finetune.records import ft_lineage
from desktop.core.models.errors import translate_error
from desktop.core.models.ids import (
    MAX_RETRIES,
    OPENAI,
    OPENAI_URL,
    RESERVED_PROVIDERS,
    Provider,
)
from desktop.core.models.local_files import ModelInfo, list_models
from desktop.core.secrets import OPENAI_KEY_ENV, Secrets
from desktop.core.settings import Settings, key_variable_problem

if TYPE_CHECKING:
    from desktop.core.finetune.records import JobStore

# Offered first when the account has them; its other chat models follow, by name.
OPENAI_SHORT_LIST = ("gpt-4.1-mini", "gpt-4o-mini", "gpt-4.1", "gpt-4o", "o4-mini", "o3")
# Model ids that are not chat models (OpenAI lists them all under /v1/models).
_NOT_CHAT = (
    "embedding",
    "whisper",
    "tts",
    "dall-e",
    "davinci",
    "babbage",
    "moderation",
    "audio",
    "realtime",
    "transcribe",
    "image",
    "search",
)
# Listing models should not keep the picker waiting long on a server that is down.
LIST_TIMEOUT = 10.0


def provider(name: str, settings: Settings) -> Provider:
    """The remote provider called ``name``; ModelError saying how to add it if unknown."""
    if name == OPENAI:
        base = os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
        return Provider(OPENAI, base.rstrip("/"), OPENAI_KEY_ENV)
    server = settings.servers.get(name)
    if server is None:
        known = ", ".join([OPENAI, *sorted(settings.servers)])
        unknown = f"Unknown provider {name!r} (known: {known})."
        raise ModelError(
            f"{unknown} Add a server called {name}, or choose another model.",
            cli=f"{unknown} Add a server with `folio-cli models add-server NAME --base-url URL` "
            "or in Settings.",
        )
    return Provider(name, server.base_url, server.api_key_env)


def name_taken(name: str, settings: Settings) -> str | None:
    """The provider name ``name`` would repeat, compared ignoring case, or None: one of
    Folio's own (``local``, ``openai``) or a saved server's, as written there. ``Ollama``
    beside ``ollama`` would list ``Ollama:llama3.2`` and ``ollama:llama3.2``, which a person
    cannot tell apart in the model picker; the settings file, read before this check,
    still loads such names."""
    wanted = name.casefold()
    return next(
        (n for n in (*RESERVED_PROVIDERS, *settings.servers) if n.casefold() == wanted), None
    )


def remote_providers(settings: Settings) -> list[Provider]:
    """OpenAI, then the user's servers by name."""
    return [provider(OPENAI, settings)] + [provider(n, settings) for n in sorted(settings.servers)]


def api_key(p: Provider, secrets: Secrets) -> str | None:
    """``p``'s API key from the keyring or its environment variable; None if there is none."""
    return secrets.get(p.name, p.key_env)


def client(
    p: Provider, secrets: Secrets, timeout: float, max_retries: int = MAX_RETRIES
) -> openai.OpenAI:
    """An OpenAI SDK client for ``p``; it retries 429s and 5xx with backoff itself.
    ProviderError as ``require_usable_server`` raises."""
    require_usable_server(p)
    return openai.OpenAI(
        base_url=p.base_url, api_key=key_for(p, secrets), timeout=timeout, max_retries=max_retries
    )


def require_usable_server(p: Provider) -> None:
    """Raise ProviderError when ``p``'s address is one the SDK's HTTP client (httpx) cannot
    take, or its key variable one that holds no key (``key_variable_problem``): a settings
    file saved before these were checked in full, or edited by hand."""
    try:
        httpx.URL(p.base_url)
    except (httpx.InvalidURL, ValueError) as exc:
        what = f"The address of {p.name}, {p.base_url!r}, is not valid ({exc})"
        raise _saved_server_error(p, what, "its right address") from exc
    problem = key_variable_problem(p.key_env, saved=True) if p.key_env else None
    if problem is not None:
        what = f"The key variable of {p.name}, {p.key_env!r}, {problem}"
        raise _saved_server_error(p, what, "the variable that holds its key")


def _saved_server_error(p: Provider, what: str, right: str) -> ProviderError:
    """ProviderError saying ``what`` is wrong with saved server ``p`` and how to add it
    again with ``right``, in the window's words and folio-cli's."""
    return ProviderError(
        f"{what}: remove the server and add it again with {right}.",
        cli=f"{what}: `folio-cli models remove {p.name}`, then add it again with `folio-cli "
        "models add-server`.",
    )


def no_openai_key(lead: str = "No API key for OpenAI") -> ProviderError:
    """OpenAI has no key: ``lead``, then where to add one, in the window's words and in
    folio-cli's."""
    return ProviderError(
        f"{lead}: add one in Settings → Models and Providers, or set {OPENAI_KEY_ENV}.",
        cli=f"{lead}: store one with `folio-cli models set-key {OPENAI}`, or set "
        f"{OPENAI_KEY_ENV}; for another OpenAI-compatible server, `folio-cli models add-server`.",
    )


def key_for(p: Provider, secrets: Secrets) -> str:
    """The key to send to ``p``; ProviderError saying where to add one when OpenAI itself
    has none. Local servers (Ollama, LM Studio) take no key, but the SDK insists on one:
    "none"."""
    key = api_key(p, secrets)
    if key is None and p.name == OPENAI and p.base_url == OPENAI_URL:
        raise no_openai_key()
    return key or "none"


def _chat_models_first(ids: list[str], name: str) -> list[str]:
    chat = [i for i in ids if name != OPENAI or not any(word in i for word in _NOT_CHAT)]
    short = [i for i in OPENAI_SHORT_LIST if i in chat] if name == OPENAI else []
    return short + sorted(i for i in chat if i not in short)


def remote_models(p: Provider, secrets: Secrets, jobs: JobStore | None = None) -> list[ModelInfo]:
    """The chat models ``p`` offers (``/v1/models``); ProviderError if it cannot say.

    ``ft:`` models are fine-tuned ones, with their lineage: from ``jobs`` when Folio ran the
    job that made them, otherwise what their id says.
    """
    try:
        listed = {m.id: m for m in client(p, secrets, LIST_TIMEOUT, max_retries=1).models.list()}
    except openai.OpenAIError as exc:
        raise translate_error(exc, p, model=None, timeout=LIST_TIMEOUT) from exc
    models = []
    for m in _chat_models_first(list(listed), p.name):
        lineage = None
        if m.startswith("ft:"):
            job = jobs.lineage(m) if jobs is not None else None
            if job is not None and job.provider != p.name:
                job = None
            lineage = ft_lineage(m, job, getattr(listed[m], "created", None))
        models.append(
            ModelInfo(
                id=f"{p.name}:{m}",
                kind="base" if lineage is None else "fine-tuned",
                provider=p.label,
                available=True,
                remote=True,
                lineage=lineage,
            )
        )
    return models


def all_models(
    settings: Settings, secrets: Secrets, jobs: JobStore | None = None, *, cli: bool = False
) -> tuple[list[ModelInfo], dict[str, str]]:
    """Every model the picker offers, local first, and each unreachable provider's reason.

    With ``jobs`` (Folio's fine-tuning jobs), fine-tuned models Folio made carry their
    dataset and persona in their lineage. The reasons are worded for the window, or with
    ``cli`` for folio-cli (``FolioError``'s two wordings).
    """
    models = list_models(settings)
    problems: dict[str, str] = {}
    for p in remote_providers(settings):
        try:
            if p.name == OPENAI and p.base_url == OPENAI_URL and api_key(p, secrets) is None:
                raise no_openai_key("No API key")  # the picker names the provider
            models.extend(remote_models(p, secrets, jobs))
        except ProviderError as exc:
            problems[p.name] = worded(exc, cli=cli)
    return models, problems
