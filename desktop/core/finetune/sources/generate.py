"""Question/answer pairs written from a library folder's chunks, in a persona's voice.

This is how a persona becomes a fine-tuned model that no longer needs its prompt: a model
(local or remote) is shown a chunk and the persona's prompt, writes a question a reader
might ask and the answer in that voice; the pair is stored *without* the prompt. Pairs are
appended to the dataset as they are made, so stopping keeps everything made so far.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import ChatMessage

from desktop.core.chat.personas import Persona
from desktop.core.chat.service import ChatModel
from desktop.core.errors import FinetuneError, FolioError
from desktop.core.evaluate.scores import borrowed_words
from desktop.core.finetune.datasets import DatasetStore, NoSuchDataset
from desktop.core.finetune.examples import Example
from desktop.core.library.catalog import Library
from desktop.core.names import name_key
from desktop.core.store import FolioStore
from desktop.core.tasks import CancelToken

SOURCE = "generated"

INSTRUCTION = (
    "Passage:\n{passage}\n\n"
    "Write one question a reader of this passage might ask, and answer it in your voice. "
    "Reply with two lines only:\nQ: the question\nA: the answer"
)
# A worked exchange sent before the real one. Small models follow a format they have just
# seen far more often than one they are only told about: with it, SmolLM2-135M writes a
# readable pair for most chunks; without it, mostly a question repeated until it stops. Its
# answer is plain so that the voice comes from the persona's prompt, not from the example.
EXAMPLE_PASSAGE = (
    "# Coffee\n\nThe coffee machine on the third floor is cleaned every Friday. "
    "Oat milk is in the left fridge."
)
EXAMPLE_REPLY = "Q: When is the coffee machine cleaned?\nA: Every Friday."

# "Q:", "**Question:**", "Q1:" ... at the start of a line; the same for answers.
_QUESTION = re.compile(r"^[ \t>#*_-]*(?:q|question)\s*\d*[ \t*_]*:[ \t*_]*", re.I | re.M)
_ANSWER = re.compile(r"^[ \t>#*_-]*(?:a|answer)\s*\d*[ \t*_]*:[ \t*_]*", re.I | re.M)


@dataclass(frozen=True)
class GenerationProgress:
    """How far generating pairs from a folder has come (chunks of the folder, pairs written)."""

    chunks_done: int
    chunks_total: int
    pairs_written: int
    current: str | None  # the file the chunk comes from


@dataclass(frozen=True)
class GenerationReport:
    """What one generation run wrote, and why chunks were left out."""

    pairs_written: int
    chunks_used: int  # chunks the model wrote a whole reply for (pairs and skipped ones)
    # The model's reply could not be read as a question and an answer about the chunk (a
    # copy of the worked example's question or answer counts here).
    chunks_skipped: int
    cancelled: bool
    # A question the dataset holds already (a run started again after a stop meets the
    # same chunks first), left out.
    duplicates_skipped: int = 0


def echoes_example(question: str, answer: str, passage: str) -> bool:
    """Whether a pair written about ``passage`` repeats the worked example in the prompt:
    its question or answer carries key words of the example's passage that ``passage``
    lacks ("When is the coffee machine cleaned?", "Every Friday."). Small models copy the
    example they have just read; the same rule keeps such questions out of evaluation
    sets (``desktop.core.evaluate.build.usable``)."""
    return bool(borrowed_words([question, answer], f"{EXAMPLE_PASSAGE} {EXAMPLE_REPLY}", passage))


def pair_prompt(persona: Persona, passage: str) -> list[ChatMessage]:
    """What the model is sent for one chunk: the persona, the worked example, the passage."""
    return [
        ChatMessage(role="system", content=persona.prompt),
        ChatMessage(role="user", content=INSTRUCTION.format(passage=EXAMPLE_PASSAGE)),
        ChatMessage(role="assistant", content=EXAMPLE_REPLY),
        ChatMessage(role="user", content=INSTRUCTION.format(passage=passage.strip())),
    ]


def parse_pair(reply: str) -> tuple[str, str] | None:
    """The (question, answer) a reply holds, or None when it holds no usable pair.

    Reads "Q: … / A: …" (also "Question:"/"Answer:", in bold or numbered) and JSON objects
    with "question" and "answer". Only the first pair counts: small models often go on with
    more, or repeat themselves. A pair whose answer is empty, is only a label, or repeats
    the question is no pair.
    """
    found = _json_pair(reply) or _labelled_pair(reply)
    if found is None:
        return None
    question, answer = (_clean(part) for part in found)
    if not question or not answer or answer.casefold() == question.casefold():
        return None
    return question, answer


def _json_pair(reply: str) -> tuple[str, str] | None:
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        record = json.loads(reply[start : end + 1])
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    fields = {str(k).casefold(): v for k, v in record.items()}
    question, answer = fields.get("question"), fields.get("answer")
    if isinstance(question, str) and isinstance(answer, str):
        return question, answer
    return None


def _labelled_pair(reply: str) -> tuple[str, str] | None:
    answer_label = _ANSWER.search(reply)
    if answer_label is None:
        return None
    before = reply[: answer_label.start()]
    # The question is what follows its label, or, with no label, all that comes before.
    labels = list(_QUESTION.finditer(before))
    question = before[labels[-1].end() :] if labels else before
    answer = reply[answer_label.end() :]
    following = _QUESTION.search(answer)  # a second pair begins: the first one is done
    if following is not None:
        answer = answer[: following.start()]
    # "A: Answer: …" and "A: Q: …" are labels the model echoed, not an answer.
    answer = _ANSWER.sub("", answer, count=1)
    if _QUESTION.match(answer.strip()):
        return None
    return question, answer


def _clean(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _has_second_question(text: str) -> bool:
    """A reply that has a whole pair and starts another: the rest would be thrown away."""
    answer = _ANSWER.search(text)
    return answer is not None and _QUESTION.search(text, answer.end()) is not None


def _chunks(
    library: Library, store: FolioStore, folder: Path, limit: int | None
) -> tuple[int, Iterator[tuple[str, str]]]:
    """How many chunks there are (up to ``limit``), and (file, text) for each in file order.

    Texts are read one file at a time, so a large folder is never all in memory.
    """
    files = library.require_indexed(os.path.abspath(folder))
    total = sum(len(record.chunk_ids) for record in files)
    total = total if limit is None else min(total, limit)

    def texts() -> Iterator[tuple[str, str]]:
        left = total
        for record in files:
            if left <= 0:
                return
            ids = record.chunk_ids[:left]
            by_id = {node.node_id: node for node in store.get_nodes(node_ids=ids)}
            for node_id in ids:
                node = by_id.get(node_id)
                if node is not None and node.get_content().strip():
                    yield record.path, node.get_content()
            left -= len(ids)

    return total, texts()


def _reply(model: ChatModel, messages: list[ChatMessage], kwargs: dict[str, Any]) -> str:
    """The model's whole reply, cut short once a second question begins."""
    text = ""
    stream = model.stream_chat(messages, **kwargs)
    try:
        for response in stream:
            text += response.delta or ""
            if _has_second_question(text):
                break
    finally:
        stream.close()  # ends generation at once and frees the model
    return text


