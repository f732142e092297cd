"""An evaluation of a real document set, end to end: the set written from a folder, run over
the six-cell grid, and reported, each phase timed.

On a data folder whose library already holds ``--folder`` (indexed) and which has the
persona and the fine-tuned model named: writes ``--questions`` questions with the default
model, runs them over {base, persona-prompted, fine-tuned} × {retrieval on, off}, and
reports. Prints the time per question written, the run's wall time, answers per minute,
how many times the library was searched (once per question, against one per retrieval-on
answer were each asked alone), and the report's table; writes report.html, report.csv and
report.json into ``--out``.

    .venv/bin/python bench/evaluation_run.py --home /path/to/home --folder DIR \\
        --persona NAME --fine-tuned local:ft:NAME --out docs/eval [--questions 30] [--json]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = benchlib.parser(__doc__)
    p.add_argument("--home", required=True)
    p.add_argument("--folder", required=True)
    p.add_argument("--name", default="bench")
    p.add_argument("--questions", type=int, default=30)
    p.add_argument("--persona", required=True)
    p.add_argument("--fine-tuned", required=True)
    p.add_argument("--style-dataset")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    from desktop.cli.evaluate import report_text
    from desktop.core.evaluate.build import build_from_folder
    from desktop.core.evaluate.cells import default_grid
    from desktop.core.evaluate.report_html import to_html
    from desktop.services import build_services

    services = build_services(args.home)
    services.claim()
    folder = Path(args.folder)
    model = services.settings.default_model
    started = time.perf_counter()
    built = build_from_folder(
        services.library, services.store, services.evals, args.name, folder,
        services.llama_index_llm(model), model_id=model, questions=args.questions,
    )  # fmt: skip
    build_s = time.perf_counter() - started

    searched: list[str] = []
    search = services.retriever.search

    def counted(query: str, **kwargs: Any) -> Any:
        searched.append(query)
        return search(query, **kwargs)

    services.retriever.search = counted  # type: ignore[method-assign]
    grid = default_grid(model, args.persona, args.fine_tuned)
    run = services.evaluator.start(args.name, grid, style_dataset=args.style_dataset)
    started = time.perf_counter()
    run = services.evaluator.run(run)
    run_s = time.perf_counter() - started
    results = services.evals.results(run.id)
    started = time.perf_counter()
    report = services.eval_report(run.id)
    report_s = time.perf_counter() - started

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(to_html(report), encoding="utf-8")
    (out / "report.csv").write_text(report.to_csv(), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
    retrieval_on = sum(1 for c in grid if c.retrieval)
    result = {
        "questions_written": built.written,
        "chunks_skipped": built.chunks_skipped,
        "build_seconds": round(build_s, 1),
        "seconds_per_question_written": round(build_s / max(1, built.written), 2),
        "answers": len(results),
        "failed": sum(1 for r in results if r.error),
        "run_seconds": round(run_s, 1),
        "answers_per_minute": round(60 * len(results) / run_s, 1),
        "searches": len(searched),
        "searches_if_each_answer_searched": retrieval_on * built.written,
        "report_seconds": round(report_s, 1),
        "report": report.to_json(),
    }

    def human(r: dict[str, Any]) -> None:
        for key, value in r.items():
            if key != "report":
                print(f"{key}: {value}")
        print()
        print(report_text(report))

    benchlib.emit(result, args.json, human)
    services.close()


if __name__ == "__main__":
    main()
