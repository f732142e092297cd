"""The report of an evaluation run: scores per configuration, the answers that differ most,
and a recommendation drawn from the numbers; exported as JSON (README, "folio-cli"), CSV and HTML.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from desktop.core.errors import DatasetError
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.scores import retrieval_score
from desktop.core.evaluate.sets import EvalItem, ResultRecord, RetrievalLevel, RunRecord
from desktop.core.evaluate.style import QUESTIONS_HELD_OUT, StyleModel, held_out, train_style
from desktop.core.finetune.datasets import DatasetStore
from desktop.core.models.ids import is_fine_tuned
from desktop.core.plurals import counted

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, d) unit vectors
# A classifier right less often than this on held-out answers gives no style score.
MIN_STYLE_ACCURACY = 0.7
DIFFERING = 4  # answers shown side by side in the report
# Two scores closer than this are "about the same" in the recommendation.
SAME = 0.05


def _as_written(name: str) -> str:
    """A configuration's name as folio-cli writes it in a sentence: unchanged."""
    return name


@dataclass
class ConfigScores:
    """One configuration's scores over the run (``scores.DEFINITIONS`` defines each).

    Scores are 0–1 or None (not measured: no passage to find, no judge, no style model);
    times in ms and s (medians); tokens are means per question; cost in US dollars.
    ``retrieval_questions``: the answered questions hit@k and MRR are over (those with a
    source passage or file), ``retrieval_by_file`` of them scored by file only.
    """

    config: str
    label: str
    answered: int = 0
    failed: int = 0
    retrieval_questions: int = 0
    retrieval_by_file: int = 0
    hit_at_k: float | None = None
    mrr: float | None = None
    facts: float | None = None
    correctness: float | None = None
    faithfulness: float | None = None
    style: float | None = None
    ttft_ms: float | None = None
    seconds: float | None = None
    tokens_in: float | None = None
    tokens_out: float | None = None
    prompt_tokens_added: float | None = None
    cost_per_1000_usd: float | None = None

    def scores_json(self) -> dict[str, Any]:
        """folio-cli's ``scores`` (hit_at_k, mrr, facts, style, ttft_ms, cost_per_1000_usd)
        and the other figures."""
        data = asdict(self)
        for key in COUNTS:
            data.pop(key)
        return data

    def to_json(self) -> dict[str, Any]:
        """``{config, label, answered, failed, retrieval_questions, retrieval_by_file,
        scores}``, one of the report's ``configs``."""
        return {
            "config": self.config,
            "label": self.label,
            "answered": self.answered,
            "failed": self.failed,
            "retrieval_questions": self.retrieval_questions,
            "retrieval_by_file": self.retrieval_by_file,
            "scores": self.scores_json(),
        }

    def coverage(self, questions: int) -> str:
        """What hit@k and MRR are over, for a table cell: "12 of 20", "none of 20"."""
        if not self.retrieval_questions:
            return f"none of {questions}"
        return f"{self.retrieval_questions} of {questions}"


# A ConfigScores' counts and names: beside its ``scores`` in JSON, not among them.
COUNTS = (
    "config", "label", "answered", "failed", "retrieval_questions", "retrieval_by_file",
)  # fmt: skip


def hit_name(k: int | None) -> str:
    """hit@k with the run's k when known: "hit@5"."""
    return f"hit@{k}" if k else "hit@k"


@dataclass(frozen=True)
class Differing:
    """A question whose answers differ most: (config label, answer, facts) per configuration."""

    question: str
    reference: str
    answers: list[tuple[str, str, float | None]]

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "reference": self.reference,
            "answers": [{"label": a, "answer": t, "facts": f} for a, t, f in self.answers],
        }


