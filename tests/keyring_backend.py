"""A keyring backend for tests: one JSON file, named by ``$FOLIO_TEST_KEYRING``.

Headless test machines have no Secret Service or Keychain. This implements keyring's own
backend interface (``KeyringBackend``), so Folio's code runs unchanged against it, and a test
can look inside to prove where a key went. Selected by name only, with
``PYTHON_KEYRING_BACKEND`` or ``FileKeyring()``: keyring's own search for a backend
must never pick it, or any test that imports this module would leak it into the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        # Viable only with its file named, and then ranked below keyring's "fail" backend
        # (0) and outside its chainer (> 0 only): naming it is the only way to get it.
        if not os.environ.get("FOLIO_TEST_KEYRING"):
            raise RuntimeError("FileKeyring needs FOLIO_TEST_KEYRING to name its file")
        return -1

    @staticmethod
    def _path() -> Path:
        path = os.environ.get("FOLIO_TEST_KEYRING")
        if not path:
            raise RuntimeError("FileKeyring needs FOLIO_TEST_KEYRING to name its file")
        return Path(path)

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(data))
