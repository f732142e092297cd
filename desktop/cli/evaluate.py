"""``folio-cli eval``: evaluation sets from the library, runs over configurations, reports.

``eval build|import|from-liked`` make a set; ``eval sets|show|export|remove`` keep them;
``eval run NAME [--config SPEC]...`` answers the set with each configuration (the compare
grid's six cells by default), resumable: the same command again goes on where a stopped
run ended; ``eval runs NAME`` lists runs; ``eval report NAME [--run ID]`` prints the scores
and the recommendation (folio-cli's JSON shape with ``--json``), ``--html``/``--csv`` write
them to files. Exit 2 for bad input, 130 when Ctrl+C stopped; a run whose answers failed
reports them and exits 0, or 1 when none of its answers came (the model does not work).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    advised,
    allow_remote,
    check_cells,
    check_output,
    emit,
    grid_specs,
    indexed_folder,
    interruptible,
    known_model,
    known_persona,
    not_empty,
    path_problem,
    positive_int,
    require_consent,
    write_output,
)
from desktop.core.errors import ChatError, DatasetError, EvaluationError, ModelError
from desktop.core.evaluate.cells import CellConfig
from desktop.core.library.filenames import one_line
from desktop.core.plurals import counted
from desktop.core.tasks import clock_time, eta_phrase

if TYPE_CHECKING:
    from desktop.core.evaluate.build import BuildProgress
    from desktop.core.evaluate.history import RunScores
    from desktop.core.evaluate.report import Report
    from desktop.core.evaluate.run import RunProgress
    from desktop.core.evaluate.sets import EvalSet
    from desktop.services import Services


def _usage(exc: Exception) -> UsageError:
    return UsageError(str(exc))


def cmd_build(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads LlamaIndex, which takes a while.
    from desktop.core.evaluate.build import build_from_folder, skipped_text

    model_id = args.model or services.settings.default_model
    known_model(services, model_id)
    folder = indexed_folder(services, args.folder)  # before any model loads
    require_consent(services, model_id, args.allow_remote, f"Writing questions with {model_id}")
    line = ProgressLine(every=0.0)  # a line per question on a pipe: each takes seconds

    def on_progress(p: BuildProgress) -> None:
        if p.current is not None:
            text = (
                f"{p.questions_written}/{p.questions_wanted} questions{eta_phrase(p.eta_seconds)}"
            )
            line.show(f"{text}: {p.current}", key=p.chunks_tried)

    with interruptible("Stopping after the current question…") as cancel:
        try:
            report = build_from_folder(
                services.library, services.store, services.evals, args.name, folder,
                services.llama_index_llm(model_id), model_id=model_id,
                questions=args.questions, on_progress=on_progress, cancel=cancel,
            )  # fmt: skip
        except EvaluationError as exc:
            raise _usage(exc) from exc
        finally:
            line.done()
    text = (
        f"{args.name}: {report.in_set} of {report.wanted} questions ({report.written} written now)"
    )
    if report.chunks_skipped:
        text += f" ({counted(report.chunks_skipped, 'chunk')} gave no usable question)"
    text += "; stopped, what was written is kept." if report.cancelled else "."
    if report.duplicates:
        text += " " + skipped_text(list(report.duplicates))
    emit(args, {"name": args.name.strip(), **report.to_json()}, text)
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


def cmd_import(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use, as in every command here: it loads LlamaIndex.
    from desktop.core.evaluate.build import import_jsonl, skipped_text

    not_empty(args.file, "FILE", "give a JSONL file of questions")
    # The system's own reason (missing, a broken link, permission denied), not the core's
    # "is not a file" for all of them.
    problem = path_problem(args.file)
    if problem is not None:
        raise UsageError(f"Cannot import {problem}.")
    try:
        new = import_jsonl(services.evals, args.name, Path(args.file))
    except EvaluationError as exc:
        raise _usage(exc) from exc
    text = f"{new.made.name}: {counted(len(new.made.items), 'question')} imported."
    if new.skipped:
        text += " " + skipped_text(new.skipped)
    emit(args, new.to_json(), text)
    return EXIT_OK


def cmd_from_liked(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads LlamaIndex.
    from desktop.core.evaluate.build import from_liked, skipped_text

    try:
        new = from_liked(services.chats, services.evals, args.name)
    except EvaluationError as exc:
        raise _usage(exc) from exc
    text = f"{new.made.name}: {len(new.made.items)} questions from liked answers."
    if new.skipped:
        text += " " + skipped_text(new.skipped)
    emit(args, new.to_json(), text)
    return EXIT_OK


def cmd_sets(services: Services, args: argparse.Namespace) -> int:
    sets = services.evals.sets()
    text = "\n".join(
        one_line(f"{s.name}  {counted(len(s.items), 'question')}  "
                 f"({s.source}{', ' + s.folder if s.folder else ''})")
        for s in sets
    )  # fmt: skip
    emit(args, {"sets": [s.to_json() for s in sets]}, text or "No evaluation sets yet.")
    return EXIT_OK


def _set(services: Services, name: str) -> EvalSet:
    """The set ``name`` finds (``EvalStore.get``: "GOOD" finds "good"); UsageError naming the
    command that lists the sets when there is none."""
    try:
        return services.evals.get(name)
    except EvaluationError as exc:
        raise UsageError(f"{exc} `folio-cli eval sets` lists them.") from exc


def cmd_show(services: Services, args: argparse.Namespace) -> int:
    found = _set(services, args.name)
    # Each text on its own line, escaped: a question may hold line breaks or a terminal's
    # escape sequences.
    lines = [
        f"{n}. {one_line(i.question)}\n   → {one_line(i.reference)}"
        for n, i in enumerate(found.items, 1)
    ]
    emit(args, {**found.to_json(), "items": [i.to_json() for i in found.items]}, "\n".join(lines))
    return EXIT_OK


def cmd_export(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads LlamaIndex.
    from desktop.core.evaluate.build import jsonl_text

    found = _set(services, args.name)
    write_output(services, args.to, jsonl_text(found.items), "--to", force=args.force)
    emit(args, {"name": found.name, "path": args.to, "questions": len(found.items)},
         f"Wrote {counted(len(found.items), 'question')} to {args.to}.")  # fmt: skip
    return EXIT_OK


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    name = _set(services, args.name).name
    services.evals.delete(name)
    emit(args, {"removed": name}, f"Removed {name} and its runs.")
    return EXIT_OK


def _grid(services: Services, args: argparse.Namespace) -> list[CellConfig]:
    """The grid asked for (``--set`` then ``--config``), else the default grid; UsageError
    for a malformed spec, an unknown set, model or persona."""
    try:
        configs = [CellConfig.parse(spec) for spec in grid_specs(services, args.config, args.set)]
    except ChatError as exc:
        raise _usage(exc) from exc
    check_cells(services, configs)
    return configs or services.default_grid()


def cmd_run(services: Services, args: argparse.Namespace) -> int:
    # Every name is checked before any question of consent and before a run is made.
    _set(services, args.name)
    configs = _grid(services, args)
    if args.persona:
        known_persona(services, args.persona)
    if args.style_dataset:
        try:
            services.datasets.get(args.style_dataset)
        except DatasetError as exc:
            raise UsageError(
                f"--style-dataset: {exc} `folio-cli finetune datasets` lists them."
            ) from exc
    if args.judge:
        known_model(services, args.judge, "--judge")
    if args.allow_remote:
        judge = [args.judge] if args.judge else []
        allow_remote(services, [c.model for c in configs if c.retrieval] + judge)
    try:
        run = services.evaluator.start(
            args.name, configs, top_k=args.k, judge_model=args.judge,
            style_persona=args.persona, style_dataset=args.style_dataset, new=args.new,
        )  # fmt: skip
    except (EvaluationError, ChatError, ModelError) as exc:
        raise _usage(exc) from exc
    grid = counted(len(configs), "configuration")
    print(f"Run {run.id} of {run.set_name}: {grid}.", file=sys.stderr)
    if any(c.retrieval for c in configs) and services.library.indexed_chunks() == 0:
        # Cells with retrieval on then score the model alone: the report would compare two
        # sets of the model's own answers as if retrieval had been tried.
        print(
            "warning: the library is empty, so cells with retrieval on search nothing and "
            "their scores are the model's own: `folio-cli ingest FOLDER` first.",
            file=sys.stderr,
        )
    line = ProgressLine(every=0.0)

    def on_progress(p: RunProgress) -> None:
        if p.question is not None:
            text = f"{p.done}/{p.total}{eta_phrase(p.eta_seconds)}: {p.config}"
            line.show(text, key=(p.done, p.config))

    with interruptible("Stopping; run the same command again to go on.") as cancel:
        try:
            run = services.evaluator.run(run, on_progress=on_progress, cancel=cancel, cli=True)
        finally:
            line.done()
    results = services.evals.results(run.id)
    failed = [r for r in results if r.error]
    total = len(services.evals.get(run.set_name).items) * len(run.configs)
    done = len(results) - len(failed)
    data = {
        "run_id": run.id,
        "set": run.set_name,
        "configs": run.configs,
        "done": done,
        "total": total,
        "failed": len(failed),
        "first_error": failed[0].error if failed else None,  # why, without opening the report
        "finished": run.finished_at is not None,
    }
    text = f"Run {run.id}: {done} of {total} answers"
    text += f", {len(failed)} failed (first: {failed[0].error})" if failed else ""
    text += f". See `folio-cli eval report {shlex.quote(run.set_name)}`."
    emit(args, data, advised(args, text))
    if cancel.cancelled:
        return EXIT_INTERRUPTED
    # As ingest's failed files, failed answers are reported, not fatal (README, "folio-cli"):
    # the run is fatal only when no answer came at all (a model or server not working).
    return EXIT_ERROR if failed and not done else EXIT_OK


def cmd_runs(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: scoring loads numpy.
    from desktop.core.evaluate.history import run_history

    history = run_history(services.evals, _set(services, args.name).name)
    newest_first = list(reversed(history))
    emit(
        args,
        {"runs": [scored.to_json() for scored in newest_first]},
        runs_text(history) or "No runs yet.",
    )
    return EXIT_OK


def runs_text(history: list[RunScores]) -> str:
    """The runs as the terminal shows them, newest first: each run, then each configuration's
    facts and hit@k (facts alone without retrieval) with how they moved since the run before
    that had them."""
    # Imported on first use: scoring loads numpy.
    from desktop.core.evaluate.history import change

    def figure(index: int, config: str, key: str, name: str) -> str:
        value = history[index].score(config, key)
        if value is None:
            return f"{name} –"
        moved = change(history, index, config, key)
        return f"{name} {value:.2f}" + ("" if moved is None else f" ({moved:+.2f})")

    lines: list[str] = []
    for index in reversed(range(len(history))):
        run = history[index].run
        state = "finished" if run.finished_at else "unfinished"
        lines.append(f"{run.id}  {clock_time(run.started_at)}  {state}")
        questions = history[index].questions
        for c in history[index].configs:
            facts = figure(index, c.config, "facts", "facts")
            if not CellConfig.parse(c.config).retrieval:
                lines.append(f"  {c.label}: {facts}")  # nothing searched: no hit@k to show
                continue
            hits = figure(index, c.config, "hit_at_k", "hit@k")
            over = f"{c.coverage(questions)} question{'' if questions == 1 else 's'}"
            lines.append(f"  {c.label}: {facts}, {hits} over {over}")
    return "\n".join(lines)


def report_text(report: Report) -> str:
    """The report as the terminal shows it: a table (with the questions hit@k and MRR are
    over), what they are over in a sentence, then the recommendation."""
    # Imported on first use: scoring loads numpy.
    from desktop.core.evaluate.report import hit_name

    def cell(value: float | None, digits: int = 2) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    hit = hit_name(report.k)
    rows = [("configuration", hit, "MRR", "over", "facts", "style", "1st token", "$/1000")]
    for s in report.configs:
        cost = "free" if s.cost_per_1000_usd == 0 else cell(s.cost_per_1000_usd)
        first = "–" if s.ttft_ms is None else f"{s.ttft_ms:,.0f} ms"
        rows.append(
            (s.label, cell(s.hit_at_k), cell(s.mrr), s.coverage(report.questions),
             cell(s.facts), cell(s.style), first, cost)
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    lines += ["", report.coverage_note()]
    if report.style_note and report.style_note not in report.recommendation:
        lines += ["", report.style_note]
    return "\n".join([*lines, "", report.recommendation])


def cmd_report(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: the report needs numpy and the embedding model.
    from desktop.core.evaluate.report_html import to_html

    name = _set(services, args.name).name
    targets = {}
    for flag, target in (("--html", args.html), ("--csv", args.csv)):
        if target is not None:  # checked before the report is computed
            targets[flag] = check_output(services, target, flag, force=args.force)
    if len(set(targets.values())) < len(targets):  # one would overwrite the other
        raise UsageError(f"--html and --csv name the same file ({args.csv}): give two names.")
    runs = services.evals.runs(name)
    if args.run is not None:  # "" too: a script's unset variable, not "the newest"
        chosen = [r for r in runs if r.id == args.run]
        if not chosen:
            raise UsageError(
                f"--run: {name!r} has no run {args.run!r}; "
                f"`folio-cli eval runs {shlex.quote(name)}` lists them."
            )
    elif not runs:
        raise UsageError(
            f"{name!r} has not been run yet: `folio-cli eval run {shlex.quote(name)}`."
        )
    report = services.eval_report((chosen if args.run is not None else runs)[0].id)
    if args.html:
        write_output(services, args.html, to_html(report), "--html", force=args.force)
    if args.csv:
        write_output(services, args.csv, report.to_csv(), "--csv", force=args.force)
    emit(args, report.to_json(), report_text(report))
    return EXIT_OK


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``eval`` and its actions, on the parser ``desktop.cli.build_parser`` made."""
    ev = sub.add_parser("eval", help="evaluation sets, runs and reports").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = ev.add_parser("build", parents=[common], help="write a set from a library folder")
    p.add_argument("--folder", required=True, metavar="DIR", help="an indexed library folder")
    p.add_argument("--name", required=True, metavar="NAME")
    p.add_argument("--questions", type=positive_int, default=30, metavar="N", help="default 30")
    p.add_argument(
        "--model", metavar="ID", help="the model that writes them (default: the default model)"
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="let a remote model read the passages"
    )
    p.set_defaults(func=cmd_build)
    p = ev.add_parser("import", parents=[common], help="a set from a JSONL file")
    p.add_argument("file", metavar="FILE", help='lines of {"question": ..., "reference": ...}')
    p.add_argument("--name", required=True, metavar="NAME")
    p.set_defaults(func=cmd_import)
    p = ev.add_parser("from-liked", parents=[common], help="a set from the answers you liked")
    p.add_argument("--name", required=True, metavar="NAME")
    p.set_defaults(func=cmd_from_liked)
    p = ev.add_parser("sets", parents=[common], help="the evaluation sets")
    p.set_defaults(func=cmd_sets, read_only=True)
    p = ev.add_parser("show", parents=[common], help="a set's questions")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_show, read_only=True)
    p = ev.add_parser("export", parents=[common], help="a set as JSONL, to edit and import")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--to", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    p.set_defaults(func=cmd_export)
    p = ev.add_parser("remove", parents=[common], help="remove a set and its runs")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove)
    p = ev.add_parser(
        "run", parents=[common], help="answer a set with each configuration (resumable)",
        description="Answer every question of the set with each configuration. Without "
        "--config or --set: the Compare grid (the default model, with the founding persona, "
        "and the newest fine-tuned model, each with retrieval on and off). The same command "
        "again resumes a stopped run.",
    )  # fmt: skip
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--config",
        action="append",
        metavar="SPEC",
        help="MODEL[,persona=NAME][,retrieval=on|off], once per configuration",
    )
    p.add_argument("--set", metavar="NAME", help="the cells of a saved comparison set")
    p.add_argument(
        "--judge", metavar="ID", help="a capable model that grades correctness and faithfulness"
    )
    p.add_argument("--persona", metavar="NAME", help="the persona whose voice style measures")
    p.add_argument("--style-dataset", metavar="NAME", help="the dataset of that voice's examples")
    p.add_argument("-k", type=positive_int, default=None, help="number of sources (1 or more)")
    p.add_argument("--new", action="store_true", help="start a new run instead of resuming")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let remote providers in the grid receive passages of your documents",
    )
    p.set_defaults(func=cmd_run)
    p = ev.add_parser("runs", parents=[common], help="a set's runs, newest first")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_runs, read_only=True)
    p = ev.add_parser("report", parents=[common], help="scores and a recommendation")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--run", metavar="ID", help="which run (default: the newest)")
    p.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    p.add_argument("--csv", metavar="FILE", help="also write the scores as CSV")
    p.add_argument("--force", action="store_true", help="replace those files if they exist")
    p.set_defaults(func=cmd_report)
