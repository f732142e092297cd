"""folio-cli: every command, its exit code and its JSON shape (README, "folio-cli")."""

from __future__ import annotations

import importlib.abc
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import __version__
from desktop.cli import main
from desktop.cli.library import indexing_text
from desktop.core.library.ingest import IngestReport
from desktop.core.settings import Settings, save_settings
from desktop.services import Services
from tests.consistency import assert_consistent

INGEST_KEYS = {"added", "updated", "removed", "unchanged", "failed", "chunks_embedded", "seconds"}
RESULT_KEYS = {"path", "page", "score", "text"}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "handbook.md").write_text(
        "# Handbook\n\nUnused leave carries over up to 5 days. Error code QZ-881 means the "
        "badge reader is offline."
    )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | str]:  # type: ignore[type-arg]
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, (json.loads(out) if "--json" in argv else out)


def test_ingest_status_search_sync_remove(capsys, cli_home: Path, docs: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    code, data = run(capsys, "--home", home, "ingest", str(docs), "--json")
    assert code == 0 and set(data) >= INGEST_KEYS
    assert (data["added"], data["failed"], data["chunks_embedded"]) == (1, 1, 1)
    assert [f["path"] for f in data["failures"]] == [str(docs / "broken.pdf")]
    assert "damaged" in data["failures"][0]["reason"]  # as the text output and status say

    code, data = run(capsys, "--home", home, "status", "--json")
    assert code == 0
    assert data["files"] == {"indexed": 1, "failed": 1, "skipped": 0}
    assert data["chunks"] == 1 and data["embedding_model"] == "local:all-MiniLM-L6-v2"
    assert data["failures"][0]["path"] == str(docs / "broken.pdf")
    assert "damaged" in data["failures"][0]["reason"]

    code, data = run(capsys, "--home", home, "search", "QZ-881", "-k", "3", "--json")
    assert code == 0 and len(data["results"]) == 1
    hit = data["results"][0]
    assert set(hit) >= RESULT_KEYS and hit["path"] == str(docs / "handbook.md")
    assert hit["page"] is None and isinstance(hit["score"], float)

    code, data = run(capsys, "--home", home, "sync", "--json")
    assert code == 0 and data["unchanged"] == 2 and data["chunks_embedded"] == 0

    code, data = run(capsys, "--home", home, "remove", str(docs), "--json")
    assert code == 0 and data["removed"] == 2
    code, text = run(capsys, "--home", home, "status")
    assert text.startswith("0 files indexed")


def test_ask_with_and_without_retrieval(capsys, cli_home: Path, docs: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    run(capsys, "--home", home, "ingest", str(docs), "--json")
    code, data = run(capsys, "--home", home, "ask", "What does QZ-881 mean?", "--json")
    assert code == 0
    assert set(data) >= {"answer", "sources", "model", "persona", "retrieval", "chat_id"}
    assert data["answer"] and data["model"] == "local:default" and data["persona"] is None
    assert data["retrieval"] is True and set(data["sources"][0]) >= RESULT_KEYS
    assert "QZ-881" in data["support"]["sentence"]  # the sources' sentence that answers
    assert data["support"]["file_name"] == "handbook.md" and data["support"]["page"] is None
    assert data["searched"] is None and isinstance(data["cut_off"], bool)

    code, again = run(
        capsys, "--home", home, "ask", "Tell me a joke.", "--no-retrieval",
        "--persona", "Sarcastic techie", "--chat", data["chat_id"], "--json",
    )  # fmt: skip
    assert code == 0 and again["chat_id"] == data["chat_id"]
    assert (again["retrieval"], again["sources"], again["persona"]) == (
        False,
        [],
        "Sarcastic techie",
    )

    code, text = run(capsys, "--home", home, "ask", "What does QZ-881 mean?")
    assert code == 0 and "Sources:" in text and "[1] handbook.md" in text
    assert "From the sources: “" in text


def test_compare_prints_a_cell_per_configuration(capsys, cli_home: Path, docs: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    run(capsys, "--home", home, "ingest", str(docs), "--json")
    code, data = run(
        capsys, "--home", home, "compare", "What does QZ-881 mean?",
        "--config", "local:default",
        "--config", "local:default,persona=Sarcastic techie,retrieval=off",
        "--save-set", "pair", "--json",
    )  # fmt: skip
    assert code == 0 and data["question"] == "What does QZ-881 mean?"
    on, off = data["cells"]
    for cell in (on, off):
        assert set(cell) >= {"answer", "sources", "model", "persona", "retrieval", "chat_id"}
        assert set(cell) >= {"ttft_ms", "seconds", "tokens_in", "tokens_out", "cost_usd"}
        assert cell["answer"] and cell["seconds"] > 0 and cell["cost_usd"] == 0.0
    assert on["retrieval"] is True and on["sources"][0]["path"].endswith("handbook.md")
    assert (off["retrieval"], off["sources"], off["persona"]) == (False, [], "Sarcastic techie")

    code, text = run(capsys, "--home", home, "compare", "What does QZ-881 mean?", "--set", " pair ")
    assert code == 0 and "## SmolLM2 135M · built in, retrieval" in text
    assert (
        "## SmolLM2 135M · built in + Sarcastic techie, no retrieval" in text
        and "first token" in text
    )
    assert main(["--home", home, "compare", "hi", "--config", "local:default,retrieval=maybe"]) == 2
    assert "'retrieval=maybe' is not persona=NAME or retrieval=on|off" in capsys.readouterr().err
    assert main(["--home", home, "compare", "hi", "--set", "nothing"]) == 2
    assert "no comparison set 'nothing' (saved sets: 'pair')" in capsys.readouterr().err
    assert main(["--home", home, "compare", "hi", "--save-set", " "]) == 2
    assert "--save-set needs a name" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["--home", home, "compare", "hi", "-k", "-1"])
    assert usage.value.code == 2 and "-1 is less than 1" in capsys.readouterr().err
    # A cell that cannot run is refused before anything is asked or saved.
    saved = len(Services(cli_home).comparer.saved.all())
    bad = ["--config", "local:nothing", "--config", "local:default,persona=Nobody"]
    assert main(["--home", home, "compare", "hi", *bad]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "Nothing was asked: configuration 'local:nothing,retrieval=on': Unknown model" in err
    assert "configuration 'local:default,persona=Nobody,retrieval=on': No persona named" in err
    assert f"`folio-cli --home {home} models list`" in err
    assert f"`folio-cli --home {home} personas list`" in err
    assert len(Services(cli_home).comparer.saved.all()) == saved
    # A remote cell with retrieval on needs the person's agreement first, as `ask` does.
    assert main(["--home", home, "compare", "hi", "--config", "openai:gpt-4o-mini"]) == 2
    err = capsys.readouterr().err
    assert "Nothing was asked" in err and "to openai" in err and "--allow-remote" in err
    assert len(Services(cli_home).comparer.saved.all()) == saved


def test_models_and_personas(capsys, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    code, data = run(capsys, "--home", home, "models", "list", "--json")
    assert code == 0
    assert data["models"][0] == {
        "id": "local:default",
        "kind": "base",
        "provider": "llama.cpp",
        "available": True,
        "remote": False,
        "lineage": None,  # only fine-tuned models have one
    }
    code, data = run(capsys, "--home", home, "personas", "list", "--json")
    assert [p["name"] for p in data["personas"]] == ["Sarcastic techie"]
    assert set(data["personas"][0]) >= {"name", "prompt"}
    code, data = run(
        capsys, "--home", home, "personas", "add", "Poet", "--prompt", "Answer in verse.", "--json"
    )
    assert (
        code == 0
        and {"name": "Poet", "prompt": "Answer in verse."}.items()
        <= next(p for p in data["personas"] if p["name"] == "Poet").items()
    )
    code, data = run(capsys, "--home", home, "personas", "remove", "Poet", "--json")
    assert [p["name"] for p in data["personas"]] == ["Sarcastic techie"]


def test_personas_add_takes_example_exchanges_and_names_one_missing_a_side(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path
) -> None:
    home = str(cli_home)
    add = ["--home", home, "personas", "add", "Poet", "--prompt", "Answer in verse."]
    assert main([*add, "--example", "Is it late?", "", "--example", "Hi?", "Hello."]) == 2
    err = capsys.readouterr().err.strip()
    assert "example 1 has no answer" in err and len(err.splitlines()) == 1
    code, data = run(
        capsys, *add, "--example", "Is it late?", "The moon says so.", "--example", "Hi?", "Hey.",
        "--json",
    )  # fmt: skip
    poet = next(p for p in data["personas"] if p["name"] == "Poet")
    assert code == 0 and poet["examples"] == [
        {"question": "Is it late?", "answer": "The moon says so."},
        {"question": "Hi?", "answer": "Hey."},
    ]
    assert main(["--home", home, "personas", "list"]) == 0
    assert "Poet: Answer in verse. (2 example exchanges)" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["Sarcastic techie", "sarcastic techie ", "SARCASTIC TECHIE"])
def test_personas_add_refuses_a_taken_name_with_exit_2_unless_replace(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, name: str
) -> None:
    home = str(cli_home)
    assert main(["--home", home, "personas", "add", name, "--prompt", "dup"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "already a persona named 'Sarcastic techie'" in err and "--replace" in err
    code, data = run(capsys, "--home", home, "personas", "list", "--json")
    assert [p["prompt"] for p in data["personas"]] != ["dup"]
    assert [p["name"] for p in data["personas"]] == ["Sarcastic techie"]

    args = ["--home", home, "personas", "add", name, "--prompt", "dup", "--replace", "--json"]
    code, data = run(capsys, *args)
    assert code == 0 and [p["prompt"] for p in data["personas"]] == ["dup"]


def test_personas_add_refuses_a_prompt_no_model_could_take_with_exit_2(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path
) -> None:
    home = str(cli_home)
    prompt = "Answer like a captain. " * 18_300  # about 105,000 tokens
    assert main(["--home", home, "personas", "add", "Captain", "--prompt", prompt]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "The prompt of persona 'Captain' is 420,899 characters (about 105,224 tokens)" in err
    assert "at most 256,000 characters" in err
    code, data = run(capsys, "--home", home, "personas", "list", "--json")
    assert code == 0 and [p["name"] for p in data["personas"]] == ["Sarcastic techie"]


def test_errors_and_exit_codes(capsys, cli_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    assert main(["--home", home, "ingest", str(tmp_path / "nope")]) == 2
    assert "nope: no such file or folder" in capsys.readouterr().err
    assert main(["--home", home, "personas", "remove", "Nobody"]) == 2
    assert "No persona named 'Nobody'" in capsys.readouterr().err
    assert main(["--home", home, "personas", "remove", "   "]) == 2
    assert "The persona's name is empty. Known personas: Sarcastic techie." in (
        capsys.readouterr().err
    )
    assert main(["--home", home, "ask", "hi", "--model", "local:nothing"]) == 2
    assert "Unknown model 'local:nothing'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["--home", home, "frobnicate"])
    assert usage.value.code == 2

    (cli_home / "settings.json").write_text('{"top_k": -3}')
    assert main(["--home", home, "status"]) == 2
    assert "top_k" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["--home", "FOLIO_HOME"])
def test_a_folder_of_other_files_is_refused_as_the_data_folder_and_left_untouched(  # type: ignore[no-untyped-def]
    capsys, monkeypatch, docs: Path, tmp_path: Path, how: str
) -> None:
    before = sorted(p.name for p in docs.iterdir())
    argv = ["status", "--json"]
    if how == "--home":
        argv = ["--home", str(docs), *argv]
    else:
        monkeypatch.setenv("FOLIO_HOME", str(docs))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{docs} cannot be Folio's data folder: it holds other files and none of Folio's" in err
    assert "new or empty folder" in err
    assert sorted(p.name for p in docs.iterdir()) == before  # no database, no lock

    # A new folder, an empty one, or one holding only hidden files starts a data folder; a
    # data folder in use is accepted whatever else it holds.
    (tmp_path / "empty").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / ".DS_Store").write_bytes(b"\0")
    for fresh in ("new", "empty", "hidden", "empty"):
        monkeypatch.setenv("FOLIO_HOME", str(tmp_path / fresh))
        assert main(["status", "--json"]) == 0, capsys.readouterr().err
        (tmp_path / fresh / "notes.txt").write_text("mine")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["chunks"] == 0


def test_store_open_elsewhere_is_a_clear_error(capsys, cli_home: Path, docs: Path) -> None:  # type: ignore[no-untyped-def]
    holder = Services(cli_home)
    assert holder.store.count() == 0  # another window holds the library open
    try:
        assert main(["--home", str(cli_home), "ingest", str(docs)]) == 1
        assert "open in another Folio" in capsys.readouterr().err
    finally:
        holder.close()


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "desktop.cli", *argv]


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Ctrl+C as it lands while ``name`` is being imported: KeyboardInterrupt from inside
    the import."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == self.name:
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_folio_cli_loads_or_opens_the_library_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from desktop import folio_cli
    from desktop import services as services_module

    # While folio-cli's modules load (the entry point's import of desktop.cli).
    for name in [m for m in sys.modules if m == "desktop.cli" or m.startswith("desktop.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport("desktop.cli"), *sys.meta_path])
    assert folio_cli.main() == 130
    assert capsys.readouterr() == ("", "folio-cli: interrupted\n")
    monkeypatch.undo()

    # While the command line is read and the library opened, before the command runs.
    def interrupted(home: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(services_module, "build_services", interrupted)
    assert main(["--home", str(tmp_path / "h"), "status"]) == 130
    assert capsys.readouterr() == ("", "folio-cli: interrupted\n")


def test_version_in_a_subprocess() -> None:
    out = subprocess.run(_cli("--version"), capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"folio-cli {__version__}"


def test_eval_import_run_report_and_their_json_shapes(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, docs: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    run(capsys, "--home", home, "ingest", str(docs), "--json")
    questions = tmp_path / "handbook set.jsonl"
    questions.write_text(
        json.dumps({"question": "How many days of leave carry over?", "reference": "Up to 5 days.",
                    "source_text": "Unused leave carries over up to 5 days."}) + "\n"
        + json.dumps({"question": "What does QZ-881 mean?",
                      "reference": "The badge reader is offline."}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    code, data = run(
        capsys, "--home", home, "eval", "import", str(questions), "--name", "hb", "--json"
    )
    assert code == 0  # fields may be added (README, "folio-cli"), never renamed or dropped
    assert data.items() >= {"name": "hb", "source": "imported", "folder": None, "model": None,
                            "questions": 2, "with_source": 1}.items()  # fmt: skip
    grid = ["--config", "local:default", "--config", "local:default,retrieval=off"]
    code, data = run(capsys, "--home", home, "eval", "run", "hb", *grid, "--json")
    assert code == 0
    assert {k: data[k] for k in ("set", "done", "total", "failed", "finished")} == {
        "set": "hb", "done": 4, "total": 4, "failed": 0, "finished": True
    }  # fmt: skip
    html, table = tmp_path / "report.html", tmp_path / "report.csv"
    code, data = run(
        capsys, "--home", home, "eval", "report", "hb", "--json", "--html", str(html),
        "--csv", str(table),
    )  # fmt: skip
    assert code == 0 and data["name"] == "hb" and data["recommendation"]
    assert [c["config"] for c in data["configs"]] == [
        "local:default,retrieval=on", "local:default,retrieval=off"
    ]  # fmt: skip
    on, off = (c["scores"] for c in data["configs"])
    for scores in (on, off):
        assert set(scores) >= {"hit_at_k", "mrr", "facts", "style", "ttft_ms", "cost_per_1000_usd"}
        assert scores["cost_per_1000_usd"] == 0.0 and scores["style"] is None
    # One question names its passage, and the one-file library gives it: hit@k 1, MRR 1.
    assert (on["hit_at_k"], on["mrr"], off["hit_at_k"], off["mrr"]) == (1.0, 1.0, 0.0, 0.0)
    assert "SmolLM2 135M · built in, no retrieval" in html.read_text(encoding="utf-8")
    assert table.read_text(encoding="utf-8").count("\n") == 3
    code, text = run(capsys, "--home", home, "eval", "report", "hb")
    assert code == 0 and "hit@" in text and "SmolLM2 135M · built in, retrieval" in text

    code, data = run(capsys, "--home", home, "eval", "sets", "--json")
    assert [s["name"] for s in data["sets"]] == ["hb"]
    code, data = run(capsys, "--home", home, "eval", "runs", "hb", "--json")
    assert len(data["runs"]) == 1 and data["runs"][0]["finished"] is True

    assert main(["--home", home, "eval", "run", "nothing"]) == 2
    assert "No evaluation set is called 'nothing' (there are: hb)" in capsys.readouterr().err
    assert main(["--home", home, "eval", "report", "hb", "--run", "zzz"]) == 2
    assert "'hb' has no run 'zzz'" in capsys.readouterr().err
    assert (
        main(["--home", home, "eval", "build", "--folder", str(tmp_path / "no"), "--name", "x"])
        == 2
    )
    assert f"--folder {tmp_path / 'no'}: no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--home", home, "eval", "build", "--folder", str(empty), "--name", "x"]) == 2
    assert f"No indexed files under {empty}" in capsys.readouterr().err
    # Bad input like the rest (exit 2), refused before a model loads or a dataset is made.
    generate = ["finetune", "generate", "--persona", "Sarcastic techie", "--dataset", "x"]
    assert main(["--home", home, *generate, "--folder", str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"No indexed files under {empty}: " in err
    assert f"`folio-cli --home {home} ingest {empty}`" in err
    code, datasets = run(capsys, "--home", home, "finetune", "datasets", "--json")
    assert code == 0 and datasets == {"datasets": []}
    assert main(["--home", home, "eval", "import", str(docs / "broken.pdf"), "--name", "y"]) == 2
    assert "broken.pdf has 1 bad line, so nothing was imported: line 1: not JSON" in (
        capsys.readouterr().err
    )
    assert main(["--home", home, "eval", "import", str(docs), "--name", "y"]) == 2
    assert f"{docs} is a folder: give a JSONL file in it" in capsys.readouterr().err
    assert (
        main(["--home", home, "eval", "run", "hb", "--config", "local:default,retrieval=maybe"])
        == 2
    )
    assert "'retrieval=maybe' is not persona=NAME" in capsys.readouterr().err


def test_advice_names_a_set_as_the_shell_reads_it(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "Which?", "reference": "That."}\n', encoding="utf-8")
    name = 'it\'s "x" $HOME'
    assert main(["--home", str(cli_home), "eval", "import", str(questions), "--name", name]) == 0
    capsys.readouterr()
    assert main(["--home", str(cli_home), "eval", "report", name]) == 2
    advised = re.search(r"`folio-cli (.+)`", capsys.readouterr().err)
    assert advised is not None
    assert shlex.split(advised[1])[-3:] == ["eval", "run", name]  # as the shell splits it


def test_eval_refuses_odd_input_with_exit_2_and_keeps_what_is_stored(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, docs: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    run(capsys, "--home", home, "ingest", str(docs), "--json")
    odd = tmp_path / "odd.jsonl"
    # U+2028 and U+0085 inside JSON strings are no line breaks.
    odd.write_text(
        json.dumps(
            {"question": "Line\u2028break?", "reference": "Next\x85line."}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["--home", home, "eval", "import", str(odd), "--name", "  odd  "]) == 0
    capsys.readouterr()
    code, shown = run(capsys, "--home", home, "eval", "show", " odd ", "--json")  # trimmed
    assert code == 0 and shown["items"][0]["question"] == "Line\u2028break?"
    # In words, each text is one escaped line; the set's count agrees with its noun.
    assert main(["--home", home, "eval", "show", "odd"]) == 0
    assert capsys.readouterr().out == "1. Line\\u2028break?\n   → Next\\x85line.\n"
    assert main(["--home", home, "eval", "sets"]) == 0
    assert "odd  1 question  (imported)" in capsys.readouterr().out
    back = tmp_path / "back.jsonl"
    assert main(["--home", home, "eval", "export", "odd", "--to", str(back)]) == 0
    assert main(["--home", home, "eval", "import", str(back), "--name", "back"]) == 0
    capsys.readouterr()

    refusals = [
        (["export", "odd", "--to", str(cli_home / "evaluations.db")], "inside Folio's data folder"),
        (["export", "odd", "--to", str(tmp_path)], "a folder; give a file name"),
        (["export", "odd", "--to", str(tmp_path / "no" / "x.jsonl")], "does not exist"),
        (["export", "odd", "--to", ""], "--to needs a file name"),
        (["export", "odd", "--to", str(tmp_path / ("x" * 300))], "cannot write it (File name"),
        (["report", "odd", "--html", str(tmp_path / ("x" * 300))], "cannot write it (File name"),
        (["report", "odd", "--html", str(tmp_path / "no" / "r.html")], "does not exist"),
        (["report", "odd", "--csv", str(tmp_path / "r.csv")], "has not been run yet"),
        (["run", "odd", "--config", "local:default", "--config", "local:default,retrieval=on"],
         "local:default,retrieval=on is listed twice"),
        (["run", "odd", "--config", "nowhere:model"], "Unknown provider 'nowhere'"),
        (["run", "odd", "--config", "openai:gpt-4o-mini"], "--allow-remote"),
        (["run", "odd", "--persona", "Ghost"], "No persona named 'Ghost'"),
        (["run", "odd", "--persona", "Ghost"], f"`folio-cli --home {home} personas list`"),
        (["run", "odd", "--config", "local:nothing"], "configuration 'local:nothing,retrieval=on'"),
        (["run", "odd", "--config", "local:nothing"], f"`folio-cli --home {home} models list`"),
        (["run", "odd", "--judge", "local:nothing"], "--judge: Unknown model 'local:nothing'"),
        (["run", "odd", "--judge", "local:nothing"], f"`folio-cli --home {home} models list`"),
        (["run", "odd", "--style-dataset", "nope"], f"--home {home} finetune datasets` lists"),
        (["report", "odd", "--run", "zzz"], f"--home {home} eval runs odd` lists them"),
        (["report", "odd", "--run", ""], "--run: 'odd' has no run ''"),
        (["export", "odd", "--to", "-"], "--to -: give a file name (./- names a file called"),
        (["report", "odd", "--csv", "-"], "--csv -: give a file name"),
        (["build", "--folder", str(docs), "--name", "bad\u202ename"], "no control or formatting"),
        (["import", "/dev/null", "--name", "dev"], "is not a file"),
    ]  # fmt: skip
    for argv, said in refusals:
        assert main(["--home", home, "eval", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, (argv, err)
    assert Services(cli_home).evals.exists("odd")  # the database was not written over
    assert Services(cli_home).evals.runs("odd") == []  # nothing refused left a run
    assert not (tmp_path / "r.csv").exists()  # a refused report writes no file, not even empty

    typed = tmp_path / "typed.jsonl"
    typed.write_text(json.dumps({"question": "Q?", "reference": "A.", "source_text": ["a"]}) + "\n")
    assert main(["--home", home, "eval", "import", str(typed), "--name", "typed"]) == 2
    assert 'line 1: "source_text" is not text' in capsys.readouterr().err

    short = tmp_path / "short"
    short.mkdir()
    (short / "tiny.md").write_text("Too short to ask about.")
    run(capsys, "--home", home, "ingest", str(short), "--json")
    assert main(["--home", home, "eval", "build", "--folder", str(short), "--name", "tiny"]) == 2
    assert "shorter than 120 characters" in capsys.readouterr().err
    assert not Services(cli_home).evals.exists("tiny")  # no empty set is left behind


def test_an_empty_path_is_refused_not_taken_as_the_current_folder(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(docs)  # what an empty path would otherwise have indexed
    assert main(["--home", str(cli_home), "ingest", str(docs / "leave.md"), ""]) == 2
    assert "An empty path was given" in capsys.readouterr().err
    code, status = run(capsys, "--home", str(cli_home), "status", "--json")
    assert code == 0 and status["folders"] == []  # type: ignore[index]


def test_text_arguments_that_are_not_utf8_are_refused_and_paths_are_not(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    # A Latin-1 terminal sends "café" as b"caf\xe9"; Python hands it over with the byte escaped.
    latin = b"caf\xe9".decode("utf-8", "surrogateescape")
    for command in (["ask", latin], ["search", latin], ["personas", "add", latin, "--prompt", "x"]):
        assert main(["--home", str(cli_home), *command]) == 2
        err = capsys.readouterr().err
        assert "not UTF-8 text" in err and "caf" in err and "Traceback" not in err
    # A file whose name is not UTF-8 is still a file Folio can add.
    folder = tmp_path / latin
    folder.mkdir()
    (folder / "note.md").write_text("The QZ-17 valve is replaced every 41 days.", encoding="utf-8")
    assert main(["--home", str(cli_home), "ingest", str(folder)]) == 0
    capsys.readouterr()


# Each command line names something that is not there, or gives an empty or invalid
# argument; what the one line on stderr must name so a person can put it right.
REFUSED = [
    (["ask", ""], ["QUESTION is empty"]),
    (["ask", "Why is the sky blue? " * 900, "--no-retrieval"], ["too long for this model"]),
    (["ask", "hi", "--chat", "0123abcd"], ["--chat", "No chat with id '0123abcd'"]),
    # A pasted page is not echoed whole: cut where names are (``shown_name``).
    (["ask", "hi", "--chat", "x" * 10_000], ["--chat", f"No chat with id '{'x' * 80}…'"]),
    (["ask", "hi", "--persona", "Nobody"], ["--persona", "'Nobody'", "personas list"]),
    (["ask", "hi", "--model", "local:nothing"], ["--model", "'local:nothing'", "models list"]),
    (["ask", "hi", "--model", "nowhere:gpt"], ["--model", "'nowhere'", "add-server"]),
    (["ask", "hi", "--model", "no-colon"], ["--model", "'no-colon'", "provider:model"]),
    (["search", " "], ["QUERY is empty"]),
    (["reembed", "local:nothing"], ["MODEL_ID", "'local:nothing'", "local:all-MiniLM-L6-v2"]),
    (["reembed", ""], ["MODEL_ID is empty", "provider:model", "local:all-MiniLM-L6-v2"]),
    (["personas", "remove", "Nobody"], ["'Nobody'", "personas list"]),
    (["personas", "add", " ", "--prompt", "x"], ["needs a name"]),
    (["personas", "add", "Poet", "--prompt", ""], ["'Poet' needs a prompt"]),
    (["personas", "add", "Poet", "--prompt", "x", "--temperature", "7"], ["between 0 and 2"]),
    (["remove", ""], ["empty path"]),
    (["models", "download", "nope"], ["'nope'", "models catalog"]),
    (["models", "set-key", "nope"], ["PROVIDER", "'nope'", "add-server"]),
    (["models", "forget-key", "nope"], ["PROVIDER", "'nope'", "add-server"]),
    (["store", "move", "--to", "qdrant"], ["--url"]),
    (["store", "move", "--to", "qdrant", "--url", "localhost:6333"], ["--url", "http://"]),
    (["compare", ""], ["QUESTION is empty"]),
    (["ask", "\u200b\u200b"], ["QUESTION is empty"]),  # zero-width spaces show nothing
    (["search", "\ufeff "], ["QUERY is empty"]),
    (["compare", " ", "--config", "local:default", "--save-set", "s"], ["QUESTION is empty"]),
    (["compare", "hi", "--config", "local:nothing"],
     ["'local:nothing,retrieval=on'", "Unknown model 'local:nothing'", "models list"]),
    (["compare", "hi", "--config", "local:default,persona=Nobody,retrieval=off"],
     ["'local:default,persona=Nobody,retrieval=off'", "'Nobody'", "personas list"]),
    (["compare", "hi", "--config", "nowhere:gpt"], ["'nowhere:gpt,retrieval=on'", "add-server"]),
    (["finetune", "generate", "--folder", "", "--persona", "Sarcastic techie", "--dataset", "d"],
     ["--folder is empty"]),
    (["finetune", "generate", "--folder", ".", "--persona", "Nobody", "--dataset", "d"],
     ["--persona", "'Nobody'", "personas list"]),
    (["finetune", "generate", "--folder", ".", "--persona", "Sarcastic techie", "--dataset", "d",
      "--model", "local:nothing"], ["--model", "'local:nothing'", "models list"]),
    (["finetune", "generate", "--folder", ".", "--persona", "Sarcastic techie", "--dataset",
      "a/b"], ["--dataset", "'/' is not allowed"]),
    (["finetune", "from-chats", " "], ["NAME", "cannot name a dataset (it is empty)"]),
    (["eval", "build", "--folder", "", "--name", "x"], ["--folder is empty"]),
    (["eval", "build", "--folder", ".", "--name", "x", "--model", "local:nothing"],
     ["--model", "'local:nothing'", "models list"]),
    (["eval", "show", "nothing"], ["'nothing'", "`folio-cli --home {home} eval sets` lists them"]),
    (["eval", "export", "nothing", "--to", "x.jsonl"], ["'nothing'", "eval sets"]),
    (["eval", "remove", "nothing"], ["'nothing'", "eval sets"]),
    (["eval", "run", "nothing"], ["'nothing'", "eval sets"]),
    (["eval", "run", "nothing", "--judge", "local:nothing"], ["'nothing'", "eval sets"]),
    (["eval", "runs", "nothing"], ["'nothing'", "eval sets"]),
    (["eval", "report", "nothing"], ["'nothing'", "eval sets"]),
    # An empty FILE would be the current folder ("Cannot read .: Is a directory").
    (["finetune", "validate", ""], ["FILE is empty", "finetune datasets"]),
    (["finetune", "validate", " "], ["FILE is empty"]),
    (["finetune", "import", ""], ["FILE is empty"]),
    (["eval", "import", "", "--name", "x"], ["FILE is empty"]),
    (["finetune", "import", "data.jsonl", "--persona", " "], ["--persona is empty"]),
    (["models", "export", "local:ft:x", "--to", ""], ["--to is empty"]),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "named"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_an_unknown_name_or_an_empty_argument_exits_2_with_one_line_saying_which(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, argv: list[str], named: list[str]
) -> None:
    assert main(["--home", str(cli_home), *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("folio-cli: "), captured.err
    for part in named:  # the commands it advises act on the data folder given
        assert part.replace("{home}", str(cli_home)) in lines[0]
    assert captured.out == ""


def test_a_refused_compare_or_generate_saves_nothing(capsys, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    assert main(["--home", home, "compare", " ", "--save-set", "blank"]) == 2
    generate = ["finetune", "generate", "--folder", ".", "--persona", "Sarcastic techie"]
    assert main(["--home", home, *generate, "--dataset", "made", "--model", "local:nothing"]) == 2
    capsys.readouterr()
    services = Services(cli_home)
    try:
        assert services.comparer.saved.sets() == {} and services.comparer.saved.all() == []
        assert services.datasets.all() == []
    finally:
        services.close()


def test_from_chats_refuses_a_dataset_name_already_taken_with_exit_2(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    services = Services(cli_home)
    try:
        example = {
            "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]
        }
        (tmp_path / "voice.jsonl").write_text(json.dumps(example) + "\n", encoding="utf-8")
        services.datasets.import_file(tmp_path / "voice.jsonl", "voice")
    finally:
        services.close()
    assert main(["--home", str(cli_home), "finetune", "from-chats", "voice"]) == 2
    err = capsys.readouterr().err
    assert 'already a dataset named "voice"' in err
    assert f"`folio-cli --home {cli_home} finetune datasets`" in err


def test_a_refused_ask_makes_no_chat(capsys, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    home = str(cli_home)
    for extra in (["--persona", "Nobody"], ["--model", "local:nothing"], ["--chat", "gone"]):
        assert main(["--home", home, "ask", "hi", "--no-retrieval", *extra]) == 2
    capsys.readouterr()
    services = Services(cli_home)
    try:
        assert services.chats.all() == []
    finally:
        services.close()


COUNTS_BELOW_1 = [
    ["search", "QZ", "-k", "0"],
    ["reembed", "x:y", "--batch", "0"],
    ["store", "move", "--to", "edge", "--batch", "-1"],
    ["finetune", "generate", "--folder", ".", "--persona", "P", "--dataset", "d", "--max-chunks",
     "0"],
]  # fmt: skip


# Past the store's and SQLite's 64-bit integers: each used to end in a traceback.
COUNTS_TOO_LARGE = [
    ["search", "QZ", "-k", "99999999999999999999"],
    ["ask", "QZ?", "-k", "9223372036854775807"],
    ["compare", "QZ?", "--config", "local:default", "-k", "99999999999999999999"],
    ["eval", "run", "set", "--config", "local:default", "-k", "99999999999999999999"],
]


@pytest.mark.parametrize("option", COUNTS_BELOW_1 + COUNTS_TOO_LARGE)
def test_a_count_out_of_range_is_refused_by_the_parser_with_exit_2(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, option: list[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["--home", str(cli_home), *option])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert (
        "less than 1" if option in COUNTS_BELOW_1 else "is more than 1,000,000; give fewer"
    ) in err


def test_a_path_that_cannot_be_looked_at_is_refused_with_the_systems_reason(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, docs: Path, tmp_path: Path
) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "ping").symlink_to(tmp_path / "pong")
    (tmp_path / "pong").symlink_to(tmp_path / "ping")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    reasons = {
        tmp_path / "loop": "a symlink loop",
        tmp_path / "ping" / "inside": "a symlink loop",  # a loop on the way to the path
        tmp_path / "dangling": f"a symlink to {tmp_path / 'gone'}, which does not exist",
        tmp_path / "missing": "no such file or folder",
        docs / "handbook.md" / "page": "a part of the path is a file, not a folder",
        tmp_path / ("x" * 300): "the name is too long",
    }
    for path, reason in reasons.items():
        assert main(["--home", str(cli_home), "ingest", str(docs), str(path)]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1
        assert f"Cannot add {path}: {reason}" in err, err
        assert f"{docs}: " not in err  # only the paths that cannot be added are named
    assert (
        main(["--home", str(cli_home), "ingest", str(tmp_path / "loop"), str(tmp_path / "missing")])
        == 2
    )
    err = capsys.readouterr().err
    assert "loop: a symlink loop" in err and "missing: no such file or folder" in err
    code, status = run(capsys, "--home", str(cli_home), "status", "--json")
    assert code == 0 and status["folders"] == []  # type: ignore[index]


FOLDER_OPTIONS = [
    ["finetune", "generate", "--persona", "Sarcastic techie", "--dataset", "made", "--folder"],
    ["eval", "build", "--name", "made", "--folder"],
]


@pytest.mark.parametrize("command", FOLDER_OPTIONS, ids=lambda c: " ".join(c[:2]))
def test_a_folder_option_that_cannot_be_looked_at_is_refused_with_the_systems_reason(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, docs: Path, tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    reasons = {
        tmp_path / "loop": "a symlink loop",
        tmp_path / "missing": "no such file or folder",
        docs / "handbook.md": "a file, not a folder",
    }
    for path, reason in reasons.items():
        assert main(["--home", str(cli_home), *command, str(path)]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and f"--folder {path}: {reason}" in err, err
    services = Services(cli_home)
    try:
        assert services.datasets.all() == [] and not services.evals.exists("made")
    finally:
        services.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any folder")
def test_a_folder_the_user_may_not_read_is_refused_as_permission_denied(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert main(["--home", str(cli_home), "ingest", str(locked)]) == 2
        assert f"{locked}: permission denied" in capsys.readouterr().err
        assert main(["--home", str(cli_home), "ingest", str(locked / "inner")]) == 2
        assert f"{locked / 'inner'}: permission denied" in capsys.readouterr().err
        for command in FOLDER_OPTIONS:
            assert main(["--home", str(cli_home), *command, str(locked)]) == 2
            assert f"--folder {locked}: permission denied" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_odd_file_names_stay_one_line_in_human_output_and_exact_in_json(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    folder = tmp_path / "odd"
    folder.mkdir()
    newline, escape, bidi = "leave\nnotes.md", "bad\x1b[31mred.pdf", "report\u202efdp.md"
    (folder / newline).write_text("Error code QZ-881 means the badge reader is offline.")
    (folder / escape).write_bytes(b"%PDF-1.4 truncated")
    (folder / bidi).write_text("The QZ-17 valve is replaced every 41 days.")
    shown = {
        newline: "leave\\nnotes.md",
        escape: "bad\\x1b[31mred.pdf",
        bidi: "report\\u202efdp.md",
    }

    def assert_shown_escaped(text: str, names: list[str]) -> None:
        for name in names:
            assert name not in text and shown[name] in text, text

    assert main(["--home", home, "ingest", str(folder)]) == 0
    err = capsys.readouterr().err
    assert_shown_escaped(err, [escape])  # its failure line, and the progress lines
    assert all(not line.startswith("notes.md") for line in err.splitlines())

    code, text = run(capsys, "--home", home, "status")
    assert code == 0 and len(text.splitlines()) == 2  # the summary, one failure  # type: ignore[union-attr]
    assert_shown_escaped(text, [escape])  # type: ignore[arg-type]

    code, text = run(capsys, "--home", home, "search", "QZ-881 badge reader", "-k", "2")
    assert code == 0 and len(text.splitlines()) == 4  # a label and a snippet a result  # type: ignore[union-attr]
    assert_shown_escaped(text, [newline, bidi])  # type: ignore[arg-type]

    code, text = run(capsys, "--home", home, "ask", "What does QZ-881 mean?", "-k", "2")
    sources = text.split("\nSources:\n")[1]  # type: ignore[union-attr]
    assert code == 0 and len(sources.splitlines()) == 2
    assert_shown_escaped(sources, [newline, bidi])

    code, data = run(capsys, "--home", home, "status", "--json")
    assert data["failures"][0]["path"] == str(folder / escape)  # type: ignore[index]
    code, data = run(capsys, "--home", home, "search", "QZ-881 badge reader", "--json")
    assert {r["path"] for r in data["results"]} <= {str(folder / newline), str(folder / bidi)}  # type: ignore[index]
    assert str(folder / newline) in {r["path"] for r in data["results"]}  # type: ignore[index]

    # A refusal naming such a path is one line too.
    assert main(["--home", home, "remove", str(folder / "gone\nfile.md")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "gone\\nfile.md" in err


def _closed_pipe_run(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run folio-cli with its stdout a pipe whose reader has already gone away."""
    reader, writer = os.pipe()
    os.close(reader)  # gone before anything is written: every write fails
    try:
        return subprocess.run(
            _cli(*argv), stdout=writer, stderr=subprocess.PIPE, text=True, timeout=300
        )
    finally:
        os.close(writer)


def test_a_reader_that_goes_away_ends_the_command_with_1_and_no_traceback(
    cli_home: Path,
) -> None:
    # As `folio-cli status | true` or `folio-cli search X | head -1`.
    for argv in (["status"], ["status", "--json"], ["personas", "list"]):
        done = _closed_pipe_run("--home", str(cli_home), *argv)
        assert (done.returncode, done.stderr) == (1, ""), argv


def test_an_empty_home_is_refused_and_an_empty_folio_home_means_the_default(  # type: ignore[no-untyped-def]
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(default))  # the platform's default, here
    monkeypatch.setenv("FOLIO_HOME", "")
    for home in ("", " "):
        assert main(["--home", home, "status"]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("folio-cli: --home is empty") and captured.out == ""
    assert not default.exists()  # the user's own library was not opened
    # An empty variable counts as unset, as it does for any other program: no word of it.
    code, data = run(capsys, "status", "--json")
    assert code == 0 and data["files"]["indexed"] == 0  # type: ignore[index]
    assert capsys.readouterr().err == ""
    assert (default / "Folio").is_dir()


def _files_done(progress: str) -> int:
    done = progress.split("/", 1)[0]
    return int(done) if done.isdigit() else 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"]
)  # SIGTERM as `timeout` or `kill` sends it
def test_a_stopped_ingest_exits_130_after_the_current_file_and_keeps_what_finished(
    cli_home: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):
        (folder / f"n{i}.md").write_text(f"Note {i} about subject {i}. " * 30)
    child = subprocess.Popen(
        _cli("--home", str(cli_home), "ingest", str(folder), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stderr is not None
    # Progress lines read "N/200 files, ...": wait for one with a file done.
    while _files_done(line := child.stderr.readline()) < 1:
        assert line, "the ingest ended before reporting a finished file"
    child.send_signal(stop)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    report = json.loads(out)
    assert report["cancelled"] is True and 0 < report["added"] < 200
    code = subprocess.run(
        _cli("--home", str(cli_home), "status", "--json"), capture_output=True, text=True
    )
    assert code.returncode == 0, code.stderr
    status = json.loads(code.stdout)
    assert status["files"]["indexed"] == report["added"]
    assert status["interrupted"] == [str(folder)]  # the files never reached are not forgotten
    in_words = subprocess.run(
        _cli("--home", str(cli_home), "status"), capture_output=True, text=True
    ).stdout
    assert f"  interrupted: {folder}: indexing stopped before the end" in in_words
    assert "a sync indexes the rest (`folio-cli --home" in in_words
    services = Services(cli_home)
    try:
        assert_consistent(services)
    finally:
        services.close()
    # In words, a stopped ingest says a sync indexes the rest; and it does.
    stopped = IngestReport(added=report["added"], cancelled=True)
    assert indexing_text(stopped).endswith(". Stopped before the end: `folio-cli sync` indexes "
                                           "the rest")  # fmt: skip
    synced = subprocess.run(
        _cli("--home", str(cli_home), "sync", "--json"), capture_output=True, text=True
    )
    assert json.loads(synced.stdout)["added"] == 200 - report["added"]
    code = subprocess.run(
        _cli("--home", str(cli_home), "status", "--json"), capture_output=True, text=True
    )
    assert json.loads(code.stdout)["interrupted"] == []


@pytest.mark.slow
def test_an_answer_stopped_by_ctrl_c_is_marked_incomplete_in_text_mode(home: Path) -> None:
    # Long answers, so there is time to stop one after its first words.
    save_settings(home, Settings(max_answer_tokens=1024, threads=2))
    child = subprocess.Popen(
        _cli("--home", str(home), "ask", "Write a very long story about a lighthouse keeper.",
             "--no-retrieval"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.read(1)  # the answer has started
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "(interrupted: the answer is incomplete)" in err.splitlines()
    assert "interrupted" not in out  # stdout holds the answer only


def test_remove_of_a_folder_not_in_the_library_takes_the_folders_under_it_only_when_asked(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    top = tmp_path / "top"
    first, second = top / "first", top / "second"
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder / "note.md").write_text(f"The {folder.name} note: valve QZ-17 lasts 41 days.")
        assert main(["--home", home, "ingest", str(folder)]) == 0
    capsys.readouterr()

    assert main(["--home", home, "remove", str(top)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "not itself in the library" in err
    assert str(first) in err and str(second) in err and "--all-under" in err
    code, status = run(capsys, "--home", home, "status", "--json")
    assert status["files"]["indexed"] == 2  # type: ignore[index]

    code, data = run(capsys, "--home", home, "remove", str(top), "--all-under", "--json")
    assert (code, data) == (0, {"removed": 2, "all_under": [str(first), str(second)]})
    code, status = run(capsys, "--home", home, "status", "--json")
    assert status["folders"] == [] and status["files"]["indexed"] == 0  # type: ignore[index]

    # Human output names each folder taken out; a library folder itself needs no flag.
    for folder in (first, second):
        assert main(["--home", home, "ingest", str(folder)]) == 0
    capsys.readouterr()
    code, text = run(capsys, "--home", home, "remove", str(top), "--all-under")
    assert code == 0 and text.splitlines() == [  # type: ignore[union-attr]
        f"Removed the library folder {first}",
        f"Removed the library folder {second}",
        "2 files removed from the library",
    ]
    assert main(["--home", home, "ingest", str(first)]) == 0
    capsys.readouterr()
    code, data = run(capsys, "--home", home, "remove", str(first), "--json")
    assert (code, data) == (0, {"removed": 1, "all_under": []})


def _usage_error(capsys: pytest.CaptureFixture[str], line: list[str]) -> str:
    """What folio-cli prints on stderr for ``line``, which argparse refuses (exit 2)."""
    with pytest.raises(SystemExit) as usage:
        main(line)
    assert usage.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "suggested"),
    [
        (["ingest", "-notes.txt"], ["ingest", "--", "-notes.txt"]),
        (["ingest", "a.md", "-notes.txt"], ["ingest", "--", "a.md", "-notes.txt"]),
        (["ingest", "-notes.txt", "--json"], ["ingest", "--json", "--", "-notes.txt"]),
        (["search", "-k", "2", "-notes"], ["search", "-k", "2", "--", "-notes"]),
        (["search", "-notes", "-k", "2"], ["search", "-k", "2", "--", "-notes"]),
        (["search", "-k2", "-notes"], ["search", "-k2", "--", "-notes"]),
        (["search", "--json", "-notes"], ["search", "--json", "--", "-notes"]),
        (
            ["models", "add-server", "-lab", "--base-url", "http://127.0.0.1:9/v1"],
            ["models", "add-server", "--base-url", "http://127.0.0.1:9/v1", "--", "-lab"],
        ),
        (["ask", "--persona", "-x", "why?"], ["ask", "--persona=-x", "why?"]),
        (
            ["personas", "add", "P", "--prompt", "x", "--example", "-q", "-a"],
            ["personas", "add", "P", "--prompt", "x", "--example", " -q", " -a"],
        ),
        (
            ["personas", "add", "P", "--prompt", "x", "--example", "-q", "-a",
             "--example", "-r", "-b"],
            ["personas", "add", "P", "--prompt", "x", "--example", " -q", " -a",
             "--example", " -r", " -b"],
        ),
        (
            ["ask", "--persona", "-x", "--chat", "-y", "why?"],
            ["ask", "--persona=-x", "--chat=-y", "why?"],
        ),
        (["status", "-x"], None),  # status takes no name: a misspelt option, no line to give
        (["-x", "status"], None),  # before the command: folio-cli's own options
    ],
    ids=[
        "a file",
        "a file after another",
        "a file before an option",
        "a query after an option",
        "a query before an option with a value",
        "a query after a short option with its value written on",
        "a query after a flag",
        "a server's name",
        "an option's value",
        "values of an option that takes two",
        "values of two such options",
        "values of two options",
        "a command without names",
        "before the command",
    ],
)  # fmt: skip
def test_a_word_starting_with_a_dash_is_named_with_the_line_that_gives_it(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line, suggested
) -> None:
    (tmp_path / "-notes.txt").write_text("Notes that start with a dash.")
    (tmp_path / "a.md").write_text("# A\n\nAnother file.")
    monkeypatch.chdir(tmp_path)
    head = ["--home", str(cli_home)]
    err = _usage_error(capsys, [*head, *line])
    if suggested is None:
        assert "so it was read as an option" not in err
        return
    word = next(w for w in line if w in {"-notes.txt", "-notes", "-lab", "-x", "-q"})
    assert f"{word!r} starts with '-', so it was read as an option" in err
    assert f"write folio-cli {shlex.join([*head, *suggested])}" in err
    assert ("(or, for a file, ./" in err) == (line[0] == "ingest")
    if line[0] == "ask":
        return  # (it would load a model)
    # The line suggested is read as meant: what is said of it then is the command's own.
    code = main([*head, *suggested])
    if line[0] == "models":
        assert code == 2 and "'-lab' cannot name a server" in capsys.readouterr().err
    else:
        assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (["status", "--jsn"], "(did you mean --json? its options: --json)"),
        (["search", "--jsno", "bees"], "(did you mean --json? its options: --json, -k)"),
        (["ingest", "--notes.txt"], "(its options: --json)"),
    ],
    ids=["a command without names", "a close match", "no close match"],
)
def test_an_unknown_long_option_is_named_with_the_commands_options_first(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line, said
) -> None:
    (tmp_path / "--notes.txt").write_text("Notes whose name starts with two dashes.")
    monkeypatch.chdir(tmp_path)
    head = ["--home", str(cli_home)]
    err = _usage_error(capsys, [*head, *line])
    word = line[1]
    assert f"{word!r} is not an option of folio-cli {line[0]} {said}" in err
    assert err.startswith(f"usage: folio-cli {line[0]} [-h]")  # the command's, not folio-cli's
    if line[0] == "status":
        assert "is a name" not in err  # status takes none: no line to give it as one
        return
    suggested = [*head, line[0], "--", " ".join(line[1:])]  # search's words: one QUERY
    assert f"If {word!r} is a name, write folio-cli {shlex.join(suggested)}" in err
    assert main(suggested) == 0, capsys.readouterr().err  # and that line takes it as a name


@pytest.mark.parametrize(
    ("line", "said", "runs"),
    [
        (["search", "-k", "3", "bees", "--jsn"], "'--jsn' is not an option of folio-cli "
         "search (did you mean --json?", None),
        (["search", "-k", "2", "why", "-v"], "'-v' starts with '-', so it was read as an "
         "option; to give it, write folio-cli --home {home} search -k 2 -- 'why -v'", None),
        (["status", "--home", "{other}"], "--home is an option of folio-cli itself: give it "
         "before the command, folio-cli --home {other} status", ["--home", "{other}", "status"]),
        (["--json", "status"], "--json is an option of folio-cli status: give it after the "
         "command's name, folio-cli --home {home} status --json", ["status", "--json"]),
        (["serach", "bees"], "invalid choice: 'serach' (choose from", None),
        (["status", "--home"], "--home is an option of folio-cli itself: give it before the "
         "command, folio-cli --home DIR status", None),
        (["status", "--home", "{other}-first", "--home", "{other}"], "--home is an option of "
         "folio-cli itself: give it before the command, folio-cli --home {other} status",
         ["--home", "{other}", "status"]),
        (["-k", "3", "search", "bees"], "-k is an option of folio-cli search: give it after the "
         "command's name, folio-cli --home {home} search -k 3 bees", ["search", "-k", "3", "bees"]),
        (["models", "--json", "list"], "--json is an option of folio-cli models list: give it "
         "after the command's name, folio-cli --home {home} models list --json",
         ["models", "list", "--json"]),
        (["models", "--home", "{other}", "add-server", "lab", "--base-url", "http://127.0.0.1:9/v1"],
         "--home is an option of folio-cli itself: give it before the command, folio-cli --home "
         "{other} models add-server lab --base-url http://127.0.0.1:9/v1",
         ["--home", "{other}", "models", "add-server", "lab", "--base-url", "http://127.0.0.1:9/v1"]),
        (["models", "add-sever", "lab"], "argument ACTION: invalid choice: 'add-sever'", None),
        (["finetune", "strat"], "argument ACTION: invalid choice: 'strat'", None),
        (["finetune", "--json", "strat"], "argument ACTION: invalid choice: 'strat'", None),
        (["--json", "models", "lst"], "argument ACTION: invalid choice: 'lst'", None),
    ],
    ids=["a misspelt option after one given", "a dashed word after an option's value",
         "folio-cli's option after the command", "the command's option before it",
         "a misspelt command", "folio-cli's option after the command, without its value",
         "folio-cli's option twice after the command", "the command's option with its value "
         "before it", "the action's option before the action", "folio-cli's option before the "
         "action", "a misspelt action", "another misspelt action", "a misspelt action after an "
         "option", "a misspelt action after a misplaced option"],
)  # fmt: skip
def test_an_option_in_the_wrong_place_or_misspelt_is_named_with_the_line_that_works(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path, line, said, runs
) -> None:
    other = str(tmp_path / "other")
    line = [w.format(other=other) for w in line]
    err = _usage_error(capsys, ["--home", str(cli_home), *line])
    assert said.format(home=cli_home, other=other) in err, err
    close = {"serach": "search", "add-sever": "add-server", "strat": "start", "lst": "list"}
    for word in close.keys() & set(line):  # a misspelt name: its close match ends the message
        assert err.rstrip().endswith(f"Did you mean {close[word]}?")
    if runs is not None:  # the line shown does what was meant
        head = [] if "--home" in runs else ["--home", str(cli_home)]
        assert main([*head, *(w.format(other=other) for w in runs)]) == 0
    assert (
        _usage_error(capsys, ["--hmoe", other, "status"])
        .rstrip()
        .endswith(
            "'--hmoe' is not an option of folio-cli (did you mean --home? its options: --version, "
            "--home)"
        )
    )


@pytest.mark.parametrize(
    ("line", "usage"),
    [
        (["models", "--json", "list"], "usage: folio-cli models list [-h] [--json]\n"),
        (["--json", "status"], "usage: folio-cli status [-h] [--json]\n"),
        (["status", "--jsn"], "usage: folio-cli status [-h] [--json]\n"),
        (["finetune", "--json", "strat"], "usage: folio-cli finetune [-h] ACTION ...\n"),
        (["search", "waggle", "dance"], "usage: folio-cli search [-h]"),
    ],
    ids=["the action's option before it", "the command's option before it", "a misspelt "
         "option", "a misspelt action after an option", "words left over"],
)  # fmt: skip
def test_a_refused_line_shows_the_usage_of_the_command_the_hint_is_about(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, line: list[str], usage: str
) -> None:
    assert _usage_error(capsys, ["--home", str(cli_home), *line]).startswith(usage)


def test_a_data_folder_file_that_cannot_be_opened_is_one_line_not_a_traceback(  # type: ignore[no-untyped-def]
    capsys, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "status"]) == 0
    capsys.readouterr()
    (home / "library.db-wal").mkdir()  # a file SQLite needs and cannot open, even for root
    assert main(["--home", str(home), "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("folio-cli: a file of the data folder cannot be used (")
    assert f"can read and write {home} and everything in it" in err and err.count("\n") == 1


def test_a_log_that_cannot_be_written_is_said_and_the_command_goes_on(tmp_path: Path) -> None:
    # In a new process: this one's logging is set up by the test run, which Folio leaves be.
    home = tmp_path / "home"
    (home / "folio.log").mkdir(parents=True)  # a folder by the log's name
    command = [sys.executable, "-m", "desktop.cli", "--home", str(home), "status", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout)["files"]["indexed"] == 0
    assert done.stderr.strip() == (
        f"folio: the log {home / 'folio.log'} cannot be written (Is a directory): going on "
        "without it. Make it a file your user can write to keep Folio's log."
    )


@pytest.mark.parametrize(
    ("options", "words"),
    [([], ["waggle", "dance"]), (["-k", "2"], ["waggle", "bee", "dance"])],
    ids=["alone", "after an option"],
)
def test_words_of_one_query_given_unquoted_are_shown_quoted(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, options: list[str], words: list[str]
) -> None:
    head = ["--home", str(cli_home), "search", *options]
    err = _usage_error(capsys, [*head, *words])
    suggested = [*head, " ".join(words)]
    assert f"as one QUERY, quote them: folio-cli {shlex.join(suggested)}" in err
    assert main(suggested) == 0  # and the line shown does what was meant


def test_the_commands_a_message_advises_act_on_the_data_folder_given(  # type: ignore[no-untyped-def]
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "my library"  # a space: the advised command quotes it
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bees.md").write_text("# Bees\n\nBees dance to say where the flowers are.")
    assert main(["--home", str(home), "ingest", str(docs)]) == 0
    shutil.rmtree(home / "store")  # the store lost: every surface advises a sync
    capsys.readouterr()
    advised = f"`folio-cli --home '{home}' sync`"
    assert main(["--home", str(home), "search", "bees"]) == 1  # an error's advice
    assert advised in capsys.readouterr().err
    assert main(["--home", str(home), "status", "--json"]) == 0  # JSON's
    assert advised in json.loads(capsys.readouterr().out)["store_problem"]
    assert main(["--home", str(home), "status"]) == 0  # and text's
    assert advised in capsys.readouterr().out
    # Run as printed, it mends this library, not the default one.
    assert main(shlex.split(advised.strip("`"))[1:]) == 0
    assert "1 indexed again" in capsys.readouterr().out
    # A document or a prompt quoting a command of its own is shown as it is written.
    quoted = "To refresh, run `folio-cli sync` in a terminal."
    (docs / "howto.md").write_text(f"# How to\n\n{quoted}")
    assert main(["--home", str(home), "ingest", str(docs)]) == 0
    assert main(["--home", str(home), "personas", "add", "Helper", "--prompt", quoted]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "search", "refresh in a terminal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["text"].endswith(quoted)
    assert main(["--home", str(home), "search", "refresh in a terminal"]) == 0
    assert quoted in capsys.readouterr().out
    assert main(["--home", str(home), "personas", "list", "--json"]) == 0
    prompts = [p["prompt"] for p in json.loads(capsys.readouterr().out)["personas"]]
    assert quoted in prompts
    # A data folder named by FOLIO_HOME needs nothing: the advised command runs there too.
    shutil.rmtree(home / "store")
    monkeypatch.setenv("FOLIO_HOME", str(home))
    assert main(["status", "--json"]) == 0
    assert "run `folio-cli sync`" in json.loads(capsys.readouterr().out)["store_problem"]


def test_advice_names_the_data_folder_in_full_when_given_relative(  # type: ignore[no-untyped-def]
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the advice may be run from anywhere else
    assert main(["--home", "my library", "eval", "show", "nothing"]) == 2
    advised = f"`folio-cli --home '{tmp_path / 'my library'}' eval sets`"
    assert advised in capsys.readouterr().err


def test_the_commands_advice_names_are_folio_clis_commands() -> None:
    from desktop.cli import build_parser
    from desktop.cli.common import COMMANDS
    from desktop.cli.parser import _subcommands

    group = _subcommands(build_parser())
    assert group is not None and tuple(group.choices) == COMMANDS


def test_a_progress_line_on_a_terminal_is_cut_to_its_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.cli.common import ProgressLine

    monkeypatch.setenv("COLUMNS", "40")  # what shutil.get_terminal_size reads first
    line = ProgressLine()
    line.tty = True  # as on a terminal: redrawn in place
    line.show("3/300 files, 12 chunks  " + "a very long file name " * 10)
    drawn = capsys.readouterr().err
    # One row less one column: a line that wrapped would leave its upper rows behind.
    assert drawn == "\r\x1b[K" + ("3/300 files, 12 chunks  " + "a very long file name " * 2)[:39]


def test_an_empty_library_is_said_in_folio_clis_words_by_ask_json_and_eval_run(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    code, answer = run(capsys, "--home", home, "ask", "How many days?", "--json")
    assert code == 0 and answer["sources"] == []
    assert answer["notice"].startswith("Your library is empty, so nothing was searched")
    assert f"`folio-cli --home {home} ingest FOLDER`" in answer["notice"]
    assert "Library" not in answer["notice"]
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "How many days?", "reference": "Five."}\n')
    assert main(["--home", home, "eval", "import", str(questions), "--name", "q"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "eval", "run", "q", "--config", "local:default"]) == 0
    err = capsys.readouterr().err
    assert "warning: the library is empty, so cells with retrieval on search nothing" in err
    assert f"`folio-cli --home {home} ingest FOLDER` first" in err
