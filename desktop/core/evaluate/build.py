"""Where evaluation sets come from: a library folder, a JSONL file, or liked answers.

From a folder, LlamaIndex's ``DatasetGenerator`` (its evaluation module's question and
reference-answer generator) writes the question and the reference answer from one chunk at
a time. One chunk per call keeps each question tied to the passage it was written from,
which hit@k and MRR need; the generator itself, given many chunks, returns questions with
no record of their chunk. Chunks are taken spread over the folder's files, not the first N.
"""

from __future__ import annotations

import itertools
import json
import re
import stat
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.prompts import PromptTemplate
from llama_index.core.schema import TextNode

from desktop.core.chat.history import ChatStore
from desktop.core.errors import EvaluationError
from desktop.core.evaluate.scores import borrowed_words, key_words
from desktop.core.evaluate.sets import (
    EvalItem,
    EvalSet,
    EvalStore,
    SetSource,
    check_name,
    question_key,
)
from desktop.core.files import write_atomically
from desktop.core.jsonl import (
    SURROGATE_PROBLEM,
    NotJson,
    json_kind,
    parse_line,
    unpaired_surrogate,
)
from desktop.core.library.catalog import Library
from desktop.core.plurals import counted
from desktop.core.store import FolioStore
from desktop.core.tasks import CancelToken, eta_seconds

# A chunk shorter than this (a heading, a page footer) has nothing to ask about.
MIN_CHUNK_CHARS = 120
# Chunks tried per question wanted before giving up: a small model writes no usable
# question for some chunks (SmolLM2-135M: 6 of 36 on the Debian FAQ, up to 2 of 3 on
# very short passages).
TRIES_PER_QUESTION = 5
# A JSONL evaluation set larger than this is refused before it is read into memory.
MAX_JSONL_BYTES = 200_000_000

# Sent with the chunk. A worked example first: small models copy a format they have just
# seen far more reliably than one they are told about (the same finding as the fine-tuning
# generator's, ``finetune.sources.generate``). They also copy its content now and then, so
# a question that borrows the example's words is refused (``usable``).
EXAMPLE_PASSAGE = "# Coffee\nThe coffee machine on the third floor is cleaned every Friday."
QUESTION_TEMPLATE = PromptTemplate(
    f"Passage:\n{EXAMPLE_PASSAGE}\n\n"
    "Question: When is the coffee machine on the third floor cleaned?\n\n"
    "Passage:\n{context_str}\n\n{query_str}\nQuestion:"
)
QUESTION_QUERY = (
    "Write one question that a reader can answer from this passage alone. "
    "Reply with the question only."
)
_LABEL = re.compile(r"^\s*(?:[\d.]*\d[.)]\s+|[-*]\s*|q(?:uestion)?\s*\d*\s*:\s*)", re.I)
# "What is the answer to the question: …", which small models wrap around what they echo.
_ECHO = re.compile(r"(?:what is )?the answer to (?:the|this) question(?: is)?\s*[:?]\s*", re.I)

# The highest page number an imported question may name: far past any real document, and
# well within the integers SQLite stores (up to 2**63 - 1).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class BuildProgress:
    """How far writing a set from a folder has come: the set's questions so far (those of
    an earlier build it continues included) of those wanted; ``eta_seconds`` None until
    measured."""

    questions_written: int
    questions_wanted: int
    chunks_tried: int
    current: str | None  # the file the chunk being read comes from
    eta_seconds: float | None


