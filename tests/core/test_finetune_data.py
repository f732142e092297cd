"""Training data: reading and writing examples, validation and the dataset library.

Real data no one here wrote comes from the ``moodswapper`` package's prompt/response JSONL
files (located with importlib, never imported: its code needs PyTorch). Broken copies are
made from them in the test's folder. Everything runs on real files and real tiktoken.
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken

from desktop.core.errors import DatasetError
from desktop.core.finetune.datasets import DatasetStore, check_name
from desktop.core.finetune.examples import (
    Example,
    LineProblem,
    example_from_record,
    named_problems,
    read_examples,
    write_examples,
)
from desktop.core.finetune.pricing import (
    BASE_MODELS,
    DEFAULT_BASE,
    MIN_EXAMPLES,
    PRICES_AS_OF,
    base_model,
    default_epochs,
    estimate_cost_usd,
)
from desktop.core.finetune.validate import (
    example_problems,
    validate_examples,
    validate_file,
)
from desktop.core.models.tokens import token_encoding

MOODS = [
    "bored",
    "childish",
    "depressed",
    "drunk",
    "exhausted",
    "happy",
    "nostalgic",
    "scared",
    "zen",
]


@pytest.fixture(scope="module")
def mood_data() -> Path:
    spec = importlib.util.find_spec("moodswapper")
    assert spec is not None and spec.origin, (
        "moodswapper is not installed: `make .venv/bin/.installed` installs it (--no-deps)"
    )
    return Path(spec.origin).parent / "data"


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def chat(question: str, answer: str, system: str | None = None) -> Example:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return Example(messages)


def some_examples(count: int, tag: str = "q") -> list[Example]:
    return [chat(f"{tag} question {i}?", f"Answer {i}, calmly.") for i in range(count)]


def write_lines(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


# -- examples --------------------------------------------------------------------------------


def test_example_json_prompt_and_answer() -> None:
    example = Example(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First?"},
            {"role": "assistant", "content": "One."},
            {"role": "user", "content": "Second?"},
            {"role": "assistant", "content": "Two."},
        ],
        line=4,
    )
    assert example.to_json() == {"messages": example.messages}
    assert "line" not in example.to_json()
    assert (example.prompt, example.answer) == ("Second?", "Two.")
    assert (Example([]).prompt, Example([]).answer) == ("", "")


def test_records_in_chat_format_and_as_pairs() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert example_from_record({"messages": messages}, line=3) == Example(messages, 3)
    pair = example_from_record({"prompt": "Why?", "completion": "Because."})
    assert pair.messages == [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Because."},
    ]
    with pytest.raises(DatasetError) as caught:
        example_from_record({"question": "Why?", "answer": "Because."}, line=8)
    message = str(caught.value)
    assert message.startswith("Line 8: ")
    assert 'needs "messages", or "prompt" and "response"' in message
    assert '"question", "answer"' in message
    with pytest.raises(DatasetError, match="not a JSON object"):
        example_from_record(["user", "hi"])
    with pytest.raises(DatasetError, match='"messages" is a string'):
        example_from_record({"messages": "hi"})


def test_moodswapper_files_convert_to_chat_examples(mood_data: Path) -> None:
    for mood in MOODS:
        path = mood_data / f"{mood}.jsonl"
        records = [json.loads(line) for line in lines_of(path)]
        read = read_examples(path)
        assert read.problems == [], mood
        assert len(read.examples) == len(records) == read.pairs
        for number, (example, record) in enumerate(zip(read.examples, records, strict=True), 1):
            assert example.line == number
            assert example.messages == [
                {"role": "user", "content": record["prompt"]},
                {"role": "assistant", "content": record["response"]},
            ]
    persona = read_examples(mood_data / "zen.jsonl", system_prompt="You are serene.")
    assert persona.examples[0].messages[0] == {"role": "system", "content": "You are serene."}
    assert [m["role"] for m in persona.examples[-1].messages] == ["system", "user", "assistant"]


def test_bad_lines_are_problems_with_their_line_numbers(tmp_path: Path) -> None:
    good = {"prompt": "Hi?", "response": "Hello."}
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [good, "", '{"prompt": "Hi?", "respo', "   ", "[1, 2]", {"text": "x"}, good, ""],
    )
    # Valid JSON, but half of a surrogate pair: no file or database can hold it.
    with path.open("a", encoding="utf-8") as file:
        file.write('{"prompt": "Half \\ud800 a pair", "response": "x"}\n')
    read = read_examples(path)
    assert [e.line for e in read.examples] == [1, 7]
    assert [p.line for p in read.problems] == [3, 5, 6, 9]
    assert read.problems[0].reason.startswith("not valid JSON: a text is not closed by its")
    assert "not a JSON object (a list)" in read.problems[1].reason
    assert '"text"' in read.problems[2].reason
    assert "half of a surrogate pair" in read.problems[3].reason


# Lines Python's json module reads by crashing, by a ValueError of another kind, or into
# floats no JSON writer can write back: each is a bad line like any other.
UNUSUAL_JSON = {
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "a 5,000-digit weight": (
        '{"messages": [{"role": "user", "content": "hi", "weight": ' + "9" * 5000 + "}]}"
    ),
    "NaN": '{"messages": [{"role": "user", "content": "hi", "weight": NaN}]}',
    "1e999": '{"messages": [{"role": "user", "content": "hi", "weight": 1e999}]}',
    "nested 101 deep": '{"prompt": "Q?", "response": "A.", "x": ' + "[" * 100 + "]" * 100 + "}",
}


def test_json_python_cannot_read_is_a_bad_line_never_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "unusual.jsonl"
    write_examples(path, some_examples(MIN_EXAMPLES))
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(line + "\n" for line in UNUSUAL_JSON.values()))
    first = MIN_EXAMPLES + 1
    report = validate_file(path)
    assert not report.ok and report.examples == MIN_EXAMPLES
    assert [p.line for p in report.errors] == list(range(first, first + len(UNUSUAL_JSON)))
    deep, digits, nan, infinite, just_too_deep = (p.reason for p in report.errors)
    assert deep == "not valid JSON: lists or objects nested more than 100 levels deep"
    assert digits == (
        "not valid JSON: a number with 5,000 digits; Folio reads numbers of up to 4,300"
    )
    assert nan == "not valid JSON: NaN is not a JSON number; write a number or null"
    assert infinite == "not valid JSON: the number 1e999 is too large to hold"
    assert just_too_deep == deep
    shown = json.loads(json.dumps(report.to_json()))
    assert [e["line"] for e in shown["errors"]] == [p.line for p in report.errors]
    # Nesting up to the limit is JSON like any other.
    fine = write_lines(
        tmp_path / "fine.jsonl",
        ['{"prompt": "Q?", "response": "A.", "x": ' + "[" * 99 + "]" * 99 + "}"],
    )
    assert len(read_examples(fine).examples) == 1


def test_a_dataset_with_unusual_json_lines_names_them(store: DatasetStore, tmp_path: Path) -> None:
    path = tmp_path / "unusual.jsonl"
    write_examples(path, some_examples(12))
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(line + "\n" for line in UNUSUAL_JSON.values()))
    info, problems = store.import_file(path)
    assert info.train_examples == 12 and [p.line for p in problems] == [13, 14, 15, 16, 17]
    # A deep last line with no newline is a torn append: left out, counted as Folio reads.
    train = store.root / info.name / "train.jsonl"
    train.write_bytes(train.read_bytes() + UNUSUAL_JSON["nested 100,000 deep"].encode())
    assert store.get(info.name).train_examples == 12
    assert store.append(info.name, some_examples(1, "new")).train_examples == 13
    assert len(store.load(info.name)[0]) == 13
    train.write_text(
        train.read_text(encoding="utf-8") + UNUSUAL_JSON["a 5,000-digit weight"] + "\n",
        encoding="utf-8",
    )
    with pytest.raises(DatasetError) as caught:
        store.load(info.name)
    assert "line 14: not valid JSON: a number with 5,000 digits" in str(caught.value)


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(DatasetError, match="No such file") as caught:
        read_examples(missing)
    assert str(missing) in str(caught.value)
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(b'\n{"prompt": "caf\xe9", "response": "x"}\n')
    with pytest.raises(DatasetError) as caught:
        read_examples(latin)
    assert str(latin) in str(caught.value)
    assert "not UTF-8" in str(caught.value) and "line 2" in str(caught.value)
    with pytest.raises(DatasetError, match="is a folder: choose a JSONL file") as caught:
        read_examples(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_write_examples_round_trips_text_exactly(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    # U+2028 is valid inside a JSON string but a line break to str.splitlines().
    tricky = [chat("Café?\u2028Line two", "Ça va.\r\nOui."), chat('"quoted"', "emoji 🙂")]
    write_examples(path, tricky)
    raw = path.read_text(encoding="utf-8")
    assert raw.count("\n") == 2 and "Café" in raw
    read = read_examples(path)
    assert read.problems == []
    assert [e.messages for e in read.examples] == [e.messages for e in tricky]
    assert [e.line for e in read.examples] == [1, 2]


def test_write_examples_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    write_examples(path, some_examples(3))
    before = path.read_bytes()

    def failing() -> Iterator[Example]:
        yield from some_examples(2, "new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_examples(path, failing())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.jsonl"]
    write_examples(path, some_examples(5, "new"))
    assert len(read_examples(path).examples) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.jsonl"]


# -- prices ----------------------------------------------------------------------------------


def test_price_table_aliases_and_cost() -> None:
    assert DEFAULT_BASE == "gpt-4o-mini-2024-07-18" == BASE_MODELS[0].name
    assert PRICES_AS_OF[:2] == "20" and len(PRICES_AS_OF) == 10
    for name in ("gpt-4o-mini", "openai:gpt-4o-mini", "gpt-4o-mini-2024-07-18"):
        model = base_model(name)
        assert model is not None and model.name == "gpt-4o-mini-2024-07-18"
        assert model.usd_per_million_training_tokens == 3.00
        assert model.max_tokens_per_example == 65_536 and model.encoding == "o200k_base"
    ft = base_model("openai:ft:gpt-4.1-nano-2025-04-14:acme::abc123")
    assert ft is not None and ft.name == "gpt-4.1-nano-2025-04-14"
    legacy = base_model("gpt-3.5-turbo")
    assert legacy is not None and legacy.name == "gpt-3.5-turbo-0125"
    assert (legacy.max_tokens_per_example, legacy.encoding) == (16_385, "cl100k_base")
    prices = {m.name: m.usd_per_million_training_tokens for m in BASE_MODELS}
    assert prices == {
        "gpt-4o-mini-2024-07-18": 3.00,
        "gpt-4.1-mini-2025-04-14": 5.00,
        "gpt-4.1-nano-2025-04-14": 1.50,
        "gpt-4.1-2025-04-14": 25.00,
        "gpt-4o-2024-08-06": 25.00,
        "gpt-3.5-turbo-0125": 8.00,
    }
    assert base_model("llama-3-8b") is None and base_model("gpt-4") is None
    assert estimate_cost_usd(1_000_000, 3, "gpt-4o-mini") == pytest.approx(9.0)
    assert estimate_cost_usd(200_000, 2, "gpt-4.1-nano") == pytest.approx(0.6)
    assert estimate_cost_usd(1_000, 3, "llama-3-8b") is None


def test_default_epochs_follow_the_cookbook() -> None:
    # n*3 < 100 -> min(25, 100 // n); n*3 > 25000 -> max(1, 25000 // n); else 3.
    cases = {1: 25, 3: 25, 4: 25, 5: 20, 10: 10, 33: 3, 34: 3, 500: 3, 8333: 3}
    cases |= {8334: 2, 12_500: 2, 12_501: 1, 100_000: 1}
    assert {n: default_epochs(n) for n in cases} == cases


# -- validation ------------------------------------------------------------------------------


def cookbook_tokens(messages: list[dict[str, str]], encoding: tiktoken.Encoding) -> int:
    """num_tokens_from_messages from OpenAI's cookbook, written out again."""
    total = 3
    for message in messages:
        total += 3 + sum(len(encoding.encode(value)) for value in message.values())
    return total


