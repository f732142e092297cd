"""Evaluation sets and runs with the real embedded model, embedder and store: a set written
from a small folder, edited, run, stopped, resumed and reported; scores checked on values
worked out by hand; the style classifier on two real personas' answers."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop.cli import main
from desktop.cli.evaluate import report_text
from desktop.core.chat.history import LIKED
from desktop.core.errors import ConsentRequired, EvaluationError
from desktop.core.evaluate.build import (
    build_from_folder,
    from_liked,
    import_jsonl,
    question_from,
    read_jsonl,
    usable,
    write_jsonl,
)
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.report import StyleContext, make_report, recommend
from desktop.core.evaluate.report_html import to_html
from desktop.core.evaluate.run import RunProgress
from desktop.core.evaluate.scores import facts_overlap, key_words, retrieval_score
from desktop.core.evaluate.sets import EvalItem, ResultRecord, RetrievalLevel, RunRecord, SetSource
from desktop.core.evaluate.style import StyleClassifier, train_style
from desktop.core.library.citation import Citation
from desktop.core.settings import Settings
from desktop.core.tasks import CancelToken
from tests.llama_server import MODEL_ALIAS

LEAVE = (
    "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days. "
    "Requests for longer leave go to the bluefin committee, which meets every Tuesday "
    "and answers within a week."
)
LAPTOPS = (
    "# Laptops\n\nLaptops are replaced every four years. A broken laptop is swapped the same "
    "day at the IT desk on the second floor; bring the charger and the badge."
)

PARKING = (
    "# Parking\n\nThe car park behind the building has 40 spaces. Bicycles go in the shed "
    "by the north door, which opens with the same badge as the front entrance."
)
CANTEEN = (
    "# Canteen\n\nThe canteen serves lunch from noon to two. Soup costs three euros and the "
    "daily dish six euros; staff pay with their badge."
)

PRINTERS = (
    "# Printers\n\nThe colour printer by the kitchen prints on both sides by default. Toner "
    "cartridges are kept in the locked cupboard; the office manager has the key."
)
VISITORS = (
    "# Visitors\n\nVisitors sign in at reception and wear a paper badge. They must be met "
    "at the lift by the colleague they visit and may not enter the server room."
)


@pytest.fixture
def library(make_services, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(LEAVE)
    (folder / "laptops.md").write_text(LAPTOPS)
    # More chunks than questions: a small model writes no usable question for some.
    (folder / "parking.md").write_text(PARKING)
    (folder / "canteen.md").write_text(CANTEEN)
    (folder / "printers.md").write_text(PRINTERS)
    (folder / "visitors.md").write_text(VISITORS)
    services = make_services(Settings(max_answer_tokens=24))
    services.ingestor.ingest([folder])
    return services, folder


def test_facts_overlap_is_the_share_of_key_words_of_the_reference() -> None:
    # key words of the reference: leave, carried, over→(stop word), 5, days→day: {leave,
    # carried, 5, day}; the answer has leave, 5 and day: 3 of 4.
    assert key_words("Up to 5 days of the leave are carried over.") == {
        "5",
        "day",
        "leave",
        "carried",
    }
    assert (
        facts_overlap("You keep 5 days of leave.", "Up to 5 days of the leave are carried over.")
        == 0.75
    )
    assert facts_overlap("anything", "the of and") is None
    assert facts_overlap("", "Five days.") == 0.0
    assert facts_overlap("FIVE Days!", "five days") == 1.0


def test_retrieval_score_is_hit_and_reciprocal_rank_of_the_source_passage() -> None:
    item = EvalItem("q?", "a", "/docs/leave.md", LEAVE)

    def cite(path: str, text: str) -> Citation:
        return Citation(path, None, 0.5, text, Path(path).name)

    other = cite("/docs/laptops.md", LAPTOPS)
    second = retrieval_score(item, [other, cite("/docs/leave.md", "  " + LEAVE.replace(" ", "\n"))])
    assert second is not None and (second.hit, second.reciprocal_rank, second.rank) == (1.0, 0.5, 2)
    missing = retrieval_score(item, [other])
    assert missing is not None and (missing.hit, missing.reciprocal_rank, missing.rank) == (
        0.0,
        0.0,
        None,
    )
    # The same text in another file is not the passage.
    assert retrieval_score(item, [cite("/elsewhere.md", LEAVE)]).rank is None  # type: ignore[union-attr]
    assert retrieval_score(EvalItem("q?", "a"), [other]) is None


def test_question_from_reads_the_first_question_line() -> None:
    assert question_from("Q: When is it cleaned?\nA: Friday") == "When is it cleaned?"
    assert question_from("1. **What colour is the door?**") == "What colour is the door?"
    assert question_from("Here is a statement.") is None
    # Small models wrap what they echo; the wrapper is taken off.
    echoed = "What is the answer to the question: the answer to the question: Can it be free?"
    assert question_from(echoed) == "Can it be free?"
    assert (
        question_from("What is the answer to this question? Who has the key?") == "Who has the key?"
    )


def test_a_written_pair_is_kept_only_when_it_is_about_the_passage_and_answers_it() -> None:
    passage = "The stable distribution contains the latest officially released packages."
    kept = usable(
        "What does the stable distribution contain?", "1. The latest released packages.", passage
    )
    assert kept == ("What does the stable distribution contain?", "The latest released packages.")
    # The worked example's content, copied instead of asking about the passage.
    assert usable("When is the coffee machine cleaned?", "Every Friday.", passage) is None
    assert usable("Which packages are released every Friday?", "Stable ones.", passage) is None
    # No word in common with the passage: not a question about it.
    assert usable("What is the capital of France?", "Paris.", passage) is None
    # A reference that is a question, the question again, or nothing.
    asked = "What does the stable distribution contain?"
    assert usable(asked, "6.2.2. What does stable contain?", passage) is None
    assert usable(asked, "The stable distribution contain.", passage) is None
    assert usable(asked, "The answer to the question is: ", passage) is None


def test_jsonl_import_names_every_bad_line_and_stores_nothing(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad set.jsonl"
    bad.write_text(
        '{"question": "Fine?", "reference": "Yes."}\n'
        "not json\n"
        '["a list"]\n'
        '{"question": "", "reference": "x"}\n'
        '{"question": "No answer?"}\n'
        '{"question": "Half \\ud800 a pair?", "reference": "x"}\n'
        '\ufeff{"question": "A second byte order mark?", "reference": "x"}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvaluationError) as raised:
        import_jsonl(services.evals, "bad", bad)
    message = str(raised.value)
    for expected in ("bad set.jsonl", "6 bad line", "line 2: not JSON",
                     "line 3: not a JSON object (a list); each line holds one question",
                     'line 4: no "question"', 'line 5: no "reference"',
                     "line 6: holds an escape",
                     "line 7: not JSON: starts with a byte order mark (U+FEFF)"):  # fmt: skip
        assert expected in message
    assert not services.evals.exists("bad")
    # Lines that end in CR alone read as one line of several objects: said so, with the fix.
    classic_mac = tmp_path / "classic mac.jsonl"
    classic_mac.write_bytes(b'{"question": "A?", "reference": "a"}\r{"question": "B?"}\r')
    with pytest.raises(EvaluationError, match=r"line 1: not JSON: .*carriage return \(CR\) alone: "
                       r"save the file with LF \(or CRLF\) line endings"):  # fmt: skip
        import_jsonl(services.evals, "mac", classic_mac)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"question": "Caf\xe9?", "reference": "x"}'.encode("latin-1"))
    with pytest.raises(EvaluationError, match=r"latin\.jsonl is not UTF-8"):
        read_jsonl(latin)


def test_jsonl_import_names_lines_python_json_cannot_read_instead_of_crashing(
    services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    unusual = tmp_path / "unusual.jsonl"
    lines = [
        '{"question": "Fine?", "reference": "Yes."}',
        "[" * 100_000 + "]" * 100_000,
        '{"question": "Big?", "reference": "x", "source_page": ' + "9" * 5000 + "}",
        '{"question": "Page?", "reference": "x", "source_page": NaN}',
        # Past the integers SQLite stores (2**63 - 1), and past any document.
        '{"question": "Far?", "reference": "x", "source_page": 9223372036854775808}',
    ]
    unusual.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(EvaluationError) as raised:
        import_jsonl(services.evals, "unusual", unusual)
    message = str(raised.value)
    for expected in (
        "unusual.jsonl has 4 bad lines, so nothing was imported",
        'line 5: "source_page" is not a page number (1 to 1,000,000)',
        "line 2: not JSON: lists or objects nested more than 100 levels deep",
        "line 3: not JSON: a number with 5,000 digits",
        "line 4: not JSON: NaN is not a JSON number",
    ):
        assert expected in message
    assert not services.evals.exists("unusual")


def test_jsonl_reads_llamaindex_labelled_rag_fields_and_round_trips(
    services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "rag.jsonl"
    source.write_text(
        "\ufeff"
        + json.dumps(
            {
                "query": "How many days?",
                "reference_answer": "Five.",
                "reference_contexts": ["Up to 5 days."],
            }
        )
        + "\n\n"
        + json.dumps({"question": "Who approves?", "answer": "The committee."})
        + "\n",
        encoding="utf-8",
    )
    made = import_jsonl(services.evals, "rag", source).made
    assert made.source == SetSource.IMPORTED
    assert [(i.question, i.reference, i.source_text) for i in made.items] == [
        ("How many days?", "Five.", "Up to 5 days."),
        ("Who approves?", "The committee.", None),
    ]
    again = tmp_path / "again.jsonl"
    write_jsonl(made.items, again)
    assert read_jsonl(again).items[0].source_text == "Up to 5 days."
    with pytest.raises(EvaluationError, match="exists already"):
        import_jsonl(services.evals, " rag ", source)
    # Names that read the same, case and Unicode normalisation aside, name one set.
    import_jsonl(services.evals, "Caf\u00e9", source)
    for same in ("RAG", "cafe\u0301", "CAF\u00c9"):
        with pytest.raises(EvaluationError, match=r"An evaluation set called '(rag|Café)' exists"):
            import_jsonl(services.evals, same, source)
    with pytest.raises(EvaluationError, match="called 'rag' exists already"):
        services.evals.rename("Caf\u00e9", "Rag")
    assert services.evals.rename("Caf\u00e9", "CAF\u00c9").name == "CAF\u00c9"  # its own name
    assert sorted(s.name for s in services.evals.sets()) == ["CAF\u00c9", "rag"]


def test_a_set_from_liked_answers_keeps_their_best_source(services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EvaluationError, match="No answer is liked"):
        from_liked(services.chats, services.evals, "liked")
    chat = services.chats.create("Leave?")
    services.chats.add_message(chat.id, "user", "How much leave carries over?")
    source = Citation("/docs/leave.md", None, 0.9, LEAVE, "leave.md")
    answer = services.chats.add_message(chat.id, "assistant", "Five days.", citations=[source])
    services.chats.rate(answer, LIKED)
    made = from_liked(services.chats, services.evals, "liked").made
    assert [(i.question, i.reference, i.source_path) for i in made.items] == [
        ("How much leave carries over?", "Five days.", "/docs/leave.md")
    ]


def test_hit_at_k_is_not_measured_for_a_set_without_passages() -> None:
    from desktop.core.evaluate.report import make_report
    from desktop.core.evaluate.sets import ResultRecord, RunRecord

    specs = ["local:default,retrieval=on", "local:default,retrieval=off"]
    run = RunRecord("r", "s", specs, None, None, None, None, 0.0, 1.0)
    item = EvalItem("When is it cleaned?", "Every Friday.")
    results = [ResultRecord(item.id, spec, item.question, "On Friday.", []) for spec in specs]
    report = make_report(
        run, [item], results, lambda texts: np.eye(len(texts)), StyleContext(None, [])
    )
    assert [(c.hit_at_k, c.mrr) for c in report.configs] == [(None, None), (None, None)]
    assert "among the passages" not in report.recommendation


def test_saving_edits_names_the_bad_row_and_keeps_the_set(services) -> None:  # type: ignore[no-untyped-def]
    services.evals.create("s", SetSource.MANUAL, [EvalItem("One?", "1"), EvalItem("Two?", "2")])
    items = services.evals.get("s").items
    with pytest.raises(EvaluationError, match="Row 2 of 's' has no reference"):
        services.evals.save_items("s", [items[0], EvalItem("Two?", " ", id=items[1].id)])
    assert [i.reference for i in services.evals.get("s").items] == ["1", "2"]


@pytest.mark.slow
def test_a_set_is_built_edited_run_stopped_resumed_and_reported(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services, folder = library
    progress = []
    built = build_from_folder(
        services.library, services.store, services.evals, "docs", folder,
        services.llama_index_llm("local:default"), model_id="local:default", questions=2,
        on_progress=progress.append,
    )  # fmt: skip
    assert (built.written, built.in_set, built.cancelled) == (2, 2, False)
    made = services.evals.get("docs")
    assert made.source == SetSource.GENERATED and made.folder == str(folder.resolve())
    names = {Path(i.source_path or "").name for i in made.items}
    assert len(names) == 2 and all(name.endswith(".md") for name in names)
    assert all(i.question.endswith("?") and i.reference and i.source_text for i in made.items)
    assert progress[-1].questions_written == 2

    # Edit: the first question is rewritten by hand; the set keeps its passages.
    first, second = made.items
    edited = EvalItem("How many days of leave can be carried over?", "Up to 5 days.",
                      first.source_path, first.source_text, first.id)  # fmt: skip
    services.evals.save_items("docs", [edited, second])

    configs = [CellConfig("local:default"), CellConfig("local:default", retrieval=False)]
    run = services.evaluator.start("docs", configs)
    cancel = CancelToken()
    seen: list[RunProgress] = []
    stopped = services.evaluator.run(
        run, on_progress=seen.append, on_result=lambda result: cancel.cancel(), cancel=cancel
    )
    assert stopped.finished_at is None
    assert len(services.evals.results(run.id)) == 1
    assert seen[0].total == 4 and seen[0].config == configs[0].label

    resumed = services.evaluator.start("docs", configs)
    assert resumed.id == run.id  # the same grid goes on with the unfinished run
    searched: list[str] = []
    search = services.retriever.search

    def counted(query: str, **kwargs: object) -> object:
        searched.append(query)
        return search(query, **kwargs)

    services.retriever.search = counted
    finished = services.evaluator.run(resumed)
    # Once per question that still had a retrieval-on answer to make: the first question's
    # was made before the stop, so only the second is searched.
    assert searched == [second.question]
    assert finished.finished_at is not None
    results = services.evals.results(run.id)
    assert len(results) == 4 and not any(r.error for r in results)
    assert {r.question for r in results} >= {edited.question}
    on = [r for r in results if r.config == configs[0].spec()]
    off = [r for r in results if r.config == configs[1].spec()]
    assert all(r.sources and r.ttft_ms and r.tokens_in for r in on)
    assert all(not r.sources and r.rank is None for r in off)
    # Six short files, the default top k of 5: the passage is among them for most questions.
    assert all(r.rank is None or 1 <= r.rank <= 5 for r in on) and any(r.rank for r in on)
    assert all(0 <= (r.facts or 0) <= 1 for r in results)
    assert services.evaluator.start("docs", configs).id != run.id  # finished: a new run

    report = services.eval_report(run.id)
    shape = report.to_json()
    assert shape["name"] == "docs" and shape["recommendation"]
    scores = {c["config"]: c["scores"] for c in shape["configs"]}
    assert list(scores) == [c.spec() for c in configs]
    for needed in ("hit_at_k", "mrr", "facts", "style", "ttft_ms", "cost_per_1000_usd"):
        assert all(needed in s for s in scores.values())
    hits = [r.rank for r in on if r.rank]
    assert scores[configs[0].spec()]["hit_at_k"] == len(hits) / len(on) > 0
    assert scores[configs[0].spec()]["mrr"] == pytest.approx(sum(1 / r for r in hits) / len(on))
    assert scores[configs[1].spec()]["hit_at_k"] == 0.0 and scores[configs[1].spec()]["mrr"] == 0.0
    assert scores[configs[0].spec()]["cost_per_1000_usd"] == 0.0
    assert scores[configs[1].spec()]["prompt_tokens_added"] == 0.0
    assert scores[configs[0].spec()]["prompt_tokens_added"] > 0
    assert "Retrieval on" in report.recommendation
    # Both questions, most different first, each with both configurations' answers.
    assert len(report.differing) == 2
    assert [a[0] for a in report.differing[0].answers] == [c.label for c in configs]
    page = to_html(report)
    assert "<svg" in page and "hit@k" in page and "What the scores mean" in page
    assert report.to_csv().splitlines()[0].startswith("config,answered,failed,hit_at_k,mrr")


def moodswapper_answers(mood: str) -> list[str]:
    spec = importlib.util.find_spec("moodswapper")
    assert spec is not None and spec.submodule_search_locations, "moodswapper is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{mood}.jsonl"
    answers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        answers.append(json.loads(line)["response"])  # {"prompt", "response", "mood", ...}
    return answers


def test_the_style_classifier_separates_two_personas_held_out_answers(services) -> None:  # type: ignore[no-untyped-def]
    happy, zen = moodswapper_answers("happy")[:80], moodswapper_answers("zen")[:80]
    model = train_style(happy, zen, services.embed_texts)
    assert model is not None
    assert model.tested_on >= 20
    assert model.accuracy >= 0.85, model.accuracy
    # The same voice on both sides cannot be told apart: held-out accuracy near chance.
    mixed = train_style(happy[::2] + zen[::2], happy[1::2] + zen[1::2], services.embed_texts)
    assert mixed is not None and mixed.accuracy < 0.75


def test_the_classifier_fits_a_separable_toy_problem() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.3, size=(30, 4))
    b = rng.normal(-1.0, 0.3, size=(30, 4))
    classifier = StyleClassifier.fit(a, b)
    assert classifier.accuracy(a, b) == 1.0
    assert classifier.probability(np.array([[1.0] * 4]))[0] > 0.9


@pytest.mark.slow
def test_a_remote_judge_needs_consent_then_grades_each_answer(  # type: ignore[no-untyped-def]
    library, monkeypatch: pytest.MonkeyPatch, llama_server: str
) -> None:
    """The judge is llama.cpp's OpenAI-compatible server on loopback, through LlamaIndex's
    CorrectnessEvaluator and FaithfulnessEvaluator. Faithfulness is a yes/no verdict, so it
    is 0 or 1 whatever the small model says; correctness is None when its grade is not a
    number LlamaIndex can read."""
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    services, folder = library
    question = "How many days of leave carry over?"
    item = EvalItem(question, "Up to 5 days.", str(folder.resolve() / "leave.md"), LEAVE)
    services.evals.create("judged", SetSource.MANUAL, [item])
    judge = f"openai:{MODEL_ALIAS}"
    configs = [CellConfig("local:default"), CellConfig("local:default", retrieval=False)]
    with pytest.raises(ConsentRequired, match=f"The judge model {judge} would receive"):
        services.evaluator.start("judged", configs, judge_model=judge)
    services.allow_remote("openai")
    run = services.evaluator.run(services.evaluator.start("judged", configs, judge_model=judge))
    on, off = services.evals.results(run.id)
    assert on.error is None and off.error is None and on.answer and off.answer
    assert on.faithfulness in (0.0, 1.0)
    assert off.faithfulness is None  # retrieval off: no passages to be faithful to
    assert all(r.correctness is None or 0.0 <= r.correctness <= 1.0 for r in (on, off))
    report = services.eval_report(run.id)
    assert report.configs[0].faithfulness == on.faithfulness
    assert report.configs[1].correctness == off.correctness


def test_the_style_sentence_compares_persona_and_fine_tuned_with_base_without_retrieval() -> None:
    from desktop.core.evaluate.report import ConfigScores, _style_sentence

    def row(spec: str, style: float, tokens_in: float) -> tuple[ConfigScores, CellConfig]:
        c = CellConfig.parse(spec)
        return ConfigScores(spec, c.label, answered=5, style=style, tokens_in=tokens_in), c

    base, base_off = row("local:default", 0.28, 982), row("local:default,retrieval=off", 0.32, 28)
    persona_off = row("local:default,persona=N,retrieval=off", 0.33, 72)
    tuned_off = row("local:ft:n,retrieval=off", 0.51, 28)
    assert _style_sentence([base, base_off, persona_off, tuned_off]) == (
        "Style without retrieval (0–1): base 0.32, persona prompt 0.33 (no change), fine-tuned "
        "0.51 (higher). The fine-tuned model carries the voice better than the prompt, with 44 "
        "prompt tokens fewer per question."
    )
    close = row("local:default,persona=N,retrieval=off", 0.50, 72)
    assert _style_sentence([base_off, close, tuned_off]) == (
        "Style without retrieval (0–1): base 0.32, persona prompt 0.50 (higher), fine-tuned "
        "0.51 (higher). The two carry it about as well; the fine-tuned one needs 44 prompt "
        "tokens fewer."
    )
    assert "No fine-tuned model was in the run" in (
        _style_sentence([base, base_off, persona_off]) or ""
    )
    assert _style_sentence([base]) is None


@pytest.mark.parametrize(
    ("on", "said"),
    [
        (0.70, "raised facts from 0.49 to 0.70"),
        (0.30, "lowered facts from 0.49 to 0.30"),
        (0.52, "left facts about the same (0.49 off, 0.52 on)"),
    ],
)
def test_the_retrieval_sentence_says_what_retrieval_did_to_facts(on: float, said: str) -> None:
    from desktop.core.evaluate.report import ConfigScores, _retrieval_sentence

    def row(spec: str, facts: float) -> tuple[ConfigScores, CellConfig]:
        c = CellConfig.parse(spec)
        return ConfigScores(spec, c.label, answered=5, facts=facts), c

    rows = [row("local:default", on), row("local:default,retrieval=off", 0.49)]
    configs, parsed = [s for s, _ in rows], [c for _, c in rows]
    assert _retrieval_sentence(rows, configs, parsed) == f"Retrieval on {said} (local:default)."


def test_a_question_the_model_cannot_take_fails_alone_and_the_run_goes_on(library) -> None:  # type: ignore[no-untyped-def]
    services, _ = library
    huge = EvalItem("Why? " * 20_000, "Because.")  # far past the model's context
    services.evals.create("huge", SetSource.MANUAL, [huge, EvalItem("How many days?", "Five.")])
    configs = [CellConfig("local:default", retrieval=False)]
    run = services.evaluator.run(services.evaluator.start("huge", configs))
    failed, answered = services.evals.results(run.id)
    assert failed.item_id == huge.id and "too long for this model" in (failed.error or "")
    assert answered.error is None and answered.answer
    assert run.finished_at is None  # the failed answer is tried again on the next run


def cite(path: str, text: str, page: int | None = None) -> Citation:
    return Citation(path, page, 0.5, text, Path(path).name)


def test_a_question_naming_only_a_file_is_scored_by_a_passage_from_that_file_and_page() -> None:
    by_file = EvalItem("How many days?", "Five.", "/docs/leave.md")
    assert by_file.scored_by == RetrievalLevel.FILE
    other, leave = cite("/docs/laptops.md", LAPTOPS), cite("/docs/leave.md", "Any passage.")
    found = retrieval_score(by_file, [other, leave, leave])
    assert found is not None and (found.hit, found.reciprocal_rank, found.rank) == (1.0, 0.5, 2)
    assert found.level == RetrievalLevel.FILE
    missed = retrieval_score(by_file, [other])
    assert missed is not None and (missed.hit, missed.rank) == (0.0, None)
    # A page named: only a passage from that page of the file is the source.
    paged = EvalItem("q?", "a", "/docs/guide.pdf", source_page=3)
    page_2, page_3 = cite("/docs/guide.pdf", "x", 2), cite("/docs/guide.pdf", "y", 3)
    assert retrieval_score(paged, [page_2, page_3]).rank == 2  # type: ignore[union-attr]
    assert retrieval_score(paged, [page_2]).rank is None  # type: ignore[union-attr]
    # A relative path (a set written elsewhere) matches the end of the passage's path.
    relative = EvalItem("q?", "a", "docs/leave.md")
    assert retrieval_score(relative, [cite("/home/ann/docs/leave.md", "t")]).rank == 1  # type: ignore[union-attr]
    assert retrieval_score(relative, [cite("/home/ann/olddocs/leave.md", "t")]).rank is None  # type: ignore[union-attr]
    # Nothing retrieved is a miss, not an error.
    assert retrieval_score(by_file, []).hit == 0.0  # type: ignore[union-attr]
    # With a passage, the passage is still what must be found, not any passage of its file.
    by_passage = EvalItem("q?", "a", "/docs/leave.md", LEAVE)
    assert retrieval_score(by_passage, [leave]).rank is None  # type: ignore[union-attr]


def _coverage_report():  # type: ignore[no-untyped-def]
    """Four questions: two with a passage, one naming only its file, one with neither; run
    with retrieval on (top k 5) and off."""
    specs = ["local:default,retrieval=on", "local:default,retrieval=off"]
    run = RunRecord("r", "s", specs, 5, None, None, None, 0.0, 1.0)
    items = [
        EvalItem("How many days carry over?", "5 days", "/docs/leave.md", LEAVE),
        EvalItem("When are laptops replaced?", "every four years", "/docs/laptops.md", LAPTOPS),
        EvalItem("Where do bicycles go?", "the shed", "/docs/parking.md"),
        EvalItem("Who has the key?", "the office manager"),
    ]
    given = [cite("/docs/canteen.md", CANTEEN), cite("/docs/parking.md", PARKING)]
    results = []
    for item, rank in zip(items, [1, None, None, None], strict=True):
        # The file-level question's rank is not stored (a run from before file-level
        # scoring): the report scores it from the passages the result kept.
        results.append(
            ResultRecord(item.id, specs[0], item.question, "x", given, rank=rank, facts=0.5)
        )
        results.append(ResultRecord(item.id, specs[1], item.question, "x", [], facts=0.2))
    return make_report(run, items, results, lambda t: np.eye(len(t)), StyleContext(None, []))


def test_the_report_says_how_many_of_the_sets_questions_hit_at_k_is_over() -> None:
    report = _coverage_report()
    on, off = report.configs
    assert (on.retrieval_questions, on.retrieval_by_file) == (3, 1)
    assert on.hit_at_k == pytest.approx(2 / 3) and on.mrr == pytest.approx((1 + 1 / 2) / 3)
    assert (off.retrieval_questions, off.hit_at_k) == (3, 0.0)
    note = report.coverage_note()
    assert note.startswith("hit@5 and MRR are over 3 of the 4 questions")
    assert "1 with only a source file" in note
    assert "The other question counts for facts only" in note
    shape = report.to_json()
    assert shape["top_k"] == 5 and shape["retrieval_coverage"] == note
    # When every question names only its file, the note does not speak of passages.
    by_file = [replace(c, retrieval_by_file=c.retrieval_questions) for c in report.configs]
    note_by_file = replace(report, configs=by_file).coverage_note()
    assert "over 3 of the 4 questions: those with a source file (none names its passage)" in (
        note_by_file
    )
    assert [c["retrieval_questions"] for c in shape["configs"]] == [3, 3]
    assert "hit_at_k" in shape["configs"][0]["scores"]  # the contract's fields stay
    header, first, _ = report.to_csv().splitlines()
    assert header.startswith("config,answered,failed,hit_at_k,mrr")
    assert header.endswith("retrieval_questions,retrieval_by_file,questions,top_k")
    assert first.endswith(",3,1,4,5")
    assert "<td>3 of 4</td>" in to_html(report) and note in to_html(report)
    terminal = report_text(report)
    assert "hit@5" in terminal and "3 of 4" in terminal and note in terminal
    assert "of the 3 questions with a known source" in report.recommendation


def test_the_recommendation_passes_each_configuration_it_names_through_label() -> None:
    # A persona with Hebrew letters, run with retrieval on and off; one answer failed, so
    # the coverage note names a configuration too.
    persona = "משמרות לילה"
    specs = [f"local:default,persona={persona},retrieval={s}" for s in ("on", "off")]
    run = RunRecord("r", "s", specs, 5, None, None, None, 0.0, 1.0)
    items = [
        EvalItem("How many days carry over?", "5 days", "/docs/leave.md", LEAVE),
        EvalItem("Where do bicycles go?", "the shed", "/docs/parking.md", PARKING),
    ]
    given = [cite("/docs/leave.md", LEAVE), cite("/docs/parking.md", PARKING)]
    results = [
        ResultRecord(items[0].id, specs[0], items[0].question, "5", given, rank=1, facts=0.9),
        ResultRecord(items[1].id, specs[0], items[1].question, "s", given, rank=2, facts=0.8),
        ResultRecord(items[0].id, specs[1], items[0].question, "x", [], facts=0.2),
        ResultRecord(items[1].id, specs[1], items[1].question, "", [], error="timed out"),
    ]
    report = make_report(run, items, results, lambda t: np.eye(len(t)), StyleContext(None, []))
    parsed = [CellConfig.parse(spec) for spec in specs]
    on, off = report.configs

    # As folio-cli writes it: the names as they are.
    plain = recommend(report, parsed)
    assert plain == report.recommendation
    assert f"(local:default + {persona})" in plain and f"Use {on.label}: " in plain
    assert f"{off.label} 1 of 2" in report.coverage_note()

    # With ``label``: each name passed through it, and nothing else.
    marked = recommend(report, parsed, label=lambda name: f"[{name}]")
    assert f"([local:default + {persona}])" in marked and f"Use [{on.label}]: " in marked
    assert marked.replace("[", "").replace("]", "") == plain
    note = report.coverage_note(label=lambda name: f"[{name}]")
    assert f"[{off.label}] 1 of 2" in note
    assert note.replace("[", "").replace("]", "") == report.coverage_note()


def test_hit_at_k_is_not_measured_and_says_so_when_no_question_has_a_source() -> None:
    specs = ["local:default,retrieval=on"]
    run = RunRecord("r", "s", specs, None, None, None, None, 0.0, 1.0)
    item = EvalItem("When is it cleaned?", "Every Friday.")
    results = [ResultRecord(item.id, specs[0], item.question, "Friday.", [cite("/a.md", "t")])]
    report = make_report(run, [item], results, lambda t: np.eye(len(t)), StyleContext(None, []))
    assert report.configs[0].hit_at_k is None and report.configs[0].retrieval_questions == 0
    assert report.coverage_note() == (
        "hit@1 and MRR are not measured: the one question answered has no source passage or "
        "source file."
    )
    assert "none of 1" in report_text(report)


def test_a_jsonl_import_keeps_the_first_of_a_repeated_question_and_names_the_lines_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "set.jsonl"
    lines = [
        {"question": "How many days carry over?", "reference": "Five."},
        {"question": "Who approves?", "reference": "The committee.", "source_path": "leave.md",
         "source_page": 2},
        {"question": "  how many DAYS   carry over? ", "reference": "Ten."},
        {"question": "Who approves?", "reference": "Someone."},
    ]  # fmt: skip
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main(["--home", str(home), "eval", "import", str(source), "--name", "s", "--json"]) == 0
    shape = json.loads(capsys.readouterr().out)
    assert shape["questions"] == 2 and shape["with_source_file"] == 1
    assert [(d["line"], d["same_as_line"]) for d in shape["duplicates_skipped"]] == [(3, 1), (4, 2)]
    assert main(["--home", str(home), "eval", "show", "s", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert [(i["reference"], i["source_page"]) for i in items] == [("Five.", None),
                                                                 ("The committee.", 2)]  # fmt: skip
    assert main(["--home", str(home), "eval", "import", str(source), "--name", "t"]) == 0
    said = capsys.readouterr().out
    assert "t: 2 questions imported." in said
    assert "2 repeated questions left out" in said and "line 3 (same as line 1)" in said


def test_a_question_liked_twice_is_kept_once_and_named(services) -> None:  # type: ignore[no-untyped-def]
    for answer_text in ("Five days.", "Up to five."):
        chat = services.chats.create("Leave?")
        services.chats.add_message(chat.id, "user", "How much leave carries over?")
        source = Citation("/docs/leave.pdf", 4, 0.9, LEAVE, "leave.pdf")
        answer = services.chats.add_message(chat.id, "assistant", answer_text, citations=[source])
        services.chats.rate(answer, LIKED)
    new = from_liked(services.chats, services.evals, "liked")
    assert [(i.reference, i.source_page) for i in new.made.items] == [("Five days.", 4)]
    assert [(s.question, s.same_as_question) for s in new.skipped] == [
        ("How much leave carries over?", 1)
    ]
    assert new.to_json()["duplicates_skipped"][0]["same_as_question"] == 1


def test_a_set_refuses_a_repeated_question_naming_the_row_it_repeats(services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        EvaluationError, match="Question 2 of 'dup' asks the same question as question 1"
    ):
        services.evals.create(
            "dup", SetSource.MANUAL, [EvalItem("One?", "1"), EvalItem("ONE? ", "2")]
        )
    assert not services.evals.exists("dup")
    services.evals.create("s", SetSource.MANUAL, [EvalItem("One?", "1"), EvalItem("Two?", "2")])
    items = services.evals.get("s").items
    with pytest.raises(EvaluationError, match=r"Row 3 of 's' asks the same question as row 1"):
        services.evals.save_items("s", [*items, EvalItem(" one? ", "again")])
    with pytest.raises(EvaluationError, match="repeats question 2 of 's'"):
        services.evals.append("s", [EvalItem("two?", "again")])
    assert [i.question for i in services.evals.get("s").items] == ["One?", "Two?"]


def test_a_failed_answer_is_kept_in_the_words_of_whoever_ran_it(  # type: ignore[no-untyped-def]
    services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)  # OpenAI itself, and no key for it
    services.evals.create("keyless", SetSource.MANUAL, [EvalItem("How many days?", "Five.")])
    configs = [CellConfig("openai:gpt-4o-mini", retrieval=False)]
    run = services.evaluator.run(services.evaluator.start("keyless", configs))
    (in_window,) = services.evals.results(run.id)
    services.evaluator.run(run, cli=True)  # the failed answer is tried again
    (in_cli,) = services.evals.results(run.id)
    assert in_window.error and "Settings → Models and Providers" in in_window.error
    assert in_cli.error and "`folio-cli models set-key openai`" in in_cli.error
    assert "Settings" not in in_cli.error


def test_the_same_cells_in_another_order_resume_the_run_in_the_order_it_was_started(  # type: ignore[no-untyped-def]
    services,
) -> None:
    services.evals.create("s", SetSource.MANUAL, [EvalItem("One?", "1")])
    on, off = CellConfig("local:default"), CellConfig("local:default", retrieval=False)
    run = services.evaluator.start("s", [on, off])
    resumed = services.evaluator.start("s", [off, on])
    assert resumed.id == run.id  # one grid, whatever the order its cells are given in
    assert resumed.configs == [on.spec(), off.spec()]  # the order the run was started with
    assert len(services.evals.runs("s")) == 1
    # Asked for anew, the cells keep the order given this time, as its report will.
    fresh = services.evaluator.start("s", [off, on], new=True)
    assert fresh.id != run.id and fresh.configs == [off.spec(), on.spec()]
    # Another grid is another run: one cell more, or one fewer.
    assert services.evaluator.start("s", [off]).id not in {run.id, fresh.id}


def test_a_set_is_found_by_a_name_that_reads_the_same_when_only_one_does(services) -> None:  # type: ignore[no-untyped-def]
    evals = services.evals
    evals.create("good", SetSource.MANUAL, [EvalItem("One?", "1")])
    assert evals.get("GOOD").name == "good" and evals.exists(" Good ")
    evals.append("GOOD", [EvalItem("Two?", "2")])
    assert [i.question for i in evals.get("good").items] == ["One?", "Two?"]
    run = evals.start_run("GOOD", ["local:default,retrieval=off"])
    assert run.set_name == "good" and [r.id for r in evals.runs("GOOD")] == [run.id]
    assert evals.unfinished("GOOD", ["local:default,retrieval=off"]) == run
    assert evals.rename("GOOD", "Good").name == "Good"  # a case change is a rename of it
    assert [r.id for r in evals.runs("good")] == [run.id]  # its runs followed
    evals.delete("GOOD")
    assert evals.sets() == [] and not evals.exists("good")
    with pytest.raises(EvaluationError, match="No evaluation set is called 'GOOD'"):
        evals.get("GOOD")


def test_of_two_sets_whose_names_read_the_same_the_one_spelled_so_is_found(  # type: ignore[no-untyped-def]
    services,
) -> None:
    evals = services.evals
    evals.create("good", SetSource.MANUAL, [EvalItem("One?", "1")])
    # A library from before names were matched by their key may hold both.
    with sqlite3.connect(services.home / "evaluations.db") as db:
        db.execute("INSERT INTO eval_sets VALUES ('Good', 'manual', NULL, NULL, 0)")
    db.close()
    assert evals.get("good").name == "good" and evals.get("Good").name == "Good"
    with pytest.raises(EvaluationError, match=r"2 read the same \('Good', 'good'\)"):
        evals.get("GOOD")


def test_a_jsonl_path_that_is_missing_or_a_folder_is_named_for_what_it_is(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    for path, said in (
        (tmp_path / "missing.jsonl", "missing.jsonl does not exist: check the path"),
        (tmp_path / "dangling.jsonl", "dangling.jsonl does not exist: check the path"),
        (tmp_path, "is a folder: give a JSONL file in it"),
        (Path("/dev/null"), "/dev/null is not a file: give a JSONL file"),
    ):
        with pytest.raises(EvaluationError, match=said):
            import_jsonl(services.evals, "x", path)
    assert services.evals.sets() == []
