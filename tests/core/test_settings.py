"""Settings: validated in one place, with messages that name the field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desktop.core.errors import SettingsError
from desktop.core.models.ids import provider_name_problem
from desktop.core.models.local_files import (
    local_model_name_problem,
    model_file_path,
    suggested_local_name,
)
from desktop.core.settings import (
    FOLIO_VARIABLES,
    InvalidSettings,
    Settings,
    SettingsNotSaved,
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


def test_settings_that_cannot_be_written_name_settings_json_and_keep_what_was_there(
    tmp_path: Path,
) -> None:
    settings_file = tmp_path / "settings.json"
    settings_file.mkdir()
    with pytest.raises(SettingsNotSaved) as raised:
        save_settings(tmp_path, updated(Settings(), top_k=7))
    said = str(raised.value)
    assert said == (
        f"Cannot save the settings: {settings_file} is a folder. Move or rename that folder, "
        "then save again."
    )
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left
    # Where the data folder itself cannot take the file, the settings file is named, not the
    # temporary one written first.
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file where the data folder should be")
    with pytest.raises(SettingsNotSaved) as raised:
        save_settings(not_a_folder, Settings())
    said = str(raised.value)
    assert said.startswith(f"Cannot save the settings to {not_a_folder / 'settings.json'} (")
    assert f"your user can write {not_a_folder}" in said and ".tmp" not in said
    assert isinstance(raised.value, SettingsError)  # what every caller already reports


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "is empty: give the model a name of letters, digits"),
        ("default", "is taken by the embedded model that comes with Folio (local:default)"),
        ("Default", "is taken by the embedded model"),
        ("custom", "is taken by the model file chosen in Settings (local:custom)"),
        ("ft:x", "starts with 'ft:', which marks models fine-tuned in Folio (local:ft:<name>)"),
        ("a b", "cannot name a model: it follows 'local:' in the model id"),
        ("<b>x</b>", "so it takes only letters, digits, '.', '_' and '-'"),
        ("x\u200f", "cannot name a model"),
        ("-x", "starting with a letter or digit"),
    ],
)
def test_a_local_model_name_follows_one_rule_with_its_reason(name: str, why: str) -> None:
    problem = local_model_name_problem(name)
    assert problem is not None and why in problem, problem
    assert "local_models" not in problem


def test_a_local_model_name_that_fits_the_rule_is_accepted_and_one_is_suggested() -> None:
    for name in ("smol", "llama3.2-1b", "Qwen2.5_0.5B", "ft-notes", "customer"):
        assert local_model_name_problem(name) is None, name
    assert suggested_local_name("Llama 3.2 1B (Q4).gguf") == "llama-3.2-1b-q4"
    assert suggested_local_name("default.gguf") == "model"
    assert suggested_local_name("ft:x.gguf") == "ft-x"


def test_a_model_file_typed_relative_is_kept_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert model_file_path("models/../m.gguf") == tmp_path / "m.gguf"
    assert model_file_path("~/m.gguf") == Path.home() / "m.gguf"


def test_an_address_with_an_invisible_character_is_refused() -> None:
    for url in (
        "http://localhost:11434/v1\u202e",
        "http://local\u200bhost:1/v1",
        "http://a:1/\x00",
    ):
        problem = server_url_problem(url)
        assert problem is not None and "invisible control or formatting" in problem, url