def test_moodswapper_files_validate(mood_data: Path) -> None:
    o200k = token_encoding("o200k_base")
    assert "TIKTOKEN_CACHE_DIR" not in os.environ  # pointed at only while loading
    for mood in MOODS:
        path = mood_data / f"{mood}.jsonl"
        count = len(lines_of(path))
        report = validate_file(path, "gpt-4o-mini")
        assert report.ok, (mood, report.errors[:3])
        assert report.examples == count == len(report.tokens_per_example)
        assert report.base_model == "gpt-4o-mini-2024-07-18"
        assert report.token_encoding == "o200k_base"
        assert report.epochs == 3  # 297..536 examples: the cookbook's target
        assert report.tokens == sum(report.tokens_per_example) > 0
        assert min(report.tokens_per_example) > 10
        assert report.estimated_cost_usd == pytest.approx(report.tokens * 3 * 3.00 / 1e6)
        assert report.estimated_cost_usd is not None and report.estimated_cost_usd > 0
        # No duplicates in the real files; the only note says the pairs get converted.
        assert [w.line for w in report.warnings] == [0]
        assert f"{count} of the examples are prompt/response pairs" in report.warnings[0].reason
    scared = mood_data / "scared.jsonl"
    read = read_examples(scared)
    report = validate_file(scared)
    assert report.tokens_per_example == [cookbook_tokens(e.messages, o200k) for e in read.examples]
    legacy = validate_file(scared, "gpt-3.5-turbo")
    assert legacy.token_encoding == "cl100k_base" and legacy.ok
    cl100k = token_encoding("cl100k_base")
    assert legacy.tokens == sum(cookbook_tokens(e.messages, cl100k) for e in read.examples)
    assert legacy.estimated_cost_usd == pytest.approx(legacy.tokens * 3 * 8.00 / 1e6)


