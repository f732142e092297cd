"""folio-cli eval: files a person names are never replaced unasked, a path that cannot be
imported says why, and a set is found by the name it reads as."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.services import Services

QUESTION = {"question": "What does QZ-881 mean?", "reference": "The badge reader is offline."}


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(QUESTION) + "\n", encoding="utf-8")
    return path


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """stderr of a command refused with exit 2, checked to be one line without a traceback."""
    assert main(list(argv)) == 2, argv
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_eval_export_refuses_a_file_there_already_unless_force(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    assert main(["--home", home, "eval", "import", str(questions), "--name", "hb"]) == 0
    kept = tmp_path / "kept.jsonl"
    kept.write_text("my own notes\n", encoding="utf-8")
    err = refused(capsys, "--home", home, "eval", "export", "hb", "--to", str(kept))
    assert f"--to {kept}: the file exists already; add --force to replace it" in err
    assert kept.read_text(encoding="utf-8") == "my own notes\n"  # untouched

    assert main(["--home", home, "eval", "export", "hb", "--to", str(kept), "--force"]) == 0
    assert json.loads(kept.read_text(encoding="utf-8"))["question"] == QUESTION["question"]
    # Written whole and renamed over the file: no temporary file is left beside it.
    assert sorted(p.name for p in tmp_path.glob("*.jsonl*")) == ["kept.jsonl", "questions.jsonl"]


def test_eval_export_refuses_a_folder_path_and_a_symlink_loop_before_writing(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    assert main(["--home", home, "eval", "import", str(questions), "--name", "hb"]) == 0
    # A path ending in "/" names a folder, there or not: no file is made by its name.
    new_folder = f"{tmp_path}/not-yet/"
    err = refused(capsys, "--home", home, "eval", "export", "hb", "--to", new_folder)
    assert f"--to {new_folder}: a folder; give a file name" in err
    assert not (tmp_path / "not-yet").exists()
    loop = tmp_path / "loop-a"
    loop.symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(loop)
    for flag in ("--to",):
        err = refused(capsys, "--home", home, "eval", "export", "hb", flag, str(loop))
        assert f"{flag} {loop}: cannot write it (a symlink loop" in err


def test_eval_report_refuses_files_there_already_before_any_work_unless_force(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    assert main(["--home", home, "eval", "import", str(questions), "--name", "hb"]) == 0
    page, table = tmp_path / "report.html", tmp_path / "report.csv"
    page.write_text("last month's report", encoding="utf-8")
    table.write_text("last month's scores", encoding="utf-8")
    # Refused before anything is looked up: the set has no run yet, and that is not said.
    for flag, path in (("--html", page), ("--csv", table)):
        err = refused(capsys, "--home", home, "eval", "report", "hb", flag, str(path))
        assert f"{flag} {path}: the file exists already; add --force to replace it" in err
    # One file for both would be written twice, the CSV over the page: refused first.
    both = tmp_path / "both.out"
    line = ["--home", home, "eval", "report", "hb", "--html", str(both), "--csv", str(both)]
    assert "--html and --csv name the same file" in refused(capsys, *line, "--force")
    assert not both.exists()
    assert page.read_text(encoding="utf-8") == "last month's report"
    assert table.read_text(encoding="utf-8") == "last month's scores"

    grid = ["--config", "local:default,retrieval=off"]
    assert main(["--home", home, "eval", "run", "hb", *grid, "--json"]) == 0
    capsys.readouterr()
    line = ["--home", home, "eval", "report", "hb", "--html", str(page), "--csv", str(table)]
    err = refused(capsys, *line)
    assert f"--html {page}: the file exists already" in err
    assert page.read_text(encoding="utf-8") == "last month's report"
    assert main([*line, "--force"]) == 0
    assert "<svg" in page.read_text(encoding="utf-8")
    assert table.read_text(encoding="utf-8").startswith("config,")


def test_eval_import_says_why_a_path_cannot_be_imported(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    (tmp_path / "loop.jsonl").symlink_to(tmp_path / "loop.jsonl")
    folder = tmp_path / "sets"
    folder.mkdir()
    reasons = {
        tmp_path / "missing.jsonl": "no such file or folder (check the spelling)",
        tmp_path / "dangling.jsonl": f"a symlink to {tmp_path / 'gone.jsonl'}, which does not "
        "exist (fix or remove the link)",
        tmp_path / "loop.jsonl": "a symlink loop",
        folder: "is a folder: give a JSONL file in it",
    }
    for path, reason in reasons.items():
        err = refused(capsys, "--home", home, "eval", "import", str(path), "--name", "x")
        assert str(path) in err and reason in err, err
        assert "is not a file" not in err
    services = Services(cli_home)
    try:
        assert services.evals.sets() == []
    finally:
        services.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any file")
def test_eval_import_of_a_file_that_may_not_be_read_says_permission_denied(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path
) -> None:
    questions.chmod(0)
    try:
        err = refused(
            capsys, "--home", str(cli_home), "eval", "import", str(questions), "--name", "x"
        )
        assert f"{questions}: permission denied" in err
    finally:
        questions.chmod(0o600)


def test_a_set_is_found_by_a_name_that_reads_the_same(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path, tmp_path: Path
) -> None:
    home = str(cli_home)
    assert main(["--home", home, "eval", "import", str(questions), "--name", "good"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "eval", "show", "GOOD", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "good" and shown["items"][0]["question"] == QUESTION["question"]
    back = tmp_path / "back.jsonl"
    assert main(["--home", home, "eval", "export", " Good ", "--to", str(back)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "eval", "run", "GOOD", "--config", "local:default,retrieval=off",
                 "--json"]) == 0  # fmt: skip
    ran = json.loads(capsys.readouterr().out)
    assert ran["set"] == "good" and ran["finished"] is True
    assert main(["--home", home, "eval", "runs", "GOOD", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 1
    assert main(["--home", home, "eval", "report", "GOOD", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "good"
    assert main(["--home", home, "eval", "remove", "GOOD", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": "good"}
    err = refused(capsys, "--home", home, "eval", "show", "good")
    assert "No evaluation set is called 'good'" in err


def test_a_comparison_set_is_found_by_a_name_that_reads_the_same(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, questions: Path
) -> None:
    home = str(cli_home)
    services = Services(cli_home)
    try:
        services.comparer.saved.save_set("Quick", ["local:default,retrieval=off"])
    finally:
        services.close()
    assert main(["--home", home, "eval", "import", str(questions), "--name", "hb"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "eval", "run", "hb", "--set", "QUICK", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["configs"] == ["local:default,retrieval=off"]
    err = refused(capsys, "--home", home, "eval", "run", "hb", "--set", "slow")
    assert "there is no comparison set 'slow' (saved sets: 'Quick')" in err


def test_eval_run_reports_a_failed_answer_and_fails_only_when_none_came(  # type: ignore[no-untyped-def]
    capsys, cli_home: Path, tmp_path: Path
) -> None:
    # As ingest's failed files, an answer that fails is reported, not fatal (exit 0); a run
    # with no answer at all is (exit 1). A question no model can take stands for the kind.
    home = str(cli_home)
    long = {"question": "Why is the sky blue? " * 5000, "reference": "Scattering."}
    mixed, only_long = tmp_path / "mixed.jsonl", tmp_path / "long.jsonl"
    mixed.write_text(json.dumps(QUESTION) + "\n" + json.dumps(long) + "\n", encoding="utf-8")
    only_long.write_text(json.dumps(long) + "\n", encoding="utf-8")
    grid = ["--config", "local:default,retrieval=off"]
    for path, name in ((mixed, "mixed"), (only_long, "long")):
        assert main(["--home", home, "eval", "import", str(path), "--name", name]) == 0
    capsys.readouterr()
    assert main(["--home", home, "eval", "run", "mixed", *grid, "--json"]) == 0
    said = capsys.readouterr()
    data = json.loads(said.out)
    assert (data["done"], data["failed"], data["total"]) == (1, 1, 2)
    assert data["first_error"].startswith("The question is too long for this model")
    assert "Run of mixed: 1 configuration." in said.err.replace(f"Run {data['run_id']} ", "Run ")
    assert main(["--home", home, "eval", "run", "long", *grid]) == 1
    out = capsys.readouterr().out
    assert "0 of 1 answers, 1 failed (first: The question is too long for this model" in out
    # The report says why nothing answered, not to run a set that was run.
    assert main(["--home", home, "eval", "report", "long", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["first_error"].startswith("The question is too long for this model")
    assert report["recommendation"].startswith(
        "No configuration has answered: 1 answer failed, the first because: The question is"
    )
