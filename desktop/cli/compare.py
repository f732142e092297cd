"""``folio-cli compare``: one question across configurations, side by side (README, "folio-cli").

``--config MODEL[,persona=NAME][,retrieval=on|off]`` once per cell; ``--set NAME`` takes a
saved grid, ``--save-set NAME`` keeps this one. Without either: the default model with
retrieval on and off. Each cell's answer is printed as it ends (``--json``: one document at
the end, ``{"question", "cells": [ask's fields + config, error, ttft_ms, seconds, tokens_in,
tokens_out, cost_usd]}``). An empty question, or a grid with a cell that cannot run (no
model, an unknown model or persona, a malformed spec), is refused with exit 2 before
anything is asked. Exit 1 when a cell failed; when every cell failed, nothing is saved and
stderr says why for each cell (exit 1, or 130 when Ctrl+C stopped them before any answer).
Exit 130 when Ctrl+C stopped them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    allow_remote,
    check_cells,
    emit,
    grid_specs,
    interruptible,
    not_empty,
    positive_int,
)
from desktop.core.errors import ChatError, ModelError
from desktop.core.evaluate.cells import CellConfig, default_grid
from desktop.core.library.filenames import one_line

if TYPE_CHECKING:
    from desktop.core.evaluate.compare import CellResult
    from desktop.services import Services


def _configs(services: Services, args: argparse.Namespace) -> list[CellConfig]:
    """The grid asked for; UsageError for a malformed spec, an unknown set, model or
    persona."""
    specs = grid_specs(services, args.config, args.set)
    if args.save_set is not None and not args.save_set.strip():
        raise UsageError("--save-set needs a name for the set, e.g. --save-set leave.")
    try:
        configs = [CellConfig.parse(spec) for spec in specs]
    except ChatError as exc:
        raise UsageError(str(exc)) from exc
    check_cells(services, configs)  # the cells asked for, named as written
    try:
        configs = configs or default_grid(services.settings.default_model, None, None)
        services.comparer.check(configs)  # before anything is searched, asked or saved
    except (ChatError, ModelError) as exc:
        raise UsageError(str(exc)) from exc
    return configs


def _summary(result: CellResult) -> str:
    """A cell as the terminal shows it: heading, answer or error, figures."""
    lines = [f"## {result.config.label}"]
    if result.answer is not None:
        lines.append(result.answer.text.strip() or "(no text)")
        if result.answer.interrupted:
            lines.append("(stopped before the end)")
    if result.error:
        lines.append(f"(failed: {result.error})")
    if result.figures():
        lines.append(f"({result.figures_text()})")
    return "\n".join(lines)


def cmd_compare(services: Services, args: argparse.Namespace) -> int:
    """Answer the question with every configuration and print the cells."""
    # Imported on first use, as the comparer is: it loads the chat service and LlamaIndex.
    from desktop.core.evaluate.compare import NothingAnswered

    # The comparer would refuse it too, but only after the grid was checked and saved.
    not_empty(args.question, "QUESTION", "give the question to ask every configuration")
    configs = _configs(services, args)
    if args.save_set is not None:
        try:
            replaced = services.comparer.saved.save_set(args.save_set, [c.spec() for c in configs])
        except ChatError as exc:
            raise UsageError(f"--save-set: {exc}") from exc
        was = f" (it replaces the set {replaced!r})" if replaced is not None else ""
        print(
            one_line(f"Saved these cells as the set {args.save_set.strip()!r}{was}."),
            file=sys.stderr,
        )
    if args.allow_remote:
        allow_remote(services, [c.model for c in configs if c.retrieval])
    waiting = sorted({p for c in configs if c.retrieval and (p := services.needs_consent(c.model))})
    if waiting:  # refused before anything is asked or saved, as `ask` refuses
        raise UsageError(
            f"Nothing was asked: cells with retrieval on would send passages of your "
            f"documents to {', '.join(waiting)}. Run again with --allow-remote to agree, or "
            "give those cells retrieval=off."
        )

    def on_cell(position: int, result: CellResult) -> None:
        if not args.json:
            print(_summary(result) + "\n", flush=True)
        else:
            state = "failed" if result.error else "done"
            print(f"{position + 1}/{len(configs)} {result.config.spec()}: {state}", file=sys.stderr)

    with interruptible("Stopping every cell…") as cancel:
        try:
            comparison = services.comparer.run(
                args.question, configs, top_k=args.k, on_cell=on_cell, cancel=cancel, cli=True
            )
        except NothingAnswered as exc:
            print(one_line(str(exc)), file=sys.stderr)
            return EXIT_INTERRUPTED if cancel.cancelled else EXIT_ERROR
    if args.json:
        emit(args, comparison.to_json(), "")
    else:
        print(f"(comparison {comparison.id})", file=sys.stderr)
    if cancel.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if any(c.error for c in comparison.cells) else EXIT_OK


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``compare``, on the parser ``desktop.cli.build_parser`` made."""
    p = sub.add_parser(
        "compare",
        parents=[common],
        help="one question across configurations",
        description="Answer one question with several configurations (model, persona, "
        "retrieval) side by side; the library is searched once for all. Without --config "
        "or --set: the default model with retrieval on and off.",
    )
    p.add_argument("question", metavar="QUESTION")
    p.add_argument(
        "--config",
        action="append",
        metavar="SPEC",
        help="MODEL[,persona=NAME][,retrieval=on|off], once per cell",
    )
    p.add_argument("--set", metavar="NAME", help="the cells of a saved comparison set")
    p.add_argument("--save-set", metavar="NAME", help="save these cells as a set")
    p.add_argument("-k", type=positive_int, default=None, help="number of sources (1 or more)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let remote providers in the grid receive passages of your documents, from now on",
    )
    p.set_defaults(func=cmd_compare)