def broken_copy(source: Path, folder: Path) -> tuple[Path, int]:
    """A real file with a truncated line 7, a "robot" at 12, an empty response at 20, a
    huge example at 25 and line 3 again at the end; also the huge example's size in words."""
    lines = lines_of(source)
    lines[6] = lines[6][: len(lines[6]) // 2]
    record = json.loads(lines[11])
    lines[11] = json.dumps(
        {
            "messages": [
                {"role": "user", "content": record["prompt"]},
                {"role": "robot", "content": record["response"]},
            ]
        }
    )
    record = json.loads(lines[19])
    record["response"] = "   "
    lines[19] = json.dumps(record)
    words = 70_000
    record = json.loads(lines[24])
    record["response"] = "tremble " * words
    lines[24] = json.dumps(record)
    lines.append(lines[2])
    path = folder / f"broken-{source.name}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines)


def test_broken_copy_fails_on_exactly_those_lines(mood_data: Path, tmp_path: Path) -> None:
    path, line_count = broken_copy(mood_data / "scared.jsonl", tmp_path)
    report = validate_file(path, "gpt-4o-mini")
    assert not report.ok
    assert [p.line for p in report.errors] == [7, 12, 20, 25]
    truncated, robot, empty, huge = (p.reason for p in report.errors)
    assert truncated.startswith("not valid JSON")
    assert 'role "robot"' in robot and "message 2" in robot
    assert empty == "message 2 (assistant) is empty."
    # Line 7 could not be read: examples and their tokens skip it, lines do not.
    assert report.examples == line_count - 1
    huge_tokens = report.tokens_per_example[25 - 2]
    assert huge_tokens > 65_536
    assert f"{huge_tokens:,} tokens" in huge and "65,536" in huge
    assert "gpt-4o-mini-2024-07-18" in huge
    # What is billed for the huge example stops at the model's limit (the cookbook's rule).
    capped = [min(t, 65_536) for t in report.tokens_per_example]
    assert report.tokens == sum(capped) < sum(report.tokens_per_example)
    assert [w.line for w in report.warnings] == [0, line_count]
    assert report.warnings[1].reason == "the same example as line 3 (a duplicate)."


def test_validate_report_has_the_cli_shape(mood_data: Path, tmp_path: Path) -> None:
    path, _ = broken_copy(mood_data / "bored.jsonl", tmp_path)
    shown = json.loads(json.dumps(validate_file(path).to_json()))
    assert {"ok", "examples", "tokens", "estimated_cost_usd", "errors"} <= shown.keys()
    assert shown["ok"] is False
    assert [e["line"] for e in shown["errors"]] == [7, 12, 20, 25]
    assert all(set(e) == {"line", "reason"} and e["reason"] for e in shown["errors"])
    assert shown["base_model"] == DEFAULT_BASE and shown["prices_as_of"] == PRICES_AS_OF
    assert shown["epochs"] == 3 and shown["token_encoding"] == "o200k_base"
    assert shown["estimated_cost_usd"] > 0 and shown["longest_example_tokens"] > 65_536
    assert [w["line"] for w in shown["warnings"]] == [0, 504]
    good = validate_file(mood_data / "zen.jsonl").to_json()
    assert good["ok"] is True and good["errors"] == [] and good["examples"] == 536


def test_unreadable_file_is_an_error_on_line_0(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    report = validate_file(missing)
    assert not report.ok and report.examples == 0 and report.estimated_cost_usd is None
    assert [p.line for p in report.errors] == [0]
    assert str(missing) in report.errors[0].reason
    shown = report.to_json()
    assert shown["ok"] is False and shown["errors"][0]["line"] == 0


def test_too_few_examples(tmp_path: Path) -> None:
    nine = tmp_path / "nine.jsonl"
    write_examples(nine, some_examples(MIN_EXAMPLES - 1))
    report = validate_file(nine)
    assert [p.line for p in report.errors] == [0]
    assert report.errors[0].reason.startswith("9 examples; OpenAI needs at least 10")
    assert report.estimated_cost_usd is not None and report.epochs == 11  # 100 // 9
    ten = tmp_path / "ten.jsonl"
    write_examples(ten, some_examples(MIN_EXAMPLES))
    assert validate_file(ten).ok
    assert validate_examples([]).errors == [
        LineProblem(
            0,
            "0 examples; OpenAI needs at least 10 (50 to 100 good ones usually make a difference).",
        )
    ]


def test_chat_format_roles_and_order(tmp_path: Path) -> None:
    def msgs(*pairs: tuple[str, str]) -> dict[str, object]:
        return {"messages": [{"role": r, "content": c} for r, c in pairs]}

    good = [
        msgs(("system", "Be calm."), ("user", f"Q{i}?"), ("assistant", "A.")) for i in range(10)
    ]
    bad: dict[int, object] = {
        11: msgs(("user", "Q?"), ("system", "Late."), ("assistant", "A.")),
        12: msgs(("assistant", "A."), ("user", "Q?"), ("assistant", "B.")),
        13: msgs(("system", "Be calm."), ("user", "Q?")),
        14: msgs(("user", "Q?"), ("assistant", "A."), ("user", "And?")),
        15: {"messages": []},
        16: {"messages": [{"role": "user"}, {"role": "assistant", "content": "A."}]},
        17: {"messages": [{"role": "user", "content": "Q?"}, "A."]},
        18: {"messages": [{"content": "Q?"}, {"role": "assistant", "content": "A."}]},
        19: {"text": "Q? A."},
        20: {"messages": "Q? A."},
        21: msgs(("user", ""), ("assistant", " \n")),
        22: msgs(
            ("system", "S."),
            ("user", "Q?"),
            ("assistant", "A."),
            ("user", "More?"),
            ("assistant", "B."),
        ),
    }
    path = write_lines(tmp_path / "chat.jsonl", [*good, *bad.values()])
    report = validate_file(path)
    reasons: dict[int, list[str]] = {}
    for problem in report.errors:
        reasons.setdefault(problem.line, []).append(problem.reason)
    assert list(reasons) == list(range(11, 22))  # line 22, a longer conversation, is fine
    assert reasons[11] == ["message 2 is a system message: only the first message may be."]
    assert reasons[12] == ["the first assistant message comes before any user message."]
    assert reasons[13] == ["no assistant message: an example needs an answer to learn from."]
    assert reasons[14] == ["the last message must be the assistant's answer."]
    assert reasons[15] == [
        '"messages" is empty; it must be a non-empty list of {"role": ..., "content": ...} objects.'
    ]
    assert reasons[16] == ['message 1 (user) has no "content": give it the message\'s text.']
    assert reasons[17] == ['message 2 is a string; it must be an object with "role" and "content".']
    assert reasons[18] == ['message 1 has no "role": give it "system", "user" or "assistant".']
    assert 'needs "messages", or "prompt" and "response"' in reasons[19][0]
    assert reasons[20][0].startswith('"messages" is a string')
    assert reasons[21] == ["message 1 (user) is empty.", "message 2 (assistant) is empty."]
    assert report.examples == 20  # lines 19 and 20 are not examples at all
    assert report.warnings == []  # chat format: nothing to convert, no duplicates


def test_content_parts_text_and_images_as_openai_takes_them(tmp_path: Path) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}

    def parts(*texts: str, images: int = 0) -> list[dict[str, object]]:
        return [{"type": "text", "text": t} for t in texts] + [image] * images

    def example(user: object, answer: object = "A cat.") -> dict[str, object]:
        return {
            "messages": [
                {"role": "user", "content": user},
                {"role": "assistant", "content": answer},
            ]
        }

    good = [example(f"What is {i}?") for i in range(8)]
    good += [example(parts("What is", "this?", images=1)), example(parts("Name it."))]
    bad: dict[int, object] = {
        11: example("Q?", parts("A", images=1)),
        12: example([{"type": "audio", "data": "..."}]),
        13: example([{"type": "text"}]),
        14: example([{"type": "image_url", "image_url": "https://example.com/cat.png"}]),
        15: example(parts(" ")),
    }
    path = write_lines(tmp_path / "parts.jsonl", [*good, *bad.values()])
    report = validate_file(path)
    reasons = {p.line: p.reason for p in report.errors}
    assert reasons == {
        11: "message 2 (assistant): content part 2 is an image; only user messages may have "
        "images.",
        12: 'message 1 (user): content part 1 is not text or an image: each part needs "type": '
        '"text" or "image_url".',
        13: 'message 1 (user): content part 1 has no "text".',
        14: 'message 1 (user): content part 1\'s "image_url" is a string; it must be an object '
        '{"url": ...}.',
        15: "message 1 (user) is empty.",
    }
    # The text parts are counted, joined as one text; images are said to be left out.
    o200k = token_encoding("o200k_base")
    read = read_examples(path)
    assert read.examples[8].prompt == "What is\nthis?" and read.examples[9].prompt == "Name it."
    as_text = [
        {"role": "user", "content": "What is\nthis?"},
        {"role": "assistant", "content": "A cat."},
    ]
    assert report.tokens_per_example[8] == cookbook_tokens(as_text, o200k)
    assert [w.reason for w in report.warnings] == [  # lines 9, 11 and 14
        "3 examples have images: their tokens depend on the images' sizes and are not in the "
        "estimate."
    ]


def reasons_by_line(problems: list[LineProblem]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.line, []).append(problem.reason)
    return found


def test_every_problem_of_a_line_is_an_error_of_its_own_in_message_order(tmp_path: Path) -> None:
    good = [{"messages": chat(f"Q{i}?", "A.").messages} for i in range(10)]
    bad: dict[int, object] = {
        11: {"messages": [{"role": "robot", "content": "Q?"}, {"role": "assistant"}]},
        12: {
            "messages": [
                {"role": "user", "content": "Q?"},
                {"role": "system", "content": "Late."},
                {"role": "user", "content": "And?"},
            ]
        },
        13: {
            "messages": [
                {"role": "assistant", "content": ""},
                {"role": "system", "content": "Late."},
                {"role": "user", "content": 7},
            ]
        },
    }
    path = write_lines(tmp_path / "many.jsonl", [*good, *bad.values()])
    report = validate_file(path)
    assert [p.line for p in report.errors] == [11, 11, 12, 12, 13, 13, 13, 13, 13]
    found = reasons_by_line(report.errors)
    assert found[11] == [
        'message 1 has the role "robot"; it must be "system", "user" or "assistant".',
        'message 2 (assistant) has no "content": give it the message\'s text.',
    ]  # no word on the order: "robot" may be meant as the user
    assert found[12] == [
        "message 2 is a system message: only the first message may be.",
        "no assistant message: an example needs an answer to learn from.",
    ]
    assert found[13] == [
        "message 1 (assistant) is empty.",
        "message 2 is a system message: only the first message may be.",
        'message 3\'s "content" is a number; it must be text.',
        "the first assistant message comes before any user message.",
        "the last message must be the assistant's answer.",
    ]
    shown = report.to_json()["errors"]
    assert [e["line"] for e in shown] == [p.line for p in report.errors]
    assert all(set(e) == {"line", "reason"} for e in shown)


def test_a_value_of_the_wrong_type_is_named_with_what_it_must_be(tmp_path: Path) -> None:
    def one(message: object) -> dict[str, object]:
        return {"messages": [message, {"role": "assistant", "content": "A."}]}

    user = {"role": "user", "content": "Q?"}
    bad: dict[int, object] = {
        1: one({"role": "user", "content": 42}),
        2: one({"role": 7, "content": "Q?"}),
        3: one({"role": ["user"], "content": "Q?"}),
        4: one({"role": "user", "content": {"text": "Q?"}}),
        5: one({"role": "user", "content": None}),
        6: one("Q?"),
        7: one(["user", "Q?"]),
        8: {"messages": [user, {"role": "assistant", "content": "A.", "weight": 2}]},
        9: {"messages": [user, {"role": "assistant", "content": "A.", "weight": "1"}]},
        10: {"messages": [user, {"role": "assistant", "content": "A.", "weight": True}]},
        11: one({"role": "user", "content": "Q?", "name": 3}),
        12: one({"role": "user", "content": [{"type": "text", "text": 5}]}),
        13: one({"role": "user", "content": ["Q?"]}),
        14: {"messages": {"role": "user", "content": "Q?"}},
        15: {"messages": [user, {"role": "assistant", "content": "A.", "weight": 0}]},
    }
    path = write_lines(tmp_path / "types.jsonl", list(bad.values()))
    found = reasons_by_line(validate_file(path).errors)
    must_be_role = 'it must be "system", "user" or "assistant".'
    assert found[1] == ['message 1\'s "content" is a number; it must be text.']
    assert found[2] == [f'message 1\'s "role" is a number; {must_be_role}']
    assert found[3] == [f'message 1\'s "role" is a list; {must_be_role}']
    assert found[4] == ['message 1\'s "content" is an object; it must be text.']
    assert found[5] == ['message 1\'s "content" is null; it must be text.']
    assert found[6] == ['message 1 is a string; it must be an object with "role" and "content".']
    assert found[7] == ['message 1 is a list; it must be an object with "role" and "content".']
    weight = 'message 2\'s "weight" is {}; it must be 0 (context, not learned) or 1 (learned).'
    assert found[8] == [weight.format("2")]
    assert found[9] == [weight.format("a string")]
    assert found[10] == [weight.format("true or false")]
    assert found[11] == ['message 1\'s "name" is a number; it must be text.']
    assert found[12] == ['message 1 (user): content part 1\'s "text" is a number; it must be text.']
    assert found[13] == [
        'message 1 (user): content part 1 is a string; it must be an object with "type": '
        '"text" or "image_url".'
    ]
    assert found[14] == [
        '"messages" is an object; it must be a list of {"role": ..., "content": ...} objects.'
    ]
    assert 15 not in found  # "weight": 0 keeps an answer as context, as OpenAI allows
    # Built in memory (the editor's table), an example says the same of its messages.
    in_memory = Example([{"role": "user", "content": 42}, {"role": "assistant", "content": "A."}])  # type: ignore[list-item]
    assert example_problems(in_memory) == ['message 1\'s "content" is a number; it must be text.']
    listless = Example({"role": "user"})  # type: ignore[arg-type]
    assert example_problems(listless)[0].startswith('"messages" is an object; it must be a list')


LATIN1 = '{"prompt": "Où est le café ?", "response": "Là."}\n'.encode("latin-1")


def test_a_file_that_is_not_utf8_text_is_refused_saying_where_and_what_to_do(
    tmp_path: Path,
) -> None:
    lines = [{"prompt": f"Q{i}?", "response": "A."} for i in range(12)]
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in lines)
    binary = bytes(range(256)) * 8
    files = {
        "latin1.jsonl": (LATIN1 * 12, 1, 13, 0xF9, ""),
        "utf16.jsonl": (text.encode("utf-16"), 1, 0, 0xFF, "UTF-16 byte-order mark"),
        "utf16le.jsonl": (text.encode("utf-16-le"), 1, 1, 0x00, "NUL bytes"),
        "picture.png": (binary, 1, 0, 0x00, "NUL bytes"),
    }
    for name, (data, line, offset, value, looks) in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DatasetError) as caught:
            read_examples(path)
        said = str(caught.value)
        assert said.startswith(f"{path} is not UTF-8 text"), said
        assert f"0x{value:02X}, on line {line} at byte offset {offset}." in said, said
        assert looks in said and "Save it as UTF-8" in said
        report = validate_file(path)
        assert not report.ok and not report.readable and report.estimated_cost_usd is None
        assert report.errors == [LineProblem(0, said)] and report.warnings == []
        assert report.to_json()["readable"] is False


