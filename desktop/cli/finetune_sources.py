"""``folio-cli finetune from-chats|generate``: datasets from liked answers and from documents."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    DATASETS_LIST,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    dataset_name,
    emit,
    indexed_folder,
    interruptible,
    known_model,
    known_persona,
    positive_int,
    require_consent,
)
from desktop.cli.finetune import new_dataset_name
from desktop.core.errors import DatasetError
from desktop.core.finetune.datasets import NoSuchDataset
from desktop.core.finetune.sources.from_chats import liked_examples
from desktop.core.plurals import counted

if TYPE_CHECKING:
    from desktop.core.finetune.sources.generate import GenerationProgress
    from desktop.services import Services


def cmd_from_chats(services: Services, args: argparse.Namespace) -> int:
    name = new_dataset_name(services, args.name, "NAME", "choose another name")
    examples = liked_examples(services.chats, args.include_system_prompt)
    if not examples:
        raise UsageError(
            "No liked answers to learn from: mark good answers with thumbs up in the chat "
            "pane, then run this again."
        )
    info = services.datasets.create(name, examples, source="chats")
    emit(
        args,
        {"dataset": info.name, "examples": info.train_examples, "path": str(info.train_path)},
        f"Made dataset {info.name} from {info.train_examples} liked answers: {info.train_path}",
    )
    return EXIT_OK


def cmd_generate(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads LlamaIndex, which takes a while.
    from desktop.core.finetune.sources.generate import generate_pairs

    # Every argument is checked before any model loads; the folder's contents last.
    persona = known_persona(services, args.persona)
    dataset = dataset_name(services, args.dataset, "--dataset")
    try:  # an existing one by the name as it is stored ("PR" adds to "pr")
        dataset = services.datasets.get(dataset).name
    except NoSuchDataset:
        pass  # made by the generation
    except DatasetError as exc:  # two datasets whose names differ only in case
        raise UsageError(f"--dataset: {exc} {DATASETS_LIST}.") from exc
    if args.model is not None:
        known_model(services, args.model)
    folder = indexed_folder(services, args.folder)
    model_id = args.model or services.settings.default_model
    require_consent(services, model_id, args.allow_remote, f"Generating with {model_id}")
    model = services.llm(model_id)
    line = ProgressLine(every=0.0)  # one line a chunk on a pipe: each takes seconds

    def on_progress(p: GenerationProgress) -> None:
        if p.current is None:
            return
        text = f"{p.chunks_done}/{p.chunks_total} chunks, {p.pairs_written} pairs"
        shown = f"  {Path(p.current).name}" if line.tty else f": {p.current}"
        line.show(text + shown, key=p.chunks_done)

    # Ctrl+C stops after the current chunk; the pairs written so far stay.
    with interruptible("Stopping after the current chunk…") as cancel:
        try:
            r = generate_pairs(
                services.library,
                services.store,
                folder,
                persona,
                model,
                services.datasets,
                dataset,
                max_chunks=args.max_chunks,
                on_progress=on_progress,
                cancel=cancel,
            )
        finally:
            line.done()
    data = {
        "dataset": dataset,
        "pairs_written": r.pairs_written,
        "chunks_used": r.chunks_used,
        "chunks_skipped": r.chunks_skipped,
        "cancelled": r.cancelled,
        "duplicates_skipped": r.duplicates_skipped,
    }
    pairs, chunks = counted(r.pairs_written, "pair"), counted(r.chunks_used, "chunk")
    text = f"Wrote {pairs} into {dataset} from {chunks}"
    if r.chunks_skipped:
        were = "was" if r.chunks_skipped == 1 else "were"
        replies = counted(r.chunks_skipped, "reply", "replies")
        text += f" ({replies} {were} not a question and an answer about it)"
    if r.duplicates_skipped:
        were = "was" if r.duplicates_skipped == 1 else "were"
        questions = counted(r.duplicates_skipped, "question")
        text += f" ({questions} the dataset already had {were} left out)"
    text += "; stopped, the pairs written are kept." if r.cancelled else "."
    emit(args, data, text)
    return EXIT_INTERRUPTED if r.cancelled else EXIT_OK


def add_commands(fsub: Any, common: argparse.ArgumentParser) -> None:
    """``finetune from-chats`` and ``finetune generate``, on ``finetune``'s subparsers."""
    p = fsub.add_parser("from-chats", parents=[common], help="a dataset from the answers you liked")
    p.add_argument("name", metavar="NAME", help="the new dataset's name")
    p.add_argument(
        "--include-system-prompt",
        action="store_true",
        help="start each example with the persona's prompt (default: learn to answer without it)",
    )
    p.set_defaults(func=cmd_from_chats)
    p = fsub.add_parser(
        "generate",
        parents=[common],
        help="question/answer pairs written from a library folder in a persona's voice",
    )
    p.add_argument("--folder", required=True, metavar="DIR", help="a folder of the library")
    p.add_argument("--persona", required=True, metavar="NAME", help="the voice to write in")
    p.add_argument(
        "--dataset", required=True, metavar="NAME", help="dataset to add to (made if missing)"
    )
    p.add_argument("--model", metavar="ID", help="model that writes the pairs (default: settings)")
    p.add_argument(
        "--max-chunks", type=positive_int, default=None, metavar="N", help="use at most N chunks"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let the model's remote provider receive passages of your documents, from now on",
    )
    p.set_defaults(func=cmd_generate)
