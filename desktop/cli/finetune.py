"""``folio-cli finetune ...``: training datasets, their validation, and fine-tuning jobs.

``start`` validates first and refuses an invalid dataset (exit 2). On a terminal it then
shows what would be uploaded (files, examples, sizes, where to, estimated cost) and asks;
with ``--yes``, with ``--json``, or when stdin is not a terminal (a script), it goes ahead
without asking: running the command that way is the consent. ``status --wait`` follows
jobs until they end, and exits 1 if one it followed failed or was cancelled; Ctrl+C stops
following (exit 130), the jobs go on at the provider. ``remove`` deletes a failed or
cancelled local run. Bad input exits 2 with one line naming the argument and what to do,
before anything is measured or sent: a base model no one here can train from, a dataset
that is neither a file nor a dataset's name, a setting out of its range, an unknown job or
one in the wrong state for the command, a blank job id. A failure while working (no key, a
provider's refusal) is 1.

``validate FILE`` and ``start --dataset`` read "a file or a dataset's name" by one rule
(``DatasetStore.choose``): a name that is both a file here and a dataset's is the file, with
a warning on stderr (and in the JSON's ``warnings``) saying how to give either one.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    DATASETS_LIST,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    advised,
    dataset_name,
    emit,
    interruptible,
    known_model,
    known_persona,
    not_empty,
    path_problem,
)
from desktop.core.errors import DatasetError, FinetuneError, FolioError, ProviderError
from desktop.core.finetune.datasets import TrainingData
from desktop.core.finetune.examples import LineProblem
from desktop.core.finetune.local.config import SettingOutOfRange, TrainConfig
from desktop.core.finetune.pricing import DEFAULT_BASE, PRICES_AS_OF
from desktop.core.finetune.records import JobState, how_it_ended
from desktop.core.library.filenames import one_line
from desktop.core.library.lock import LibraryInUseError
from desktop.core.models.ids import LOCAL, LOCAL_FT_PREFIX, LOCAL_PREFIX, OPENAI
from desktop.core.plurals import counted
from desktop.core.tasks import CancelToken, eta_phrase

LOCAL_POLL_S = 2.0  # a local run's progress is in finetune.db: read it often
LOCK_RETRY_S = 0.5  # how often `status --wait` asks again for a lock another command holds
_UNSUCCESSFUL = (JobState.FAILED, JobState.CANCELLED)  # ends that make no model
# ``start``'s flags that only one kind of training takes (argparse dest → flag): given to
# the other kind they would be ignored without a word, so they are refused.
LOCAL_ONLY = {
    "rank": "--rank",
    "lr": "--lr",
    "max_seq_len": "--max-seq-len",
    "batch_tokens": "--batch-tokens",
}
OPENAI_ONLY = {
    "batch_size": "--batch-size",
    "learning_rate_multiplier": "--learning-rate-multiplier",
}
# TrainConfig's fields as ``start --local`` takes them: its errors name the flags instead.
# (alpha is twice --rank, so --rank's own check comes first.)
CONFIG_FLAGS = {
    "epochs": "--epochs",
    "rank": "--rank",
    "learning_rate": "--lr",
    "max_seq_len": "--max-seq-len",
    "batch_tokens": "--batch-tokens",
}
# OpenAI's limits on what ``start`` sends, from its API reference: "any number between 1
# and 50 epochs"; a suffix of "up to 64 characters". Refused here, before any upload.
OPENAI_MAX_EPOCHS = 50
OPENAI_MAX_SUFFIX = 64
# OpenAI names its own fine-tuned models "ft:<base>:<org>:<suffix>:<id>", with no
# "openai:" in front when typed as the API takes them.
OPENAI_FT_PREFIX = "ft:"
MODELS_LIST = "`folio-cli models list` shows the models"

if TYPE_CHECKING:
    from desktop.core.finetune.jobs import UploadPlan
    from desktop.core.finetune.local.lengths import LocalCheck
    from desktop.core.finetune.records import Job
    from desktop.services import Services


def _kb(size: int) -> str:
    return f"{size / 1024:,.1f} KB"


def _shown(lines: Iterable[str]) -> str:
    """Lines of human output, each ``one_line``: a file name, a dataset's line or a
    provider's message holding a newline or a terminal escape stays on its own line."""
    return "\n".join(one_line(line) for line in lines)