def test_a_file_with_some_lines_not_utf8_names_them_and_counts_the_rest(tmp_path: Path) -> None:
    good = [{"prompt": f"Wie heißt Frage {i}?", "response": "Grüße."} for i in range(12)]
    data = codecs.BOM_UTF8 + b"".join(
        json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n" for record in good
    )
    first_bad = len(data) + LATIN1.index(b"\xf9")
    data += LATIN1 + b"\n" + LATIN1  # lines 13 and 15 (14 is blank)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(data)
    read = read_examples(path)
    assert [e.line for e in read.examples] == list(range(1, 13))
    assert read.examples[0].prompt == "Wie heißt Frage 0?"
    assert [p.line for p in read.problems] == [13, 15]
    assert read.problems[0].reason == (
        f"not UTF-8 text (byte 0xF9, at byte offset {first_bad:,} of the file): save the file "
        "as UTF-8, or retype that line's non-ASCII characters."
    )
    assert data[first_bad] == 0xF9 and f"offset {first_bad + len(LATIN1) + 1:,} " in (
        read.problems[1].reason
    )
    report = validate_file(path)
    assert report.readable and report.examples == 12
    assert [p.line for p in report.errors] == [13, 15]


def test_a_torn_last_line_cut_inside_a_character_is_left_out_of_a_dataset(
    store: DatasetStore,
) -> None:
    store.create("torn", some_examples(3), source="manual")
    train = store.get("torn").train_path
    with train.open("ab") as file:  # a crash in the middle of "é" (0xC3 0xA9)
        file.write(b'{"messages": [{"role": "user", "content": "caf\xc3')
    train_examples, _ = store.load("torn")
    assert len(train_examples) == 3


