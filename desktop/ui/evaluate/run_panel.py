"""Evaluate's Run tab: the configurations to answer with, the judge and style options, Run
and Stop.

Configurations are spec strings, one a row (``MODEL[,persona=NAME][,retrieval=on|off]``, as
``folio-cli eval run --config`` takes them), prefilled with the Compare grid
(``Services.default_grid``, as ``folio-cli eval run`` is); a saved comparison set can
replace them. Run answers the chosen set with every configuration in
the background (``Evaluator``): it resumes the newest unfinished run of the same set over
the same configurations unless New run is ticked, and Stop keeps every result made.
Document text goes to a remote model only once the person has allowed its provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.errors import ChatError, FolioError
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.run import RunProgress
from desktop.core.evaluate.sets import ResultRecord, RunRecord
from desktop.core.tasks import clock_time, eta_phrase
from desktop.services import Services
from desktop.ui.chat.pane import provider_label
from desktop.ui.dialogs import ask_consent, remember_consent
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QCheckBox,
    QColor,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job

NO_JUDGE = "none"
ERROR_COLOUR = "#b00020"  # as messages.say's errors


@dataclass(frozen=True)
class RunStarted:
    """The run a press on Run works on, and whether it goes on from where it stopped."""

    run: RunRecord
    resumed: bool


@dataclass(frozen=True)
class RunOptions:
    """The judge and style choices of a run (None: none, or the default)."""

    judge: str | None
    style_persona: str | None
    style_dataset: str | None

    @classmethod
    def of(cls, run: RunRecord) -> RunOptions:
        """The choices ``run`` was started with."""
        return cls(run.judge, run.style_persona, run.style_dataset)


def when(seconds: float) -> str:
    """A run's start as the window shows it: ``2026-12-01 14:03``."""
    return clock_time(seconds)


