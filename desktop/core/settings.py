"""Typed settings, stored as JSON in the data folder; validated in one place."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from desktop.core.errors import SettingsError
from desktop.core.files import write_atomically
from desktop.core.models.ids import RESERVED_PROVIDERS

SETTINGS_FILE = "settings.json"
# The validation context key listing ignore patterns saved before (``_saved_patterns``).
_SAVED_PATTERNS = "saved_ignore_patterns"


class StoreSettings(BaseModel):
    """Which vector store holds the library."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["edge", "qdrant"] = Field(
        "edge", description="'edge': embedded on this computer; 'qdrant': a Qdrant server."
    )
    url: str | None = Field(None, description="Qdrant server URL, for the 'qdrant' backend.")
    api_key_env: str = Field(
        "QDRANT_API_KEY", description="Environment variable holding the Qdrant API key."
    )
    collection: str = Field("folio", min_length=1, description="Qdrant collection name.")


class ServerSettings(BaseModel):
    """A user's OpenAI-compatible server: Ollama, LM Studio, vLLM, llama.cpp's server."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="Base URL of its OpenAI API, e.g. http://localhost:11434/v1.")
    api_key_env: str | None = Field(
        None, description="Environment variable with its key, if the key is not in the keyring."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Only the scheme is required of a stored address, as it always was: a settings
        # file with an address that cannot work must still open, so the server can be
        # removed or mended. New addresses are checked in full (``server_url_problem``).
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _no_empty_variable(cls, value: str | None) -> str | None:
        # An empty name means no variable. Other names are checked where they are given
        # (``key_variable_problem``), so a settings file saved before still opens.
        return value or None


def server_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a server's address (``http(s)://host[:port]/path``), or None.

    The address must parse as httpx, the HTTP client of the OpenAI SDK that will use it,
    parses it (a valid IPv4 or IPv6 host, an IDNA name, a length it takes), with a host and
    a port in 1-65535 (RFC 6335), no whitespace (a pasted line break), no control or format
    character (Unicode's Cc and Cf: a right-to-left override) and no user name or
    password (RFC 3986's userinfo), which would be saved in plain text. The reasons are
    words that follow the address ("must ...").
    """
    import httpx  # imported here: settings are read at every start, servers rarely added

    if not url.lower().startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if any(c.isspace() for c in url):
        return "must not hold spaces or line breaks"
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in url):
        # Control and format characters (a right-to-left override, a zero-width space) do
        # not show: the address would read as one and lead to another.
        return (
            "must not hold invisible control or formatting characters (a right-to-left "
            "override, a zero-width space): type the address rather than paste it"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid address (check the host and the brackets around an IPv6 one)"
    if not host:
        return "must name a host after the '//'"
    if parts.username is not None or parts.password is not None:
        # settings.json and the Servers list would hold it in plain text; keys belong in
        # the keyring or a key variable.
        return (
            "must not hold a user name or password before the host: Folio keeps a server's "
            "key in the system keyring or a key variable instead"
        )
    try:
        port = parts.port  # urllib checks the range itself
    except ValueError:
        port = 0
    if port == 0:
        return "must have a port from 1 to 65535 after the host's ':'"
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"is not a valid address ({exc})"
    return None


# Variables the system sets for its own use, never to hold a key: POSIX's (IEEE Std
# 1003.1-2017, XBD 8.2 and 8.3) and those a Linux desktop session sets. Their value would
# be sent to the server as its key ($PATH's folders, $HOME's path).
# fmt: off
_SYSTEM_VARIABLES = frozenset({
    "COLUMNS", "DATEMSK", "DISPLAY", "EDITOR", "HOME", "HOSTNAME", "LANG", "LANGUAGE",
    "LINES", "LOGNAME", "MAIL", "MSGVERB", "NLSPATH", "OLDPWD", "PAGER", "PATH", "PWD",
    "SHELL", "TERM", "TMPDIR", "TZ", "USER", "VISUAL", "WAYLAND_DISPLAY",
})
# fmt: on
# Locales and desktop folders, the dynamic loader's (ld.so(8): LD_PRELOAD, LD_LIBRARY_PATH)
# and Python's own (PYTHONPATH, PYTHONHOME...).
_SYSTEM_PREFIXES = ("LC_", "XDG_", "LD_", "PYTHON")
# Folio's own settings (tests/core/test_settings.py checks the list against the code).
FOLIO_VARIABLES = frozenset({"FOLIO_HOME", "FOLIO_TORCH_INDEX", "FOLIO_TRAINING_PYTHON"})
# A name a shell can export: XCU 2.10.2's NAME, as XBD 8.1 advises for portable names.
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_variable_problem(name: str, *, saved: bool = False) -> str | None:
    """Why ``name`` cannot be the environment variable holding a server's key, or None: an
    empty name; a name holding '=', which no variable's can (IEEE Std 1003.1, 8.1: the
    environment is ``name=value`` strings), or whitespace; a name no shell can export
    (``MY-KEY``, ``2KEY``); or a variable the system or Folio sets for its own use
    (``PATH``, ``LC_ALL``, ``LD_PRELOAD``, ``FOLIO_HOME``), whose value is no key. A name
    already ``saved`` is not held to the shell's rule: ``env`` can still set it. The
    reasons are words that follow the name ("must ...", "is ...")."""
    if not name:
        return "must name an environment variable (e.g. LAB_API_KEY); leave it out for no key"
    if "=" in name or any(c.isspace() for c in name):
        return "must be an environment variable's name, without '=' or spaces (e.g. LAB_API_KEY)"
    if not saved and not _SHELL_NAME.fullmatch(name):
        return (
            "is no name a shell can export: use letters, digits and '_', not starting with a "
            "digit (e.g. LAB_API_KEY)"
        )
    if name.upper() in FOLIO_VARIABLES:
        return "is one of Folio's own settings, not one holding a key (e.g. LAB_API_KEY)"
    if name.upper() in _SYSTEM_VARIABLES or name.upper().startswith(_SYSTEM_PREFIXES):
        return (
            "is a variable the system sets for its own use, not one holding a key: name the "
            "variable that holds the server's key (e.g. LAB_API_KEY)"
        )
    return None


def new_server_problem(base_url: str, api_key_env: str | None) -> tuple[str, str] | None:
    """The first field of a server being added that cannot work, with why, or None:
    ``("base_url", reason)`` from ``server_url_problem`` or ``("api_key_env", reason)``
    from ``key_variable_problem`` (``api_key_env`` None: the server takes no key). The
    window and folio-cli both check with it, each naming the field its own way (a label, a
    flag)."""
    problem = server_url_problem(base_url)
    if problem is not None:
        return "base_url", problem
    problem = key_variable_problem(api_key_env) if api_key_env is not None else None
    return ("api_key_env", problem) if problem is not None else None


class Settings(BaseModel):
    """Everything a person can change; defaults work offline on a fresh machine."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Counted in the embedding model's own tokens (WordPiece for all-MiniLM-L6-v2, which
    # reads 254 besides [CLS] and [SEP]; tiktoken cl100k_base for remote models), title
    # metadata included; the splitter never goes past what the model reads.
    chunk_size: int = Field(
        200, ge=32, le=256, description="Embedding-model tokens per chunk, title included."
    )
    chunk_overlap: int = Field(30, ge=0, le=128, description="Tokens shared by neighbours.")
    top_k: int = Field(5, ge=1, le=50, description="Sources retrieved per question.")
    max_file_mb: float = Field(50.0, gt=0, le=4096, description="Larger files are skipped.")
    ignore_patterns: list[str] = Field(
        default_factory=list, description="Extra gitignore-style patterns to skip."
    )
    default_model: str = Field("local:default", description="Model used when none is chosen.")
    local_models: dict[str, str] = Field(
        default_factory=dict, description="Extra GGUF models: name -> file path."
    )
    threads: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        le=256,
        description="CPU threads for the local models.",
    )
    ocr: bool = Field(
        True, description="Read scanned PDF pages and images by OCR (slower: seconds a page)."
    )
    max_answer_tokens: int = Field(512, ge=16, le=8192, description="Longest answer.")
    context_window: int = Field(4096, ge=512, le=131072, description="Local model context.")
    store: StoreSettings = Field(default_factory=StoreSettings)
    servers: dict[str, ServerSettings] = Field(
        default_factory=dict, description="OpenAI-compatible servers: name -> URL and key."
    )
    remote_consent: list[str] = Field(
        default_factory=list,
        description="Remote providers the user agreed may receive document text.",
    )
    request_timeout: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for a remote model's reply."
    )

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size", 200)
        if value >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return value

    @field_validator("ignore_patterns")
    @classmethod
    def _patterns_gitignore_reads(cls, value: list[str], info: ValidationInfo) -> list[str]:
        # A pattern saved before patterns were checked (Save took any) still loads, so the
        # settings open; each sync skips it and says so. New ones are refused here.
        # Imported here: it loads pathspec, which the local trainer's own environment (which
        # imports this module's types) does not install.
        from desktop.core.library.walk import ignore_pattern_problem, shown_pattern

        saved = (info.context or {}).get(_SAVED_PATTERNS, frozenset())
        problems = [
            f"{shown_pattern(pattern)} {problem}"
            for pattern in value
            if pattern not in saved and (problem := ignore_pattern_problem(pattern)) is not None
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("servers")
    @classmethod
    def _server_names(cls, value: dict[str, ServerSettings]) -> dict[str, ServerSettings]:
        # Only what would break a model id: a name from before the stricter rule for new
        # names (provider_name_problem, checked where a server is added) still loads.
        for name in value:
            if not name or ":" in name or name in RESERVED_PROVIDERS:
                raise ValueError(
                    f"server name {name!r} must be non-empty, without ':', and not "
                    + " or ".join(RESERVED_PROVIDERS)
                )
        return value

    @field_validator("default_model")
    @classmethod
    def _model_id_shape(cls, value: str) -> str:
        # Checked here, so a wrong one is named with its file at start, not at each answer.
        provider, _, name = value.partition(":")
        if not provider.strip() or not name.strip():
            raise ValueError(f"{value!r} should look like provider:model, e.g. local:default")
        return value

    @field_validator("local_models")
    @classmethod
    def _names_are_plain(cls, value: dict[str, str]) -> dict[str, str]:
        # Only what would break a model id or hide the embedded model: a name from before
        # the rule for new names (local_files.local_model_name_problem) still loads.
        for name in value:
            if not name or ":" in name or name == "default":
                raise ValueError(
                    f"model name {name!r} must be non-empty and without ':' (it follows "
                    "'local:' in a model id), and 'default' is the embedded model's"
                )
        return value


@dataclass(frozen=True)
class Bounds:
    """A number setting's limits as its field declares them; None where it has none.

    ``above_minimum`` (``gt``) and ``below_maximum`` (``lt``) say the limit itself is refused.
    """

    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False
    below_maximum: bool = False


def field_bounds(name: str) -> Bounds:
    """The limits ``Settings`` declares for the number setting ``name`` (its ge, gt, le, lt),
    for a form to offer exactly the values the settings accept."""
    found: dict[str, float] = {}
    for constraint in Settings.model_fields[name].metadata:
        for kind in ("ge", "gt", "le", "lt"):
            value = getattr(constraint, kind, None)
            if value is not None:
                found[kind] = value
    return Bounds(
        minimum=found.get("ge", found.get("gt")),
        maximum=found.get("le", found.get("lt")),
        above_minimum="gt" in found,
        below_maximum="lt" in found,
    )


@dataclass(frozen=True)
class SettingProblem:
    """One invalid setting: its ``field`` (``chunk_size``; ``servers`` for a server's part)
    and the ``rule`` its value breaks, in words ("must be at most 256")."""

    field: str
    rule: str


class InvalidSettings(SettingsError):
    """Settings that break their rules. ``str()`` names each field by its key, as the
    settings file has it; ``problems`` let a form name each by its own label instead."""

    def __init__(self, message: str, problems: list[SettingProblem]) -> None:
        super().__init__(message)
        self.problems = problems


def _rule(item: ErrorDetails) -> str:
    """What a pydantic error says the value must be, without pydantic's own phrasing."""
    context = item.get("ctx", {})
    limits = {
        "greater_than_equal": ("must be at least", "ge"),
        "greater_than": ("must be more than", "gt"),
        "less_than_equal": ("must be at most", "le"),
        "less_than": ("must be less than", "lt"),
    }
    if item["type"] in limits:
        words, key = limits[item["type"]]
        return f"{words} {context[key]:g}"
    if item["type"] == "value_error":
        return str(context["error"])
    message = item["msg"]
    return message[:1].lower() + message[1:]


def describe_validation_error(error: ValidationError) -> str:
    """One line per invalid field, naming the field and the rule it broke."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        lines.append(f"{field}: {_rule(item)}")
    return "Invalid settings: " + "; ".join(lines)


def _saved_patterns(patterns: object) -> dict[str, frozenset[str]]:
    """The validation context that lets ``patterns`` (a list of ignore patterns from a
    settings file, or from the settings before a change; anything else counts as none)
    through unchecked."""
    listed = patterns if isinstance(patterns, list) else []
    return {_SAVED_PATTERNS: frozenset(p for p in listed if isinstance(p, str))}


def load_settings(home: Path) -> Settings:
    """Read the settings file, or the defaults when there is none.

    Its ignore patterns load even if gitignore matching cannot use one (Save took any
    before they were checked): indexing skips such a pattern and says so at each sync.
    """
    path = home / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        # utf-8-sig: a byte order mark, as some editors write one, is no reason to refuse.
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SettingsError(
            f"Cannot read {path}: {reason}. Fix or delete the file to use the defaults."
        ) from exc
    patterns = raw.get("ignore_patterns") if isinstance(raw, dict) else None
    try:
        return Settings.model_validate(raw, context=_saved_patterns(patterns))
    except ValidationError as exc:
        raise SettingsError(f"{describe_validation_error(exc)} (in {path})") from exc


class SettingsNotSaved(SettingsError):
    """The settings file cannot be written; the message names it and what to check."""


def save_settings(home: Path, settings: Settings) -> None:
    """Write the settings atomically (synced, through a temporary file of its own), so a
    crash never leaves half a file and two processes never share a temporary name.

    Raises SettingsNotSaved, naming the settings file, when it cannot be written: the file
    on disk is left as it was.
    """
    path = home / SETTINGS_FILE
    try:
        write_atomically(path, [settings.model_dump_json(indent=2)])
    except OSError as exc:
        raise SettingsNotSaved(_not_saved(path, exc)) from exc


def _not_saved(path: Path, exc: OSError) -> str:
    """Why the settings could not be written to ``path`` and what to do. The system's error
    names the temporary file written first, which the person never sees: ``path`` is named
    instead."""
    if path.is_dir():
        return (
            f"Cannot save the settings: {path} is a folder. Move or rename that folder, "
            "then save again."
        )
    reason = exc.strerror or str(exc)
    return (
        f"Cannot save the settings to {path} ({reason}). Check that your user can write "
        f"{path.parent} and that its disk has room and is not read-only, then save again."
    )


def updated(settings: Settings, **changes: object) -> Settings:
    """A copy with ``changes`` applied and validated; raises SettingsError naming the field.

    Ignore patterns among ``changes`` are all checked (``walk.ignore_pattern_problem``);
    those kept from ``settings`` are not, so a pattern saved before checks began never
    stops another change.
    """
    kept = [] if "ignore_patterns" in changes else settings.ignore_patterns
    try:
        return Settings.model_validate(
            {**settings.model_dump(), **changes}, context=_saved_patterns(kept)
        )
    except ValidationError as exc:
        problems = [
            SettingProblem(str(item["loc"][0]) if item["loc"] else "settings", _rule(item))
            for item in exc.errors()
        ]
        raise InvalidSettings(describe_validation_error(exc), problems) from exc
