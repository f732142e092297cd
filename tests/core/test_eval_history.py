"""An evaluation set's runs over time, scored from what each run stored, and how each
configuration's scores moved from one run to the next (the CLI's ``eval runs`` and the
Evaluate window's "Over time" tab read it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.history import change, configurations, run_history
from desktop.core.evaluate.sets import EvalItem, EvalStore, ResultRecord, SetSource
from desktop.core.settings import load_settings

BASE = "local:default,retrieval=on"
TUNED = "local:ft:snark,retrieval=on"
OFF = "local:default,retrieval=off"


def write_runs(evals: EvalStore) -> None:
    """Two runs of a two-question set: the second adds a fine-tuned model, which does
    better, while the base configuration's facts drop a little; a third, unfinished."""
    items = [
        EvalItem("How many days carry over?", "5 days", "/d/leave.md", "Up to 5 days."),
        EvalItem("Who approves?", "the bluefin committee", "/d/leave.md", "The committee."),
    ]
    evals.create("leave", SetSource.IMPORTED, items)

    def record(run_id: str, config: str, facts: list[float], ranks: list[int | None]) -> None:
        for item, fact, rank in zip(items, facts, ranks, strict=True):
            evals.record(
                run_id,
                ResultRecord(item.id, config, item.question, "…", [], rank=rank, facts=fact,
                             ttft_ms=100.0),
            )  # fmt: skip

    first = evals.start_run("leave", [BASE, OFF])
    record(first.id, BASE, [1.0, 0.5], [1, 2])
    record(first.id, OFF, [0.0, 0.0], [None, None])
    evals.finish(first.id)
    second = evals.start_run("leave", [BASE, TUNED])
    record(second.id, BASE, [1.0, 0.0], [1, None])
    record(second.id, TUNED, [1.0, 1.0], [1, 1])
    evals.finish(second.id)
    evals.start_run("leave", [TUNED])  # started, nothing answered yet


def test_runs_are_scored_oldest_first_with_each_configurations_change(tmp_path: Path) -> None:
    evals = EvalStore(tmp_path / "evals.db")
    try:
        write_runs(evals)
        history = run_history(evals, "leave")
    finally:
        evals.close()
    assert [len(h.configs) for h in history] == [2, 2, 1]
    assert history[0].run.finished_at is not None and history[2].run.finished_at is None
    assert [spec for spec, _ in configurations(history)] == [BASE, OFF, TUNED]
    assert history[0].score(BASE, "facts") == 0.75 and history[0].score(BASE, "mrr") == 0.75
    assert history[1].score(BASE, "facts") == 0.5 and history[1].score(BASE, "hit_at_k") == 0.5
    assert history[0].score(OFF, "hit_at_k") == 0.0  # retrieval off finds no passage
    assert change(history, 1, BASE, "facts") == -0.25
    assert change(history, 1, TUNED, "facts") is None  # its first run
    assert change(history, 0, BASE, "facts") is None
    assert history[1].score(OFF, "facts") is None  # not in that run
    # The unfinished run has no answers yet: nothing to compare with the run before.
    assert history[2].score(TUNED, "facts") is None and change(history, 2, TUNED, "facts") is None


def test_cli_lists_runs_newest_first_with_their_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    evals = EvalStore(home / "evaluations.db")  # the data folder's (Services.evals)
    try:
        write_runs(evals)
    finally:
        evals.close()
    assert main(["--home", str(home), "eval", "runs", "leave", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [len(r["configs"]) for r in runs] == [1, 2, 2]  # newest first
    assert {"run_id", "set", "configs", "started_at", "finished"} <= runs[0].keys()
    tuned = next(s for s in runs[1]["scores"] if s["config"] == TUNED)
    assert tuned["scores"]["facts"] == 1.0 and tuned["scores"]["hit_at_k"] == 1.0
    assert main(["--home", str(home), "eval", "runs", "leave"]) == 0
    text = capsys.readouterr().out
    assert "facts 0.50 (-0.25), hit@k 0.50 (-0.50)" in text  # the base configuration's drop
    assert "snark · fine-tuned, retrieval: facts 1.00, hit@k 1.00" in text
    # Retrieval off searches nothing: its line gives facts, not a hit@k of 0.
    assert [line for line in text.splitlines() if "no retrieval" in line] == [
        "  SmolLM2 135M · built in, no retrieval: facts 0.00"
    ]


def test_an_unknown_judge_is_named_before_consent_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    evals = EvalStore(home / "evaluations.db")
    try:
        write_runs(evals)
    finally:
        evals.close()
    grid = ["--config", "local:default,retrieval=off", "--judge", "nosuch:judge"]
    assert main(["--home", str(home), "eval", "run", "leave", *grid]) == 2
    err = capsys.readouterr().err
    assert "Unknown provider 'nosuch'" in err and "passages" not in err
    assert main(["--home", str(home), "eval", "run", "leave", *grid, "--allow-remote"]) == 2
    assert "Unknown provider 'nosuch'" in capsys.readouterr().err
    assert load_settings(home).remote_consent == []  # nothing kept for a provider not there


def test_a_persona_named_like_an_option_reads_back_in_runs_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every configuration a run stores reads back, whatever its persona's name holds: a name
    # such as "b,retrieval=off" once made a run that `eval runs` and `eval report` refused.
    home = tmp_path / "home"
    home.mkdir()
    odd = ["b,retrieval=off", "x, persona=y", "retrieval=on", "p,retrieval=on,q"]
    specs = [CellConfig("local:default", name, retrieval).spec() for name in odd
             for retrieval in (True, False)]  # fmt: skip
    assert [CellConfig.parse(spec).persona for spec in specs] == [n for n in odd for _ in "ab"]
    evals = EvalStore(home / "evaluations.db")
    try:
        item = EvalItem("How many days carry over?", "5 days", "/d/leave.md", "Up to 5 days.")
        evals.create("leave", SetSource.IMPORTED, [item])
        run = evals.start_run("leave", specs)
        for spec in specs:
            evals.record(run.id, ResultRecord(item.id, spec, item.question, "5 days.", [], facts=1))
        evals.finish(run.id)
    finally:
        evals.close()
    assert main(["--home", str(home), "eval", "runs", "leave", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)["runs"][0]["scores"]
    assert [s["config"] for s in scores] == specs
    assert main(["--home", str(home), "eval", "report", "leave", "--json"]) == 0
    configs = json.loads(capsys.readouterr().out)["configs"]
    assert [c["config"] for c in configs] == specs
    assert all(c["scores"]["facts"] == 1.0 for c in configs)
