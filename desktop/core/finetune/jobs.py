"""Fine-tuning jobs on OpenAI (or a server with OpenAI's fine-tuning API), through ``openai``.

The records themselves (jobs, events, metrics, lineage) and ``finetune.db`` are in
``records.py``; this module talks to the provider.

``FineTuning.start`` validates, uploads the files (``files.create(purpose="fine-tune")``)
and creates the job; ``refresh`` fetches its state and new events, ``watch`` polls every
unfinished job until it ends (the window runs it at start, so jobs survive restarts).
Everything learnt is kept in ``finetune.db``: the job, its events, its loss metrics and its
lineage (base model, dataset, persona), which the model picker shows for ``ft:`` models.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import openai
from openai.types.fine_tuning import FineTuningJob, job_create_params

from desktop.core.errors import DatasetError, FinetuneError, ProviderError
from desktop.core.finetune.datasets import DatasetStore, TrainingData
from desktop.core.finetune.examples import (
    Example,
    LineProblem,
    json_line,
    named_problems,
    read_examples,
)
from desktop.core.finetune.local.runs import LocalTraining
from desktop.core.finetune.records import (
    Job,
    JobEvent,
    JobState,
    JobStore,
    PendingStart,
    how_it_ended,
)
from desktop.core.finetune.validate import ValidationReport, example_problems, validate_examples
from desktop.core.models.errors import server_reason, translate_error
from desktop.core.models.ids import LOCAL, OPENAI, Provider
from desktop.core.secrets import OPENAI_KEY_ENV
from desktop.core.tasks import CancelToken

POLL_SECONDS = 10.0
# A start left unsaved this long ago has stopped: creating a job takes seconds. Younger ones
# may belong to another Folio (the window and folio-cli) that is still starting them.
RECOVER_AFTER_S = 300.0
EVENTS_PAGE = 100  # events asked for at a time (OpenAI's largest page)
_SLEEP_SLICE = 0.1  # how often a waiting ``watch`` looks at its cancel token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadPlan:
    """What will leave the machine: shown (and confirmed) before anything is sent."""

    files: list[tuple[Path, int, int]]  # (file, examples, bytes): training, then validation
    provider: str
    base: str
    report: ValidationReport
    dataset: str = ""  # the dataset's name, or the file's path
    persona: str | None = None  # the dataset's persona, the default lineage


@dataclass
class _Source:
    """A dataset (or JSONL file) read and checked, ready to upload."""

    label: str  # the dataset's name, or the file's path
    persona: str | None
    files: list[tuple[Path, str, bytes, int]]  # (file, upload name, content, examples)
    report: ValidationReport


class FineTuning:
    """Start, follow and cancel jobs; ``client`` builds an OpenAI SDK client per call."""

    def __init__(
        self,
        jobs: JobStore,
        datasets: DatasetStore,
        client: Callable[[], openai.OpenAI],
        provider: str = "openai",
        local: LocalTraining | None = None,
    ) -> None:
        self.jobs = jobs
        self.local = local  # local jobs are followed and cancelled there
        self.datasets = datasets
        self.client = client
        self.provider = provider

    def plan(
        self, dataset: str | Path | TrainingData, base: str, epochs: int | None = None
    ) -> UploadPlan:
        """Validate a dataset (by name, or a JSONL file: text as ``DatasetStore.choose``
        decides, or a ``TrainingData`` chosen already) and say what would be uploaded.

        FinetuneError listing the first problems (with their lines) if it is invalid;
        ProviderError when there is no key to upload with. Nothing is sent.
        """
        # Building a client checks the key: what cannot be uploaded is said before the
        # upload and its cost are put to anyone.
        self.client()
        source = self._prepare(dataset, _api_name(base), epochs)
        return UploadPlan(
            files=[(path, count, len(content)) for path, _, content, count in source.files],
            provider=self.provider,
            base=_api_name(base),
            report=source.report,
            dataset=source.label,
            persona=source.persona,
        )

    def start(
        self,
        dataset: str | Path | TrainingData,
        base: str,
        *,
        suffix: str | None = None,
        epochs: int | None = None,  # None: the server's "auto"
        batch_size: int | None = None,
        learning_rate_multiplier: float | None = None,
        persona: str | None = None,  # None: the dataset's own persona, if any; "": none
    ) -> Job:
        """Validate, upload and create the job; provider errors become ProviderError.

        The job is saved as soon as the provider has created it. If the provider refuses
        (no credit, an unknown model...), the files uploaded for it are deleted again.
        """
        base = _api_name(base)
        source = self._prepare(dataset, base, epochs)
        client = self.client()
        chosen = {
            "n_epochs": epochs,
            "batch_size": batch_size,
            "learning_rate_multiplier": learning_rate_multiplier,
        }
        hyperparameters = {key: value for key, value in chosen.items() if value is not None}
        method = cast(
            job_create_params.Method,
            {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
        )
        lineage = (persona.strip() or None) if persona is not None else source.persona
        uploaded: list[str] = []
        try:
            for _, name, content, _ in source.files:
                sent = client.files.create(file=(name, content), purpose="fine-tune")
                uploaded.append(sent.id)
            # Should Folio stop before the job is saved, the next ``recover`` finds it.
            start = PendingStart(
                training_file=uploaded[0],
                validation_file=uploaded[1] if len(uploaded) > 1 else None,
                provider=self.provider,
                base=base,
                created_at=time.time(),
                suffix=suffix,
                dataset=source.label,
                persona=lineage,
            )
            self.jobs.add_pending(start)
            remote = client.fine_tuning.jobs.create(
                model=base,
                training_file=start.training_file,
                validation_file=start.validation_file or openai.omit,
                suffix=suffix or openai.omit,
                method=method,
            )
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            self._delete_files(client, uploaded)
            if uploaded:
                self.jobs.drop_pending(uploaded[0])
            raise self._error(exc, client, f"fine-tune {base}") from exc
        job = _adopted(start, remote)
        self.jobs.save(job)  # and the pending start goes, in the same transaction
        return job

    def recover(self, min_age_s: float = RECOVER_AFTER_S) -> list[Job]:
        """Settle the starts Folio stopped in the middle of (killed, crashed, power lost).

        A start older than ``min_age_s`` whose job the provider lists is saved as Folio's
        own, with its dataset and persona; one whose job was never created has its uploaded
        files deleted. Younger ones may still be running in another Folio and are left.
        Returns the jobs found.
        """
        now = time.time()
        stale = [
            p
            for p in self.jobs.pending()
            if p.provider == self.provider and now - p.created_at >= min_age_s
        ]
        if not stale:
            return []
        client = self.client()
        oldest = min(p.created_at for p in stale) - 60  # clocks and rounding
        created: dict[str, FineTuningJob] = {}
        try:
            for listed in client.fine_tuning.jobs.list(limit=100):  # newest first, paged
                created.setdefault(listed.training_file, listed)
                if listed.created_at < oldest:
                    break
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc, client, "the list of fine-tuning jobs") from exc
        found = []
        for start in stale:
            remote = created.get(start.training_file)
            if remote is None:  # the provider never created it
                files = [start.training_file, start.validation_file]
                self._delete_files(client, [f for f in files if f])
                self.jobs.drop_pending(start.training_file)
                log.info("A start stopped before creating its job: deleted its uploads.")
                continue
            job = _adopted(start, remote)
            self.jobs.save(job)
            found.append(job)
            log.info("Found job %s, created by a start that stopped before saving it.", job.id)
        return found

    def refresh(self, job_id: str) -> Job:
        """Fetch the job's state and any new events (metrics among them)."""
        if self.local is not None and self.jobs.get(job_id).provider == LOCAL:
            return self.local.refresh(job_id)
        return self._sync(self.jobs.get(job_id), lambda c: c.fine_tuning.jobs.retrieve(job_id))

    def cancel(self, job_id: str) -> Job:
        """Ask the provider to cancel the job and save its answer; ProviderError if it refuses."""
        job = self.jobs.get(job_id)
        if job.finished:
            raise FinetuneError(
                f"Job {job_id} has already {how_it_ended(job.status)}: there is nothing to stop."
            )
        if self.local is not None and job.provider == LOCAL:
            return self.local.cancel(job_id)
        return self._sync(job, lambda c: c.fine_tuning.jobs.cancel(job_id))

    def _sync(self, job: Job, call: Callable[[openai.OpenAI], FineTuningJob]) -> Job:
        """Ask the provider (``call``) for the job, fetch its new events, save both."""
        client = self.client()
        try:
            remote = call(client)
            events = self._new_events(client, job.id)
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc, client, f"job {job.id}") from exc
        stored = self.jobs.events(job.id) if remote.status == JobState.FAILED else []
        _apply(job, remote, events, stored)
        self.jobs.update(job, events)
        return job

    def watch(
        self,
        on_update: Callable[[Job], None] | None = None,
        cancel: CancelToken | None = None,
        interval: float = POLL_SECONDS,
        job_ids: Collection[str] | None = None,
        pause: Callable[[float, CancelToken], None] | None = None,
    ) -> None:
        """Poll every unfinished job until all have ended or ``cancel`` is set.

        First, starts that Folio stopped in the middle of are settled (``recover``).

        Jobs started while it runs are picked up at the next round; ``job_ids`` limits it to
        those jobs. A provider that cannot be reached is retried at the next interval, not
        fatal; ``on_update`` gets each job as every poll finds it. ``pause(seconds,
        cancel)`` waits between polls (``sleep_unless_cancelled`` by default), ending early
        once ``cancel`` is set; folio-cli's lets the data folder's lock go meanwhile.
        """
        cancel = cancel or CancelToken()
        try:
            self.recover()
        except ProviderError as exc:
            log.warning("Cannot settle an interrupted fine-tuning start now: %s", exc)

        def pending() -> list[Job]:
            return [j for j in self.jobs.unfinished() if job_ids is None or j.id in job_ids]

        # Jobs last reported unfinished. A local run records its own end in finetune.db, so
        # it can leave ``pending()`` without a refresh having reported it: it is reported then.
        following: set[str] = set()
        while not cancel.cancelled:
            jobs = pending()
            for gone in following - {job.id for job in jobs}:
                try:
                    ended = self.jobs.get(gone)
                except FinetuneError:  # removed meanwhile
                    continue
                if on_update is not None:
                    on_update(ended)
            following = set()
            if not jobs:
                return
            for job in jobs:
                if cancel.cancelled:
                    return
                try:
                    found = self.refresh(job.id)
                except ProviderError as exc:
                    log.warning("Cannot follow fine-tuning job %s now: %s", job.id, exc)
                    following.add(job.id)
                    continue
                if not found.finished:
                    following.add(found.id)
                if on_update is not None:
                    on_update(found)
            if pending():
                (pause or sleep_unless_cancelled)(interval, cancel)

    def account_models(self) -> list[str]:
        """The ``ft:`` models the account already has (from ``/v1/models``)."""
        client = self.client()
        try:
            return [m.id for m in client.models.list() if m.id.startswith("ft:")]
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc, client, "the model list") from exc

    # -- helpers -----------------------------------------------------------------------------

    def _prepare(
        self, dataset: str | Path | TrainingData, base: str, epochs: int | None
    ) -> _Source:
        """Read and validate what would be uploaded; DatasetError naming the first problems."""
        label, persona, files = self._open(dataset)
        (_, train, problems), *held_out = files
        report = validate_examples(train, base, epochs, problems)
        errors = [LineProblem(p.line, p.reason) for p in report.errors]
        for path, examples, unread in held_out:
            errors += [LineProblem(p.line, f"{path.name}: {p.reason}") for p in unread]
            for number, example in enumerate(examples, start=1):
                line = example.line or number
                errors += [
                    LineProblem(line, f"{path.name}: {r}") for r in example_problems(example)
                ]
        if errors:
            raise _refusal(label, errors)
        stem = Path(label).stem if label.endswith(".jsonl") else label
        names = [f"{stem}.jsonl", f"{stem}-validation.jsonl"]
        return _Source(
            label,
            persona,
            [
                (path, name, "".join(json_line(e) for e in examples).encode(), len(examples))
                for name, (path, examples, _) in zip(names, files, strict=False)
            ],
            report,
        )

    def _open(
        self, dataset: str | Path | TrainingData
    ) -> tuple[str, str | None, list[tuple[Path, list[Example], list[LineProblem]]]]:
        """(label, persona, [(file, examples, unreadable lines)]: training, then validation).
        Text is a file or a dataset's name as ``DatasetStore.choose`` decides."""
        chosen = self.datasets.training_data(dataset)
        if chosen.path is None:
            info = self.datasets.get(chosen.dataset or "")
            train, validation = self.datasets.load(info.name)
            files: list[tuple[Path, list[Example], list[LineProblem]]]
            files = [(info.train_path, train, [])]
            if info.validation_path is not None and validation:
                files.append((info.validation_path, validation, []))
            return info.name, info.persona, files
        path = chosen.path
        read = read_examples(path)
        return str(path), None, [(path, read.examples, read.problems)]

    def _new_events(self, client: openai.OpenAI, job_id: str) -> list[JobEvent]:
        """Events not stored yet, oldest first: pages (newest first) up to the first known."""
        known = self.jobs.event_ids(job_id)
        found: list[JobEvent] = []
        after: str | openai.Omit = openai.omit
        while True:
            page = client.fine_tuning.jobs.list_events(job_id, limit=EVENTS_PAGE, after=after)
            fresh = [_event(e) for e in page.data if e.id not in known]
            found += fresh
            if len(fresh) < len(page.data) or not page.has_more or not page.data:
                return found[::-1]
            after = page.data[-1].id

    def _delete_files(self, client: openai.OpenAI, file_ids: list[str]) -> None:
        """Best effort: files of a job that was never created should not stay uploaded."""
        for file_id in file_ids:
            try:
                client.files.delete(file_id)
            except (openai.OpenAIError, httpx.HTTPError) as exc:
                log.warning("Could not delete uploaded file %s: %s", file_id, exc)

    def _error(self, exc: BaseException, client: openai.OpenAI, what: str) -> ProviderError:
        """The one-line message for an API error (see ``desktop.core.models.errors``)."""
        p = Provider(
            self.provider,
            str(client.base_url).rstrip("/"),
            OPENAI_KEY_ENV if self.provider == OPENAI else None,
        )
        if isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 403, 404, 409, 422):
            return ProviderError(
                f"{p.label} refused {what} ({exc.status_code}): {server_reason(exc)}"
            )
        timeout = client.timeout
        seconds = timeout if isinstance(timeout, int | float) else (timeout and timeout.read) or 0.0
        return translate_error(exc, p, model=None, timeout=seconds)