@dataclass(frozen=True)
class Skipped:
    """A question left out of a set because the set asks it already (``question_key``):
    from a JSONL file, its ``line`` and the ``same_as_line`` that asked it first; otherwise
    ``same_as_question``, the 1-based position of the set's question it repeats."""

    question: str
    line: int | None = None
    same_as_line: int | None = None
    same_as_question: int | None = None

    def describe(self) -> str:
        """'line 4 (same as line 1)', or '"Who approves?" (same as question 2)'."""
        if self.line is not None:
            return f"line {self.line} (same as line {self.same_as_line})"
        return f"{self.question!r} (same as question {self.same_as_question})"

    def to_json(self) -> dict[str, Any]:
        """``{question, line, same_as_line, same_as_question}``; null where not known."""
        return {
            "question": self.question,
            "line": self.line,
            "same_as_line": self.same_as_line,
            "same_as_question": self.same_as_question,
        }


def skipped_text(skipped: list[Skipped]) -> str:
    """The repeated questions left out, in a sentence ("" for none), at most ten named."""
    if not skipped:
        return ""
    shown = "; ".join(s.describe() for s in skipped[:10]) + ("; …" if len(skipped) > 10 else "")
    many = len(skipped) != 1
    return (
        f"{len(skipped)} repeated question{'s' if many else ''} left out, as "
        f"{'they ask' if many else 'it asks'} what the set asks already: {shown}."
    )


@dataclass(frozen=True)
class NewSet:
    """A set just made (``made``) and the repeated questions left out of it."""

    made: EvalSet
    skipped: list[Skipped]

    def to_json(self) -> dict[str, Any]:
        """The set's fields (``EvalSet.to_json``) and ``duplicates_skipped``: a
        ``Skipped.to_json`` per question left out."""
        return {**self.made.to_json(), "duplicates_skipped": [s.to_json() for s in self.skipped]}