def test_validating_examples_in_memory_uses_their_positions() -> None:
    examples = some_examples(12)
    examples[4] = chat("Q?", "")
    examples.append(chat("q question 1?", "Answer 1, calmly."))
    report = validate_examples(examples, "gpt-4.1-mini", epochs=4)
    assert report.errors == [LineProblem(5, "message 2 (assistant) is empty.")]
    assert report.warnings == [LineProblem(13, "the same example as line 2 (a duplicate).")]
    assert report.epochs == 4 and report.base_model == "gpt-4.1-mini-2025-04-14"
    assert report.estimated_cost_usd == pytest.approx(report.tokens * 4 * 5.00 / 1e6)


def test_unknown_base_model_warns_and_has_no_estimate() -> None:
    report = validate_examples(some_examples(12), "llama-3-8b")
    assert report.ok and report.estimated_cost_usd is None
    assert report.base_model == "llama-3-8b" and report.tokens > 0
    assert [w.line for w in report.warnings] == [0]
    assert '"llama-3-8b" is not a base model Folio knows' in report.warnings[0].reason
    assert report.to_json()["estimated_cost_usd"] is None


# -- datasets --------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    return DatasetStore(tmp_path / "finetune" / "datasets")


def texts(examples: list[Example]) -> list[str]:
    return [e.prompt for e in examples]


