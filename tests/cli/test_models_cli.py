"""``folio-cli models``: servers, keys in the keyring, remote answers, downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.models.local_files import embedded_llm_path
from tests.fault_proxy import FaultProxy
from tests.hf_hub_server import running_hub
from tests.llama_server import MODEL_ALIAS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-folio-test-0123456789abcdef"


def _run(home: Path, *args: str, env: dict[str, str], stdin: str | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        cwd=ROOT,
        timeout=600,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {
        **clean,
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backend.FileKeyring",
        "FOLIO_TEST_KEYRING": str(tmp_path / "keyring.json"),
    }


def _files_containing(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_a_server_with_a_key_in_the_keyring(
    tmp_path: Path, env: dict[str, str], llama_server: str
) -> None:
    home = tmp_path / "home"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave.md").write_text("# Leave\n\nUp to 5 days of leave carry over to next year.")
    with FaultProxy(llama_server) as proxy:
        added = _run(home, "models", "add-server", "lab", "--base-url", proxy.base_url, env=env)
        assert added.returncode == 0, added.stderr
        stored = _run(home, "models", "set-key", "lab", "--json", env=env, stdin=SECRET + "\n")
        assert stored.returncode == 0, stored.stderr
        assert json.loads(stored.stdout) == {"provider": "lab", "stored": True}
        assert SECRET in (tmp_path / "keyring.json").read_text()

        listed = _run(home, "models", "list", "--json", env=env)
        models = {m["id"]: m for m in json.loads(listed.stdout)["models"]}
        assert models[f"lab:{MODEL_ALIAS}"]["remote"] is True
        assert models["local:default"]["remote"] is False

        assert _run(home, "ingest", str(docs), env=env).returncode == 0
        question = ["ask", "How many days of leave carry over?", "--model", f"lab:{MODEL_ALIAS}"]
        refused = _run(home, *question, env=env)
        assert refused.returncode == 2
        assert "sends passages of your documents" in refused.stderr
        asked = _run(home, *question, "--allow-remote", "--json", env=env)
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        assert answer["answer"] and Path(answer["sources"][0]["path"]).name == "leave.md"
        assert proxy.faults.authorizations[-1] == f"Bearer {SECRET}"
        # Consent is remembered: the next question needs no flag.
        assert _run(home, *question, "-k", "1", env=env).returncode == 0

    # The key is in the keyring and nowhere in Folio's data folder (settings, log, chats).
    assert _files_containing(home, SECRET) == []
    removed = _run(home, "models", "remove", "lab", env=env)
    assert removed.returncode == 0, removed.stderr
    assert SECRET not in (tmp_path / "keyring.json").read_text()


def test_without_a_keyring_keys_are_refused_not_written(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    env = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = _run(home, "models", "set-key", "openai", env=env, stdin=SECRET + "\n")
    assert result.returncode == 2
    assert "No system keyring" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert _files_containing(home, SECRET) == []


def test_openai_key_from_the_environment(
    tmp_path: Path, env: dict[str, str], llama_server: str
) -> None:
    home = tmp_path / "home"
    env = {**env, "OPENAI_BASE_URL": llama_server, "OPENAI_API_KEY": SECRET}
    listed = _run(home, "models", "list", "--json", env=env)
    data = json.loads(listed.stdout)
    assert f"openai:{MODEL_ALIAS}" in {m["id"] for m in data["models"]}
    assert data["problems"] == {}
    asked = _run(
        home, "ask", "Say hello.", "--model", f"openai:{MODEL_ALIAS}", "--no-retrieval", env=env
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip()


def test_download_a_catalog_model_and_use_it(tmp_path: Path, env: dict[str, str]) -> None:
    from desktop.core.models.downloads import find_entry

    home = tmp_path / "home"
    entry = find_entry("qwen2.5-0.5b")
    gguf = embedded_llm_path()
    assert gguf is not None
    # The stand-in hub serves a real GGUF under the catalog entry's repository and name.
    with running_hub({entry.repo_id: {entry.filename: gguf}}) as hub:
        env = {**env, "HF_ENDPOINT": hub.endpoint}
        done = _run(home, "models", "download", entry.name, "--json", env=env)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
    assert result["id"] == "local:qwen2.5-0.5b"
    assert Path(result["path"]).read_bytes()[:4] == b"GGUF"
    listed = json.loads(_run(home, "models", "list", "--json", env=env).stdout)
    assert {"id": "local:qwen2.5-0.5b", "available": True}.items() <= next(
        m for m in listed["models"] if m["id"] == "local:qwen2.5-0.5b"
    ).items()
    catalog = json.loads(_run(home, "models", "catalog", "--json", env=env).stdout)
    assert next(m for m in catalog["models"] if m["name"] == entry.name)["downloaded"] is True
    asked = _run(
        home, "ask", "Say hello.", "--model", "local:qwen2.5-0.5b", "--no-retrieval", env=env
    )
    assert asked.returncode == 0, asked.stderr


# Key variables refused when a server is added: the name, why, and what kind of name it is.
REFUSED_KEY_VARIABLES = [
    ("KEY=abc", "must be an environment variable's name", "key"),
    ("PATH", "is a variable the system sets for its own use", "PATH"),
    ("LC_ALL", "is a variable the system sets for its own use", "a locale variable"),
    ("LD_PRELOAD", "is a variable the system sets for its own use", "the dynamic loader's"),
    ("FOLIO_HOME", "is one of Folio's own settings", "Folio's own"),
    ("LAB-KEY", "is no name a shell can export", "no shell's name"),
    ("", "must name an environment variable", "empty"),
]


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (["--base-url", "not a url"], "--base-url 'not a url' must start with http://"),
        (["--base-url", "ftp://example.org/v1"], "must start with http:// or https://"),
        (["--base-url", "http://:8080/v1"], "'http://:8080/v1' must name a host"),
        (["--base-url", "http://lab:99999/v1"], "must have a port from 1 to 65535"),
        (["--base-url", "http://lab:port/v1"], "must have a port from 1 to 65535"),
        (["--base-url", "http://lab:8080/v1\n"], "must not hold spaces or line breaks"),
        (["--base-url", "http://[::1/v1"], "'http://[::1/v1' is not a valid address"),
        (["--base-url", "http://[lab]:80/v1"], "is not a valid address"),
        (["--base-url", "http://256.256.256.256/v1"], "(Invalid IPv4 address"),
        (["--base-url", "http://ünï.☃.example/v1"], "(Invalid IDNA hostname"),
        (
            ["--base-url", "http://me:secret@127.0.0.1:9/v1"],
            "must not hold a user name or password",
        ),
        *(
            (
                ["--base-url", "http://lab:8080/v1", "--api-key-env", name],
                f"--api-key-env {name!r} {why}",
            )
            for name, why, _ in REFUSED_KEY_VARIABLES
        ),
    ],
    ids=[
        "words",
        "ftp",
        "no host",
        "port too big",
        "port not a number",
        "a line break",
        "an IPv6 bracket left open",
        "a bracketed name",
        "an IPv4 address out of range",
        "a name IDNA refuses",
        "a password in the address",
        *(kind for _, _, kind in REFUSED_KEY_VARIABLES),
    ],
)
def test_a_server_address_or_key_variable_that_cannot_work_is_refused_by_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], why: str
) -> None:
    from desktop.cli import main  # in process: the refusal comes before any network

    home = str(tmp_path / "home")
    assert main(["--home", home, "models", "add-server", "lab", *options]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and err.count("\n") == 1
    from desktop.core.settings import load_settings  # the file the refusal left alone

    assert load_settings(Path(home)).servers == {}


def test_models_list_says_how_to_add_a_key_with_folio_cli(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    listed = _run(home, "models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"`folio-cli --home {home} models set-key openai`" in listed.stdout
    assert f"`folio-cli --home {home} models add-server`" in listed.stdout
    assert "Settings" not in listed.stdout
    data = json.loads(_run(home, "models", "list", "--json", env=env).stdout)
    assert f"`folio-cli --home {home} models set-key openai`" in data["problems"]["openai"]


def test_a_local_model_is_removed_by_the_id_models_list_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: nothing is loaded
    from desktop.core.settings import Settings, load_settings, save_settings

    home = tmp_path / "home"
    home.mkdir()
    save_settings(home, Settings(local_models={"junk": str(tmp_path / "junk.gguf")}))
    assert main(["--home", str(home), "models", "remove", "local:nothing"]) == 2
    assert "(known: local:junk)" in capsys.readouterr().err  # ids as `models list` shows them
    assert main(["--home", str(home), "models", "remove", "local:default"]) == 2
    assert "embedded model that comes with Folio" in capsys.readouterr().err
    assert main(["--home", str(home), "models", "remove", "local:junk"]) == 0
    assert "Removed local model" in capsys.readouterr().out
    assert load_settings(home).local_models == {}


def test_a_saved_server_whose_address_cannot_work_is_named_and_the_rest_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: no server is reached

    home = tmp_path / "home"
    home.mkdir()
    # Saved before addresses and key variables were checked in full (or edited by hand).
    (home / "settings.json").write_text(
        json.dumps(
            {
                "servers": {
                    "lab": {"base_url": "http://[::1", "api_key_env": "A=B"},
                    "ok": {"base_url": "HTTP://127.0.0.1:9/v1", "api_key_env": ""},
                }
            }
        )
    )
    assert main(["--home", str(home), "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "The address of lab, 'http://[::1', is not valid" in listed["problems"]["lab"]
    assert f"`folio-cli --home {home} models remove lab`" in listed["problems"]["lab"]
    assert "Cannot reach ok" in listed["problems"]["ok"]
    assert main(["--home", str(home), "ask", "hi", "--no-retrieval", "--model", "lab:m"]) == 1
    err = capsys.readouterr().err
    assert "The address of lab" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["--home", str(home), "models", "remove", "lab"]) == 0
    assert main(["--home", str(home), "models", "add-server", "ok", "--base-url",
                 "http://127.0.0.1:9/v1", "--api-key-env", "PATH"]) == 2  # fmt: skip
    capsys.readouterr()
    # A saved key variable whose value is no key is named too, before anything is sent.
    settings = json.loads((home / "settings.json").read_text())
    settings["servers"]["ok"]["api_key_env"] = "HOME"
    (home / "settings.json").write_text(json.dumps(settings))
    assert main(["--home", str(home), "ask", "hi", "--no-retrieval", "--model", "ok:m"]) == 1
    err = capsys.readouterr().err
    assert "The key variable of ok, 'HOME', is a variable the system sets" in err
    assert f"`folio-cli --home {home} models remove ok`" in err and err.count("\n") == 1


def test_adding_a_server_under_a_name_in_use_says_it_replaced_the_one_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: no server is reached

    home = str(tmp_path / "home")
    add = ["--home", home, "models", "add-server", "lab", "--base-url"]
    assert main([*add, "http://127.0.0.1:9/v1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] is False
    assert main([*add, "http://127.0.0.1:10/v1"]) == 0
    said = capsys.readouterr().out
    assert "lab at http://127.0.0.1:10/v1 (it replaces the one at http://127.0.0.1:9/v1)" in said
    assert main([*add, "http://127.0.0.1:11/v1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] is True


def test_a_server_name_differing_only_in_capitals_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: no server is reached

    home = str(tmp_path / "home")
    add = ["--home", home, "models", "add-server"]
    assert main([*add, "lab", "--base-url", "http://127.0.0.1:9/v1"]) == 0
    capsys.readouterr()
    assert main([*add, "Lab", "--base-url", "http://127.0.0.1:10/v1"]) == 2
    assert capsys.readouterr().err == (
        "folio-cli: 'Lab' differs only in capitals from the server 'lab': give 'lab' to "
        "replace that one, or choose another name.\n"
    )
    assert main([*add, "OpenAI", "--base-url", "http://127.0.0.1:10/v1"]) == 2
    assert "'OpenAI' names Folio's own 'openai' models" in capsys.readouterr().err
    from desktop.core.settings import load_settings

    assert set(load_settings(Path(home)).servers) == {"lab"}


def test_set_key_with_nothing_on_its_input_says_where_the_key_is_read_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from desktop.cli import main  # in process: nothing is stored

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `set-key openai </dev/null`
    assert main(["--home", str(tmp_path / "home"), "models", "set-key", "openai"]) == 2
    err = capsys.readouterr().err
    assert "No API key for OpenAI was read: set-key reads it from its standard input" in err
    assert "models set-key openai < key.txt`" in err and err.count("\n") == 1