def _check_base(services: Services, base: str, local: bool) -> None:
    """UsageError naming --base when it is no model Folio can train from: on this computer
    (``local``) a local GGUF model there is, else a model OpenAI could fine-tune. Checked
    before anything is read, measured or sent; a bare name (``gpt-4o-mini``) is OpenAI's to
    judge."""
    name = base.strip()
    provider, colon, model = name.partition(":")
    if not name or (colon and not model.strip()):
        raise UsageError(
            f"--base {name!r} names no model: give one such as openai:{DEFAULT_BASE}, or "
            f"local:default with --local; {MODELS_LIST}."
        )
    if name.startswith(LOCAL_FT_PREFIX):
        raise UsageError(
            f"--base {name} is a model fine-tuned on this computer: training starts from a "
            f"base model, local:NAME with --local or an OpenAI one; {MODELS_LIST}."
        )
    if local:
        if not name.startswith(LOCAL_PREFIX):
            raise UsageError(
                f"--base {name}: training on this computer (--local) starts from a local "
                "model, local:NAME such as local:default; an OpenAI model is fine-tuned at "
                f"OpenAI, without --local. {MODELS_LIST}."
            )
        known_model(services, name, "--base")
    elif name.startswith(LOCAL_PREFIX):
        raise UsageError(
            f"--base {name} is a model on this computer: add --local to train it here, or "
            f"give an OpenAI model (openai:MODEL, e.g. openai:{DEFAULT_BASE}) to fine-tune at "
            f"OpenAI; {MODELS_LIST}."
        )
    elif colon and provider != OPENAI and not name.startswith(OPENAI_FT_PREFIX):
        raise UsageError(
            f"--base {name}: Folio fine-tunes OpenAI models at OpenAI (openai:MODEL, e.g. "
            f"openai:{DEFAULT_BASE}) and local models on this computer (--local with "
            f"local:NAME), not models of {provider!r}; {MODELS_LIST}."
        )


def _no_data(exc: DatasetError) -> str:
    """Why a "file or dataset" argument names nothing to train on, and where the datasets
    are listed."""
    return f"{str(exc).rstrip('.')}; {DATASETS_LIST}."


def _warn(chosen: TrainingData) -> list[str]:
    """The warning of a name that is both a file here and a dataset's, printed on stderr;
    as a list for the result's ``warnings``."""
    if chosen.warning is None:
        return []
    print(one_line(f"warning: {chosen.warning}"), file=sys.stderr)
    return [chosen.warning]


def _check_dataset(services: Services, dataset: str) -> TrainingData:
    """What --dataset names (``DatasetStore.choose``, the rule every command follows);
    UsageError naming --dataset when it is neither a readable file nor a dataset's name."""
    not_empty(
        dataset, "--dataset", f"give a JSONL training file or a dataset's name; {DATASETS_LIST}"
    )
    try:
        chosen = services.datasets.choose(dataset)
    except DatasetError as exc:
        raise UsageError(f"--dataset: {_no_data(exc)}") from exc
    if chosen.path is not None:
        if os.path.isdir(chosen.path):
            raise UsageError(
                f"--dataset {dataset} is a folder: give a JSONL training file in it, or a "
                f"dataset's name; {DATASETS_LIST}."
            )
        # The system says why a path cannot be read (missing, a broken link, ...).
        problem = path_problem(str(chosen.path))
        if problem is not None:
            raise UsageError(f"--dataset {problem}; {DATASETS_LIST}.")
    return chosen


def _check_openai_epochs(epochs: int | None) -> None:
    """UsageError naming --epochs when OpenAI would refuse the number."""
    if epochs is not None and not 1 <= epochs <= OPENAI_MAX_EPOCHS:
        raise UsageError(
            f"--epochs {epochs} is out of range: use a whole number from 1 to "
            f"{OPENAI_MAX_EPOCHS} (OpenAI's limit), or leave it out for OpenAI's choice."
        )


def _check_openai_settings(args: argparse.Namespace) -> None:
    """UsageError naming the flag when a setting ``start`` would send to OpenAI is out of
    the range OpenAI takes, before anything is uploaded."""
    _check_openai_epochs(args.epochs)
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError(
            f"--batch-size {args.batch_size} is out of range: use a whole number of 1 or more, "
            "or leave it out for OpenAI's choice."
        )
    multiplier = args.learning_rate_multiplier
    if multiplier is not None and not (math.isfinite(multiplier) and multiplier > 0):
        raise UsageError(
            f"--learning-rate-multiplier {multiplier!r} is out of range: use a number above 0, "
            "or leave it out for OpenAI's choice."
        )
    if args.suffix is not None and len(args.suffix) > OPENAI_MAX_SUFFIX:
        raise UsageError(
            f"--suffix is {len(args.suffix)} characters long: OpenAI takes at most "
            f"{OPENAI_MAX_SUFFIX}."
        )