def test_create_list_get_and_load(store: DatasetStore) -> None:
    assert store.all() == []
    first = store.create("Zen v1", some_examples(12, "zen"), source="generated", persona="Zen")
    assert (first.name, first.source, first.persona) == ("Zen v1", "generated", "Zen")
    assert (first.train_examples, first.validation_examples) == (12, 0)
    assert first.train_path == store.root / "Zen v1" / "train.jsonl"
    assert first.validation_path is None
    meta = json.loads((store.root / "Zen v1" / "dataset.json").read_text(encoding="utf-8"))
    assert meta == {"source": "generated", "persona": "Zen", "created_at": first.created_at}
    second = store.create(
        "liked", some_examples(3, "liked"), source="chats", validation=some_examples(2, "held")
    )
    assert second.validation_path == store.root / "liked" / "validation.jsonl"
    assert (second.train_examples, second.validation_examples) == (3, 2)
    assert [info.name for info in store.all()] == ["liked", "Zen v1"]  # newest first
    assert store.get("Zen v1") == first
    train, validation = store.load("liked")
    assert texts(train) == [f"liked question {i}?" for i in range(3)]
    assert texts(validation) == ["held question 0?", "held question 1?"]
    assert json.loads(json.dumps(second.to_json()))["validation_path"] == str(
        second.validation_path
    )
    with pytest.raises(DatasetError, match='already a dataset named "liked"'):
        store.create("liked", some_examples(1), source="manual")
    with pytest.raises(DatasetError, match='no dataset named "nope"'):
        store.get("nope")
    assert sorted(p.name for p in store.root.iterdir()) == ["Zen v1", "liked"]


def test_names(store: DatasetStore) -> None:
    for good in ("Zen v1.2 (draft)", "été_2026-x", "a", "x" * 64):
        assert check_name(good) == good
    assert check_name("  padded  ") == "padded"
    for bad, why in {
        "": "it is empty",
        "x" * 65: "65 characters",
        "a/b": "'/' is not allowed",
        "..": "starts or ends with a dot",
        ".hidden": "starts or ends with a dot",
        "dot.": "starts or ends with a dot",
        "tabs\there": "'\\t' is not allowed",
        # A byte that is not UTF-8 (from a terminal in another encoding), as a person reads it.
        "caf\udce9": "'\\xe9' is not allowed",
        "NUL": "Windows reserves",
    }.items():
        with pytest.raises(DatasetError) as caught:
            store.create(bad, some_examples(1), source="manual")
        assert why in str(caught.value)
        assert "letters, digits, spaces and - _ . ( )" in str(caught.value)
    with pytest.raises(DatasetError, match="cannot name a dataset"):
        store.get("../escape")
    assert store.all() == []


