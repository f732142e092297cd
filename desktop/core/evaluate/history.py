"""An evaluation set's runs over time: each run's scores per configuration, side by side, so
a change shows (fine-tuning a model, another embedding model, a new persona prompt).

Scored from what each run stored (hit@k, MRR, facts, the judge's scores, times, cost), as
the report scores them (``report.config_scores``); style is left out, as it needs the
embedding model to read every answer again: the report of one run has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.report import ConfigScores, config_scores
from desktop.core.evaluate.sets import EvalStore, RunRecord


@dataclass(frozen=True)
class RunScores:
    """One run and its configurations' scores, in the run's grid order; ``questions``: the
    set's questions they are scored on (hit@k and MRR on those with a known source, each
    configuration's ``retrieval_questions``)."""

    run: RunRecord
    configs: list[ConfigScores]
    questions: int = 0

    def score(self, config: str, key: str) -> float | None:
        """Score ``key`` (a ``ConfigScores`` field) of configuration ``config`` (a spec) in
        this run; None when the run did not have it or did not measure it."""
        found = next((c for c in self.configs if c.config == config), None)
        value = getattr(found, key, None) if found is not None else None
        return float(value) if value is not None else None

    def coverage(self, config: str) -> str | None:
        """What ``config``'s hit@k and MRR are over in this run ("12 of 20"); None when
        the run did not have it."""
        found = next((c for c in self.configs if c.config == config), None)
        return found.coverage(self.questions) if found is not None else None

    def to_json(self) -> dict[str, Any]:
        """The run's fields (``RunRecord.to_json``), ``questions``, and ``scores``: one
        entry per configuration, ``ConfigScores.to_json``'s shape (style null)."""
        return {
            **self.run.to_json(),
            "questions": self.questions,
            "scores": [c.to_json() for c in self.configs],
        }


def run_history(evals: EvalStore, set_name: str) -> list[RunScores]:
    """The runs of ``set_name``, oldest first, each scored on the questions the set holds
    now (as the report scores them). Raises EvaluationError for an unknown set."""
    items = {item.id: item for item in evals.get(set_name).items}
    history = []
    for run in reversed(evals.runs(set_name)):
        results = evals.results(run.id)
        answered = [r for r in results if r.error is None and r.item_id in items]
        configs = [
            config_scores(CellConfig.parse(spec), items, answered, results) for spec in run.configs
        ]
        history.append(RunScores(run, configs, len(items)))
    return history


def configurations(history: list[RunScores]) -> list[tuple[str, str]]:
    """Every configuration (spec, label) of the runs, in the order they first appear."""
    seen: dict[str, str] = {}
    for scored in history:
        for c in scored.configs:
            seen.setdefault(c.config, c.label)
    return list(seen.items())


def change(history: list[RunScores], index: int, config: str, key: str) -> float | None:
    """How score ``key`` of ``config`` moved in run ``history[index]`` since the latest
    earlier run that measured it; None when there is no such run or no score."""
    now = history[index].score(config, key)
    if now is None:
        return None
    for earlier in reversed(history[:index]):
        before = earlier.score(config, key)
        if before is not None:
            return now - before
    return None
