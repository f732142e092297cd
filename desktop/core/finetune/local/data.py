"""Training examples as token ids with their loss mask, packed into token-budget batches.

The loss covers assistant messages only (what the model should learn to say), as OpenAI's
fine-tuning does; an assistant message with ``"weight": 0`` is context, not a target.
Examples are packed several to a batch without padding: transformers'
``DataCollatorWithFlattening`` restarts the position ids at each example, and its attention
keeps examples apart, so a batch of short persona answers costs what its tokens cost, not
batch × longest.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.core.errors import DatasetError
from desktop.core.finetune.examples import Example, text_of
from desktop.core.plurals import counted

IGNORE = -100  # the label PyTorch's cross-entropy skips (``ignore_index``)
SHOWN_LINES = 10  # line numbers a refusal lists before "and n more"


class ChatTokenizer(Protocol):
    """What is used of a transformers tokenizer."""

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class TokenizedExample:
    """One example's tokens and labels (``IGNORE`` where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]
    line: int | None  # the dataset line it came from

    @property
    def trained_tokens(self) -> int:
        """Tokens the loss is taken on."""
        return sum(1 for label in self.labels if label != IGNORE)


def _ids(tokenizer: ChatTokenizer, messages: list[dict[str, str]], prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, add_generation_prompt=prompt, return_dict=True
    )
    return list(out["input_ids"])


def tokenize(tokenizer: ChatTokenizer, example: Example) -> TokenizedExample:
    """Render an example with the model's own chat template and mark its assistant tokens.

    Each assistant message's tokens are found as the difference between the conversation
    rendered up to it (with the generation prompt) and rendered through it, the way
    Axolotl's ``chat_template`` strategy does for templates without generation markers.
    """
    messages = [
        {"role": m["role"], "content": text_of(m.get("content")) or ""} for m in example.messages
    ]
    ids: list[int] = []
    labels: list[int] = []
    for i, message in enumerate(example.messages):
        if message.get("role") != "assistant":
            continue
        before = _ids(tokenizer, messages[:i], prompt=True)
        through = _ids(tokenizer, messages[: i + 1], prompt=False)
        labels += [IGNORE] * (len(before) - len(ids))
        target = message.get("weight", 1) != 0
        labels += through[len(before) :] if target else [IGNORE] * (len(through) - len(before))
        ids = through
    return TokenizedExample(ids, labels, example.line)


def tokenize_all(
    tokenizer: ChatTokenizer, examples: Sequence[Example], max_seq_len: int, what: str
) -> list[TokenizedExample]:
    """Every example tokenized; DatasetError listing the lines longer than ``max_seq_len``.

    A long example is refused rather than cut: cutting would drop the end of its answer,
    the part the model is there to learn. ``what`` names the file in the message.
    """
    tokenized = [tokenize(tokenizer, e) for e in examples]
    long = [(t.line, len(t.input_ids)) for t in tokenized if len(t.input_ids) > max_seq_len]
    if long:
        shown = ", ".join(f"{line} ({n} tokens)" for line, n in long[:SHOWN_LINES])
        more = f" and {len(long) - SHOWN_LINES} more" if len(long) > SHOWN_LINES else ""
        raise DatasetError(
            f"{what}: {counted(len(long), 'example')} {'is' if len(long) == 1 else 'are'} longer "
            f"than the maximum sequence length of {max_seq_len} tokens, at "
            f"{'line' if len(long) == 1 else 'lines'} {shown}{more}. Raise the maximum sequence "
            "length, or shorten or remove those lines."
        )
    empty = [t.line for t in tokenized if t.trained_tokens == 0]
    # No examples at all is no error: a dataset under ten examples holds none out.
    if tokenized and len(empty) == len(tokenized):
        raise DatasetError(f"{what}: no example has an assistant answer to learn from.")
    return [t for t in tokenized if t.trained_tokens]


def pack(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches of at most ``budget`` tokens each, each
    put into the first batch with room, in the order given (first fit: at most 1.7 times
    the fewest batches possible, Johnson 1973; near the fewest when examples are short next
    to the budget, as training examples are). Every length must be at most ``budget``.

    The order is kept, not sorted longest first (first-fit decreasing packs a little
    tighter): sorting would put the same examples together in every epoch.
    """
    order = range(len(lengths))
    batches: list[list[int]] = []
    room: list[int] = []
    for i in order:
        for b, free in enumerate(room):
            if lengths[i] <= free:
                batches[b].append(i)
                room[b] -= lengths[i]
                break
        else:
            batches.append([i])
            room.append(budget - lengths[i])
    return batches


def epoch_batches(lengths: Sequence[int], budget: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of one epoch, in an order fixed by (``seed``, ``epoch``).

    The same on every call, so a resumed run takes up exactly where its checkpoint was.
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    shuffled = list(range(len(lengths)))
    rng.shuffle(shuffled)
    batches = [[shuffled[i] for i in b] for b in pack([lengths[i] for i in shuffled], budget)]
    rng.shuffle(batches)
    return batches