@dataclass
class Report:
    """A run's report; ``complete`` False while the run has results still to make; ``k``
    the passages given per question (the run's top k, else the most any answer was given;
    None without retrieval); ``first_error`` why the first failed answer failed."""

    set_name: str
    run: RunRecord
    questions: int
    configs: list[ConfigScores]
    differing: list[Differing]
    recommendation: str
    style_persona: str | None = None
    style_accuracy: float | None = None
    style_note: str | None = None
    complete: bool = True
    k: int | None = None
    first_error: str | None = None

    def coverage_note(self, label: Callable[[str], str] = _as_written) -> str:
        """What hit@k and MRR are over, in a sentence: "hit@5 and MRR are over 12 of the 20
        questions: …", naming each configuration whose count differs (failed answers);
        ``label`` is applied to each name, as in ``recommend``."""
        name = hit_name(self.k)
        measured = [s for s in self.configs if s.answered]
        if not measured:
            return f"{name} and MRR: nothing answered yet."
        most = max(measured, key=lambda s: s.retrieval_questions)
        if not most.retrieval_questions:
            none = (
                "the one question answered has no"
                if self.questions == 1
                else f"none of the {self.questions} questions answered has a"
            )
            return f"{name} and MRR are not measured: {none} source passage or source file."
        by_file = most.retrieval_by_file
        file_rule = "a hit when a passage from that file (and page, when named) is given"
        if not by_file:
            which = "those with a source passage"
        elif by_file == most.retrieval_questions:
            which = f"those with a source file (none names its passage), {file_rule}"
        else:
            which = (
                f"those with a source passage and {by_file} with only a source file, " + file_rule
            )
        over = (
            "the one question"
            if self.questions == 1
            else f"{most.retrieval_questions} of the {self.questions} questions"
        )
        text = f"{name} and MRR are over {over}: {which}."
        rest = self.questions - most.retrieval_questions
        if rest:
            text += (
                " The other question counts for facts only."
                if rest == 1
                else f" The other {rest} count for facts only."
            )
        fewer = [s for s in measured if s.retrieval_questions != most.retrieval_questions]
        if fewer:
            text += (
                " Over fewer where answers failed: "
                + "; ".join(f"{label(s.label)} {s.coverage(self.questions)}" for s in fewer)
                + "."
            )
        return text

    def to_json(self) -> dict[str, Any]:
        """folio-cli's ``eval report`` shape: name, configs [{config, scores}], recommendation;
        plus run_id, questions, complete, style_accuracy, the differing answers, ``top_k``
        (the k of hit@k), ``retrieval_coverage`` (``coverage_note``) and ``first_error``."""
        return {
            "name": self.set_name,
            "run_id": self.run.id,
            "questions": self.questions,
            "top_k": self.k,
            "retrieval_coverage": self.coverage_note(),
            "complete": self.complete,
            "first_error": self.first_error,
            "configs": [c.to_json() for c in self.configs],
            "style_persona": self.style_persona,
            "style_accuracy": self.style_accuracy,
            "style_note": self.style_note,
            "differing": [d.to_json() for d in self.differing],
            "recommendation": self.recommendation,
        }

    def to_csv(self) -> str:
        """One row per configuration, a column per score (empty: not measured), then what
        hit@k and MRR are over: ``retrieval_questions`` of ``questions`` (the set's),
        ``retrieval_by_file`` of them by file, and ``top_k``."""
        out = io.StringIO()
        columns = ["config", "answered", "failed", *ConfigScores("", "").scores_json()]
        columns += ["retrieval_questions", "retrieval_by_file", "questions", "top_k"]
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        for c in self.configs:
            writer.writerow(
                {"config": c.config, "answered": c.answered, "failed": c.failed,
                 **c.scores_json(), "retrieval_questions": c.retrieval_questions,
                 "retrieval_by_file": c.retrieval_by_file, "questions": self.questions,
                 "top_k": self.k}
            )  # fmt: skip
        return out.getvalue()


@dataclass(frozen=True)
class StyleContext:
    """What the style score is trained on: the persona's name and its example answers
    (from its datasets); None when the run has no persona."""

    persona: str | None
    examples: list[str]