@dataclass(frozen=True)
class BuildReport:
    """What one build wrote (``written``), the set's questions after it (``in_set``, more
    when it continued a set), how many chunks gave no usable question, and the questions
    the model wrote again (``duplicates``: left out)."""

    written: int
    in_set: int
    wanted: int
    chunks_skipped: int
    cancelled: bool
    duplicates: tuple[Skipped, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """questions, written, wanted, chunks_skipped, cancelled, and
        ``duplicates_skipped`` (``Skipped.to_json`` each)."""
        return {
            "questions": self.in_set,
            "written": self.written,
            "wanted": self.wanted,
            "chunks_skipped": self.chunks_skipped,
            "cancelled": self.cancelled,
            "duplicates_skipped": [s.to_json() for s in self.duplicates],
        }


def question_from(reply: str) -> str | None:
    """The first line of ``reply`` that reads as a question ("Q: …", "1. …" labels off, and
    an echoed "What is the answer to the question: …" wrapper), or None."""
    for line in reply.splitlines():
        line = _ECHO.split(line)[-1]
        line = _LABEL.sub("", line).strip().strip("\"'*").strip()
        if len(line) > 8 and line.endswith("?"):
            return line
    return None


def usable(question: str, reference: str, passage: str) -> tuple[str, str] | None:
    """The (question, reference) to keep from what the model wrote about ``passage``, or
    None: a question must share a key word with the passage and none with the worked
    example that the passage lacks; a reference must be an answer (not a question, not the
    question again, not empty), its "1." numbering and echoed wrapper taken off."""
    in_passage, asked = key_words(passage), key_words(question)
    if not asked & in_passage or borrowed_words([question], EXAMPLE_PASSAGE, passage):
        return None
    reference = _LABEL.sub("", _ECHO.split(reference.strip())[-1]).strip()
    if not reference or reference.endswith("?") or key_words(reference) <= asked:
        return None
    return question, reference


def _spread(count: int, wanted: int) -> list[int]:
    """Indices 0..count-1, the first ``wanted`` evenly spaced over the range, then the rest
    in order (tried when an early chunk gives no question)."""
    if count == 0:
        return []
    step = count / max(1, min(wanted, count))
    first = list(dict.fromkeys(int(i * step) for i in range(min(wanted, count))))
    taken = set(first)
    return first + [i for i in range(count) if i not in taken]


def _chunks(
    library: Library, store: FolioStore, folder: Path, wanted: int
) -> Iterator[tuple[str, str]]:
    """(file, chunk text) of the indexed chunks under ``folder``, spread over its files.

    Raises NothingIndexed when nothing under ``folder`` is indexed.
    """
    files = library.require_indexed(folder)
    ids = [(record.path, chunk) for record in files for chunk in record.chunk_ids]
    for index in _spread(len(ids), wanted):
        path, chunk = ids[index]
        for node in store.get_nodes(node_ids=[chunk]):
            text = node.get_content().strip()
            if len(text) >= MIN_CHUNK_CHARS:
                yield path, text


def _triple(llm: LLM, text: str) -> tuple[str, str] | None:
    """(question, reference answer) LlamaIndex's generator writes from one chunk, or None."""
    # Imported here: the evaluation package is loaded only when a set is being written.
    from llama_index.core.evaluation import DatasetGenerator

    # DatasetGenerator is marked deprecated for RagDatasetGenerator, which this LlamaIndex
    # (0.14) no longer ships; it is the generator its evaluation module has. Its warnings
    # force themselves shown ("always"), so they are recorded and dropped instead.
    with warnings.catch_warnings(record=True):
        generator = DatasetGenerator(
            [TextNode(text=text)],
            llm=llm,
            num_questions_per_chunk=1,
            text_question_template=QUESTION_TEMPLATE,
            question_gen_query=QUESTION_QUERY,
        )
        generated = generator.generate_dataset_from_nodes(num=1)
    for query_id, raw in generated.queries.items():
        question = question_from(raw)
        if question:
            return usable(question, generated.responses.get(query_id) or "", text)
    return None


def build_from_folder(
    library: Library,
    store: FolioStore,
    evals: EvalStore,
    name: str,
    folder: Path,
    llm: LLM,
    *,
    model_id: str,
    questions: int = 30,
    on_progress: Callable[[BuildProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> BuildReport:
    """Write up to ``questions`` items from the indexed chunks under ``folder`` into the set
    ``name``, each committed as it is made.

    A set of that name written from the same folder is continued (its chunks are not used
    twice), so a stopped build resumes. Stopping keeps what was written.

    Raises EvaluationError: fewer than one question asked, or the name is taken by another
    kind of set; NothingIndexed when nothing under ``folder`` is indexed. A model's error
    (``ProviderError``, ``ModelError``) is raised as it comes, with the items so far kept.
    """
    if questions < 1:
        raise EvaluationError(f"--questions must be at least 1, not {questions}.")
    name = check_name(name)
    root = str(folder.resolve())
    used: set[str] = set()
    # A question asked twice (of two chunks) is kept once: its key and its position.
    asked: dict[str, int] = {}
    if evals.exists(name):
        existing = evals.get(name)
        name = existing.name  # as stored: "GOOD" continues the set "good"
        if existing.source != SetSource.GENERATED or existing.folder != root:
            raise EvaluationError(
                f"An evaluation set called {name!r} exists already ({existing.source}, "
                f"{existing.folder or 'no folder'}): choose another name."
            )
        used = {item.source_text or "" for item in existing.items}
        for position, item in enumerate(existing.items, start=1):
            asked.setdefault(question_key(item.question), position)
    chunks = _chunks(library, store, Path(root), questions)
    next_chunk = next(chunks, None)  # refuses a folder with nothing indexed, before a set exists
    created = not evals.exists(name)
    if created:
        evals.create(name, SetSource.GENERATED, folder=root, model=model_id)
    written = len(used)
    tried = skipped = 0
    duplicates: list[Skipped] = []
    started = time.monotonic()
    made_here = 0

    def report(current: str | None) -> None:
        if on_progress is None:
            return
        eta = eta_seconds(time.monotonic() - started, made_here, questions - written)
        on_progress(BuildProgress(written, questions, tried, current, eta))

    report(None)
    cancelled = False
    for path, text in itertools.chain([next_chunk] if next_chunk else [], chunks):
        if written >= questions or tried >= questions * TRIES_PER_QUESTION:
            break
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        if text in used:
            continue
        report(path)
        tried += 1
        triple = _triple(llm, text)
        if triple is None:
            skipped += 1
            continue
        key = question_key(triple[0])
        if key in asked:
            duplicates.append(Skipped(triple[0], same_as_question=asked[key]))
            continue
        asked[key] = written + 1
        evals.append(name, [EvalItem(triple[0], triple[1], path, text)])
        used.add(text)
        written += 1
        made_here += 1
    report(None)
    if created and made_here == 0:
        evals.delete(name)  # no empty set is left behind
        if not cancelled:
            raise EvaluationError(
                f"No question could be written from {root}: "
                + (
                    f"the model wrote no usable question for the {tried} passages tried; "
                    "try another model."
                    if tried
                    else f"its passages are all shorter than {MIN_CHUNK_CHARS} characters."
                )
            )
    return BuildReport(made_here, written, questions, skipped, cancelled, tuple(duplicates))


# Field names read from a JSONL line, first found wins: Folio's own, then LlamaIndex's
# ``LabelledRagDataExample`` (query, reference_answer, reference_contexts), then the
# usual question/answer pair.
_QUESTION_FIELDS = ("question", "query")
_REFERENCE_FIELDS = ("reference", "reference_answer", "answer")


def _field(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((record[n] for n in names if n in record), None)


@dataclass(frozen=True)
class JsonlItems:
    """The items read from a JSONL file, and the lines left out as repeated questions."""

    items: list[EvalItem]
    skipped: list[Skipped]


def read_jsonl(path: Path) -> JsonlItems:
    """The items of a JSONL file: one object per line with a question and a reference
    answer, and optionally the source passage (``source_text`` and ``source_path``, or
    ``reference_contexts``' first text) or only its file (``source_path``, and
    ``source_page`` from 1). Blank lines are skipped; a line asking a question an earlier
    line asks (``question_key``) is left out and named in ``skipped``.

    Raises EvaluationError naming the file when it does not exist, is a folder or no
    regular file, is too large or cannot be read, or naming it and every bad line (up to
    ten) and what each needs; nothing is read from a file with a bad line.
    """
    try:
        found = path.stat()
    except FileNotFoundError as exc:  # a missing file, or a link to one
        raise EvaluationError(
            f"{path} does not exist: check the path and give a JSONL file."
        ) from exc
    except OSError as exc:
        raise EvaluationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    # A folder, a pipe or a device would hang or never end.
    if stat.S_ISDIR(found.st_mode):
        raise EvaluationError(f"{path} is a folder: give a JSONL file in it.")
    if not stat.S_ISREG(found.st_mode):
        raise EvaluationError(f"{path} is not a file: give a JSONL file.")
    try:
        if found.st_size > MAX_JSONL_BYTES:
            raise EvaluationError(
                f"{path} is over {MAX_JSONL_BYTES // 1_000_000} MB: an evaluation set is "
                "questions and answers; split it."
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise EvaluationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvaluationError(
            f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8 JSONL."
        ) from exc
    items: list[EvalItem] = []
    skipped: list[Skipped] = []
    first_line: dict[str, int] = {}  # each question's key: the line that asks it first
    problems: list[str] = []
    # Lines end at "\n" only, as JSONL's do: splitlines() would also break at U+2028 or
    # U+0085 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = parse_line(line)
        except NotJson as exc:
            problems.append(f"line {number}: not JSON: {exc}")
            continue
        if unpaired_surrogate(record):
            problems.append(f"line {number}: {SURROGATE_PROBLEM}")
            continue
        if not isinstance(record, dict):
            problems.append(
                f"line {number}: not a JSON object ({json_kind(record)}); each line holds one "
                'question, e.g. {"question": "...", "reference": "..."}'
            )
            continue
        question, reference = _field(record, _QUESTION_FIELDS), _field(record, _REFERENCE_FIELDS)
        if not isinstance(question, str) or not question.strip():
            problems.append(f'line {number}: no "question" text')
            continue
        if not isinstance(reference, str) or not reference.strip():
            problems.append(f'line {number}: no "reference" answer text')
            continue
        source_text = record.get("source_text")
        contexts = record.get("reference_contexts")
        if source_text is None and isinstance(contexts, list) and contexts:
            source_text = contexts[0]
        source_path = record.get("source_path")
        wrong = [
            name
            for name, value in (("source_text", source_text), ("source_path", source_path))
            if value is not None and not isinstance(value, str)
        ]
        if wrong:
            problems.append(f'line {number}: "{wrong[0]}" is not text')
            continue
        page = record.get("source_page")
        # bool is an int to Python; "page": true is no page number.
        if page is not None and (
            not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= MAX_PAGE
        ):
            problems.append(
                f'line {number}: "source_page" is not a page number (1 to {MAX_PAGE:,})'
            )
            continue
        key = question_key(question)
        if key in first_line:
            skipped.append(Skipped(question.strip(), number, first_line[key]))
            continue
        first_line[key] = number
        items.append(
            EvalItem(
                question.strip(),
                reference.strip(),
                source_path or None,
                source_text if source_text and source_text.strip() else None,
                source_page=page,
            )
        )
    if problems:
        shown = "; ".join(problems[:10]) + ("; …" if len(problems) > 10 else "")
        raise EvaluationError(
            f"{path} has {counted(len(problems), 'bad line')}, so nothing was imported: "
            f'{shown}. Each line needs {{"question": "...", "reference": "..."}}.'
        )
    if not items:
        raise EvaluationError(
            f"{path} holds no questions: each line needs a question and a reference."
        )
    return JsonlItems(items, skipped)


def import_jsonl(evals: EvalStore, name: str, path: Path) -> NewSet:
    """A new set ``name`` from a JSONL file (``read_jsonl``), with the lines left out as
    repeated questions; raises as ``read_jsonl`` does, or EvaluationError if the name is
    taken."""
    read = read_jsonl(path)
    return NewSet(evals.create(name, SetSource.IMPORTED, read.items), read.skipped)


def jsonl_text(items: list[EvalItem]) -> str:
    """``items`` as JSONL that ``read_jsonl`` reads back. Non-ASCII is escaped, so no line
    holds a character another reader takes for a line break (U+2028, U+0085)."""
    return "".join(json.dumps(i.to_json()) + "\n" for i in items)


def write_jsonl(items: list[EvalItem], path: Path) -> None:
    """Write ``items`` as JSONL (``jsonl_text``), atomically."""
    write_atomically(path, [jsonl_text(items)])


def from_liked(chats: ChatStore, evals: EvalStore, name: str) -> NewSet:
    """A new set ``name`` from the liked answers: the question asked, the liked answer as
    the reference, and its best-scored source as the passage (none if it had none). A
    question liked again (``question_key``) keeps its first liked answer; the others are
    named in ``skipped``.

    Raises EvaluationError when no answer is liked, or the name is taken.
    """
    items: list[EvalItem] = []
    skipped: list[Skipped] = []
    position: dict[str, int] = {}
    for question, answer in chats.liked():
        key = question_key(question.content)
        if key in position:
            skipped.append(Skipped(question.content.strip(), same_as_question=position[key]))
            continue
        position[key] = len(items) + 1
        best = answer.citations[0] if answer.citations else None
        items.append(
            EvalItem(
                question.content,
                answer.content,
                best.path if best else None,
                best.text if best else None,
                source_page=best.page if best else None,
            )
        )
    if not items:
        raise EvaluationError(
            "No answer is liked yet: press 👍 on answers you trust, then try again."
        )
    return NewSet(evals.create(name, SetSource.LIKED, items), skipped)