def cmd_validate(services: Services, args: argparse.Namespace) -> int:
    """Check a training file (or a dataset's) for the base model; exit 2 if it is invalid,
    or if --base or --epochs cannot be used."""
    # Imported on first use: it loads tiktoken, which takes a while.
    from desktop.core.finetune.validate import validate_file

    not_empty(args.file, "FILE", f"give a JSONL training file or a dataset's name; {DATASETS_LIST}")
    # The same rule as ``start --dataset``: a file here wins over a dataset's name, warned.
    nothing: DatasetError | None = None
    warnings: list[str] = []
    try:
        chosen = services.datasets.choose(args.file)
        path = chosen.path or services.datasets.get(chosen.dataset or args.file).train_path
        warnings = _warn(chosen)
    except DatasetError as exc:
        path, nothing = Path(args.file), exc
    if args.base is not None:
        args.base = args.base.strip()  # as validation and the local check read it
        _check_base(services, args.base, args.base.startswith(LOCAL_PREFIX))
    local = _local_check(services, args)
    if local is None and args.max_seq_len is not None:
        raise UsageError(
            "--max-seq-len applies to a local base model (--base local:NAME) only: drop it."
        )
    if local is None:
        _check_openai_epochs(args.epochs)
    try:
        report = validate_file(path, args.base, args.epochs, local)
    except FinetuneError as exc:  # the base cannot lay out examples (no chat template)
        raise UsageError(str(exc)) from exc
    if nothing is not None:  # neither a file nor a dataset: say where the datasets are listed
        report.errors = [LineProblem(0, advised(args, _no_data(nothing)))]
        report.readable = False
    data = {**report.to_json(), "file": str(path)}
    data["warnings"] = [*(LineProblem(0, w).to_json() for w in warnings), *data["warnings"]]
    if not report.readable:
        # Nothing was read: a count of 0 examples would say the file was checked and empty.
        emit(args, data, _shown(p.reason for p in report.errors))
        return EXIT_USAGE
    cost = report.estimated_cost_usd
    if local is not None:
        price = ", free on this computer"
    elif cost is not None:
        price = f" ≈ ${cost:,.2f} (prices as of {PRICES_AS_OF})"
    else:
        price = ""
    ready = "OK: ready to train here." if local else "OK: ready to upload."
    lines = [
        f"{path}: {counted(report.examples, 'example')}, {report.tokens:,} tokens × "
        f"{counted(report.epochs, 'epoch')} for {report.base_model}{price}",
        *(f"line {p.line}: {p.reason}" if p.line else p.reason for p in report.errors),
        # Advice is marked as such, with a line or without: it never reads as a problem.
        *(
            f"warning: line {p.line}: {p.reason}" if p.line else f"warning: {p.reason}"
            for p in report.warnings
        ),
        ready if report.ok else f"Invalid: {counted(len(report.errors), 'problem')}.",
    ]
    emit(args, data, _shown(lines))
    return EXIT_OK if report.ok else EXIT_USAGE


def _local_check(services: Services, args: argparse.Namespace) -> LocalCheck | None:
    """The check for training on this computer when ``--base`` is a local GGUF model (not a
    fine-tuned one); UsageError for a local id that names no model."""
    base = args.base or ""
    if not base.startswith(LOCAL_PREFIX) or base.startswith(LOCAL_FT_PREFIX):
        return None
    # Imported on first use: it loads llama.cpp's library.
    from desktop.core.finetune.local.lengths import LocalCheck
    from desktop.core.models.local_files import local_llm_path

    try:
        base_path = local_llm_path(base, services.settings)
        config = TrainConfig.chosen(max_seq_len=args.max_seq_len, epochs=args.epochs)
    except SettingOutOfRange as exc:
        raise UsageError(_with_flags(exc)) from exc
    except FolioError as exc:
        raise UsageError(f"--base: {exc}") from exc
    return LocalCheck(base, base_path, config.max_seq_len, config.epochs)


def _describe(services: Services, plan: UploadPlan) -> str:
    """What ``start`` would send, and where, for the question asked before sending it."""
    # Imported on first use: it loads the OpenAI SDK, which takes a while.
    from desktop.core.models.providers import provider

    try:
        p = provider(plan.provider, services.settings)
        where = f"{p.label} at {p.base_url}"
    except FolioError:
        where = plan.provider
    lines = [f"Upload to {where} to fine-tune {plan.base}:"]
    lines += [f"  {path}: {counted(n, 'example')}, {_kb(size)}" for path, n, size in plan.files]
    report = plan.report
    if report.estimated_cost_usd is not None:
        lines.append(
            f"Training costs about ${report.estimated_cost_usd:,.2f} ({report.tokens:,} tokens "
            f"× {report.epochs} epochs; an estimate from prices as of {PRICES_AS_OF})."
        )
    lines.append("The files stay with the provider until you delete them there.")
    return _shown(lines)


