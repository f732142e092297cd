"""Settings: validated in one place, with messages that name the field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desktop.core.errors import SettingsError
from desktop.core.models.ids import provider_name_problem
from desktop.core.settings import (
    FOLIO_VARIABLES,
    InvalidSettings,
    Settings,
    load_settings,
    save_settings,
    server_url_problem,
    updated,
)


def test_defaults_round_trip(tmp_path: Path) -> None:
    settings = updated(Settings(), top_k=8, ignore_patterns=["*.bak"])
    save_settings(tmp_path, settings)
    assert load_settings(tmp_path) == settings
    assert load_settings(tmp_path / "missing") == Settings()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"top_k": 0}, "top_k"),
        ({"chunk_size": 1000}, "chunk_size"),
        ({"chunk_overlap": 250, "chunk_size": 200}, "chunk_overlap"),
        ({"store": {"backend": "pinecone"}}, "store.backend"),
        ({"local_models": {"a:b": "/x.gguf"}}, "local_models"),
        ({"default_model": ""}, "default_model"),
        ({"default_model": "local:"}, "default_model"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_values_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError, match=rf"Invalid settings: {field}"):
        updated(Settings(), **changes)


def test_broken_settings_file_says_where(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match=r"settings\.json"):
        load_settings(tmp_path)
    (tmp_path / "settings.json").write_text(json.dumps({"top_k": "many"}))
    with pytest.raises(SettingsError, match="top_k"):
        load_settings(tmp_path)
    # A byte order mark, as some editors write one, is read past.
    (tmp_path / "settings.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"top_k": 3}).encode())
    assert load_settings(tmp_path).top_k == 3
    (tmp_path / "settings.json").unlink()
    (tmp_path / "settings.json").mkdir()
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path)
    assert str(raised.value) == (
        f"Cannot read {tmp_path / 'settings.json'}: Is a directory. Fix or delete the file to "
        "use the defaults."
    )


def test_a_server_named_before_the_stricter_rule_still_loads(tmp_path: Path) -> None:
    # "my server" was accepted when it was added; new names are checked where they are
    # added (provider_name_problem), so settings already saved are never refused.
    (tmp_path / "settings.json").write_text(
        json.dumps({"servers": {"my server": {"base_url": "http://127.0.0.1:9/v1"}}})
    )
    assert "my server" in load_settings(tmp_path).servers
    # So is an address added before addresses were checked in full: the server can still
    # be removed or mended, and the rest of the settings are used.
    (tmp_path / "settings.json").write_text(
        json.dumps({"servers": {"lab": {"base_url": "http://lab:99999/v1", "api_key_env": ""}}})
    )
    assert load_settings(tmp_path).servers["lab"].api_key_env is None
    assert server_url_problem("http://lab:99999/v1") is not None
    assert server_url_problem("http://lab:8080/v1") is None
    assert provider_name_problem("my server!") is not None
    assert provider_name_problem("lab-2.local") is None


def test_an_ignore_pattern_gitignore_cannot_use_is_refused_and_one_saved_before_loads(  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    refused = {
        "!": "has nothing after its '!'",
        "notes\\": "ends with a '\\' that escapes nothing",
        "[z-a].md": "holds a [...] set that cannot be read (bad character range z-a",
    }
    for pattern, why in refused.items():
        with pytest.raises(InvalidSettings) as caught:
            updated(Settings(), ignore_patterns=["*.log", pattern])
        [problem] = caught.value.problems
        assert problem.field == "ignore_patterns"
        assert problem.rule.startswith(f"'{pattern}' {why}"), problem.rule
        assert str(caught.value).startswith(f"Invalid settings: ignore_patterns: '{pattern}'")
    # Blank lines, comments, "everything" and a '!' that brings something back are patterns.
    for pattern in ("", "# notes", "**", "!keep.md", "\\!x", "name\\ "):
        assert updated(Settings(), ignore_patterns=[pattern]).ignore_patterns == [pattern]

    # One saved before (Save took any) still loads, and never stops another change; given
    # again as the patterns, it is refused.
    (tmp_path / "settings.json").write_text(json.dumps({"ignore_patterns": ["!", "*.log"]}))
    loaded = load_settings(tmp_path)
    assert loaded.ignore_patterns == ["!", "*.log"]
    assert updated(loaded, top_k=3).ignore_patterns == ["!", "*.log"]
    with pytest.raises(InvalidSettings, match="ignore_patterns: '!' has nothing"):
        updated(loaded, ignore_patterns=loaded.ignore_patterns)
    assert updated(loaded, ignore_patterns=["*.log"]).ignore_patterns == ["*.log"]


def test_the_variables_refused_as_folio_s_own_are_those_the_code_reads() -> None:
    desktop = Path(__file__).resolve().parents[2] / "desktop"
    named = {
        found
        for path in desktop.rglob("*.py")
        for found in re.findall(r"\bFOLIO_[A-Z_]+\b", path.read_text(encoding="utf-8"))
    }
    assert named - {"FOLIO_VARIABLES"} == FOLIO_VARIABLES
