"""Running an evaluation set over a grid of configurations, resumably.

Each question is searched once; every retrieval-on configuration gets those passages (as
in Compare), so configurations differ only in model, persona and retrieval, and retrieval
is scored once per question. Answers are made one after another and kept with the run,
not in the Chat list (``ChatService.answer``). Every result is committed as it is made: a
run that is stopped, or a Folio that is killed, is resumed by running the same set over
the same grid again; results that failed are tried again then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from llama_index.core.llms import LLM

from desktop.core.chat.service import ChatService
from desktop.core.errors import ChatError, ConsentRequired, EvaluationError, FolioError, worded
from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.scores import facts_overlap, judge, retrieval_score
from desktop.core.evaluate.sets import EvalItem, EvalStore, ResultRecord, RunRecord
from desktop.core.library.citation import Citation
from desktop.core.models.prices import cost_usd
from desktop.core.tasks import CancelToken, eta_seconds


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: results made of ``total`` (questions × configurations),
    the question and configuration being answered, and an estimate of the time left."""

    done: int
    total: int
    question: str | None
    config: str | None
    eta_seconds: float | None
    failed: int = 0


@dataclass
class _Search:
    """One question's passages (or why there are none), shared by its retrieval-on cells."""

    sources: list[Citation] | None = None
    error: str | None = None