class RunPanel(QWidget):
    """Configurations, judge, style persona and dataset; Run/Stop and the run's progress."""

    started = Signal(object)  # RunRecord, once the run to work on is known
    # Once the job is over: the RunRecord as it is then (finished, or with results still to
    # make), or None when it failed before a run was started.
    ended = Signal(object)

    def __init__(
        self, services: Services, models: Callable[[], list[str]], parent: QWidget | None = None
    ) -> None:
        """``models``: the ids offered as the judge (the picker's)."""
        super().__init__(parent)
        self.services = services
        self.models = models
        self.set_name: str | None = None
        self.job: Job | None = None
        self.running_set: str | None = None  # the set the job answers
        self.run_record: RunRecord | None = None  # the run the job works on
        self.results_made = 0  # results kept by the job so far
        self.consent_box: QMessageBox | None = None
        # Asked before a run: the question table's "save your changes?" (the run reads the
        # stored questions).
        self.before_run: Callable[[], bool] = lambda: True
        # Why a set cannot be run now (a build is writing into it), or None.
        self.busy_reason: Callable[[str], str | None] = lambda name: None

        self.configs = QListWidget()
        self.configs.setAccessibleName("Configurations")
        self.configs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.configs.setToolTip(
            "MODEL[,persona=NAME][,retrieval=on|off], one a row; double-click to edit"
        )
        self.configs.itemChanged.connect(self._on_config_edited)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_config)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.default_button = QPushButton("Default grid")
        self.default_button.setToolTip(
            "The default model, with the first persona and the newest fine-tuned model, each "
            "with retrieval on and off"
        )
        self.default_button.clicked.connect(lambda: self.set_configs(services.default_grid()))
        self.saved_sets = QComboBox()
        self.saved_sets.setAccessibleName("Saved comparison sets")
        self.saved_sets.setToolTip("Use the configurations of a grid saved in Compare")
        self.saved_sets.activated.connect(lambda _: self.use_saved(self.saved_sets.currentData()))
        self.judge = QComboBox()
        self.judge.setAccessibleName("Judge model")
        self.judge.setToolTip(
            "A capable model that grades correctness and faithfulness; none: those scores are "
            "left out"
        )
        self.style_persona = QComboBox()
        self.style_persona.setAccessibleName("Style persona")
        self.style_persona.setToolTip("The persona whose voice the style score measures")
        self.style_dataset = QComboBox()
        self.style_dataset.setAccessibleName("Style dataset")
        self.style_dataset.setToolTip("The dataset of that voice's example answers")
        self.resume_button = QPushButton("Use its configurations")
        self.resume_button.setToolTip("Put the unfinished run's configurations here, to go on")
        self.resume_button.clicked.connect(self.use_unfinished)
        self.resume_button.hide()
        self.new_run = QCheckBox("New run")
        self.new_run.setToolTip(
            "Start a fresh run instead of going on with an unfinished run of this set over "
            "the same configurations"
        )
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop now; every answer made is kept, Run goes on from here")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Run progress")
        self.progress.setTextVisible(True)
        self.answering = QLabel()
        self.answering.setAccessibleName("Answering")
        self.answering.setWordWrap(True)
        self.message = message_label()
        self.message.setAccessibleName("Run message")

        editing = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.default_button):
            editing.addWidget(button)
        editing.addStretch(1)
        editing.addWidget(self.saved_sets)
        options = QFormLayout()
        options.addRow("Judge model", self.judge)
        options.addRow("Style persona", self.style_persona)
        options.addRow("Style dataset", self.style_dataset)
        running = QHBoxLayout()
        running.addWidget(self.new_run)
        running.addStretch(1)
        running.addWidget(self.run_button)
        running.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Configurations: <tt>MODEL[,persona=NAME][,retrieval=on|off]</tt>, one a row")
        )
        layout.addWidget(self.configs, 1)
        layout.addLayout(editing)
        layout.addLayout(options)
        layout.addLayout(running)
        layout.addWidget(self.progress)
        layout.addWidget(self.answering)
        note = QHBoxLayout()
        note.addWidget(self.message, 1)
        note.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(note)
        self.set_configs(services.default_grid())
        self.reload_options()
        self._enable()

    # -- the configurations -----------------------------------------------------------------

    def set_configs(self, configs: list[CellConfig]) -> None:
        """Replace the configurations with ``configs``."""
        self.set_specs([c.spec() for c in configs])

    def set_specs(self, specs: list[str]) -> None:
        """Replace the configurations with ``specs`` (each checked, as if typed)."""
        self.configs.clear()
        for spec in specs:
            self._add_item(spec)

    def _add_item(self, spec: str) -> QListWidgetItem:
        item = QListWidgetItem(spec)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.configs.addItem(item)
        self._on_config_edited(item)
        return item

    def specs(self) -> list[str]:
        """The rows as written."""
        rows = (self.configs.item(i) for i in range(self.configs.count()))
        return [item.text() for item in rows if item is not None]

    def chosen_configs(self) -> list[CellConfig]:
        """The rows as configurations; ChatError names the first one that is not one."""
        return [CellConfig.parse(spec) for spec in self.specs()]

    def _on_config_edited(self, item: QListWidgetItem) -> None:
        """A row is checked as it is written: written out in full, or marked with its error."""
        self.configs.blockSignals(True)
        try:
            item.setText(CellConfig.parse(item.text()).spec())
        except ChatError as exc:
            item.setForeground(QColor(ERROR_COLOUR))
            item.setToolTip(error_text(exc))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
            item.setToolTip("")
        self.configs.blockSignals(False)

    def add_config(self) -> None:
        """A new row, a copy of the last (or the default model's), to edit."""
        specs = self.specs()
        spec = specs[-1] if specs else CellConfig(self.services.settings.default_model).spec()
        item = self._add_item(spec)
        self.configs.setCurrentItem(item)
        self.configs.editItem(item)

    def remove_selected(self) -> None:
        """Remove the selected rows."""
        for item in self.configs.selectedItems():
            self.configs.takeItem(self.configs.row(item))

    def use_saved(self, name: str) -> bool:
        """Use the configurations of the comparison set ``name`` saved in Compare."""
        specs = self.services.comparer.saved.sets().get(name)
        if not specs:
            say(self.message, f"There is no saved comparison set {name!r}.", error=True)
            return False
        self.set_specs(specs)
        say(self.message, f"Using the {len(specs)} configurations of {name!r}.")
        return True

    # -- options ----------------------------------------------------------------------------

    def reload_options(self) -> None:
        """The judge models, personas, datasets and saved comparison sets as they are now."""
        # Names from servers and people (``shown``) are set apart; the entries' data is used.
        _refill(self.judge, [(NO_JUDGE, None), *((line_shown(m), m) for m in self.models())])
        personas = [p.name for p in self.services.chats.personas.all()]
        _refill(
            self.style_persona,
            [
                ("(the first persona in the configurations)", None),
                *((line_shown(p), p) for p in personas),
            ],
        )
        try:
            datasets = [d.name for d in self.services.datasets.all()]
        except (FolioError, OSError) as exc:
            say(self.message, f"Cannot list the datasets for style: {error_text(exc)}", error=True)
            datasets = []
        _refill(
            self.style_dataset,
            [
                ("(every dataset in the persona's voice)", None),
                *((line_shown(d), d) for d in datasets),
            ],
        )
        self.saved_sets.clear()
        for name in self.services.comparer.saved.sets():
            self.saved_sets.addItem(line_shown(name), name)  # shown set apart, used by its name
        self.saved_sets.setCurrentIndex(-1)
        self.saved_sets.setPlaceholderText("Use saved comparison set")

    def set_set(self, name: str | None) -> None:
        """The set Run answers; says so when its newest run has results still to make."""
        self.set_name = name
        if self.job is None:
            self.progress.reset()
            self.progress.setFormat("")
            self.answering.clear()
            self._show_unfinished()
        self._enable()

    def unfinished(self) -> RunRecord | None:
        """The set's newest run if it has results still to make."""
        runs = self.services.evals.runs(self.set_name) if self.set_name else []
        return runs[0] if runs and runs[0].finished_at is None else None

    def _show_unfinished(self) -> None:
        run = self.unfinished()
        self.resume_button.setVisible(run is not None)
        if run is None:
            say(self.message, "")
            return
        made = sum(1 for r in self.services.evals.results(run.id) if r.error is None)
        say(
            self.message,
            f"Run {run.id} of {run.set_name} (started {when(run.started_at)}) is unfinished, "
            f"with {made} answers: Run with its {len(run.configs)} configurations goes on "
            "with it.",
        )

    def use_unfinished(self) -> None:
        """Put the unfinished run's configurations in the list: Run then goes on with it."""
        run = self.unfinished()
        if run is not None:
            self.set_specs(run.configs)
            self.new_run.setChecked(False)

    def renamed(self, old: str, new: str) -> None:
        """The set was renamed: Run answers it under ``new``."""
        if self.set_name == old:
            self.set_name = new

    # -- running ----------------------------------------------------------------------------

    def run(self) -> Job | None:
        """Answer the set with every configuration in the background; None when it cannot
        start now (the reason is shown) or the person is asked for consent first."""
        if self.job is not None or self.consent_box is not None:
            return None
        if self.set_name is None:
            say(self.message, "Choose an evaluation set first.", error=True)
            return None
        reason = self.busy_reason(self.set_name)
        if reason:
            say(self.message, reason, error=True)
            return None
        try:
            configs = self.chosen_configs()
        except ChatError as exc:
            say(self.message, f"{error_text(exc)} Correct the row, or remove it.", error=True)
            return None
        if not configs:
            say(self.message, "Add at least one configuration.", error=True)
            return None
        if not self.before_run():
            return None
        providers = self.consent_needed(configs, self.judge.currentData())
        if providers:
            self.ask_consent(providers, configs)
            return None
        return self._start(configs)

    def consent_needed(self, configs: list[CellConfig], judge: str | None) -> list[str]:
        """The remote providers not yet allowed that the run would send document text to:
        every retrieval-on configuration's, and the judge's (it reads the reference answers,
        and the passages of retrieval-on answers)."""
        models = [c.model for c in configs if c.retrieval] + ([judge] if judge else [])
        return sorted({p for p in map(self.services.needs_consent, models) if p is not None})

    def ask_consent(self, providers: list[str], configs: list[CellConfig]) -> QMessageBox:
        """Ask once for every provider; Allow starts the run."""
        labels = ", ".join(provider_label(p, self.services) for p in providers)
        self.consent_box = ask_consent(
            self,
            "Send documents to a remote model?",
            f"This run sends the questions and passages of your documents to {labels}.",
            "With retrieval on, the passages found for each question go with it; a judge "
            "model reads the questions, the answers and their passages, and the reference "
            "answers. They leave this computer. Folio asks "
            "once for each provider. To keep your documents here, Cancel and turn retrieval "
            "off for remote models or choose local ones.",
            lambda allowed: self._on_consent(allowed, providers, configs),
        )
        return self.consent_box

    def _on_consent(self, allowed: bool, providers: list[str], configs: list[CellConfig]) -> None:
        self.consent_box = None
        if not allowed:
            say(self.message, "Nothing was sent: the run did not start.")
            return
        problem = remember_consent(self.services, providers)
        if problem is not None:
            say(self.message, problem, error=True)
            return
        self._start(configs)

    def _start(self, configs: list[CellConfig]) -> Job:
        set_name = self.set_name
        assert set_name is not None
        options = RunOptions(
            self.judge.currentData(),
            self.style_persona.currentData(),
            self.style_dataset.currentData(),
        )
        new = self.new_run.isChecked()
        evaluator, evals = self.services.evaluator, self.services.evals
        specs = [c.spec() for c in configs]

        def work(job: Job) -> RunRecord:
            unfinished = None if new else evals.unfinished(set_name, specs)
            run = evaluator.start(
                set_name, configs, judge_model=options.judge, style_persona=options.style_persona,
                style_dataset=options.style_dataset, new=new,
            )  # fmt: skip
            job.report(RunStarted(run, unfinished is not None and unfinished.id == run.id))
            return evaluator.run(
                run, on_progress=job.report, on_result=job.report, cancel=job.cancel
            )

        job = Job(work)
        job.progress.connect(lambda event: self._on_event(event, options))
        job.succeeded.connect(self._on_done)
        job.failed.connect(lambda text: say(self.message, text, error=True))
        job.finished.connect(self._on_finished)
        self.job, self.running_set, self.run_record = job, set_name, None
        self.results_made = 0
        self.progress.setRange(0, 0)  # busy until the run says how many answers it makes
        self.progress.setFormat("")
        self.answering.setText("Loading…")
        say(self.message, f"Running {set_name} with {len(configs)} configurations…")
        self._enable()
        return job.start()

    def stop(self) -> None:
        """Stop now: the answer being made is dropped, every one before it is kept."""
        if self.job is not None:
            self.job.cancel.cancel()
            self.stop_button.setEnabled(False)
            say(self.message, "Stopping: every answer made is kept.")

    def _on_event(self, event: object, chosen: RunOptions) -> None:
        if isinstance(event, RunStarted):
            self.run_record = event.run
            if event.resumed:
                text = f"Resuming run {event.run.id} (started {when(event.run.started_at)})."
                if RunOptions.of(event.run) != chosen:
                    # The run goes on as it began, or its results would not compare.
                    text += (
                        " It keeps the judge and style choices it was started with: tick "
                        "New run to use the ones chosen here."
                    )
            else:
                text = f"Run {event.run.id} started."
            say(self.message, text)
            self.started.emit(event.run)
        elif isinstance(event, RunProgress):
            self._show_progress(event)
        elif isinstance(event, ResultRecord):
            self.results_made += 1

    def _show_progress(self, p: RunProgress) -> None:
        self.progress.setRange(0, max(p.total, 1))
        self.progress.setValue(p.done)
        failed = f", {p.failed} failed" if p.failed else ""
        # The estimate is for answers still to make: none once the run stops or ends.
        eta = eta_phrase(p.eta_seconds if p.question is not None else None)
        self.progress.setFormat(f"{p.done} of {p.total} answers{eta}{failed}")
        if p.question is not None:
            self.answering.setText(f"{p.config}: {p.question}")
        else:
            self.answering.clear()

    def _on_done(self, run: RunRecord) -> None:
        results = self.services.evals.results(run.id)
        failed = [r for r in results if r.error]
        total = len(self.services.evals.get(run.set_name).items) * len(run.configs)
        done = len(results) - len(failed)
        text = f"Run {run.id}: {done} of {total} answers"
        if failed:
            text += f", {len(failed)} failed (the first: {failed[0].error})"
        if run.finished_at is not None:
            text += ". Finished: see the Report tab."
        elif self.job is not None and self.job.cancel.cancelled:
            text = f"Stopped. {text}. Run goes on from here."
        else:
            text += ". Run tries the failed ones again."
        say(self.message, text, error=bool(failed))
        self.run_record = run

    def _on_finished(self) -> None:
        self.job, self.running_set = None, None
        self.answering.clear()
        self.resume_button.setVisible(self.unfinished() is not None)
        self._enable()
        self.ended.emit(self.run_record)

    def _enable(self) -> None:
        idle = self.job is None
        for widget in (
            self.configs,
            self.add_button,
            self.remove_button,
            self.default_button,
            self.saved_sets,
            self.judge,
            self.style_persona,
            self.style_dataset,
            self.new_run,
            self.resume_button,
        ):
            widget.setEnabled(idle)
        self.run_button.setEnabled(idle and self.set_name is not None)
        self.stop_button.setEnabled(not idle)
        self.progress.setVisible(not idle or self.progress.value() > 0)


def _refill(combo: QComboBox, entries: list[tuple[str, str | None]]) -> None:
    """Replace ``combo``'s entries (text, data), keeping the chosen one if it is still there."""
    kept = combo.currentData()
    combo.clear()
    for text, data in entries:
        combo.addItem(text, data)
    index = combo.findData(kept) if kept is not None else 0
    combo.setCurrentIndex(max(index, 0))