def generate_pairs(
    library: Library,
    store: FolioStore,
    folder: Path,
    persona: Persona,
    model: ChatModel,
    datasets: DatasetStore,
    dataset: str,
    *,
    max_chunks: int | None = None,
    on_progress: Callable[[GenerationProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> GenerationReport:
    """Write pairs from the indexed chunks of files under ``folder`` into ``dataset``.

    The dataset is created (source "generated", ``persona.name``) if it does not exist.
    Cancelling stops after the current chunk and keeps what was written.

    Raises NothingIndexed when nothing under ``folder`` is indexed; FinetuneError for a
    ``max_chunks`` below 1.
    """
    if max_chunks is not None and max_chunks < 1:
        raise FinetuneError(f"max_chunks must be at least 1, not {max_chunks}.")
    total, chunks = _chunks(library, store, folder, max_chunks)
    made = False
    try:
        dataset = datasets.get(dataset).name  # "PR" adds to "pr": the name as it is stored
    except NoSuchDataset:
        # Made before the first chunk, so a bad name fails before the model does any work.
        dataset = datasets.create(dataset, [], source=SOURCE, persona=persona.name).name
        made = True
    try:
        return _write_pairs(chunks, total, persona, model, datasets, dataset, on_progress, cancel)
    except BaseException:
        # A run that failed before its first pair (a model that cannot be reached) leaves
        # no empty dataset behind it, as it found none.
        # Best effort: the failure itself is what the person must see.
        with contextlib.suppress(FolioError, OSError):
            if made and datasets.get(dataset).train_examples == 0:
                datasets.delete(dataset)
        raise


def _write_pairs(
    chunks: Iterator[tuple[str, str]],
    total: int,
    persona: Persona,
    model: ChatModel,
    datasets: DatasetStore,
    dataset: str,
    on_progress: Callable[[GenerationProgress], None] | None,
    cancel: CancelToken | None,
) -> GenerationReport:
    """``generate_pairs``' loop: a pair from each chunk, appended to ``dataset``."""
    kwargs: dict[str, Any] = {}
    if persona.temperature is not None:
        kwargs["temperature"] = persona.temperature
    done = written = skipped = repeated = 0
    cancelled = False
    train, validation = datasets.load(dataset)
    asked = {name_key(e.prompt) for e in [*train, *validation]}

    def report(current: str | None) -> None:
        if on_progress is not None:
            on_progress(GenerationProgress(done, total, written, current))

    report(None)
    for path, text in chunks:
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        report(path)
        pair = parse_pair(_reply(model, pair_prompt(persona, text), kwargs))
        if pair is None or echoes_example(*pair, text):
            skipped += 1
        elif (key := name_key(pair[0])) in asked:
            repeated += 1
        else:
            question, answer = pair
            asked.add(key)
            # No system prompt: the fine-tuned model is to answer this way by itself.
            example = Example(
                [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            )
            datasets.append(dataset, [example])
            written += 1
        done += 1
        report(path)
    cancelled = cancelled or (cancel is not None and cancel.cancelled and done < total)
    report(None)
    return GenerationReport(written, done, skipped, cancelled, repeated)