def style_context(run: RunRecord, datasets: DatasetStore) -> StyleContext:
    """The persona whose voice ``run`` scores (its ``style_persona``, else the first persona
    in its grid) and that persona's example answers: the run's ``style_dataset``, else every
    dataset made in that persona's voice. A dataset removed since is left out.
    """
    persona = run.style_persona or next(
        (c.persona for c in map(CellConfig.parse, run.configs) if c.persona), None
    )
    if persona is None:
        return StyleContext(None, [])
    if run.style_dataset:
        names = [run.style_dataset]
    else:
        names = [d.name for d in datasets.all() if d.persona == persona]
    examples = []
    for name in names:
        try:
            train, validation = datasets.load(name)
        except DatasetError:  # removed since the run: the persona's own answers stand in
            continue
        examples += [e.answer for e in train + validation if e.answer.strip()]
    return StyleContext(persona, examples)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def make_report(
    run: RunRecord,
    items: list[EvalItem],
    results: list[ResultRecord],
    embed: Embed,
    style: StyleContext,
) -> Report:
    """Score every configuration of ``run`` from its ``results`` (see ``ConfigScores``).

    Only questions still in the set count (the set may have been edited since).
    """
    by_item = {i.id: i for i in items}
    answered = [r for r in results if r.error is None and r.item_id in by_item]
    configs = [CellConfig.parse(spec) for spec in run.configs]
    table = [config_scores(c, by_item, answered, results) for c in configs]
    smallest = min((s.tokens_in for s in table if s.tokens_in is not None), default=None)
    for s in table:
        if s.tokens_in is not None and smallest is not None:
            s.prompt_tokens_added = s.tokens_in - smallest
    vectors = _embedded([r.answer for r in answered] + style.examples, embed)
    model, note = _style(configs, answered, style, vectors)
    if model is not None:
        for s in table:
            texts = [
                r.answer for r in answered
                if r.config == s.config and held_out(r.item_id, QUESTIONS_HELD_OUT)
            ]  # fmt: skip
            if texts:
                probabilities = model.classifier.probability(np.array([vectors[t] for t in texts]))
                s.style = float(probabilities.mean())
    retrieving = {c.spec() for c in configs if c.retrieval}
    given = max((len(r.sources) for r in answered if r.config in retrieving), default=0)
    report = Report(
        run.set_name, run, len(items), table, _differing(by_item, answered, configs, vectors),
        "", style.persona, model.accuracy if model else None, note,
        complete=run.finished_at is not None, k=run.top_k or given or None,
        first_error=next((r.error for r in results if r.error), None),
    )  # fmt: skip
    report.recommendation = recommend(report, configs)
    return report


def config_scores(
    config: CellConfig,
    items: dict[str, EvalItem],
    answered: list[ResultRecord],
    results: list[ResultRecord],
) -> ConfigScores:
    """``config``'s scores from a run's stored figures: all but style, which needs the
    embedding model. ``items`` by id; ``answered``: the results without an error whose
    question is still in the set; ``results``: all of them (failures are counted)."""
    spec = config.spec()
    mine = [r for r in answered if r.config == spec]
    s = ConfigScores(
        spec, config.label, len(mine), sum(1 for r in results if r.config == spec and r.error)
    )
    # Measured on the questions whose source (passage or file) is known; retrieval off
    # gives no passage: 0.
    with_source = [r for r in mine if items[r.item_id].scored_by is not None]
    s.retrieval_questions = len(with_source)
    s.retrieval_by_file = sum(
        1 for r in with_source if items[r.item_id].scored_by == RetrievalLevel.FILE
    )
    if with_source and not config.retrieval:
        s.hit_at_k = s.mrr = 0.0
    elif with_source:
        ranks = [_rank(items[r.item_id], r) for r in with_source]
        s.hit_at_k = sum(1 for rank in ranks if rank is not None) / len(with_source)
        s.mrr = sum(1 / rank for rank in ranks if rank) / len(with_source)
    s.facts = _mean([r.facts for r in mine])
    s.correctness = _mean([r.correctness for r in mine])
    s.faithfulness = _mean([r.faithfulness for r in mine])
    s.ttft_ms, s.seconds = _median([r.ttft_ms for r in mine]), _median([r.seconds for r in mine])
    s.tokens_in = _mean([r.tokens_in for r in mine])
    s.tokens_out = _mean([r.tokens_out for r in mine])
    costs = [r.cost_usd for r in mine]
    if mine and all(c is not None for c in costs):
        s.cost_per_1000_usd = 1000 * sum(c for c in costs if c is not None) / len(mine)
    return s


def _rank(item: EvalItem, result: ResultRecord) -> int | None:
    """Where the item's source came among the result's passages (1-based), None: not there.

    The run stores it; a question scored by file whose result has none is scored again from
    the passages the result kept, as runs made before file-level scoring stored no rank for
    it."""
    if result.rank is not None or item.scored_by != RetrievalLevel.FILE:
        return result.rank
    scored = retrieval_score(item, result.sources)
    return scored.rank if scored else None


def _embedded(texts: list[str], embed: Embed) -> dict[str, np.ndarray]:
    unique = sorted({t for t in texts if t.strip()})
    if not unique:
        return {}
    return dict(zip(unique, np.asarray(embed(unique)), strict=True))


