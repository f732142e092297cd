"""The six-cell compare grid against six single ``ask``s of the same configurations.

On the bundled sample folder, with the embedded model (answers capped at 48 tokens), each
round asks one question both ways, in alternating order: ``comparer.run`` over the grid
{base, persona-prompted, second persona} × {retrieval on, off} (the second persona stands in
for the fine-tuned row, which needs a trained model), and ``chat.ask`` once per cell, each
searching for itself. Reported per round and as medians: wall time, answer tokens, seconds
per answer token (answers differ in length from one run to the next), and how many times
the library was searched. Target: the grid costs no more than the six asks.

    .venv/bin/python bench/compare_grid.py [--json] [--rounds 3]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "How many days of leave can I carry over to next year?",
    "What does VPN error NW-4471 mean?",
    "How many people does the Harbour meeting room seat?",
    "When are laptops replaced?",
)


def main() -> None:
    args_parser = benchlib.parser(__doc__)
    args_parser.add_argument("--rounds", type=int, default=3)
    args = args_parser.parse_args()

    from desktop.core.chat.personas import Persona
    from desktop.core.evaluate.cells import CellConfig
    from desktop.core.settings import Settings
    from desktop.services import Services

    with tempfile.TemporaryDirectory(prefix="folio-bench-compare-") as tmp:
        services = Services(Path(tmp), Settings(max_answer_tokens=48))
        try:
            services.ingestor.ingest([ROOT / "resources" / "sample"])
            services.chats.personas.save(Persona("Plain", "Answer plainly, in one sentence."))
            rows = [(None,), ("Sarcastic techie",), ("Plain",)]
            configs = [
                CellConfig("local:default", persona, retrieval)
                for (persona,) in rows
                for retrieval in (True, False)
            ]
            searches = {"n": 0}
            search = services.retriever.search

            def counted(query: str, **kwargs: Any) -> Any:
                searches["n"] += 1
                return search(query, **kwargs)

            services.retriever.search = counted  # type: ignore[method-assign]
            services.chat.ask("Warm-up.", retrieval=True)  # load the models outside the timing

            def grid(question: str) -> dict[str, float]:
                searches["n"] = 0
                started = time.perf_counter()
                comparison = services.comparer.run(question, configs)
                tokens = sum(c.tokens_out or 0 for c in comparison.cells)
                return {
                    "s": time.perf_counter() - started,
                    "tokens": tokens,
                    "searches": searches["n"],
                }

            def singles(question: str) -> dict[str, float]:
                searches["n"] = 0
                started = time.perf_counter()
                tokens = 0
                for c in configs:
                    answer = services.chat.ask(
                        question, model=c.model, persona=c.persona, retrieval=c.retrieval
                    )
                    tokens += (answer.usage or {}).get("completion_tokens", 0)
                return {
                    "s": time.perf_counter() - started,
                    "tokens": tokens,
                    "searches": searches["n"],
                }

            rounds = []
            for number in range(args.rounds):
                question = QUESTIONS[number % len(QUESTIONS)]
                first, second = (grid, singles) if number % 2 == 0 else (singles, grid)
                a, b = first(question), second(question)
                measured = {first.__name__: a, second.__name__: b}
                rounds.append(measured)
        finally:
            services.close()

    def median(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in rounds)

    def per_token(kind: str) -> float:
        return statistics.median(r[kind]["s"] / max(1, r[kind]["tokens"]) for r in rounds)

    result = {
        "cells": len(configs),
        "rounds": rounds,
        "grid_s": median("grid", "s"),
        "singles_s": median("singles", "s"),
        "grid_over_singles": median("grid", "s") / median("singles", "s"),
        "grid_s_per_token": per_token("grid"),
        "singles_s_per_token": per_token("singles"),
        "grid_searches": median("grid", "searches"),
        "singles_searches": median("singles", "searches"),
    }

    def human(r: dict[str, Any]) -> None:
        for i, measured in enumerate(r["rounds"], start=1):
            g, s = measured["grid"], measured["singles"]
            print(
                f"round {i}: grid {g['s']:.1f} s ({g['tokens']} tokens, {g['searches']} search), "
                f"six asks {s['s']:.1f} s ({s['tokens']} tokens, {s['searches']} searches)"
            )
        print(
            f"median: grid {r['grid_s']:.1f} s vs six asks {r['singles_s']:.1f} s "
            f"({r['grid_over_singles']:.2f}x); per answer token {r['grid_s_per_token']:.3f} vs "
            f"{r['singles_s_per_token']:.3f} s"
        )

    benchlib.emit(result, args.json, human)


if __name__ == "__main__":
    main()
