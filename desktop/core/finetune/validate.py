"""Checks a training file before anything leaves the machine; every problem names its line.

What OpenAI would reject is an error (malformed JSON, unknown role, bad order, no assistant
message, empty content, an example over the model's token limit, too few examples); what
would waste money is a warning (duplicates). Tokens are counted with tiktoken, offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tiktoken

from desktop.core.errors import DatasetError
from desktop.core.finetune.examples import (
    ROLES,
    Example,
    LineProblem,
    image_count,
    read_examples,
    text_of,
)
from desktop.core.finetune.pricing import (
    DEFAULT_BASE,
    MIN_EXAMPLES,
    PRICES_AS_OF,
    base_model,
    default_epochs,
    estimate_cost_usd,
)
from desktop.core.models.tokens import token_encoding

FALLBACK_ENCODING = "o200k_base"  # for a base model not in the price table: OpenAI's current
NOTHING_TO_LEARN = (
    'every answer is marked "weight": 0, so there is nothing to learn from: give some '
    'assistant messages "weight": 1 (or no "weight"), then try again.'
)

# Checks a list of examples (with the lines that could not be read) into a report.
Examine = Callable[[list[Example], list[LineProblem]], "ValidationReport"]

# OpenAI's cookbook (num_tokens_from_messages): each message costs 3 tokens besides its
# values, a "name" one more, and every example 3 for priming the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_PER_REPLY = 3


@dataclass
class ValidationReport:
    """What ``folio-cli finetune validate`` prints and the studio shows."""

    examples: int
    tokens: int  # billed tokens for one epoch (each example capped at the model's limit)
    epochs: int
    estimated_cost_usd: float | None
    base_model: str
    errors: list[LineProblem] = field(default_factory=list)
    warnings: list[LineProblem] = field(default_factory=list)
    tokens_per_example: list[int] = field(default_factory=list)  # in example order
    token_encoding: str = ""  # the tiktoken encoding that counted them

    @property
    def ok(self) -> bool:
        """Whether the file can be uploaded: no errors (warnings allowed)."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """The CLI contract's shape (ok, examples, tokens, estimated_cost_usd, errors) + more."""
        cost = self.estimated_cost_usd
        return {
            "ok": self.ok,
            "examples": self.examples,
            "tokens": self.tokens,
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "errors": [problem.to_json() for problem in self.errors],
            "warnings": [problem.to_json() for problem in self.warnings],
            "epochs": self.epochs,
            "base_model": self.base_model,
            "prices_as_of": PRICES_AS_OF,
            "token_encoding": self.token_encoding,
            "longest_example_tokens": max(self.tokens_per_example, default=0),
        }


def validate_examples(
    examples: list[Example],
    base: str | None = None,
    epochs: int | None = None,
    problems: list[LineProblem] | None = None,
) -> ValidationReport:
    """Validate examples (``problems``: lines that could not be read, counted as errors).

    An example's line is ``Example.line``, or its position (1-based) when it has none.
    """
    base = base or DEFAULT_BASE
    model = base_model(base)
    encoding_name = model.encoding if model else FALLBACK_ENCODING
    encoding = token_encoding(encoding_name)
    errors = list(problems or [])
    warnings: list[LineProblem] = []
    if model is None:
        warnings.append(
            LineProblem(
                0,
                f'"{base}" is not a base model Folio knows: no token limit check and no cost '
                f"estimate (tokens counted with {encoding_name}).",
            )
        )
    tokens_per_example: list[int] = []
    with_images = 0
    for position, example in enumerate(examples, start=1):
        line = example.line if example.line is not None else position
        reasons = example_problems(example)
        errors.extend(LineProblem(line, reason) for reason in reasons)
        countable = _countable(example)
        if countable and any(image_count(m.get("content")) for m in example.messages):
            with_images += 1
        tokens = count_tokens(example.messages, encoding) if countable else 0
        tokens_per_example.append(tokens)
        if model and tokens > model.max_tokens_per_example:
            errors.append(
                LineProblem(
                    line,
                    f"{tokens:,} tokens; {model.name} takes at most "
                    f"{model.max_tokens_per_example:,} per example: shorten or split it.",
                )
            )
    warnings += duplicate_warnings(examples)
    if with_images:
        warnings.append(
            LineProblem(
                0,
                f"{with_images} example{'s have' if with_images > 1 else ' has'} images: their "
                "tokens depend on the images' sizes and are not in the estimate.",
            )
        )
    # Only when every example has answers: one without any is an error of its own already.
    if examples and not any(map(learns, examples)) and all(map(_answers, examples)):
        errors.append(LineProblem(0, NOTHING_TO_LEARN[0].upper() + NOTHING_TO_LEARN[1:]))
    if len(examples) < MIN_EXAMPLES:
        errors.append(
            LineProblem(
                0,
                f"{len(examples)} example{'' if len(examples) == 1 else 's'}; OpenAI needs "
                f"at least {MIN_EXAMPLES} (50 to 100 good ones usually make a difference).",
            )
        )
    limit = model.max_tokens_per_example if model else None
    billed = sum(min(t, limit) if limit else t for t in tokens_per_example)
    epochs = epochs or default_epochs(len(examples))
    return ValidationReport(
        examples=len(examples),
        tokens=billed,
        epochs=epochs,
        estimated_cost_usd=estimate_cost_usd(billed, epochs, base),
        base_model=model.name if model else base,
        errors=sorted(errors, key=lambda p: p.line),
        warnings=sorted(warnings, key=lambda p: p.line),
        tokens_per_example=tokens_per_example,
        token_encoding=encoding_name,
    )