def _refuse_other_kinds_flags(args: argparse.Namespace) -> None:
    """UsageError naming the flags given that this kind of training (``--local`` or not)
    would ignore."""
    other = OPENAI_ONLY if args.local else LOCAL_ONLY
    given = [flag for dest, flag in other.items() if getattr(args, dest) is not None]
    if not given:
        return
    names = " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)
    them = "it" if len(given) == 1 else "them"
    if args.local:
        raise UsageError(
            f"{names} {'applies' if len(given) == 1 else 'apply'} only to fine-tuning at "
            f"OpenAI, not to --local training: drop {them} (--local takes --epochs, --rank, "
            "--lr, --max-seq-len and --batch-tokens)."
        )
    raise UsageError(
        f"{names} {'applies' if len(given) == 1 else 'apply'} only to training on this "
        f"computer: add --local, or drop {them} (OpenAI takes --epochs, --batch-size and "
        "--learning-rate-multiplier)."
    )


def _with_flags(error: SettingOutOfRange) -> str:
    """A training setting out of range told with ``start``'s flags: "--batch-tokens 256 is
    out of range: use at least --max-seq-len (512)." (a setting the rule compares with may
    not have been typed: its value is said too)."""

    def flag(name: str) -> str:
        return f"{CONFIG_FLAGS.get(name, name)} ({error.values[name]})"

    setting = CONFIG_FLAGS.get(error.setting, error.setting)
    return f"{setting} {error.value!r} is out of range: use {error.rule_with(flag)}."


