"""Local training runs as Folio's jobs: start one, follow it, cancel it, resume it after a
crash, and manage the adapters it made (``local:ft:<name>`` models).

A run is a job in ``finetune.db`` like an OpenAI one (provider ``local``), so ``finetune
status``, the studio's job list and its loss plot follow both the same way. The training
itself is another process (``trainer.py``) that writes the job's progress into the same
database; this side starts it, and starts it again from its checkpoint when it died.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from desktop.core.errors import DatasetError, FinetuneError, ModelError
from desktop.core.finetune.datasets import DatasetStore, TrainingData
from desktop.core.finetune.examples import (
    SHOWN_PROBLEMS,
    Example,
    LineProblem,
    json_line,
    named_problems,
    read_examples,
)
from desktop.core.finetune.local.config import TrainConfig
from desktop.core.finetune.local.extra import require_training
from desktop.core.finetune.local.lengths import tokenized_for
from desktop.core.finetune.local.run_files import RunFiles, RunSpec
from desktop.core.finetune.local.runtime import TrainerRuntime
from desktop.core.finetune.records import Job, JobState, JobStore
from desktop.core.finetune.validate import NOTHING_TO_LEARN, example_problems, learns
from desktop.core.library.filenames import one_line
from desktop.core.models.ids import LOCAL, LOCAL_FT_PREFIX, LOCAL_PREFIX
from desktop.core.models.local_files import Lineage, ModelInfo, local_llm_path
from desktop.core.names import name_key
from desktop.core.plurals import counted
from desktop.core.settings import Settings
from desktop.core.tasks import duration_phrase

FT_PREFIX = LOCAL_FT_PREFIX
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CANCEL_WAIT_S = 30.0  # how long cancel waits for the trainer to record it
# Trainer starts in a row without a new step before the run is failed: an error at start-up
# (a missing module, a base that will not load) that starting again cannot mend.
MAX_RESTARTS = 3
ESTIMATE_TIMEOUT_S = 900.0  # loading and two steps of a 0.5 B model on a slow laptop


@dataclass(frozen=True)
class LocalPlan:
    """What a run will do here, shown before it starts."""

    dataset: str
    persona: str | None
    base: str
    base_path: Path
    train_examples: int
    validation_examples: int  # held out from training (the dataset's split, or a tenth)
    config: TrainConfig
    train_tokens: int = 0  # one epoch of the training examples, in the base model's tokens


def _refusal(label: str, problems: list[LineProblem]) -> DatasetError:
    """The refusal of a dataset: how many problems it has, and the first few by line."""
    said = f"{label}: {counted(len(problems), 'problem')}: {named_problems(problems)}."
    if len(problems) <= SHOWN_PROBLEMS:
        return DatasetError(said)
    validate = f"`folio-cli finetune validate {shlex.quote(label)}`"
    return DatasetError(said, cli=f"{said} {validate} lists them all.")


# What ``_NAME`` allows, in words.
MODEL_NAME_RULE = (
    "use 1 to 64 letters a to z (either case), digits, dots, underscores or hyphens, "
    "starting with a letter or a digit; no spaces"
)


def check_model_name(name: str) -> str:
    """The name itself, or FinetuneError saying what a name may hold (the name quoted as
    written, its controls escaped: ``one_line``)."""
    if not _NAME.fullmatch(name):
        raise FinetuneError(f'The model name "{one_line(name)}" cannot be used: {MODEL_NAME_RULE}.')
    return name


class LocalTraining:
    """Runs under ``<home>/finetune/local/`` and their jobs in ``jobs``."""

    def __init__(
        self, home: Path, jobs: JobStore, datasets: DatasetStore, settings: Settings
    ) -> None:
        self.home = home
        self.root = home / "finetune" / "local"
        self.jobs = jobs
        self.datasets = datasets
        self.settings = settings
        self.runtime = TrainerRuntime(home)

    # Starting -------------------------------------------------------------------------

    def _examples(
        self, dataset: str | Path | TrainingData
    ) -> tuple[str, str | None, list[Example], list[Example]]:
        """(label, persona, train, validation) of a dataset name or a JSONL file (text is
        either, as ``DatasetStore.choose`` decides)."""
        chosen = self.datasets.training_data(dataset)
        if chosen.path is not None:
            path = chosen.path
            if not path.is_file():
                wanted = f"{path} is not a file: give a JSONL training file, or a dataset's name"
                raise DatasetError(
                    f"{wanted}.", cli=f"{wanted} (`folio-cli finetune datasets` lists them)."
                )
            if path.suffix.lower() != ".jsonl":
                raise DatasetError(f"{path}: a training file is JSONL, named *.jsonl.")
            read = read_examples(path)
            if read.problems:
                raise _refusal(str(path), read.problems)
            return str(path), None, read.examples, []
        info = self.datasets.get(chosen.dataset or "")
        train, validation = self.datasets.load(info.name)
        return info.name, info.persona, train, validation

    def plan(
        self, dataset: str | Path | TrainingData, base: str, config: TrainConfig | None = None
    ) -> LocalPlan:
        """Check a dataset (text as ``DatasetStore.choose`` decides, a JSONL file's Path, or
        a ``TrainingData`` chosen already) and a base model for a run; DatasetError or
        FinetuneError if not."""
        self.runtime.check()
        # Imported on first use: it loads the gguf package (numpy), part of the train extra.
        from desktop.core.finetune.local.gguf_lora import read_base

        config = config or TrainConfig()
        if base.startswith(FT_PREFIX) or not base.startswith(LOCAL_PREFIX):
            raise FinetuneError(
                f"Local training starts from a local GGUF model such as local:default, not "
                f"{base!r}."
            )
        try:
            base_path = local_llm_path(base, self.settings)
        except ModelError as exc:
            raise FinetuneError(str(exc)) from exc
        read_base(base_path)
        label, persona, train, validation = self._examples(dataset)
        bad = [LineProblem(e.line or 0, p) for e in train + validation for p in example_problems(e)]
        if bad:
            raise _refusal(label, bad)
        if not train:
            raise DatasetError(f"{label} has no training examples.")
        train, validation = held_out(train, validation)
        # The trainer would refuse it too, but only after loading the model in its process.
        if not any(learns(e) for e in train):
            raise DatasetError(f"{label}: {NOTHING_TO_LEARN}")
        # Too-long lines are named now, not by the trainer after it has loaded the model.
        tokenized = tokenized_for(base_path, config.max_seq_len, label, train, validation)
        train_tokens = sum(len(t.input_ids) for t in tokenized)
        return LocalPlan(
            label, persona, base, base_path, len(train), len(validation), config, train_tokens
        )

    def start(
        self,
        dataset: str | Path | TrainingData,
        base: str = "local:default",
        config: TrainConfig | None = None,
        name: str | None = None,
        persona: str | None = None,  # None: the dataset's own; "": none
    ) -> Job:
        """Check, copy the dataset into a new run folder, record the job and start training.

        Raises DatasetError (bad data, with line numbers), FinetuneError (no training
        packages, an unusable base or name).
        """
        plan = self.plan(dataset, base, config)
        chosen = (
            check_model_name(name) if name is not None else self._free_name(Path(plan.dataset).stem)
        )
        taken = self.taken(chosen) if name else None
        if taken is not None:
            raise FinetuneError(
                f"A local fine-tuned model is already called {taken!r}: choose another "
                "name or remove that one first."
            )
        job_id = f"ftjob-local-{uuid.uuid4().hex[:12]}"
        files = self._write_run(self.root / job_id, dataset, plan, chosen, persona)
        spec = files.read_spec()
        job = Job(
            id=job_id,
            provider=LOCAL,
            base=base,
            status=JobState.QUEUED,
            created_at=spec.created_at,
            suffix=chosen,
            dataset=spec.dataset,
            persona=spec.persona,
            hyperparameters=plan.config.to_json(),
        )
        self.jobs.save(job)
        self._spawn(files)
        return job

    def _write_run(
        self,
        folder: Path,
        dataset: str | Path | TrainingData,
        plan: LocalPlan,
        name: str,
        persona: str | None,
    ) -> RunFiles:
        """A run folder: the dataset copied (a tenth held out if it has no split) and run.json."""
        label, own_persona, train, validation = self._examples(dataset)
        train, validation = held_out(train, validation)
        files = RunFiles(folder)
        folder.mkdir(parents=True)
        for path, examples in ((files.train, train), (files.validation, validation)):
            path.write_text("".join(json_line(e) for e in examples), encoding="utf-8")
        files.write_spec(
            RunSpec(
                job_id=folder.name,
                name=name,
                base=plan.base,
                base_path=str(plan.base_path),
                dataset=label,
                persona=(own_persona if persona is None else persona) or None,
                created_at=time.time(),
                config=plan.config,
                lines={
                    files.train.name: [e.line for e in train],
                    files.validation.name: [e.line for e in validation],
                },
            )
        )
        return files

    def estimate(
        self,
        dataset: str | Path | TrainingData,
        base: str = "local:default",
        config: TrainConfig | None = None,
    ) -> dict[str, Any]:
        """What a run would take on this computer, measured: a trainer process loads the
        base, tokenizes the data and times its two largest steps (about a minute for the
        default model). The shape is ``trainer.Run.estimate``'s.

        Raises DatasetError (with the dataset's line numbers, e.g. too-long examples) or
        FinetuneError, before anything is recorded.
        """
        plan = self.plan(dataset, base, config)
        command = self.runtime.require()
        folder = self.root / f".estimate-{uuid.uuid4().hex[:12]}"
        try:
            files = self._write_run(folder, dataset, plan, "estimate", None)
            result = subprocess.run(
                [*command.argv, "--estimate", str(files.folder)],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                env=command.env,
                timeout=ESTIMATE_TIMEOUT_S,
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        lines = result.stdout.strip().splitlines()
        try:
            data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        except ValueError:
            data = {}
        if "error" in data:
            raise DatasetError(data["error"])
        if result.returncode != 0 or not data:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise FinetuneError(f"Measuring this computer's training speed failed: {tail}")
        return data

    def _free_name(self, stem: str) -> str:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:56] or "model"
        name, n = base, 1
        while self._job_for(name) is not None:
            n += 1
            name = f"{base}-{n}"
        return name

    def taken(self, name: str) -> str | None:
        """The name a local fine-tuned model has (or a run will give its model) that reads as
        ``name`` (``name_key``: "T1" and "t1" are one name), or None when ``name`` is free."""
        job = self._job_for(name)
        return job.suffix if job is not None else None

    def _job_for(self, name: str) -> Job | None:
        """The local run (not a failed one) whose model is or will be called ``name``,
        matched by ``name_key``: "T1" would be taken for "t1" in a list or a picker."""
        key = name_key(name)
        for job in self.jobs.all():
            if (
                job.provider == LOCAL
                and job.suffix is not None
                and name_key(job.suffix) == key
                and job.status != JobState.FAILED
            ):
                return job
        return None

    def _spawn(self, files: RunFiles) -> None:
        command = self.runtime.require()
        with files.log.open("ab") as log:
            process = subprocess.Popen(
                [*command.argv, str(files.folder)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=command.env,
                start_new_session=True,  # Ctrl+C in a terminal or closing it leaves it running
            )
        files.pid.write_text(str(process.pid), encoding="ascii")

    # Following ------------------------------------------------------------------------

    def files(self, job_id: str) -> RunFiles:
        """The folder of a local job's run."""
        return RunFiles(self.root / job_id)

    def running(self, job_id: str) -> bool:
        """Whether a trainer process holds this run now, or was started for it and is alive
        (a new one takes a few seconds to reach the lock)."""
        files = self.files(job_id)
        lock = FileLock(files.lock)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        pid = _read_pid(files.pid)
        return pid is not None and process_alive(pid, str(files.folder))

    def refresh(self, job_id: str) -> Job:
        """The job as its trainer last wrote it; a run whose trainer died is started again
        from its newest checkpoint, unless it died MAX_RESTARTS times in a row without
        training a step (then the job fails with the trainer's last words)."""
        job = self.jobs.get(job_id)
        if not job.finished and not self.running(job_id):
            files = self.files(job_id)
            error = None
            if files.cancel.exists():
                job.status, job.finished_at = JobState.CANCELLED, time.time()
                self.jobs.save(job)
            elif not files.spec_path.exists():
                error = f"Its folder {files.folder} is gone; start the training again."
            else:
                error = self._restart_refused(job_id, files)
                if error is None:
                    self._spawn(files)
            if error is not None:
                job.status, job.finished_at, job.error = JobState.FAILED, time.time(), error
                self.jobs.save(job)
        return job

    def _restart_refused(self, job_id: str, files: RunFiles) -> str | None:
        """None when the trainer may start again (and the start is counted), else why not."""
        progress = self.progress(job_id) or {}
        step = int(progress.get("step") or 0)
        try:
            seen = json.loads(files.restarts.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen = {}
        count = int(seen.get("count", 0)) + 1 if seen.get("step") == step else 1
        if count > MAX_RESTARTS:
            try:
                lines = files.log.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
            return (
                f"The trainer stopped {MAX_RESTARTS} times in a row before training a step; "
                f"it said: {last.rstrip('.')}. See {files.log}."
            )
        files.restarts.write_text(json.dumps({"step": step, "count": count}), encoding="utf-8")
        return None

    def cancel(self, job_id: str) -> Job:
        """Stop a run for good; its job ends ``cancelled`` (a finished one is left as is)."""
        job = self.jobs.get(job_id)
        if job.finished:
            return job
        files = self.files(job_id)
        files.cancel.touch()
        pid = _read_pid(files.pid)
        if pid is not None and self.running(job_id):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + CANCEL_WAIT_S
            while self.running(job_id) and time.monotonic() < deadline:
                time.sleep(0.1)
        return self.refresh(job_id)

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """The newest step's numbers (step, total_steps, losses, tokens_per_s, eta_s,
        trained_tokens, peak_memory_mb), or None before the first step."""
        for event in reversed(self.jobs.events(job_id)):
            if event.type == "metrics" and event.data:
                return event.data
        return None

    # Models -----------------------------------------------------------------------------

    def _model_jobs(self) -> list[Job]:
        return [
            j
            for j in self.jobs.all()
            if j.provider == LOCAL and j.status == JobState.SUCCEEDED and j.fine_tuned_model
        ]

    def find(self, model_id: str) -> Job:
        """The job that made ``local:ft:<name>``: the model named exactly so, else the only
        one whose name has the same ``name_key`` ("T1" finds "t1"). ModelError if there is
        none, or several and none named exactly so (saved before names were matched so)."""
        name = model_id.removeprefix(FT_PREFIX)
        made = [
            (job, (job.fine_tuned_model or "").removeprefix("ft:")) for job in self._model_jobs()
        ]
        exact = [job for job, made_name in made if made_name == name]
        if exact:
            return exact[0]
        matches = [
            (job, made_name) for job, made_name in made if name_key(made_name) == name_key(name)
        ]
        if len(matches) == 1:
            return matches[0][0]
        if matches:
            names = " and ".join(sorted(FT_PREFIX + made_name for _, made_name in matches))
            raise ModelError(
                f"Local fine-tuned models {names} differ only in case: give one exactly as it "
                "is spelled."
            )
        raise ModelError(
            f"No local fine-tuned model {model_id!r}: choose another model.",
            cli=f"No local fine-tuned model {model_id!r}: `folio-cli models list` shows the "
            "ones there are.",
        )

    def resolve(self, model_id: str) -> tuple[Path, Path]:
        """(base GGUF, adapter GGUF) of a ``local:ft:<name>`` model; ModelError if either
        file is missing."""
        job = self.find(model_id)
        files = self.files(job.id)
        base = local_llm_path(job.base, self.settings)
        if not files.adapter_gguf.is_file():
            raise ModelError(
                f"The adapter of {model_id} is missing ({files.adapter_gguf}); remove the "
                "model and train it again."
            )
        return base, files.adapter_gguf

    def lineage(self, job: Job) -> Lineage:
        """Where a local fine-tuned model came from, with its steps and final losses."""
        progress = self.progress(job.id) or {}
        losses = [e.data for e in self.jobs.events(job.id) if e.type == "metrics" and e.data]
        valid = [d["valid_loss"] for d in losses if d.get("valid_loss") is not None]
        when = job.finished_at or job.created_at
        return Lineage(
            base=job.base,
            dataset=job.dataset,
            persona=job.persona,
            date=time.strftime("%Y-%m-%d", time.localtime(when)),
            timestamp=when,
            job_id=job.id,
            trained_here=True,
            steps=progress.get("step"),
            train_loss=progress.get("train_loss"),
            valid_loss=valid[-1] if valid else None,
        )

    def models(self) -> list[ModelInfo]:
        """Every local fine-tuned model, newest first, for the picker and ``models list``."""
        out = []
        for job in self._model_jobs():
            name = (job.fine_tuned_model or "").removeprefix("ft:")
            adapter = self.files(job.id).adapter_gguf
            out.append(
                ModelInfo(
                    FT_PREFIX + name,
                    "fine-tuned",
                    "llama.cpp",
                    adapter.is_file(),
                    adapter,
                    lineage=self.lineage(job),
                )
            )
        return out

    def rename(self, model_id: str, new_name: str) -> str:
        """Give a local fine-tuned model a new name; its new id (``local:ft:<new_name>``).

        Raises FinetuneError for a name that is not usable, that another model has, or that
        a run still training will give its model when it ends; ModelError for an unknown
        model.
        """
        check_model_name(new_name)
        job = self.find(model_id)
        key = name_key(new_name)
        # Changing only the case of its name renames the same model; another's is taken.
        for other in self._model_jobs():
            other_name = (other.fine_tuned_model or "").removeprefix("ft:")
            if other.id != job.id and name_key(other_name) == key:
                raise FinetuneError(
                    f"A local fine-tuned model is already called {other_name!r}: choose "
                    "another name."
                )
        # A run's trainer names its model from run.json when it ends: two would share a name.
        for other in self.jobs.unfinished():
            if (
                other.provider == LOCAL
                and other.suffix is not None
                and name_key(other.suffix) == key
                and other.id != job.id
            ):
                raise FinetuneError(
                    f"The local run {other.id}, still {other.status}, will make "
                    f"{FT_PREFIX}{other.suffix} when it ends: choose another name, or cancel that "
                    "run first."
                )
        job.fine_tuned_model, job.suffix = f"ft:{new_name}", new_name
        self.jobs.save(job)
        return FT_PREFIX + new_name

    def remove(self, model_id: str) -> None:
        """Delete a local fine-tuned model: its job and its run folder; ModelError if there
        is no such model."""
        job = self.find(model_id)
        self.jobs.delete(job.id)
        shutil.rmtree(self.files(job.id).folder, ignore_errors=True)

    def delete_run(self, job_id: str) -> Path:
        """Delete a failed or cancelled local run: its folder, then its job. The folder it
        was in is returned.

        Raises FinetuneError naming the job if Folio knows no such job, if it did not run
        here, if it is still training (cancel it first), if it succeeded (its folder is its
        model's: remove the model instead), or if its folder cannot be deleted (the job is
        kept, so deleting it again retries).
        """
        job = self.jobs.get(job_id)
        if job.provider != LOCAL:
            raise FinetuneError(
                f"Job {job_id} ran at {job.provider}, not on this computer: only a local run "
                "has a folder here to delete."
            )
        if job.status == JobState.SUCCEEDED:
            holds = f"Job {job_id} succeeded: its folder holds the model {job.model_id}. Remove "
            raise FinetuneError(
                f"{holds}that model instead.",
                cli=f"{holds}that model instead (`folio-cli models remove {job.model_id}`).",
            )
        if not job.finished:
            raise FinetuneError(
                f"Job {job_id} is still {job.status}: cancel it first, then delete it.",
                cli=f"Job {job_id} is still {job.status}: cancel it first "
                f"(`folio-cli finetune cancel {job_id}`), then delete it.",
            )
        if self.running(job_id):  # cancelled, and its trainer has not quite stopped yet
            raise FinetuneError(f"Job {job_id}'s trainer is still stopping: try again shortly.")
        folder = self.files(job_id).folder
        try:
            if folder.exists():
                shutil.rmtree(folder)
        except OSError as exc:
            raise FinetuneError(
                f"Could not delete {folder}: {exc.strerror or exc}. Job {job_id} is kept; "
                "try again once nothing uses that folder."
            ) from exc
        self.jobs.delete(job_id)
        return folder

    def export(
        self, model_id: str, destination: Path, merged: bool = False, replace: bool = False
    ) -> Path:
        """Copy the adapter GGUF to ``destination`` (a new file, or a folder to put it in), or
        with ``merged`` write the base with the adapter folded in (``merge.write_merged``).
        Either is written beside the target and renamed over it, so a failed write leaves a
        file already there as it was.

        Raises FinetuneError for a file already there (replaced only with ``replace``), a
        target that is not a file or is inside Folio's data folder, a missing folder or a
        write that fails;
        ModelError for an unknown model.
        """
        base, adapter = self.resolve(model_id)
        name = model_id.removeprefix(FT_PREFIX)
        suffix = ".gguf" if merged else ".lora.gguf"
        target = destination / f"{name}{suffix}" if destination.is_dir() else destination
        inside = target.resolve()
        if inside == self.home.resolve() or self.home.resolve() in inside.parents:
            # Replacing a file in there (the adapter itself, a database) would break Folio.
            raise FinetuneError(f"{target} is inside Folio's data folder: choose another place.")
        there = target.is_symlink() or target.exists()  # a broken link is there too
        if there and not (target.is_file() or target.is_symlink()):
            raise FinetuneError(f"{target} is not a file: choose another name.")
        if there and not replace:
            raise FinetuneError(
                f"{target} already exists: choose another name, or remove it first.",
                cli=f"{target} already exists: add --force to replace it, or choose another name.",
            )
        if not target.parent.is_dir():
            raise FinetuneError(
                f"There is no folder {target.parent}: create it, or choose another."
            )
        try:
            if merged:
                require_training()  # the gguf package
                # Imported on first use: it loads the gguf package, part of the train extra.
                from desktop.core.finetune.local.merge import write_merged

                write_merged(base, adapter, target)
            else:
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                shutil.copyfile(adapter, tmp)
                tmp.replace(target)
        except OSError as exc:
            raise FinetuneError(
                f"Could not write {target}: {exc.strerror or exc}. Choose another place."
            ) from exc
        return target


def held_out(
    train: list[Example], validation: list[Example]
) -> tuple[list[Example], list[Example]]:
    """(train, validation): a dataset without a validation split of its own (and at least
    ten examples) gives every tenth example to validation, for the validation loss."""
    if validation or len(train) < 10:
        return train, validation
    return [e for i, e in enumerate(train) if i % 10], train[::10]


def process_alive(pid: int, marker: str) -> bool:
    """Whether process ``pid`` runs (not a zombie) with ``marker`` on its command line.

    The command line is checked on Linux (``/proc``), so a recycled pid is not taken for the
    trainer; elsewhere a live pid is enough.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, though hardly ours
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True
    try:
        state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        command = (proc / "cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return False
    return state != "Z" and marker in command


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def estimate_text(estimate: dict[str, Any]) -> str:
    """``LocalTraining.estimate``'s measured plan in a few lines, as the window's
    confirmation and ``folio-cli finetune start --local`` on a terminal show it."""
    memory = estimate["peak_memory_mb"] / 1024
    return "\n".join(
        [
            f"{counted(estimate['train_examples'], 'training example')} "
            f"({estimate['validation_examples']} held out for validation loss).",
            f"{estimate['tokens']:,} tokens over {counted(estimate['epochs'], 'epoch')}, "
            f"in {counted(estimate['steps'], 'step')}.",
            f"About {duration_phrase(estimate['seconds'])} on this computer "
            f"(measured: {estimate['tokens_per_s']:.0f} tokens/s).",
            f"Peak memory about {memory:.1f} GB.",
        ]
    )
