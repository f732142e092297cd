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
from desktop.core.jsonl import json_kind
from desktop.core.models.tokens import token_encoding

FALLBACK_ENCODING = "o200k_base"  # for a base model not in the price table: OpenAI's current
ROLE_CHOICES = '"system", "user" or "assistant"'
MESSAGE_SHAPE = '{"role": ..., "content": ...} objects'
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
    # False when the file could not be read at all (missing, not UTF-8 text): the counts
    # are then no finding about it, and ``errors`` holds only why.
    readable: bool = True

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
            "readable": self.readable,
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
    """Validate a JSONL file; a file that cannot be read at all (missing, not UTF-8 text)
    is an error on line 0 and a report that is not ``readable``.

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
        report.readable = False
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
    """Everything OpenAI would reject in one example, so that its line is fixed in one go:
    each message's shape, role and content in message order, then the order of the roles.
    """
    messages: Any = example.messages
    if not isinstance(messages, list):
        return [f'"messages" is {json_kind(messages)}; it must be a list of {MESSAGE_SHAPE}.']
    if not messages:
        return [f'"messages" is empty; it must be a non-empty list of {MESSAGE_SHAPE}.']
    reasons: list[str] = []
    roles: list[str | None] = []
    for number, message in enumerate(messages, start=1):
        reasons += _message_problems(number, message)
        role = message.get("role") if isinstance(message, dict) else None
        roles.append(role if role in ROLES else None)
        if role == "system" and number > 1:
            reasons.append(f"message {number} is a system message: only the first message may be.")
    # A message without a known role may be meant as any of them: the order is judged once
    # every role is known, rather than said wrong because of the unknown one.
    if None not in roles:
        reasons += _order_problems([role for role in roles if role is not None])
    return reasons


def _message_problems(number: int, message: Any) -> list[str]:
    """What is wrong with one message by itself: its shape, role, content, weight, name."""
    if not isinstance(message, dict):
        return [
            f"message {number} is {json_kind(message)}; it must be an object with "
            '"role" and "content".'
        ]
    reasons = []
    role = message.get("role")
    if "role" not in message:
        reasons.append(f'message {number} has no "role": give it {ROLE_CHOICES}.')
    elif not isinstance(role, str):
        reasons.append(
            f'message {number}\'s "role" is {json_kind(role)}; it must be {ROLE_CHOICES}.'
        )
    elif role not in ROLES:
        reasons.append(f'message {number} has the role "{role}"; it must be {ROLE_CHOICES}.')
    known = role if role in ROLES else None
    label = f"message {number} ({known})" if known else f"message {number}"
    content = message.get("content")
    if "content" not in message:
        reasons.append(f'{label} has no "content": give it the message\'s text.')
    elif isinstance(content, list):
        wrong = _part_problems(content, known)
        reasons += [f"{label}: {reason}" for reason in wrong]
        if not wrong and not (text_of(content) or "").strip() and not image_count(content):
            reasons.append(f"{label} is empty.")
    elif not isinstance(content, str):
        reasons.append(f'message {number}\'s "content" is {json_kind(content)}; it must be text.')
    elif not content.strip():
        reasons.append(f"{label} is empty.")
    weight = message.get("weight", 1)
    if isinstance(weight, bool) or weight not in (0, 1):
        reasons.append(
            f'message {number}\'s "weight" is {_shown(weight)}; it must be 0 (context, not '
            "learned) or 1 (learned)."
        )
    if "name" in message and not isinstance(message["name"], str):
        reasons.append(
            f'message {number}\'s "name" is {json_kind(message["name"])}; it must be text.'
        )
    return reasons


def _order_problems(roles: list[str]) -> list[str]:
    """What is wrong with the order of an example's (known) roles."""
    if "assistant" not in roles:
        return ["no assistant message: an example needs an answer to learn from."]
    reasons = []
    if "user" not in roles[: roles.index("assistant")]:
        reasons.append("the first assistant message comes before any user message.")
    if roles[-1] != "assistant":
        reasons.append("the last message must be the assistant's answer.")
    return reasons


def _shown(value: Any) -> str:
    """A JSON value as a message says it: a number itself, another value by its kind."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return json_kind(value)


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


def _part_problems(parts: list[Any], role: str | None) -> list[str]:
    """What is wrong with each of a message's content parts (OpenAI's two kinds)."""
    reasons = []
    for number, part in enumerate(parts, start=1):
        if not isinstance(part, dict):
            reasons.append(
                f"content part {number} is {json_kind(part)}; it must be an object with "
                '"type": "text" or "image_url".'
            )
            continue
        kind = part.get("type")
        if kind == "text":
            if "text" not in part:
                reasons.append(f'content part {number} has no "text".')
            elif not isinstance(part["text"], str):
                reasons.append(
                    f'content part {number}\'s "text" is {json_kind(part["text"])}; it must be '
                    "text."
                )
        elif kind == "image_url":
            if role is not None and role != "user":
                reasons.append(
                    f"content part {number} is an image; only user messages may have images."
                )
            reasons += _image_problems(number, part)
        else:
            reasons.append(
                f"content part {number} is not text or an image: each part needs "
                '"type": "text" or "image_url".'
            )
    return reasons


def _image_problems(number: int, part: dict[str, Any]) -> list[str]:
    """What is wrong with an image part's ``"image_url": {"url": ...}``."""
    if "image_url" not in part:
        return [f'content part {number} has no "image_url": {{"url": ...}}.']
    image = part["image_url"]
    if not isinstance(image, dict):
        return [
            f'content part {number}\'s "image_url" is {json_kind(image)}; it must be an object '
            '{"url": ...}.'
        ]
    if "url" not in image:
        return [f'content part {number}\'s "image_url" has no "url".']
    if not isinstance(image["url"], str):
        return [f'content part {number}\'s "url" is {json_kind(image["url"])}; it must be text.']
    return []


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