def test_save_append_and_counts(store: DatasetStore) -> None:
    store.create("set", some_examples(12), source="manual", validation=some_examples(2, "v"))
    saved = store.save("set", some_examples(5, "new"), [])
    assert (saved.train_examples, saved.validation_examples) == (5, 0)
    assert saved.validation_path is None and not (store.root / "set" / "validation.jsonl").exists()
    saved = store.save("set", some_examples(4, "t"), some_examples(3, "v"))
    assert (saved.train_examples, saved.validation_examples) == (4, 3)
    appended = store.append("set", [chat("Added 1?", "Yes."), chat("Added 2?", "Yes.")])
    assert appended.train_examples == 6
    train, validation = store.load("set")
    assert texts(train)[-2:] == ["Added 1?", "Added 2?"]
    assert len(validation) == 3
    assert sorted(p.name for p in (store.root / "set").iterdir()) == [
        "dataset.json",
        "train.jsonl",
        "validation.jsonl",
    ]


def test_split_is_seeded_and_keeps_every_example(store: DatasetStore) -> None:
    everything = some_examples(20)
    store.create("set", everything, source="manual")
    info = store.split("set", 0.2, seed=7)
    assert (info.train_examples, info.validation_examples) == (16, 4)
    train, validation = store.load("set")
    assert sorted(texts(train + validation)) == sorted(texts(everything))
    held = texts(validation)
    # Same examples and seed, same split, whatever the split was before.
    store.split("set", 0.5, seed=3)
    store.split("set", 0.2, seed=7)
    assert texts(store.load("set")[1]) == held
    store.split("set", 0.2, seed=8)
    assert texts(store.load("set")[1]) != held
    tiny = store.split("set", 0.01)
    assert tiny.validation_examples == 1  # round(0.2) is 0, but a split asked for holds one
    most = store.split("set", 0.99)
    assert (most.train_examples, most.validation_examples) == (1, 19)
    none = store.split("set", 0)
    assert (none.train_examples, none.validation_examples) == (20, 0)
    assert none.validation_path is None
    assert not (store.root / "set" / "validation.jsonl").exists()
    for fraction in (1, 1.5, -0.1):
        with pytest.raises(DatasetError, match="validation share"):
            store.split("set", fraction)


def test_rename_and_delete(store: DatasetStore) -> None:
    store.create("old", some_examples(12), source="manual")
    store.create("other", some_examples(1), source="manual")
    renamed = store.rename("old", "new name")
    assert renamed.name == "new name" and renamed.train_examples == 12
    assert renamed.train_path == store.root / "new name" / "train.jsonl"
    assert [info.name for info in store.all()] == ["other", "new name"]
    with pytest.raises(DatasetError, match='no dataset named "old"'):
        store.load("old")
    with pytest.raises(DatasetError, match='already a dataset named "other"'):
        store.rename("new name", "other")
    with pytest.raises(DatasetError, match="cannot name a dataset"):
        store.rename("new name", "a/b")
    assert store.rename("new name", "New Name").name == "New Name"
    store.delete("other")
    assert [info.name for info in store.all()] == ["New Name"]
    assert sorted(p.name for p in store.root.iterdir()) == ["New Name"]
    with pytest.raises(DatasetError, match='no dataset named "other"'):
        store.delete("other")


def test_partial_last_line_from_a_crash_is_ignored(store: DatasetStore) -> None:
    store.create("gen", some_examples(12), source="generated")
    path = store.root / "gen" / "train.jsonl"
    whole = path.read_bytes()
    cut = json.dumps(chat("Cut off?", "Mid-sen").to_json()).encode()[:30]
    path.write_bytes(whole + cut)  # what a crash mid-append leaves
    assert store.get("gen").train_examples == 12
    assert len(store.load("gen")[0]) == 12
    info = store.append("gen", [chat("After the crash?", "Still here.")])
    assert info.train_examples == 13
    assert (
        path.read_bytes()
        == whole + (json.dumps(chat("After the crash?", "Still here.").to_json()) + "\n").encode()
    )
    # A last line that is whole but lost its newline is an example, and is kept.
    path.write_bytes(path.read_bytes() + json.dumps(chat("Kept?", "Yes.").to_json()).encode())
    assert store.get("gen").train_examples == 14
    assert store.append("gen", []).train_examples == 14
    assert path.read_bytes().endswith(b"\n")
    assert texts(store.load("gen")[0])[-2:] == ["After the crash?", "Kept?"]


def test_a_damaged_line_is_reported_not_dropped(store: DatasetStore) -> None:
    store.create("set", some_examples(12), source="manual")
    path = store.root / "set" / "train.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = '{"messages": oops}\n'
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        store.load("set")
    assert f"{path}, line 5: not valid JSON" in str(caught.value)
    assert path.read_text(encoding="utf-8") == "".join(lines)


def test_damaged_lines_are_named_three_at_most_with_the_rest_counted_and_one_full_stop(
    store: DatasetStore,
) -> None:
    store.create("set", some_examples(12), source="manual")
    path = store.root / "set" / "train.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, damage in ((2, "[1, 2]"), (4, '{"messages": oops}'), (6, '"text"'), (9, "7")):
        lines[number - 1] = damage + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        store.load("set")
    assert str(caught.value) == (
        f'{path}, line 2: not a JSON object (a list); an example needs "messages", or '
        '"prompt" and "response" (or "completion"); line 4: not valid JSON: a value is '
        "missing or is not JSON (text goes in double quotes) (column 14); line 6: not a JSON "
        'object (a string); an example needs "messages", or '
        '"prompt" and "response" (or "completion") (and 1 more). Fix or remove those '
        "lines in a text editor; Folio leaves the file as it is until then."
    )
    lines[8] = lines[0]  # line 9 mended: the three left are all named, none counted
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        store.load("set")
    said = str(caught.value)
    assert "line 2:" in said and "line 4:" in said and "line 6:" in said
    assert "more)" not in said and "Fix or remove those lines" in said
    lines[1] = lines[3] = lines[0]  # line 6 alone is left
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        store.load("set")
    said = str(caught.value)
    assert said.startswith(f"{path}, line 6: not a JSON object (a string)")
    assert '(or "completion"). Fix or remove that line' in said and ".." not in said