def _is_base(config: CellConfig) -> bool:
    return config.persona is None and not is_fine_tuned(config.model)


def _style(
    configs: list[CellConfig],
    answered: list[ResultRecord],
    style: StyleContext,
    vectors: dict[str, np.ndarray],
) -> tuple[StyleModel | None, str | None]:
    """The style classifier for the run's persona, or None and why there is none."""
    if style.persona is None:
        return None, "No persona in the run: add a persona-prompted row to score style."
    base = {c.spec() for c in configs if _is_base(c)}
    if not base:
        return (
            None,
            "No base-model row in the run: style is measured against the base model's answers.",
        )
    training = [
        r for r in answered if not held_out(r.item_id, QUESTIONS_HELD_OUT)
    ]  # fmt: skip
    negatives = [r.answer for r in training if r.config in base]
    positives = list(style.examples)
    source = f"the examples of {style.persona}'s datasets"
    if not positives:
        persona_rows = {c.spec() for c in configs if c.persona == style.persona}
        positives = [r.answer for r in training if r.config in persona_rows]
        source = f"the {style.persona}-prompted answers"
    model = train_style(positives, negatives, lambda texts: np.array([vectors[t] for t in texts]))
    if model is None:
        return None, (
            f"Too few answers to train a style classifier on ({len(positives)} in {source}, "
            f"{len(negatives)} base answers): run more questions or add examples."
        )
    if model.accuracy < MIN_STYLE_ACCURACY:
        return None, (
            f"The style classifier told {source} from base answers only {model.accuracy:.0%} "
            "of the time on held-out answers: the style scores would be noise."
        )
    return model, (
        f"Style: a classifier trained on {source} against base answers; "
        f"{model.accuracy:.0%} right on {model.tested_on} held-out answers."
    )


def _differing(
    items: dict[str, EvalItem],
    answered: list[ResultRecord],
    configs: list[CellConfig],
    vectors: dict[str, np.ndarray],
) -> list[Differing]:
    """The questions whose answers are furthest apart (mean pairwise cosine distance of
    their embeddings), most different first."""
    labels = {c.spec(): c.label for c in configs}
    by_item: dict[str, list[ResultRecord]] = {}
    for r in answered:
        by_item.setdefault(r.item_id, []).append(r)
    spread = []
    for item_id, rows in by_item.items():
        m = np.array([vectors[r.answer] for r in rows if r.answer in vectors])
        if len(m) < 2:
            continue
        n = len(m)
        # Unit vectors: the mean cosine similarity of distinct pairs is the sum of the
        # similarity matrix less its diagonal (n ones), over n(n-1).
        distance = 1 - ((m @ m.T).sum() - n) / (n * (n - 1))
        spread.append((float(distance), item_id))
    spread.sort(reverse=True)
    chosen = []
    for _, item_id in spread[:DIFFERING]:
        item = items[item_id]
        rows = sorted(by_item[item_id], key=lambda r: list(labels).index(r.config))
        chosen.append(
            Differing(
                item.question, item.reference, [(labels[r.config], r.answer, r.facts) for r in rows]
            )
        )
    return chosen


def _pair(
    configs: list[ConfigScores], parsed: list[CellConfig], on: CellConfig
) -> ConfigScores | None:
    for s, c in zip(configs, parsed, strict=True):
        if c.model == on.model and c.persona == on.persona and not c.retrieval:
            return s
    return None


def _retrieval_sentence(
    rows: list[tuple[ConfigScores, CellConfig]],
    configs: list[ConfigScores],
    parsed: list[CellConfig],
    label: Callable[[str], str] = _as_written,
) -> str | None:
    """What retrieval did to facts, for the first configuration run with it on and off."""
    for s, c in rows:
        off = _pair(configs, parsed, c) if c.retrieval else None
        if off is None or not off.answered or s.facts is None or off.facts is None:
            continue
        if s.facts > off.facts + SAME:
            change = f"raised facts from {off.facts:.2f} to {s.facts:.2f}"
        elif s.facts < off.facts - SAME:
            change = f"lowered facts from {off.facts:.2f} to {s.facts:.2f}"
        else:  # within SAME: "did not change facts from 0.49 to 0.52" would contradict itself
            change = f"left facts about the same ({off.facts:.2f} off, {s.facts:.2f} on)"
        who = label(c.model + (f" + {c.persona}" if c.persona else ""))
        found = "."
        if s.hit_at_k is not None and s.retrieval_questions:
            found = (
                f"; the source was among the passages given for {s.hit_at_k:.0%} of the "
                f"{s.retrieval_questions} questions with a known source."
            )
        return f"Retrieval on {change} ({who}){found}"
    return None