def validate_file(
    path: Path,
    base: str | None = None,
    epochs: int | None = None,
    examine: Examine | None = None,
) -> ValidationReport:
    """Validate a JSONL file; a missing or unreadable file is an error on line 0.

    ``examine`` checks the examples instead of ``validate_examples`` (OpenAI's rules): local
    training passes its own (``local.lengths.LocalCheck``).
    """
    examine = examine or (
        lambda examples, problems: validate_examples(examples, base, epochs, problems)
    )
    try:
        read = read_examples(path)
    except DatasetError as exc:
        report = examine([], [])
        report.errors = [LineProblem(0, str(exc))]
        report.warnings = []
        report.estimated_cost_usd = None  # nothing read, nothing to estimate
        return report
    report = examine(read.examples, read.problems)
    if read.pairs:
        report.warnings.insert(
            0,
            LineProblem(
                0,
                f"{read.pairs} of the examples are prompt/response pairs: Folio converts "
                "them to OpenAI's chat format before uploading.",
            ),
        )
    return report


def duplicate_warnings(examples: list[Example]) -> list[LineProblem]:
    """A warning for each example that repeats an earlier one (a repeat trains on it twice)."""
    first_seen: dict[str, int] = {}
    warnings = []
    for position, example in enumerate(examples, start=1):
        line = example.line if example.line is not None else position
        key = json.dumps(example.to_json(), sort_keys=True, ensure_ascii=False)
        if key in first_seen:
            warnings.append(
                LineProblem(line, f"the same example as line {first_seen[key]} (a duplicate).")
            )
        else:
            first_seen.setdefault(key, line)
    return warnings


def example_problems(example: Example) -> list[str]:
    """What OpenAI would reject in one example: shape, roles, order, empty content."""
    messages: Any = example.messages
    if not isinstance(messages, list) or not messages:
        return ['"messages" must be a non-empty list of {"role", "content"} objects.']
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return [f'message {number} is not an object with "role" and "content".']
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str):
            return [f'message {number} has no "role" (text).']
        if role not in ROLES:
            allowed = ", ".join(f'"{r}"' for r in ROLES)
            return [f'message {number} has the role "{role}"; use {allowed}.']
        if isinstance(content, list):
            wrong = _part_problem(content, role)
            if wrong:
                return [f"message {number} ({role}): {wrong}"]
        elif not isinstance(content, str):
            return [f'message {number} ({role}) has no "content" (text).']
    reasons = [
        f"message {number} ({message['role']}) is empty."
        for number, message in enumerate(messages, start=1)
        if not (text_of(message["content"]) or "").strip() and not image_count(message["content"])
    ]
    roles = [message["role"] for message in messages]
    if "system" in roles[1:]:
        later = roles.index("system", 1) + 1
        reasons.append(f"message {later} is a system message: only the first message may be.")
    if "assistant" not in roles:
        reasons.append("no assistant message: an example needs an answer to learn from.")
    elif "user" not in roles[: roles.index("assistant")]:
        reasons.append("the first assistant message comes before any user message.")
    elif roles[-1] != "assistant":
        reasons.append("the last message must be the assistant's answer.")
    return reasons


def learns(example: Example) -> bool:
    """Whether an example has an answer to learn from: an assistant message not marked
    ``"weight": 0`` (OpenAI's way, and the local trainer's, to keep an answer as context)."""
    return any(m.get("weight", 1) != 0 for m in _assistant_messages(example))


def _answers(example: Example) -> bool:
    return bool(_assistant_messages(example))


def _assistant_messages(example: Example) -> list[dict[str, Any]]:
    messages: Any = example.messages
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]


def _part_problem(parts: list[Any], role: str) -> str | None:
    """What is wrong with a list of content parts, if anything (OpenAI's two kinds)."""
    for number, part in enumerate(parts, start=1):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if not isinstance(part.get("text"), str):
                return f'content part {number} has no "text".'
        elif kind == "image_url":
            if role != "user":
                return f"content part {number} is an image; only user messages may have images."
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                return f'content part {number} has no "image_url": {{"url": ...}}.'
        else:
            return (
                f"content part {number} is not text or an image: each part needs "
                '"type": "text" or "image_url".'
            )
    return None


def _countable(example: Example) -> bool:
    messages: Any = example.messages
    return isinstance(messages, list) and all(isinstance(m, dict) for m in messages)


def count_tokens(messages: list[dict[str, Any]], encoding: tiktoken.Encoding) -> int:
    """An example's tokens as OpenAI's cookbook counts them (its text values only)."""
    tokens = TOKENS_PER_REPLY
    roles = _role_tokens.setdefault(encoding.name, {})
    for message in messages:
        tokens += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "content" and isinstance(value, list):
                # The text parts; images are priced by size, which Folio does not estimate.
                value = text_of(value) or ""
            if not isinstance(value, str):
                continue
            if key == "role" and value in ROLES:  # counted once: half the encode calls
                if value not in roles:
                    roles[value] = len(encoding.encode_ordinary(value))
                tokens += roles[value]
                continue
            # Special-token text in an example is plain text to train on, not a marker.
            tokens += len(encoding.encode_ordinary(value))
            if key == "name":
                tokens += TOKENS_PER_NAME
    return tokens


_role_tokens: dict[str, dict[str, int]] = {}  # encoding name -> valid role -> its tokens