def _adopted(start: PendingStart, remote: FineTuningJob) -> Job:
    """Folio's record of the job ``start`` created."""
    job = Job(
        id=remote.id,
        provider=start.provider,
        base=remote.model,
        status=remote.status,
        created_at=float(remote.created_at),
        suffix=start.suffix,
        dataset=start.dataset,
        persona=start.persona,
    )
    _apply(job, remote, [])
    return job


def _api_name(base: str) -> str:
    """The model name the API takes (the picker's ``openai:`` prefix dropped)."""
    return base.strip().removeprefix("openai:")


def _refusal(label: str, errors: list[LineProblem]) -> DatasetError:
    """The first problems of a dataset that cannot be uploaded, by line."""
    refused = f"{label} is not ready to upload: {named_problems(errors)}."
    # Pointed to even when every problem is named: validate also shows the cost and warnings.
    return DatasetError(
        refused,
        cli=f"{refused} `folio-cli finetune validate {shlex.quote(label)}` lists every problem.",
    )


def _event(event: Any) -> JobEvent:
    data = event.data if isinstance(event.data, dict) else None
    return JobEvent(
        event.id, float(event.created_at), event.level, event.message, event.type or "message", data
    )


def _apply(job: Job, remote: Any, events: list[JobEvent], stored: Sequence[JobEvent] = ()) -> None:
    """Copy what the provider says about a job onto ``job``."""
    job.status = remote.status
    job.base = remote.model or job.base
    job.fine_tuned_model = remote.fine_tuned_model
    job.finished_at = float(remote.finished_at) if remote.finished_at else None
    job.trained_tokens = remote.trained_tokens
    job.training_file = remote.training_file
    job.validation_file = remote.validation_file
    if remote.hyperparameters is not None:
        job.hyperparameters = remote.hyperparameters.model_dump(exclude_none=True)
    if remote.status == JobState.FAILED:
        # OpenAI's reason; failing that, the last error its events gave.
        reason = getattr(remote.error, "message", None)
        errors = [e.message for e in [*stored, *events] if e.level == "error"]
        job.error = reason or (errors[-1] if errors else "The provider gave no reason.")
    else:
        job.error = None


def sleep_unless_cancelled(seconds: float, cancel: CancelToken) -> None:
    """Wait ``seconds``, in small slices so that cancelling is prompt."""
    deadline = time.monotonic() + seconds
    while not cancel.cancelled and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(_SLEEP_SLICE, left))