def test_named_problems_name_the_first_few_by_line_and_count_the_rest() -> None:
    problems = [
        LineProblem(0, "Too few examples."),
        LineProblem(2, "not valid JSON (column 3)"),
        LineProblem(2, "message 1 is empty. "),
        LineProblem(5, "no assistant message."),
    ]
    assert named_problems(problems) == (
        "Too few examples; line 2: not valid JSON (column 3); line 2: message 1 is empty "
        "(and 1 more)"
    )
    assert named_problems(problems, 4) == (
        "Too few examples; line 2: not valid JSON (column 3); line 2: message 1 is empty; "
        "line 5: no assistant message"
    )
    assert named_problems(problems, 2, one_a_line=True) == (
        "Too few examples\nline 2: not valid JSON (column 3)\n… and 2 more"
    )
    assert named_problems([]) == ""


def test_interrupted_saves_settle_whole(store: DatasetStore) -> None:
    store.create("set", some_examples(12), source="manual", validation=some_examples(3, "v"))
    folder = store.root / "set"
    # Crashed after the new validation file was written but before the save committed.
    write_examples(folder / "validation.jsonl.new", some_examples(6, "half"))
    train, validation = store.load("set")
    assert (len(train), texts(validation)) == (12, [f"v question {i}?" for i in range(3)])
    assert not (folder / "validation.jsonl.new").exists()
    # Crashed after committing (both files written), before they were moved into place:
    write_examples(folder / "validation.jsonl.new", [])
    write_examples(folder / "train.jsonl.new", some_examples(15, "all"))
    info = store.get("set")
    assert (info.train_examples, info.validation_examples, info.validation_path) == (15, 0, None)
    assert sorted(p.name for p in folder.iterdir()) == ["dataset.json", "train.jsonl"]
    # A half-built new dataset (hidden folder) is not a dataset.
    (store.root / ".new-abc").mkdir()
    write_examples(store.root / ".new-abc" / "train.jsonl", some_examples(2))
    assert [i.name for i in store.all()] == ["set"]


def test_import_keeps_readable_examples_and_lists_problems(
    store: DatasetStore, mood_data: Path, tmp_path: Path
) -> None:
    path, line_count = broken_copy(mood_data / "drunk.jsonl", tmp_path)
    info, problems = store.import_file(path)
    assert info.name == "broken-drunk" and info.source == "import"
    assert [p.line for p in problems] == [7]  # only the line that is not an example
    assert info.train_examples == line_count - 1
    train, _ = store.load("broken-drunk")
    assert train[0].messages[0]["role"] == "user"
    assert [m["role"] for m in train[10].messages] == ["user", "robot"]  # line 12, kept as is
    again, _ = store.import_file(path, system_prompt="You are tipsy.")
    assert again.name == "broken-drunk (2)"
    assert store.load(again.name)[0][0].messages[0] == {
        "role": "system",
        "content": "You are tipsy.",
    }
    zen, problems = store.import_file(mood_data / "zen.jsonl", name="Zen calm")
    assert (zen.name, zen.train_examples, problems) == ("Zen calm", 536, [])
    odd = write_lines(tmp_path / "my+data.v2.jsonl", [{"prompt": "Q?", "response": "A."}])
    assert store.import_file(odd)[0].name == "my_data.v2"
    with pytest.raises(DatasetError, match='already a dataset named "Zen calm"'):
        store.import_file(mood_data / "zen.jsonl", name="Zen calm")


def test_import_errors_name_the_file(store: DatasetStore, tmp_path: Path) -> None:
    junk = write_lines(tmp_path / "junk.jsonl", ["not json", "[]"])
    with pytest.raises(DatasetError) as caught:
        store.import_file(junk)
    assert str(junk) in str(caught.value) and "line 1: not valid JSON" in str(caught.value)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="it is empty"):
        store.import_file(empty)
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(DatasetError) as caught:
        store.import_file(missing)
    assert str(missing) in str(caught.value)
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)  # read, it would wait for a writer forever
    with pytest.raises(DatasetError, match=r"pipe\.jsonl is a pipe or a device: choose a JSONL"):
        store.import_file(pipe)
    with pytest.raises(DatasetError, match=r"is a folder: choose a JSONL file"):
        store.import_file(tmp_path)
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as sparse:  # 600 MB of nothing, taking no room on disk
        sparse.truncate(600_000_000)
    with pytest.raises(DatasetError, match=r"huge\.jsonl is over 512 MB, more than a training"):
        store.import_file(huge)  # refused before it is read
    assert store.all() == []


def test_an_import_with_no_readable_example_names_three_problems_and_counts_the_rest(
    store: DatasetStore, tmp_path: Path
) -> None:
    junk = write_lines(
        tmp_path / "junk.jsonl",
        ["not json", "[]", {"question": "Q?"}, "", {"prompt": "Q?"}, "null", "{"],
    )
    with pytest.raises(DatasetError) as caught:
        store.import_file(junk)
    assert str(caught.value) == (
        f"No training example could be read from {junk}: line 1: not valid JSON: a value "
        "is missing or is not JSON (text goes in double quotes) (column 1); line 2: not a "
        'JSON object (a list); an example needs "messages", '
        'or "prompt" and "response" (or "completion"); line 3: an example needs "messages", '
        'or "prompt" and "response" (or "completion"); this one has "question" (and 3 more).'
    )
    two = write_lines(tmp_path / "two.jsonl", ["[]", "oops"])
    with pytest.raises(DatasetError) as caught:
        store.import_file(two)
    said = str(caught.value)
    assert said.endswith(
        "line 2: not valid JSON: a value is missing or is not JSON (text goes in double "
        "quotes) (column 1)."
    )
    assert "more)" not in said and ".;" not in said and ".." not in said
    assert store.all() == []
