"""One question, several configurations, answered side by side and saved.

The question is searched once, and every retrieval-on cell gets the same sources, so the
cells differ only in model, persona and retrieval; that also keeps a six-cell grid at the
cost of six single answers. Local cells answer one after another (llama.cpp uses every core
for one answer; two at once would each take twice as long), remote cells at the same time,
while the local ones run. Each cell's answer is stored as a chat of the comparison's
(``chat.comparisons``), so it is rated, reopened and exported like any answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from desktop.core.chat.comparisons import CellRecord, ComparisonRecord, ComparisonStore
from desktop.core.chat.history import ChatStore
from desktop.core.chat.service import Answer, ChatService
from desktop.core.errors import ChatError, FolioError, worded
from desktop.core.evaluate.cells import CellConfig
from desktop.core.library.citation import Citation
from desktop.core.models.ids import is_remote
from desktop.core.models.prices import cost_usd
from desktop.core.tasks import CancelToken

STOPPED = "Stopped before it began."


class NothingAnswered(ChatError):
    """No cell of a comparison produced an answer, so it was not kept: the message names
    each cell and why (``cells``, in grid order, carry the same)."""

    def __init__(self, cells: list[CellResult]) -> None:
        reasons = "; ".join(
            f"cell {number} ({cell.config.label}): {cell.why_unanswered().rstrip('.')}"
            for number, cell in enumerate(cells, start=1)
        )
        super().__init__(f"No configuration answered: {reasons}; nothing was saved.")
        self.cells = cells


@dataclass
class CellResult:
    """One cell's answer (None if it failed: ``error`` says why) and what it took.

    ``ttft_ms`` and ``seconds`` run from the cell's own start, after the shared search;
    tokens are the provider's counts, or Folio's where the server reports none.
    """

    config: CellConfig
    answer: Answer | None = None
    error: str | None = None
    ttft_ms: float | None = None
    seconds: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    chat_id: str | None = None

    @property
    def answered(self) -> bool:
        """Whether the cell produced an answer: some text (a stopped one's part counts)."""
        return self.answer is not None and bool(self.answer.text.strip())

    def why_unanswered(self) -> str:
        """Why the cell has no answer: its error, else what came back instead."""
        if self.error:
            return self.error
        if self.answer is not None and self.answer.interrupted:
            return "stopped before any text"
        return "the model replied with no text"

    def figures(self) -> list[tuple[str, str]]:
        """The measured figures a person reads, as (name, value) pairs, those the cell has:
        first token, total time, tokens in / out, cost."""
        pairs = []
        if self.ttft_ms is not None:
            pairs.append(("first token", f"{self.ttft_ms:,.0f} ms"))
        if self.seconds is not None:
            pairs.append(("total", f"{self.seconds:.1f} s"))
        if self.tokens_in is not None:
            pairs.append(("tokens in / out", f"{self.tokens_in} / {self.tokens_out}"))
        if self.cost_usd == 0.0:
            pairs.append(("cost", "free, on this computer"))
        elif self.cost_usd is not None:
            pairs.append(("cost", f"${self.cost_usd:.5f}"))
        return pairs

    def figures_text(self) -> str:
        """``figures`` on one line: "first token 120 ms · total 3.2 s · …"."""
        return " · ".join(f"{name} {value}" for name, value in self.figures())

    def to_json(self) -> dict[str, Any]:
        """``ask``'s fields plus the timings, tokens and cost (folio-cli's ``compare``)."""
        answer = self.answer.to_json() if self.answer else _no_answer(self.config, self.chat_id)
        return {
            **answer,
            "config": self.config.spec(),
            "error": self.error,
            "ttft_ms": self.ttft_ms,
            "seconds": self.seconds,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
        }


@dataclass
class Comparison:
    """A question and its cells in grid order; ``search_ms`` is the one shared search."""

    id: str
    question: str
    created_at: float
    cells: list[CellResult]
    search_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "search_ms": self.search_ms,
            "cells": [c.to_json() for c in self.cells],
        }


