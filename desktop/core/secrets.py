"""API keys: kept in the operating system's keyring, never in Folio's own files.

A key is looked up in the keyring first, then in the provider's environment variable
(``OPENAI_API_KEY`` for OpenAI, the one a server names in its settings). Where no keyring
backend exists (a headless Linux without Secret Service), storing a key is refused with a
message pointing at the environment variable: Folio never falls back to plain text.
"""

from __future__ import annotations

import contextlib
import os

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from desktop.core.errors import SettingsError

SERVICE = "Folio"
OPENAI_KEY_ENV = "OPENAI_API_KEY"


def _username(provider: str) -> str:
    return f"api-key:{provider}"


class Secrets:
    """Get, set and forget a provider's API key."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.backend = backend or keyring.get_keyring()

    @property
    def available(self) -> bool:
        """Whether a real keyring can hold keys here."""
        return not isinstance(self.backend, fail.Keyring)

    def unavailable_reason(self, env_var: str) -> str:
        """Why keys cannot be kept here (no usable keyring), or None when they can."""
        return (
            "No system keyring is available here (on Linux, one comes with GNOME Keyring or "
            f"KWallet), so Folio cannot store the key safely: set the {env_var} environment "
            "variable instead. Folio never writes keys to its own files."
        )

    def get(self, provider: str, env_var: str | None = None) -> str | None:
        """The key from the keyring, else from ``env_var``; None if neither has one."""
        if self.available:
            try:
                stored = self.backend.get_password(SERVICE, _username(provider))
            except keyring.errors.KeyringError:
                stored = None
            if stored:
                return stored
        return os.environ.get(env_var) if env_var else None

    def set(self, provider: str, key: str, env_var: str) -> None:
        """Keep ``key`` in the keyring; SettingsError if there is none or it refuses."""
        key = key.strip()
        if not key:
            raise SettingsError(f"The API key for {provider} is empty.")
        if not self.available:
            raise SettingsError(self.unavailable_reason(env_var))
        try:
            self.backend.set_password(SERVICE, _username(provider), key)
        except keyring.errors.KeyringError as exc:
            raise SettingsError(
                f"The system keyring refused the key for {provider} ({exc}). Unlock the "
                f"keyring and try again, or set the {env_var} environment variable."
            ) from exc

    def forget(self, provider: str) -> None:
        """Remove a stored key; nothing happens if there is none."""
        if not self.available:
            return
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self.backend.delete_password(SERVICE, _username(provider))

    def stored(self, provider: str) -> bool:
        """Whether a key for ``provider`` is in the keyring (not the environment)."""
        if not self.available:
            return False
        try:
            return bool(self.backend.get_password(SERVICE, _username(provider)))
        except keyring.errors.KeyringError:
            return False
