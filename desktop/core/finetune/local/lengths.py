"""Training examples counted in a local base model's own tokens, before any training.

The trainer counts with the transformers tokenizer it builds from the base GGUF, which needs
the training extra and a second or more to load. The same vocabulary and chat template are
in the GGUF itself, and llama.cpp (already Folio's runtime) reads the vocabulary alone in
well under a second: so ``finetune validate`` and the studio say which lines are too long
whether or not the extra is installed, and before a trainer process is started. The counts
are the trainer's own (``tests/core/test_local_lengths.py`` compares them).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.core.errors import FinetuneError
from desktop.core.finetune.examples import Example, LineProblem
from desktop.core.finetune.local.data import TokenizedExample, tokenize, tokenize_all
from desktop.core.finetune.validate import (
    NOTHING_TO_LEARN,
    ValidationReport,
    duplicate_warnings,
    example_problems,
    learns,
)


class GgufChatTokenizer:
    """A GGUF's tokenizer and chat template as ``data.ChatTokenizer``: what the trainer's
    transformers tokenizer gives for ``apply_chat_template(..., tokenize=True)``.

    The template is rendered by llama-cpp-python's ``Jinja2ChatFormatter`` (the renderer its
    chat completions use) and the text tokenized with special tokens parsed and no BOS
    added, as transformers tokenizes a rendered template (``add_special_tokens=False``).

    Raises FinetuneError when the file cannot be read or carries no chat template (a base
    model rather than an instruct one: nothing to lay the examples out with).
    """

    def __init__(self, path: Path) -> None:
        # Imported on first use: llama.cpp's library takes a while to load.
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        try:
            # llama.cpp writes context warnings to stderr even when not verbose.
            with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
                self._llama = Llama(model_path=str(path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise FinetuneError(
                f"Could not read the tokenizer of {path}: {exc}. Check that it is a GGUF model."
            ) from exc
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise FinetuneError(
                f"{path.name} has no chat template, so training examples cannot be laid out "
                "for it: choose an instruct (chat) model as the base."
            )
        eos = self._special(self._llama.token_eos())
        bos = self._special(self._llama.token_bos())
        self._formats = {
            prompt: Jinja2ChatFormatter(template, eos, bos, add_generation_prompt=prompt)
            for prompt in (True, False)
        }

    def _special(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llama.detokenize([token], special=True).decode("utf-8", errors="replace")

    def apply_chat_template(
        self,
        conversation: Any,
        *,
        tokenize: bool = True,
        add_generation_prompt: bool = False,
        return_dict: bool = True,
        **_: Any,
    ) -> Any:
        """``{"input_ids": [...]}`` for ``conversation`` (a list of role/content dicts), or
        the rendered text when ``tokenize`` is false."""
        text = self._formats[add_generation_prompt](messages=conversation).prompt
        if not tokenize:
            return text
        ids = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return {"input_ids": ids} if return_dict else ids


def tokenized_for(
    base_path: Path,
    max_seq_len: int,
    label: str,
    train: Sequence[Example],
    validation: Sequence[Example] = (),
) -> list[TokenizedExample]:
    """``train`` in ``base_path``'s tokens, those with an answer to learn from; the
    ``validation`` examples are checked with the same tokenizer, read from the GGUF once.

    Raises DatasetError naming the dataset (``label``, "``label`` (validation)" for the held
    out examples) and the lines longer than ``max_seq_len`` tokens (``data.tokenize_all``),
    FinetuneError for a base that cannot lay them out.
    """
    tokenizer = GgufChatTokenizer(base_path)
    tokenized = tokenize_all(tokenizer, train, max_seq_len, label)
    if validation:
        tokenize_all(tokenizer, validation, max_seq_len, f"{label} (validation)")
    return tokenized


# Fewer examples than this get a warning: OpenAI's guide to fine-tuning suggests 50 to 100
# good examples for a clear change; a few still train, and show the idea.
FEW_EXAMPLES = 10


class LocalCheck:
    """``validate.Examine`` for training on this computer from the base GGUF at ``base_path``.

    The rules of the examples' shape are OpenAI's (``validate.example_problems``), as the
    trainer lays examples out the same way. Tokens are the base model's own; an example
    longer than ``max_seq_len`` tokens is an error on its line (the trainer would refuse
    it, not cut it). Training here costs nothing: the estimated cost is 0.

    The tokenizer is read when the first examples are checked: FinetuneError then for a
    base without a chat template or a file that is not a GGUF model.
    """

    def __init__(self, base: str, base_path: Path, max_seq_len: int, epochs: int) -> None:
        self.base = base
        self.base_path = base_path
        self.max_seq_len = max_seq_len
        self.epochs = epochs

    def __call__(self, examples: list[Example], problems: list[LineProblem]) -> ValidationReport:
        """The report on ``examples`` (``problems``: lines that could not be read)."""
        errors = list(problems)
        tokens_per_example: list[int] = []
        tokenizer = GgufChatTokenizer(self.base_path) if examples else None
        for position, example in enumerate(examples, start=1):
            line = example.line if example.line is not None else position
            reasons = example_problems(example)
            errors += [LineProblem(line, reason) for reason in reasons]
            if reasons or tokenizer is None:
                tokens_per_example.append(0)
                continue
            tokens = len(tokenize(tokenizer, example).input_ids)
            tokens_per_example.append(tokens)
            if tokens > self.max_seq_len:
                errors.append(
                    LineProblem(
                        line,
                        f"{tokens:,} tokens; the maximum sequence length is "
                        f"{self.max_seq_len:,}: raise it (--max-seq-len), or shorten or split "
                        "the example.",
                    )
                )
        warnings = duplicate_warnings(examples)
        if not examples:
            errors.append(LineProblem(0, "No examples: a training file needs at least one."))
        elif not any(map(learns, examples)):
            errors.append(LineProblem(0, NOTHING_TO_LEARN[0].upper() + NOTHING_TO_LEARN[1:]))
        elif len(examples) < FEW_EXAMPLES:
            warnings.append(
                LineProblem(
                    0,
                    f"{len(examples)} example{'' if len(examples) == 1 else 's'}: training "
                    "works, but 50 to 100 good ones usually make a clear difference.",
                )
            )
        return ValidationReport(
            examples=len(examples),
            tokens=sum(tokens_per_example),
            epochs=self.epochs,
            estimated_cost_usd=0.0,
            base_model=self.base,
            errors=sorted(errors, key=lambda p: p.line),
            warnings=sorted(warnings, key=lambda p: p.line),
            tokens_per_example=tokens_per_example,
            token_encoding=f"{self.base_path.name} (the base model's own tokenizer)",
        )