class Evaluator:
    """Runs evaluation sets with the chat service's models, personas and search."""

    def __init__(
        self,
        chats: ChatService,
        evals: EvalStore,
        check: Callable[[list[CellConfig]], None],
        llm: Callable[[str], LLM],
    ) -> None:
        """``check`` raises ChatError for a grid with a cell that cannot run
        (``Comparer.check``); ``llm`` gives the LlamaIndex LLM of a model id (the judge)."""
        self.chats = chats
        self.evals = evals
        self._check = check
        self._llm = llm

    def start(
        self,
        set_name: str,
        configs: list[CellConfig],
        *,
        top_k: int | None = None,
        judge_model: str | None = None,
        style_persona: str | None = None,
        style_dataset: str | None = None,
        new: bool = False,
    ) -> RunRecord:
        """The run to work on: the newest unfinished run of this set over this grid with
        the same options (resumed; the same cells in another order are the same grid, and
        the run keeps the order it was started with), or a new one (always with ``new``),
        its configurations in the order given.

        Raises EvaluationError for an unknown or empty set, no configurations or one listed
        twice; ChatError for a grid with a cell that cannot run (``check``) or an unknown
        style persona; ModelError for a judge that cannot be used; ConsentRequired when a
        remote provider (a retrieval-on cell's or the judge's) has not agreed to receive
        passages.
        """
        found = self.evals.get(set_name)  # "GOOD" runs the set "good" (``EvalStore.get``)
        set_name, items = found.name, found.items
        if not items:
            raise EvaluationError(f"The evaluation set {set_name!r} has no questions yet.")
        if not configs:
            raise EvaluationError("A run needs at least one configuration.")
        specs = [c.spec() for c in configs]
        twice = next((spec for n, spec in enumerate(specs) if spec in specs[:n]), None)
        if twice is not None:
            raise EvaluationError(f"The configuration {twice} is listed twice: list it once.")
        self._check(configs)
        for config in configs:
            provider = self.chats.consent_needed(config.model) if config.retrieval else None
            if provider is not None:
                raise ConsentRequired(provider)
        if style_persona:
            self.chats.store.personas.get(style_persona)  # ChatError naming it
        if judge_model:
            provider = self.chats.consent_needed(judge_model)
            if provider is not None:
                sent = (
                    f"The judge model {judge_model} would receive the questions, answers "
                    f"and passages of your documents, sent to {provider}. Allow it once"
                )
                raise ConsentRequired(
                    provider,
                    f"{sent}, or choose a local judge.",
                    cli=f"{sent} (the window asks; folio-cli takes --allow-remote), or choose "
                    "a local judge.",
                )
            self._llm(judge_model)  # a judge that cannot be used fails before any answer
        if not new:
            resumed = self.evals.unfinished(set_name, specs)
            chosen = (top_k, judge_model, style_persona, style_dataset)
            if resumed is not None and chosen == (
                resumed.top_k,
                resumed.judge,
                resumed.style_persona,
                resumed.style_dataset,
            ):
                return resumed
        return self.evals.start_run(
            set_name, specs, top_k=top_k, judge=judge_model, style_persona=style_persona,
            style_dataset=style_dataset,
        )  # fmt: skip

    def run(
        self,
        run: RunRecord,
        *,
        on_progress: Callable[[RunProgress], None] = lambda progress: None,
        on_result: Callable[[ResultRecord], None] = lambda result: None,
        cancel: CancelToken | None = None,
        cli: bool = False,
    ) -> RunRecord:
        """Make every result ``run`` still lacks; returns the run as it is after.

        ``on_progress`` hears before each answer and after the last; ``on_result`` gets each
        result as it is kept. ``cancel`` stops at once: the answer being made is dropped
        (the next run makes it again), everything before it is kept. A configuration that
        fails keeps its error as its result and the run goes on: in folio-cli's wording
        with ``cli``, else the window's.
        """
        cancel = cancel or CancelToken()
        items = self.evals.get(run.set_name).items
        configs = [CellConfig.parse(spec) for spec in run.configs]
        made = {
            (r.item_id, r.config) for r in self.evals.results(run.id) if r.error is None
        }  # fmt: skip
        total = len(items) * len(configs)
        done = sum(1 for i in items for c in configs if (i.id, c.spec()) in made)
        judge_llm = self._llm(run.judge) if run.judge else None
        started, made_now, failed = time.monotonic(), 0, 0

        def progress(item: EvalItem | None, config: CellConfig | None) -> None:
            eta = eta_seconds(time.monotonic() - started, made_now, total - done)
            on_progress(
                RunProgress(
                    done, total, item.question if item else None,
                    config.label if config else None, eta, failed,
                )
            )  # fmt: skip

        for item in items:
            pending = [c for c in configs if (item.id, c.spec()) not in made]
            if not pending:
                continue
            search = self._search(item, pending, run.top_k, cli)
            for config in pending:
                if cancel.cancelled:
                    progress(None, None)
                    return self.evals.run(run.id)
                progress(item, config)
                result = self._answer(item, config, search, judge_llm, cancel, cli)
                if result is None:  # stopped mid-answer
                    progress(None, None)
                    return self.evals.run(run.id)
                self.evals.record(run.id, result)
                done, made_now = done + (result.error is None), made_now + 1
                failed += result.error is not None
                on_result(result)
        progress(None, None)
        if done == total:
            self.evals.finish(run.id)
        return self.evals.run(run.id)

    def _search(
        self, item: EvalItem, pending: list[CellConfig], top_k: int | None, cli: bool
    ) -> _Search:
        """The question's passages, searched once, when a pending cell has retrieval on."""
        if not any(c.retrieval for c in pending):
            return _Search()
        try:
            return _Search(self.chats.search(item.question, top_k))
        except FolioError as exc:
            # Kept with the run's results, for every answer that needed the passages.
            return _Search(error=f"Searching the library failed: {worded(exc, cli=cli)}")

    def _answer(
        self,
        item: EvalItem,
        config: CellConfig,
        search: _Search,
        judge_llm: LLM | None,
        cancel: CancelToken,
        cli: bool,
    ) -> ResultRecord | None:
        """One configuration's answer to one item, timed and scored; None if stopped."""
        result = ResultRecord(item.id, config.spec(), item.question, "", [])
        if config.retrieval and search.error:
            result.error = search.error
            return result
        started = time.perf_counter()
        first: list[float] = []

        def token(text: str) -> None:
            if not first:
                first.append(time.perf_counter())

        try:
            answer = self.chats.answer(
                item.question,
                model=config.model,
                persona=config.persona,
                retrieval=config.retrieval,
                sources=search.sources,
                on_token=token,
                cancel=cancel,
            )
        except (ChatError, FolioError) as exc:
            result.error = worded(exc, cli=cli)  # stored with the run
            return result
        except Exception as exc:
            # A model's own library may refuse an input with an error of its own, not
            # translated into a Folio one: the result keeps it, and the run goes on.
            result.error = f"{config.model} could not answer: {exc}"
            return result
        if cancel.cancelled and answer.interrupted:
            return None
        result.seconds = time.perf_counter() - started
        result.ttft_ms = (first[0] - started) * 1000 if first else None
        result.answer, result.sources = answer.text, answer.citations
        usage = answer.usage or {}
        result.tokens_in = usage.get("prompt_tokens")
        result.tokens_out = usage.get("completion_tokens")
        if result.tokens_in is not None and result.tokens_out is not None:
            result.cost_usd = cost_usd(config.model, result.tokens_in, result.tokens_out)
        result.facts = facts_overlap(answer.text, item.reference)
        if config.retrieval:
            scored = retrieval_score(item, answer.citations)
            result.rank = scored.rank if scored else None
        if judge_llm is not None and answer.text.strip():
            contexts = [c.text for c in answer.citations] if config.retrieval else None
            try:
                verdict = judge(judge_llm, item, answer.text, contexts)
            except Exception as exc:
                # LlamaIndex's evaluators raise the model client's own errors (the OpenAI
                # SDK's, httpx's, llama.cpp's), which differ by provider: each is the
                # result's error, and the run goes on.
                result.error = f"The judge model failed: {exc}"
                return result
            result.correctness, result.faithfulness = verdict.correctness, verdict.faithfulness
        return result