def _change(score: float, base: float) -> str:
    if score > base + SAME:
        return "higher"
    return "lower" if score < base - SAME else "no change"


def _style_sentence(rows: list[tuple[ConfigScores, CellConfig]]) -> str | None:
    """How the persona prompt and the fine-tuned model compare with base on style, without
    retrieval where the run has it (passages pull every answer towards the documents'
    wording), else with it; None without a base and a persona or fine-tuned row."""
    for retrieval in (False, True):
        same = [(s, c) for s, c in rows if c.retrieval == retrieval and s.style is not None]
        base = next((s for s, c in same if _is_base(c)), None)
        persona = next((s for s, c in same if c.persona and not is_fine_tuned(c.model)), None)
        tuned = next((s for s, c in same if is_fine_tuned(c.model)), None)
        if base is None or base.style is None or (persona is None and tuned is None):
            continue
        parts = [f"base {base.style:.2f}"]
        for name, row in (("persona prompt", persona), ("fine-tuned", tuned)):
            if row is not None and row.style is not None:
                parts.append(f"{name} {row.style:.2f} ({_change(row.style, base.style)})")
        setting = "with" if retrieval else "without"
        sentence = f"Style {setting} retrieval (0–1): {', '.join(parts)}."
        if tuned is None:
            return sentence + (
                " No fine-tuned model was in the run: train one to see whether it keeps the "
                "voice without the prompt."
            )
        if persona is None or persona.style is None or tuned.style is None:
            return sentence
        saved = (persona.tokens_in or 0) - (tuned.tokens_in or 0)
        fewer = f", with {saved:.0f} prompt tokens fewer per question" if saved > 0 else ""
        if tuned.style > persona.style + SAME:
            return (
                f"{sentence} The fine-tuned model carries the voice better than the prompt{fewer}."
            )
        if abs(tuned.style - persona.style) <= SAME:
            cheaper = (
                f"; the fine-tuned one needs {saved:.0f} prompt tokens fewer" if saved > 0 else ""
            )
            return f"{sentence} The two carry it about as well{cheaper}."
        return sentence + " The persona prompt carries the voice better than the fine-tuned model."
    return None


def recommend(
    report: Report, parsed: list[CellConfig], label: Callable[[str], str] = _as_written
) -> str:
    """A plain recommendation drawn from the numbers: what retrieval did to facts, how the
    persona prompt and the fine-tuned model compare on style and prompt tokens, and which
    configuration to use.

    ``label`` is applied to each configuration's name the sentences write, and only to
    them: the window sets each name apart, so right-to-left letters in a persona's name
    cannot pull the figures beside it out of order; the CLI writes them as they are.
    """
    rows = [(s, c) for s, c in zip(report.configs, parsed, strict=True) if s.answered]
    if not rows:
        failed = sum(s.failed for s in report.configs)
        if failed:  # run, and every answer failed: running again alone would fail again
            return (
                f"No configuration has answered: {counted(failed, 'answer')} failed, the first "
                f"because: {report.first_error}"
            )
        return "No configuration has answered yet: run the set first."
    sentences = []
    retrieval = _retrieval_sentence(rows, report.configs, parsed, label)
    if retrieval:
        sentences.append(retrieval)
    style = _style_sentence(rows)
    if style:
        sentences.append(style)
    elif report.style_note and report.style_accuracy is None:
        sentences.append(report.style_note)
    best = max(
        (s for s, _ in rows if s.facts is not None),
        key=lambda s: (round(s.facts or 0, 2), s.style or 0, -(s.tokens_in or 0)),
        default=None,
    )
    if best is not None:
        cost = (
            "free on this computer" if best.cost_per_1000_usd == 0
            else f"${best.cost_per_1000_usd:.2f} per 1,000 questions"
            if best.cost_per_1000_usd is not None else "at an unknown price"
        )  # fmt: skip
        sentences.append(
            f"Use {label(best.label)}: the most facts ({best.facts:.2f})"
            + (f", style {best.style:.2f}" if best.style is not None else "")
            + f", {cost}."
        )
    if not report.complete:
        sentences.append("The run is not finished: these figures may change.")
    return " ".join(sentences)