@dataclass
class _Shared:
    """What every cell of one run shares: the question, its sources, the callbacks."""

    record: ComparisonRecord
    sources: list[Citation] | None
    search_error: str | None
    on_token: Callable[[int, str], None]
    on_cell: Callable[[int, CellResult], None]
    cancel: CancelToken
    cli: bool
    done: dict[int, CellResult] = field(default_factory=dict)


class Comparer:
    """Runs and keeps comparisons, with the chat service's models, personas and search."""

    def __init__(
        self,
        chats: ChatService,
        store: ChatStore,
        check_model: Callable[[str], None] = lambda model_id: None,
    ) -> None:
        """``check_model`` raises ModelError for a model id that cannot be used here (a
        malformed id, a local file that is missing); nothing is loaded."""
        self.chats = chats
        self.store = store
        self._check_model = check_model

    def check(self, configs: list[CellConfig]) -> None:
        """Raise ChatError naming every cell that cannot run (no model, an unknown model or
        persona), so nothing is searched or saved for a grid with a mistake in it."""
        problems: list[tuple[str, str]] = []  # (message, folio-cli's wording) of each cell
        for number, config in enumerate(configs, start=1):
            try:
                if not config.model.strip():
                    raise ChatError("it has no model; choose one")
                self._check_model(config.model)
                if config.persona:
                    self.store.personas.get(config.persona)
            except FolioError as exc:
                cell = f"cell {number} ({config.label}): "
                problems.append((cell + exc.message.rstrip("."), cell + str(exc).rstrip(".")))
        if problems:
            raise ChatError(
                "Nothing was asked. " + "; ".join(said for said, _ in problems) + ".",
                cli="Nothing was asked. " + "; ".join(said for _, said in problems) + ".",
            )

    @property
    def saved(self) -> ComparisonStore:
        """The saved comparisons and named configuration sets."""
        return self.store.comparisons

    def run(
        self,
        question: str,
        configs: list[CellConfig],
        *,
        top_k: int | None = None,
        on_token: Callable[[int, str], None] = lambda position, text: None,
        on_cell: Callable[[int, CellResult], None] = lambda position, result: None,
        cancel: CancelToken | None = None,
        cli: bool = False,
    ) -> Comparison:
        """Answer ``question`` with every configuration; saved as it goes.

        ``on_token(position, text)`` streams each cell's answer; ``on_cell(position,
        result)`` says a cell ended. A cell that fails (an unknown model or persona, a
        provider's error, consent not given) carries its error; the others go on.
        ``cancel`` stops every cell (their answers so far are kept, marked interrupted).
        A cell's error is kept in folio-cli's wording with ``cli``, else the window's.

        Raises ChatError for an empty question, no configurations or a cell that cannot run
        (``check``), before anything is searched or saved; NothingAnswered (a ChatError)
        when no cell produced an answer, after ``on_cell`` heard every cell: a comparison
        with nothing to compare is removed, its cells' chats with it, rather than kept as a
        result.
        """
        if not question.strip():
            raise ChatError("The question is empty.")
        if not configs:
            raise ChatError("A comparison needs at least one configuration.")
        self.check(configs)
        record = self.saved.create(question.strip(), [c.spec() for c in configs])
        sources, search_error, search_ms = None, None, None
        if any(c.retrieval for c in configs):
            started = time.perf_counter()
            try:
                sources = self.chats.search(question, top_k)
            except FolioError as exc:
                # Kept with the comparison and shown by the window and folio-cli alike.
                search_error = f"Searching the library failed: {worded(exc, cli=cli)}"
            search_ms = (time.perf_counter() - started) * 1000
        shared = _Shared(
            record, sources, search_error, on_token, on_cell, cancel or CancelToken(), cli
        )
        remote = [i for i, c in enumerate(configs) if is_remote(c.model)]
        local = [i for i, c in enumerate(configs) if not is_remote(c.model)]
        with ThreadPoolExecutor(max_workers=max(1, len(remote))) as pool:
            futures = [pool.submit(self._cell, shared, i, configs[i]) for i in remote]
            for i in local:
                self._cell(shared, i, configs[i])
            for future in futures:
                future.result()
        cells = [shared.done[i] for i in range(len(configs))]
        if not any(cell.answered for cell in cells):
            self.saved.delete(record.id)
            raise NothingAnswered(cells)
        return Comparison(record.id, record.question, record.created_at, cells, search_ms)

    def _cell(self, shared: _Shared, position: int, config: CellConfig) -> None:
        """Answer one cell, keep it, and report it."""
        cell = shared.record.cells[position]
        result = CellResult(config, chat_id=cell.chat_id)
        if shared.cancel.cancelled:
            result.error = STOPPED
        elif config.retrieval and shared.search_error:
            result.error = shared.search_error
        else:
            self._answer(shared, position, result)
        self.saved.record(
            shared.record.id,
            position,
            ttft_ms=result.ttft_ms,
            seconds=result.seconds,
            cost_usd=result.cost_usd,
            error=result.error,
        )
        shared.done[position] = result
        shared.on_cell(position, result)

    def _answer(self, shared: _Shared, position: int, result: CellResult) -> None:
        config = result.config
        started = time.perf_counter()
        first: list[float] = []

        def token(text: str) -> None:
            if not first:
                first.append(time.perf_counter())
            shared.on_token(position, text)

        try:
            answer = self.chats.ask(
                shared.record.question,
                model=config.model,
                persona=config.persona,
                retrieval=config.retrieval,
                chat_id=result.chat_id,
                sources=shared.sources,
                on_token=token,
                cancel=shared.cancel,
            )
        except FolioError as exc:
            result.error = worded(exc, cli=shared.cli)  # kept with the comparison
            return
        finally:
            result.seconds = time.perf_counter() - started
        result.answer = answer
        result.ttft_ms = (first[0] - started) * 1000 if first else None
        usage = answer.usage or {}
        result.tokens_in = usage.get("prompt_tokens")
        result.tokens_out = usage.get("completion_tokens")
        if result.tokens_in is not None and result.tokens_out is not None:
            result.cost_usd = cost_usd(config.model, result.tokens_in, result.tokens_out)

    def load(self, comparison_id: str) -> Comparison:
        """A saved comparison, with each cell's answer from its chat.

        Raises ChatError for an unknown comparison.
        """
        record = self.saved.get(comparison_id)
        cells = [self._loaded(record.question, cell) for cell in record.cells]
        return Comparison(record.id, record.question, record.created_at, cells)

    def _loaded(self, question: str, cell: CellRecord) -> CellResult:
        try:
            config = CellConfig.parse(cell.config)
        except ChatError as exc:  # written by hand into chats.db, or damaged
            return CellResult(CellConfig(cell.config), error=exc.message, chat_id=cell.chat_id)
        result = CellResult(
            config, None, cell.error, cell.ttft_ms, cell.seconds, cost_usd=cell.cost_usd,
            chat_id=cell.chat_id,
        )  # fmt: skip
        messages = self.store.messages(cell.chat_id) if cell.chat_id else []
        reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        if reply is None:
            if cell.chat_id is None and result.error is None:
                result.error = "Its chat was deleted."
            return result
        usage = reply.usage or {}
        result.tokens_in = usage.get("prompt_tokens")
        result.tokens_out = usage.get("completion_tokens")
        result.answer = Answer(
            text=reply.content,
            citations=reply.citations,
            model=reply.model or config.model,
            persona=reply.persona,
            retrieval=reply.retrieval,
            chat_id=reply.chat_id,
            interrupted=reply.interrupted,
            usage=usage or None,  # type: ignore[arg-type]
            notice=reply.notice,
            message_id=reply.id,
            support=reply.support,
            searched=reply.searched,
            cut_off=reply.cut_off,
        )
        return result


def _no_answer(config: CellConfig, chat_id: str | None) -> dict[str, Any]:
    """``ask``'s fields for a cell that has no answer."""
    return {
        "answer": "",
        "sources": [],
        "model": config.model,
        "persona": config.persona,
        "retrieval": config.retrieval,
        "chat_id": chat_id,
        "interrupted": False,
        "usage": None,
        "notice": None,
        "support": None,
        "searched": None,
        "cut_off": False,
    }
