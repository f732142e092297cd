"""Training examples counted in the base GGUF's own tokens, before any training starts.

The counts come from llama.cpp reading the GGUF's vocabulary and chat template; they must be
the trainer's (transformers' tokenizer built from the same file), or a line ``validate``
passed would be refused by the trainer, or the other way round.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.errors import DatasetError, FinetuneError
from desktop.core.finetune.examples import Example
from desktop.core.finetune.local import lengths
from desktop.core.finetune.local.data import tokenize
from desktop.core.finetune.local.lengths import GgufChatTokenizer, LocalCheck, tokenized_for
from desktop.core.finetune.validate import validate_file
from desktop.core.models.local_files import embedded_llm_path

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = [
    Example([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]),
    Example(
        [
            {"role": "system", "content": "Answer like a pirate."},
            {"role": "user", "content": "Where is   the\n\nmap? <b>now</b> — ünïcödé 日本語 🚀"},
            {"role": "assistant", "content": "Context only.", "weight": 0},  # type: ignore[dict-item]
            {"role": "user", "content": "And <|im_start|> inside text?"},
            {"role": "assistant", "content": "Arr, under the X.\n\n- one\n- two"},
        ]
    ),
]


def _base() -> Path:
    path = embedded_llm_path()
    assert path is not None
    return path


def _write(path: Path, examples: list[Example]) -> Path:
    path.write_text("".join(json.dumps(e.to_json()) + "\n" for e in examples), encoding="utf-8")
    return path


def test_counts_and_loss_mask_are_the_trainers() -> None:
    from desktop.core.finetune.local.trainer import load_base

    trainer_tokenizer, _ = load_base(_base())
    ours = GgufChatTokenizer(_base())
    for example in EXAMPLES:
        assert tokenize(ours, example) == tokenize(trainer_tokenizer, example)


def test_validate_names_the_lines_longer_than_the_sequence_length(tmp_path: Path) -> None:
    long = Example(
        [
            {"role": "user", "content": "Go on."},
            {"role": "assistant", "content": "On and on. " * 60},
        ]
    )
    examples = [EXAMPLES[0], long, EXAMPLES[1], EXAMPLES[0]]
    path = _write(tmp_path / "data.jsonl", examples)
    report = validate_file(path, examine=LocalCheck("local:default", _base(), 128, 3))
    assert not report.ok
    [error] = report.errors
    assert error.line == 2 and "maximum sequence length is 128" in error.reason
    assert report.tokens_per_example[1] > 128 > max(report.tokens_per_example[::2])
    assert report.tokens == sum(report.tokens_per_example)
    assert report.estimated_cost_usd == 0.0  # trained here
    assert any(w.line == 4 and "duplicate" in w.reason for w in report.warnings)
    assert validate_file(path, examine=LocalCheck("local:default", _base(), 512, 3)).ok


def test_training_and_validation_examples_are_counted_with_one_reading_of_the_base(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[Path] = []

    class Counted(GgufChatTokenizer):
        """The real tokenizer, noting each time the GGUF is read for one."""

        def __init__(self, path: Path) -> None:
            built.append(path)
            super().__init__(path)

    monkeypatch.setattr(lengths, "GgufChatTokenizer", Counted)
    long = Example(
        [{"role": "user", "content": "Go on."}, {"role": "assistant", "content": "On. " * 200}]
    )
    tokenized = tokenized_for(_base(), 512, "data", EXAMPLES, [EXAMPLES[0]])
    assert [len(t.input_ids) for t in tokenized] == [
        len(tokenize(GgufChatTokenizer(_base()), e).input_ids) for e in EXAMPLES
    ]
    assert built == [_base()]
    with pytest.raises(DatasetError, match=r"^data \(validation\): 1 example is longer .* line "):
        tokenized_for(_base(), 128, "data", EXAMPLES, [long])
    assert built == [_base(), _base()]  # once for each call, not once for each file


def test_a_base_that_is_not_a_gguf_model_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF but not really a model")
    with pytest.raises(FinetuneError, match=r"broken\.gguf.*GGUF model"):
        GgufChatTokenizer(broken)


def test_cli_validates_for_a_local_base(tmp_path: Path) -> None:
    long = Example(
        [{"role": "user", "content": "Go on."}, {"role": "assistant", "content": "On. " * 200}]
    )
    path = _write(tmp_path / "data.jsonl", [EXAMPLES[0], long])

    def validate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "desktop.cli", "--home", str(tmp_path / "home"), "finetune",
             "validate", str(path), *args],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=ROOT, timeout=300,
        )  # fmt: skip

    refused = validate("--base", "local:default", "--max-seq-len", "64", "--json")
    assert refused.returncode == 2
    report = json.loads(refused.stdout)
    assert [e["line"] for e in report["errors"]] == [2]
    assert {"ok", "examples", "tokens", "estimated_cost_usd", "errors"} <= report.keys()
    assert report["estimated_cost_usd"] == 0.0 and "own tokenizer" in report["token_encoding"]
    passed = validate("--base", "local:default")
    assert passed.returncode == 0 and "ready to train here" in passed.stdout
    wrong = validate("--max-seq-len", "64")  # an OpenAI base: no sequence length to check
    assert wrong.returncode == 2 and "--max-seq-len applies to a local base" in wrong.stderr