def _train_here(
    services: Services, args: argparse.Namespace, config: TrainConfig, dataset: TrainingData
) -> bool:
    """On a terminal: measure this computer on the run, say what it will take, and ask
    (as the window's Start… does). Raises FinetuneError as the measurement does."""
    # Imported here: the runs module takes a tenth of a second, on every command otherwise.
    from desktop.core.finetune.local.runs import estimate_text

    print("Measuring this computer on the run (about a minute)…", file=sys.stderr, flush=True)
    estimate = services.local_training.estimate(dataset, args.base, config)
    print(estimate_text(estimate), file=sys.stderr)
    print("Train on this computer? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _start_local(services: Services, args: argparse.Namespace, chosen: TrainingData) -> int:
    """Train a LoRA adapter here. Nothing leaves the computer; on a terminal, the measured
    time and memory are shown and confirmed first (unless --yes or --json)."""
    # Imported here: the runs module takes a tenth of a second, on every command otherwise.
    from desktop.core.finetune.local.runs import check_model_name

    if args.suffix is not None:  # the model's name, checked before a minute of measuring
        try:
            check_model_name(args.suffix)
        except FinetuneError as exc:
            raise UsageError(f"--suffix: {exc}") from exc
        taken = services.local_training.taken(args.suffix)
        if taken is not None:
            raise UsageError(
                f"--suffix: a local fine-tuned model is already called {taken!r} "
                f"({LOCAL_FT_PREFIX}{taken}): choose another name, or remove that one first."
            )
    warnings = _warn(chosen)
    try:
        config = TrainConfig.chosen(
            epochs=args.epochs,
            rank=args.rank,
            alpha=2 * args.rank if args.rank else None,
            learning_rate=args.lr,
            max_seq_len=args.max_seq_len,
            batch_tokens=args.batch_tokens,
        )
    except SettingOutOfRange as exc:  # said with the flag typed
        raise UsageError(_with_flags(exc)) from exc
    training, dataset = services.local_training, chosen
    try:
        plan = training.plan(dataset, args.base, config)
        if (
            not (args.yes or args.json)
            and sys.stdin.isatty()
            and not _train_here(services, args, config, dataset)
        ):
            print("folio-cli: nothing was started.", file=sys.stderr)
            return EXIT_ERROR
        job = training.start(dataset, args.base, config, args.suffix, args.persona)
    except FinetuneError as exc:  # bad data, settings, base or name; missing packages
        raise UsageError(str(exc)) from exc
    emit(
        args,
        {
            **job.to_json(),
            "train_examples": plan.train_examples,
            "validation_examples": plan.validation_examples,
            "warnings": warnings,
        },
        advised(
            args,
            one_line(
                f"Started {job.id}: training {plan.base} on "
                f"{counted(plan.train_examples, 'example')} "
                f"({plan.validation_examples} held out for validation) on this computer; "
                f"follow it with `folio-cli finetune status {job.id} --wait`."
            ),
        ),
    )
    return EXIT_OK


def cmd_start(services: Services, args: argparse.Namespace) -> int:
    """Check every argument (exit 2, naming it), then train here (``--local``) or upload
    and start a job at OpenAI. A failure while working (no key, a provider's refusal) is 1."""
    _refuse_other_kinds_flags(args)
    if args.suffix is not None:
        not_empty(args.suffix, "--suffix", "give a word for the new model's name, or leave it out")
    # Nothing is measured, read for an upload or sent before the arguments hold together.
    _check_base(services, args.base, args.local)
    chosen = _check_dataset(services, args.dataset)
    if args.local:
        return _start_local(services, args, chosen)
    _check_openai_settings(args)
    finetuning, dataset = services.finetuning, chosen
    warnings = _warn(chosen)
    try:
        plan = finetuning.plan(dataset, args.base, args.epochs)
        if not (args.yes or args.json) and sys.stdin.isatty():
            print(_describe(services, plan), file=sys.stderr)
            print("Upload and start? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("folio-cli: nothing was sent.", file=sys.stderr)
                return EXIT_ERROR
        job = finetuning.start(
            dataset,
            args.base,
            suffix=args.suffix,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate_multiplier=args.learning_rate_multiplier,
            persona=args.persona,
        )
    except DatasetError as exc:  # an invalid or missing dataset is bad input
        raise UsageError(str(exc)) from exc
    uploaded = [{"file": str(f), "examples": n, "bytes": size} for f, n, size in plan.files]
    emit(
        args,
        {**job.to_json(), "uploaded": uploaded, "warnings": warnings},
        advised(
            args,
            one_line(
                f"Started {job.id} ({job.status}); follow it with `folio-cli finetune status "
                f"{job.id} --wait`."
            ),
        ),
    )
    return EXIT_OK


def _model_of(job: Job) -> str | None:
    """The id to choose the job's model by: ``local:ft:<name>`` for a local run."""
    return job.model_id if job.provider == LOCAL else job.fine_tuned_model


def _job_lines(job: Job) -> list[str]:
    """A job as ``status`` lists it, each line ``one_line``; a provider's error on one line."""
    shown = _model_of(job)
    model = f"  → {shown}" if shown else ""
    lines = [f"{job.id}  {job.status}  {job.base}  {job.dataset or ''}{model}"]
    if job.error:
        lines.append(f"    {' '.join(job.error.split())}")
    return [one_line(line) for line in lines]


def _job_id_given(job_id: str) -> None:
    """UsageError naming JOB_ID when it shows nothing (``is_blank``): a script's unset
    variable, not a job (``status`` would otherwise list every job)."""
    not_empty(job_id, "JOB_ID", "give a job's id; `folio-cli finetune status` lists the jobs")


def _known(services: Services, job_id: str) -> Job:
    """The job Folio knows by ``job_id``; UsageError naming JOB_ID when it is blank, or
    naming it (and ``finetune status``, which lists the jobs) if there is none."""
    _job_id_given(job_id)
    try:
        return services.finetune_jobs.get(job_id)
    except FinetuneError as exc:
        raise UsageError(str(exc)) from exc


def _unsuccessful(jobs: list[Job]) -> str:
    """One line for jobs that ended failed or cancelled, e.g. ``ftjob-1 failed: The file
    is bad; ftjob-2 cancelled.`` (each error's own full stop dropped, newlines joined)."""
    said = [
        f"{job.id} {job.status}"
        + (f": {' '.join(job.error.split()).rstrip('.')}" if job.error else "")
        for job in jobs
    ]
    return one_line("; ".join(said) + ".")


def cmd_status(services: Services, args: argparse.Namespace) -> int:
    """Refresh and show the jobs (or one); with ``--wait``, follow them until they end.

    Exit 1 when ``--wait`` saw a job it followed (the one asked for, else every one
    unfinished when it began) end failed or cancelled; 2 for an unknown job; 130 if Ctrl+C
    stopped the following.
    """
    interval = args.interval
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise UsageError(
            f"--interval {interval!r} is out of range: use seconds above 0, e.g. 10 (the "
            "default) or 0.5."
        )
    finetuning, store = services.finetuning, services.finetune_jobs
    if args.job_id is not None:
        _known(services, args.job_id)
        followed = {args.job_id}
        finetuning.refresh(args.job_id)  # an unreachable provider: exit 1
    else:
        followed = {job.id for job in store.unfinished()}
        try:
            finetuning.recover()  # a start killed before it saved its job
        except ProviderError as exc:
            print(one_line(f"folio-cli: interrupted starts not checked: {exc}"), file=sys.stderr)
        for job in store.unfinished():
            try:
                finetuning.refresh(job.id)
            except ProviderError as exc:  # the others are still worth showing
                print(one_line(f"folio-cli: {job.id} not refreshed: {exc}"), file=sys.stderr)
    interrupted = args.wait and _wait(services, args)
    jobs = [store.get(args.job_id)] if args.job_id is not None else store.all()
    lines = [line for job in jobs for line in _job_lines(job)]
    shapes = [_job_json(services, job) for job in jobs]
    emit(args, {"jobs": shapes}, "\n".join(lines) or "No jobs yet.")
    if interrupted:
        named = args.job_id or "JOB_ID"
        which = f"finetune status {args.job_id} --wait" if args.job_id else "finetune status --wait"
        print(
            f"folio-cli: stopped following; the training goes on (`folio-cli {which}` "
            f"follows it again, `folio-cli finetune cancel {named}` stops it).",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    ended = [j for j in jobs if j.id in followed and j.status in _UNSUCCESSFUL]
    if args.wait and ended:  # a script waiting for its model learns that none came
        print(f"folio-cli: {_unsuccessful(ended)}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _job_json(services: Services, job: Job) -> dict[str, Any]:
    """A job's JSON; a local one adds its newest step's numbers (``progress``)."""
    if job.provider != LOCAL:
        return job.to_json()
    return {**job.to_json(), "progress": services.local_training.progress(job.id)}


def _wait(services: Services, args: argparse.Namespace) -> bool:
    """Follow the job (or every unfinished one) until it ends; True if Ctrl+C stopped it."""
    # Imported on first use: it loads httpx, which takes a while.
    from desktop.core.finetune.jobs import POLL_SECONDS, sleep_unless_cancelled

    store, shown = services.finetune_jobs, dict[str, str]()

    def on_update(job: Job) -> None:
        metrics = store.metrics(job.id)
        last = metrics[-1] if metrics else None
        line = f"{job.id}: {job.status}"
        if last is not None and job.status == JobState.RUNNING:
            of = f"/{last.total_steps}" if last.total_steps else ""
            loss = f", training loss {last.train_loss:.3f}" if last.train_loss is not None else ""
            line += f", step {last.step}{of}{loss}"
            progress = services.local_training.progress(job.id) if job.provider == LOCAL else None
            if progress and progress.get("eta_s") is not None:
                line += f", {progress['tokens_per_s']:.0f} tokens/s{eta_phrase(progress['eta_s'])}"
        line += f" → {_model_of(job)}" if job.fine_tuned_model else ""
        line += f": {' '.join(job.error.split())}" if job.error else ""
        line = one_line(line)
        if shown.get(job.id) != line:
            shown[job.id] = line
            print(line, file=sys.stderr, flush=True)

    def pause(seconds: float, cancel: CancelToken) -> None:
        # Between polls the data folder is let go: a wait lasts as long as a training run,
        # and `finetune cancel` (or any command) must work meanwhile. Taken again to poll;
        # while another command holds it, this one waits its turn.
        services.lock.release()
        sleep_unless_cancelled(seconds, cancel)
        while not cancel.cancelled:
            try:
                services.lock.acquire()
                return
            except LibraryInUseError:
                sleep_unless_cancelled(LOCK_RETRY_S, cancel)

    # Ctrl+C stops following; the job goes on at the provider.
    with interruptible() as cancel:
        ids = [args.job_id] if args.job_id is not None else None
        local = all(j.provider == LOCAL for j in store.unfinished())
        interval = (
            args.interval if args.interval is not None else LOCAL_POLL_S if local else POLL_SECONDS
        )
        services.finetuning.watch(on_update, cancel, interval, job_ids=ids, pause=pause)
    return cancel.cancelled


def cmd_cancel(services: Services, args: argparse.Namespace) -> int:
    """Cancel a job; exit 2 for an unknown job or one that has already ended."""
    job = _known(services, args.job_id)
    if job.finished:
        raise UsageError(
            f"Job {job.id} has already {how_it_ended(job.status)}: there is nothing to cancel "
            f"(`folio-cli finetune status {job.id}` shows how it ended)."
        )
    try:
        job = services.finetuning.cancel(args.job_id)
    except FinetuneError as exc:  # it ended meanwhile (a provider's refusal is exit 1)
        raise UsageError(str(exc)) from exc
    text = f"{job.id}: {job.status}"
    if not job.finished:  # a trainer mid-step, or a provider that cancels in its own time
        text += (
            f"; cancelling: it stops at the end of its current step "
            f"(`folio-cli finetune status {job.id} --wait` shows when)."
        )
    emit(args, job.to_json(), advised(args, one_line(text)))
    return EXIT_OK


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    """Delete a failed or cancelled local run's folder and its job.

    Exit 2 for an unknown job, one still running, one that succeeded (its model is removed
    with ``models remove``) or one that did not run here. JSON: ``{"removed": JOB_ID,
    "folder": PATH}``.
    """
    _known(services, args.job_id)
    try:
        folder = services.local_training.delete_run(args.job_id)
    except FinetuneError as exc:
        raise UsageError(str(exc)) from exc
    emit(
        args,
        {"removed": args.job_id, "folder": str(folder)},
        one_line(f"Removed {args.job_id} and its run folder {folder}."),
    )
    return EXIT_OK


def new_dataset_name(services: Services, name: str, flag: str, other: str) -> str:
    """``name`` as a new dataset is called; UsageError naming ``flag`` when it cannot name
    a dataset (blank among them), or naming the dataset that has it already (matched by
    ``name_key``: "PR" is taken by "pr"), with ``other``, what to do instead."""
    name = dataset_name(services, name, flag)
    taken = services.datasets.taken(name)
    if taken is not None:
        raise UsageError(
            f'{flag}: there is already a dataset named "{one_line(taken)}": {other}; '
            f"{DATASETS_LIST}."
        )
    return name


def cmd_datasets(services: Services, args: argparse.Namespace) -> int:
    """List the training datasets."""
    infos = services.datasets.all()
    lines = [
        f"{i.name}  ({i.source}{', persona ' + i.persona if i.persona else ''}): "
        f"{i.train_examples} training, {i.validation_examples} validation examples"
        for i in infos
    ]
    emit(args, {"datasets": [i.to_json() for i in infos]}, _shown(lines) or "No datasets.")
    return EXIT_OK


def cmd_import(services: Services, args: argparse.Namespace) -> int:
    """Import a JSONL file as a dataset; lines that are no example are left out and listed.
    Exit 2 for an unknown --persona, a --name that cannot be used, or a file with no example."""
    not_empty(args.file, "FILE", "give the JSONL file to import")
    if args.persona is not None:
        not_empty(args.persona, "--persona", "name a persona, or leave --persona out")
        known_persona(services, args.persona)
    name = None
    if args.name is not None:
        other = "choose another name, or leave --name out for one made from the file's name"
        name = new_dataset_name(services, args.name, "--name", other)
    try:
        info, problems = services.datasets.import_file(
            Path(args.file), name, args.system_prompt, args.persona
        )
    except DatasetError as exc:
        raise UsageError(str(exc)) from exc
    for p in problems:  # lines left out are reported, not fatal
        reason = p.reason.rstrip().rstrip(".")  # a sentence, continued here
        print(one_line(f"{args.file}, line {p.line}: {reason} (left out)."), file=sys.stderr)
    to_fix = _examples_to_fix(Path(args.file), args.system_prompt)
    for p in to_fix:
        reason = p.reason.rstrip().rstrip(".")
        print(one_line(f"warning: {args.file}, line {p.line}: {reason} (kept)."), file=sys.stderr)
    data: dict[str, Any] = {
        **info.to_json(),
        "problems": [p.to_json() for p in problems],
        "to_fix": [p.to_json() for p in to_fix],
    }
    text = f"Imported {counted(info.train_examples, 'example')} as dataset {info.name!r}."
    if to_fix:
        text += (
            f" {len(to_fix)} of them cannot be trained on as they are "
            "(listed above): fix them in the file and import it again, or in the studio's "
            "dataset editor."
        )
    emit(args, data, one_line(text))
    return EXIT_OK


def _examples_to_fix(path: Path, system_prompt: str | None) -> list[LineProblem]:
    """The examples of ``path`` an import keeps that training would refuse, each with every
    reason (an empty message, a role that is none of OpenAI's, the roles out of order)."""
    # Imported here: validation loads tiktoken's encodings, which other commands never need.
    from desktop.core.finetune.examples import read_examples
    from desktop.core.finetune.validate import example_problems

    found = []
    for example in read_examples(path, system_prompt).examples:
        reasons = example_problems(example)
        if reasons:
            found.append(LineProblem(example.line or 0, " ".join(reasons)))
    return found


def cmd_remove_dataset(services: Services, args: argparse.Namespace) -> int:
    """Delete a dataset (its examples; models trained from it stay). Exit 2 if unknown.
    JSON: ``{"removed": NAME}``."""
    try:  # a blank NAME cannot name a dataset: refused as such
        name = services.datasets.get(args.name).name  # "PR" removes "pr": say which
        services.datasets.delete(name)
    except DatasetError as exc:
        raise UsageError(f"NAME: {exc} {DATASETS_LIST}.") from exc
    emit(args, {"removed": name}, one_line(f"Removed the dataset {name!r}."))
    return EXIT_OK


def add_commands(fsub: Any, common: argparse.ArgumentParser) -> None:
    """``finetune`` subcommands, on the parser ``cli.build_parser`` made."""
    p = fsub.add_parser(
        "validate", parents=[common], help="check a training file before any upload (exit 2 if bad)"
    )
    p.add_argument(
        "file",
        metavar="FILE",
        help="a JSONL file, or a dataset's name (dataset:NAME when a file here has that name)",
    )
    p.add_argument(
        "--base",
        help="the base model (for token limits and cost); a local one (local:NAME) counts in "
        "its own tokens against --max-seq-len",
    )
    p.add_argument("--epochs", type=int, help="epochs for the cost estimate (default: auto)")
    p.add_argument(
        "--max-seq-len",
        type=int,
        help=f"longest example in tokens, for a local base (default {TrainConfig.max_seq_len})",
    )
    p.set_defaults(func=cmd_validate)

    p = fsub.add_parser(
        "start",
        parents=[common],
        help="validate, upload and start a job (asks first on a terminal, unless --yes/--json)",
    )
    p.add_argument(
        "--dataset",
        required=True,
        metavar="FILE_OR_NAME",
        help="a JSONL file, or a dataset's name (dataset:NAME when a file here has that name)",
    )
    p.add_argument(
        "--base", required=True, metavar="MODEL", help="e.g. gpt-4o-mini-2024-07-18, local:default"
    )
    p.add_argument(
        "--suffix", help="a word in the new model's name (--local: its name, local:ft:<name>)"
    )
    p.add_argument(
        "--local", action="store_true", help="train a LoRA adapter on this computer (folio[train])"
    )
    p.add_argument("--epochs", type=int, help="default: the provider's auto (--local: 3)")
    p.add_argument("--rank", type=int, help="--local: LoRA rank (16); alpha is twice it")
    p.add_argument("--lr", type=float, help="--local: learning rate (1e-3)")
    p.add_argument("--max-seq-len", type=int, help="--local: tokens per example at most (512)")
    p.add_argument("--batch-tokens", type=int, help="--local: tokens per step (512)")
    p.add_argument("--batch-size", type=int, help="default: the provider's auto")
    p.add_argument("--learning-rate-multiplier", type=float, help="default: the provider's auto")
    p.add_argument(
        "--persona", help='the persona it learns (lineage; default: the dataset\'s; "" for none)'
    )
    p.add_argument("--yes", action="store_true", help="upload without asking")
    p.set_defaults(func=cmd_start)

    p = fsub.add_parser("status", parents=[common], help="jobs and their state, from the provider")
    p.add_argument("job_id", nargs="?", metavar="JOB_ID")
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow until the job(s) end; exit 1 if one fails or is cancelled",
    )
    p.add_argument("--interval", type=float, metavar="SECONDS", help="between polls (10)")
    p.set_defaults(func=cmd_status)

    p = fsub.add_parser("cancel", parents=[common], help="cancel a running job")
    p.add_argument("job_id", metavar="JOB_ID")
    p.set_defaults(func=cmd_cancel)

    p = fsub.add_parser(
        "remove",
        parents=[common],
        help="delete a failed or cancelled local run: its folder and its job",
    )
    p.add_argument("job_id", metavar="JOB_ID")
    p.set_defaults(func=cmd_remove)

    p = fsub.add_parser("datasets", parents=[common], help="the training datasets")
    p.set_defaults(func=cmd_datasets)

    p = fsub.add_parser("import", parents=[common], help="import a JSONL file as a dataset")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="the dataset's name (default: the file's)")
    p.add_argument("--system-prompt", help="first message of converted prompt/response pairs")
    p.add_argument("--persona", help="the persona whose voice the examples are in")
    p.set_defaults(func=cmd_import)

    p = fsub.add_parser("remove-dataset", parents=[common], help="delete a training dataset")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove_dataset)
