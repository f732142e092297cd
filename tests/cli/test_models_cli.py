"""``folio-cli models``: servers, keys in the keyring, remote answers, downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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
    assert result.returncode == 1  # this computer's lack, not bad input
    assert "No system keyring" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert _files_containing(home, SECRET) == []
    # A server that reads no variable must be added again with one: the command says how.
    added = _run(home, "models", "add-server", "ok1", "--base-url", "http://127.0.0.1:9/v1",
                 env=env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = _run(home, "models", "set-key", "ok1", env=env, stdin=SECRET + "\n")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr == (
        "folio-cli: No system keyring is available here, so Folio cannot store the key for "
        "ok1 safely: add the server again with a variable for its key (`folio-cli --home "
        f"{home} models add-server ok1 --base-url http://127.0.0.1:9/v1 --api-key-env "
        "OK1_API_KEY`) and set OK1_API_KEY to the key.\n"
    )
    assert _files_containing(home, SECRET) == []


def test_forget_key_says_whether_a_key_was_stored(tmp_path: Path, env: dict[str, str]) -> None:
    home = tmp_path / "home"
    add = ["models", "add-server", "ok1", "--base-url", "http://127.0.0.1:9/v1"]
    assert _run(home, *add, env=env).returncode == 0
    nothing = _run(home, "models", "forget-key", "ok1", env=env)
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == "No key for ok1 was stored, so there was nothing to forget.\n"
    stored = _run(home, "models", "set-key", "ok1", env=env, stdin=SECRET + "\n")
    assert stored.returncode == 0, stored.stderr
    forgot = _run(home, "models", "forget-key", "ok1", "--json", env=env)
    assert json.loads(forgot.stdout) == {"provider": "ok1", "stored": False, "forgotten": True}
    again = _run(home, "models", "forget-key", "ok1", "--json", env=env)
    assert json.loads(again.stdout) == {"provider": "ok1", "stored": False, "forgotten": False}


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
    assert capsys.readouterr().out == (
        "Removed the local model local:junk (the file itself is left where it is).\n"
    )
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
    tmp_path: Path, env: dict[str, str]
) -> None:
    # A keyring that works: without one, set-key says so before it reads anything.
    result = _run(tmp_path / "home", "models", "set-key", "openai", env=env, stdin="")
    assert result.returncode == 2  # `set-key openai </dev/null`
    assert "No API key for OpenAI was read: set-key reads it from its standard input" in (
        result.stderr
    )
    assert "models set-key openai < key.txt`" in result.stderr
    assert result.stderr.count("\n") == 1


def _fine_tuned(home: Path, name: str, base: str = "local:default") -> Path:
    """Record a local fine-tuned model ``local:ft:<name>`` made from ``base``, as a finished
    run leaves it; its adapter file is returned."""
    from desktop.core.finetune.records import Job, JobState, JobStore

    home.mkdir(exist_ok=True)
    jobs = JobStore(home / "finetune.db")
    jobs.save(
        Job(f"ftjob-local-{name}", "local", base, JobState.SUCCEEDED, time.time(),
            suffix=name, fine_tuned_model=f"ft:{name}", finished_at=time.time())
    )  # fmt: skip
    jobs.close()
    adapter = home / "finetune" / "local" / f"ftjob-local-{name}" / "adapter.gguf"
    adapter.parent.mkdir(parents=True)
    adapter.write_bytes(b"GGUF adapter")
    return adapter


def test_export_to_a_symlink_loop_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: the refusal comes before anything is written

    home = tmp_path / "home"
    _fine_tuned(home, "x")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for to in (tmp_path / "loop1", tmp_path / "loop1" / "x.gguf"):
        assert main(["--home", str(home), "models", "export", "local:ft:x", "--to", str(to)]) == 2
        err = capsys.readouterr().err
        assert f"--to {to}: cannot write it (a symlink loop" in err
        assert "Traceback" not in err and err.count("\n") == 1


def test_a_server_or_model_still_in_use_is_not_removed_and_the_refusal_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: no model is loaded, no server reached
    from desktop.core.finetune.records import Job, JobState, JobStore
    from desktop.core.library.catalog import EMBEDDING_MODEL_KEY, Library
    from desktop.core.settings import ServerSettings, Settings, load_settings, save_settings

    home = tmp_path / "home"
    _fine_tuned(home, "t3", base="local:mini")
    server = ServerSettings(base_url="http://127.0.0.1:9/v1")
    save_settings(home, Settings(
        servers={"slow": server, "chat": server}, default_model="chat:m1",
        local_models={"mini": str(tmp_path / "mini.gguf")},
    ))  # fmt: skip
    library = Library(home / "library.db")
    library.set_meta(EMBEDDING_MODEL_KEY, "slow:emb")  # as `reembed slow:emb` leaves it
    library.close()
    jobs = JobStore(home / "finetune.db")
    running = Job("ftjob-local-r", "local", "local:mini", JobState.RUNNING, time.time())
    jobs.save(running)

    def refused(name: str) -> str:
        assert main(["--home", str(home), "models", "remove", name]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        return err

    assert refused("slow") == (
        "folio-cli: The server slow is still in use, so it was not removed: the library's "
        "vectors are made with slow:emb (switch the library to another embedding model first, "
        f"e.g. `folio-cli --home {home} reembed local:all-MiniLM-L6-v2`).\n"
    )
    assert refused("chat") == (
        "folio-cli: The server chat is still in use, so it was not removed: chat:m1 is the "
        'default model (set "default_model" in settings.json in the data folder to another '
        "model first).\n"
    )
    assert refused("local:mini") == (
        "folio-cli: local:mini is still in use, so it was not removed: the fine-tuned model "
        f"local:ft:t3 was trained on it (remove it first: `folio-cli --home {home} models "
        "remove local:ft:t3`); the fine-tuning job ftjob-local-r is still running on it (let "
        f"it end, or cancel it first: `folio-cli --home {home} finetune cancel ftjob-local-r`).\n"
    )
    settings = load_settings(home)
    assert set(settings.servers) == {"slow", "chat"} and set(settings.local_models) == {"mini"}

    # Once nothing relies on it, it goes.
    running.status = JobState.CANCELLED
    jobs.save(running)
    jobs.close()
    assert main(["--home", str(home), "models", "remove", "local:ft:t3"]) == 0
    assert main(["--home", str(home), "models", "remove", "local:mini"]) == 0
    capsys.readouterr()
    assert load_settings(home).local_models == {}


def test_remove_says_what_it_removed_by_its_real_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: nothing is loaded

    home = tmp_path / "home"
    adapter = _fine_tuned(home, "dup")
    _fine_tuned(home, "t3")
    remove = ["--home", str(home), "models", "remove"]
    assert main([*remove, "local:ft:DUP", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": "local:ft:dup", "kind": "fine-tuned"}
    assert not adapter.parent.exists()
    assert main([*remove, "local:ft:t3"]) == 0
    assert capsys.readouterr().out == (
        "Removed the fine-tuned model local:ft:t3 (its adapter and training run are deleted).\n"
    )


def test_remove_of_a_name_that_is_none_of_them_says_what_to_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: nothing is loaded

    home = tmp_path / "home"
    _fine_tuned(home, "t3")
    remove = ["--home", str(home), "models", "remove"]
    models_list = f"`folio-cli --home {home} models list` shows them"
    assert main([*remove, ""]) == 2
    assert capsys.readouterr().err == (
        f"folio-cli: NAME is empty: give a server's name or a local model's id; {models_list}.\n"
    )
    assert main([*remove, "nothing"]) == 2
    assert capsys.readouterr().err == (
        "folio-cli: There is no server or local model called 'nothing' (known: local:ft:t3); "
        f"{models_list}.\n"
    )
    assert main([*remove, "openai"]) == 2
    assert capsys.readouterr().err == (
        "folio-cli: OpenAI is built into Folio and cannot be removed; `folio-cli --home "
        f"{home} models forget-key openai` deletes its stored key.\n"
    )


def test_a_server_with_no_model_list_is_told_to_check_its_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.cli import main  # in process: the server is the proxy's stand-in

    home = str(tmp_path / "home")
    # A web server that is not an OpenAI-compatible API: 404 for /models.
    with FaultProxy("http://127.0.0.1:9") as web:
        web.faults.status = 404
        add = ["--home", home, "models", "add-server", "web", "--base-url", web.base_url]
        assert main(add) == 0
        assert main(["--home", home, "models", "list", "--json"]) == 0
    problem = json.loads(capsys.readouterr().out.splitlines()[-1])["problems"]["web"]
    assert problem == (
        f"The server web at {web.base_url} has no model list (HTTP 404): check that its "
        "--base-url ends where its OpenAI-compatible API starts, e.g. "
        f"http://localhost:11434/v1 (add it again with `folio-cli --home {home} models "
        "add-server web --base-url URL`)."
    )
