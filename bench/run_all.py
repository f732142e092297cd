"""Run every Folio benchmark, one after another, and print a summary against the targets.

Each benchmark runs in its own process (``--json``) so none inherits another's memory high
-water mark, loaded models or warm caches. ``bench/eval_retrieval.py`` (retrieval quality)
is run too when it exists.

Targets: ingestion overhead over the bare embedder < 15%; re-sync of an unchanged
10,000-file library < 2 s; search p50 at 100,000 chunks < 10 ms excluding query embedding;
ask TTFT and tokens/s reported against llama.cpp's own on the same prompt; answers that
carry the fact and time to first token per prompt variant (``answer_facts``); fine-tuning
validation against bare parsing and token counting.

    .venv/bin/python bench/run_all.py [--json] [--only ingest_throughput,resync,...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
BENCHMARKS = (
    "ingest_throughput",
    "resync",
    "search_latency",
    "ask_latency",
    "eval_retrieval",
    "answer_facts",
    "finetune_validate",
)


def run_one(name: str) -> dict[str, Any]:
    script = BENCH / f"{name}.py"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script), "--json"], capture_output=True, text=True, check=False
    )
    elapsed = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        return {"benchmark": name, "error": proc.stderr.strip()[-2000:], "wall_s": elapsed}
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"output": proc.stdout.strip()[-4000:]}
    if not isinstance(result, dict):
        result = {"result": result}
    result.setdefault("benchmark", name)
    result["wall_s"] = elapsed
    return result


def _line(r: dict[str, Any]) -> str:
    name = r["benchmark"]
    if "error" in r:
        return f"{name}: FAILED\n    {r['error'].splitlines()[-1] if r['error'] else ''}"
    if name == "ingest_throughput":
        ok = "met" if r["overhead_met"] else "NOT met"
        return (
            f"ingest: pipeline {r['pipeline_chunks_per_s']} vs raw {r['raw_chunks_per_s']} "
            f"chunks/s on {r['chunks']} chunks, overhead {r['overhead']:.1%} (< 15%: {ok}); "
            f"folio-cli peak RSS {r['cli_peak_rss_mb']} MB"
        )
    if name == "resync":
        ok = "met" if r["target_met"] else "NOT met"
        return (
            f"resync: {r['files']} unchanged files, sync {r['sync_first_s']} s first / "
            f"{r['sync_repeat_median_s']} s repeated (< 2 s: {ok}); first ingest "
            f"{r['first_ingest_s']} s; ratio {r['resync_over_first_ingest']:.3%}"
        )
    if name == "search_latency":
        o, u = r["optimized_ms"], r["unoptimized_ms"]
        ok = "met" if r["target_met_optimized"] else "NOT met"
        ok_u = "met" if r["target_met_unoptimized"] else "NOT met"
        modes = ", ".join(f"{m} {o[m]['p50']}/{o[m]['p95']}" for m in o)
        modes_u = ", ".join(f"{m} {u[m]['p50']}/{u[m]['p95']}" for m in u)
        e = r["query_embedding_ms"]
        return (
            f"search at {r['chunks']} chunks, p50/p95 ms: optimized {modes} (< 10 ms: {ok}); "
            f"as ingested {modes_u} ({ok_u}); query embedding {e['p50']}/{e['p95']} ms"
        )
    if name == "ask_latency":
        f, d = r["folio"], r["llama_cpp"]
        return (
            f"ask: TTFT {f['ttft_ms']} ms vs llama.cpp {d['ttft_ms']} ms ({r['ttft_ratio']}x); "
            f"{f['tokens_per_s']} vs {d['tokens_per_s']} tokens/s ({r['tokens_per_s_ratio']}x)"
        )
    if name == "finetune_validate":
        return (
            f"fine-tuning validation: {r['examples']:,} examples in {r['folio_s']} s "
            f"({r['examples_per_s']:,}/s), {r['overhead']:.0%} over parsing and counting "
            f"alone; folio-cli finetune validate {r['cli_median_s']} s per file"
        )
    if name == "answer_facts":
        parts = [
            f"{v} fact {s['fact_share']:.0%}"
            + (f", support {s['support_share']:.0%}" if s["support_share"] is not None else "")
            + f", TTFT {s['ttft_median_s']:.2f} s"
            for v, s in r["variants"].items()
        ]
        return f"answers to {r['questions']} short-fact questions: " + "; ".join(parts)
    modes = r.get("modes")
    if name == "eval_retrieval" and isinstance(modes, dict):
        scores = ", ".join(
            f"{mode} hit@{r.get('k', '?')} {s.get('hit_at_k')} MRR {s.get('mrr')}"
            for mode, s in modes.items()
            if isinstance(s, dict)
        )
        return f"retrieval quality on {r.get('questions', '?')} questions: {scores}"
    shown = {k: v for k, v in r.items() if k not in ("benchmark", "wall_s", "details")}
    return f"{name}: {json.dumps(shown)[:600]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--only", help="comma-separated benchmark names")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    results = []
    for name in names:
        if not (BENCH / f"{name}.py").exists():
            continue
        print(f"running {name}…", file=sys.stderr, flush=True)
        results.append(run_one(name))
    if args.json:
        print(json.dumps(results))
        return
    print("Folio benchmarks (this machine; absolute numbers are noisy, ratios less so)")
    for r in results:
        print(f"- {_line(r)}  [{r['wall_s']} s]")


if __name__ == "__main__":
    main()
