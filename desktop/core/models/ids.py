"""Model ids and the providers they name; this module imports nothing of Folio's but errors.

A model id is ``<provider>:<model>``: ``local:default``, ``openai:gpt-4o-mini``,
``openai:ft:...`` for fine-tuned OpenAI models, ``ollama:llama3.2`` for a server the user
named ``ollama``. Every remote provider speaks OpenAI's API, so one client serves them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.core.errors import ModelError

LOCAL = "local"  # the provider of models run in-process, and of jobs trained here
LOCAL_PREFIX = f"{LOCAL}:"
# A local base model with a LoRA adapter trained in Folio: "local:ft:<name>".
LOCAL_FT_PREFIX = "local:ft:"
OPENAI = "openai"
# OpenAI's API, where no OPENAI_BASE_URL points elsewhere.
OPENAI_URL = "https://api.openai.com/v1"
# Provider names Folio keeps for itself: its own models and OpenAI.
RESERVED_PROVIDERS = (LOCAL, OPENAI)
# A provider's name starts each of its model ids and is typed after --model on a command
# line: a letter or digit (so it never reads as a flag), then letters, digits, ".", "_", "-".
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PROVIDER_NAME_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
# How often the OpenAI SDK retries a connection error, a 429 (honouring Retry-After) or a
# 5xx, with backoff (0.5 s, 1 s, 2 s), before Folio says so: a server that is down is
# reported within a few seconds.
MAX_RETRIES = 3


@dataclass(frozen=True)
class Provider:
    """A remote provider: where its API is and where its key comes from."""

    name: str
    base_url: str
    key_env: str | None

    @property
    def label(self) -> str:
        """The provider's name as a person reads it: "OpenAI", or the server's name."""
        return "OpenAI" if self.name == OPENAI else self.name


def split_model_id(model_id: str) -> tuple[str, str]:
    """``"openai:ft:gpt-4o-mini:x"`` -> ``("openai", "ft:gpt-4o-mini:x")``.

    Raises:
        ModelError: the id has no ``provider:`` part or no model after it.
    """
    provider, sep, model = model_id.partition(":")
    if not sep or not provider or not model:
        raise ModelError(
            f"Model id {model_id!r} should look like provider:model, e.g. local:default or "
            "openai:gpt-4o-mini."
        )
    return provider, model


def provider_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a provider (the part of a model id before ":"), or None."""
    if not name:
        return f"A server needs a name: {PROVIDER_NAME_RULE}."
    if name in RESERVED_PROVIDERS:
        return f"{name!r} names Folio's own models: choose another name."
    if not _PROVIDER_NAME.fullmatch(name):
        return (
            f"{name!r} cannot name a server: the name starts its model ids (name:model), so "
            f"it takes only {PROVIDER_NAME_RULE}."
        )
    return None


def is_remote(model_id: str) -> bool:
    """Whether ``model_id`` sends text off this computer."""
    return not model_id.startswith(LOCAL_PREFIX)


def is_fine_tuned(model_id: str) -> bool:
    """Whether ``model_id`` names a fine-tuned model: ``local:ft:<name>``, or a provider's
    ``ft:`` model (OpenAI's naming, ``openai:ft:gpt-4o-mini:org::id``)."""
    return model_id.startswith(LOCAL_FT_PREFIX) or model_id.partition(":")[2].startswith("ft:")
