"""llama.cpp threads when the cores are shared: an answer's time with 1 and 2 threads, alone
and beside other programs that keep one core, or both, busy, or beside Folio's own indexing.

A person asks while something else runs: Folio's own indexing, a browser, a build. llama.cpp
splits each step across ``n_threads`` threads that wait for one another at every layer, so a
thread that loses its core holds the others up. This measures how much that costs on this
2-core machine, to choose Folio's default ``threads``.

Each round generates one answer per setting from the same ~500-token prompt (three
focused sources' worth of prose, as ``ask`` sends) with the embedded SmolLM2-135M GGUF,
n_ctx 4096, greedy, at most 64 tokens, from an empty KV cache (``Llama.reset()``), so the
whole prompt is read each time. The settings: {1, 2} threads x {alone, beside one process
spinning on a core, beside two, beside a process embedding chunks with Folio's own embedder
(FastEmbed's all-MiniLM-L6-v2 on ONNX Runtime, 2 threads, as an ingest does)}; their order
alternates from round to round. Reported per setting:
median time to first token (prompt reading), decode tokens/s and total seconds, and the
ratios of 2 threads to 1.

    .venv/bin/python bench/threads_busy.py [--json] [--rounds 3]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(REPO))

from desktop.core.models.local_files import embedded_llm_path  # noqa: E402

MAX_TOKENS = 64
N_CTX = 4096
PROSE = (
    "The archive keeps its backup tapes in a vault that is locked every night at ten. "
    "Requests to restore a file go to the help desk, which answers within two working days. "
    "Tapes older than seven years are shredded by a contractor under supervision. "
)


# Cores kept busy by spinning processes; EMBEDDING: one process embedding, as an ingest does.
EMBEDDING = -1
BUSY = (0, 1, 2, EMBEDDING)


def _name(threads: int, busy: int) -> str:
    if busy == EMBEDDING:
        where = "beside indexing"
    else:
        where = "alone" if not busy else f"{busy} core{'s' if busy > 1 else ''} busy"
    return f"{threads} thread{'s' if threads > 1 else ''}, {where}"


def _embed(stop: Any, ready: Any, cache_dir: str) -> None:
    """Embed batches of chunks with Folio's embedder until ``stop`` is set."""
    from desktop.core.models.embeddings import local_embedding

    model = local_embedding(Path(cache_dir), threads=2)
    texts = [PROSE * 2] * 64
    model.get_text_embedding_batch(texts)
    ready.set()
    while not stop.is_set():
        model.get_text_embedding_batch(texts)


def _spin(stop: Any) -> None:
    """Keep one core busy until ``stop`` is set (another program's work)."""
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _answer(llama: Any, messages: list[dict[str, str]]) -> dict[str, float]:
    llama.reset()
    started = time.perf_counter()
    first = last = None
    tokens = 0
    for chunk in llama.create_chat_completion(
        messages=messages, stream=True, temperature=0.0, max_tokens=MAX_TOKENS, seed=7
    ):
        if chunk["choices"][0]["delta"].get("content"):
            now = time.perf_counter()
            first = first or now
            last = now
            tokens += 1
    assert first is not None and last is not None
    rate = (tokens - 1) / (last - first) if tokens > 1 and last > first else float("nan")
    return {"ttft_s": first - started, "tokens_per_s": rate, "total_s": last - started}


def run(rounds: int) -> dict[str, Any]:
    from llama_cpp import Llama

    # The embedder's files are assembled here from its packages (as in a data folder).
    cache_dir = tempfile.mkdtemp(prefix="folio-bench-threads-")
    gguf = embedded_llm_path()
    assert gguf is not None, "the embedded model's package is not installed"
    models = {
        n: Llama(model_path=str(gguf), n_ctx=N_CTX, n_threads=n, n_threads_batch=n, verbose=False)
        for n in (1, 2)
    }
    sources = "\n\n".join(f"[{i}] notes{i}.md\n{PROSE * 5}" for i in (1, 2, 3))
    messages = [
        {"role": "system", "content": f"Answer from the sources.\n\n{sources}"},
        {"role": "user", "content": "When is the vault locked?"},
    ]
    prompt_tokens = len(models[1].tokenize(str(messages).encode()))
    _answer(models[2], messages)  # warm-up: page the weights in
    samples: dict[str, list[dict[str, float]]] = {}
    for round_no in range(rounds):
        settings = [(n, busy) for busy in BUSY for n in (1, 2)]
        for n, busy in settings if round_no % 2 == 0 else reversed(settings):
            stop, ready = multiprocessing.Event(), multiprocessing.Event()
            if busy == EMBEDDING:
                embedder = multiprocessing.Process(target=_embed, args=(stop, ready, cache_dir))
                spinners = [embedder]
            else:
                spinners = [
                    multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(busy)
                ]
                ready.set()
            for spinner in spinners:
                spinner.start()
            ready.wait()
            time.sleep(0.5 if spinners else 0)  # let them take their cores
            try:
                figures = _answer(models[n], messages)
            finally:
                stop.set()
                for spinner in spinners:
                    spinner.join()
            samples.setdefault(_name(n, busy), []).append(figures)
    table = {
        name: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
        for name, runs in samples.items()
    }
    ratios = {
        _name(2, busy).split(", ")[1]: {
            key: table[_name(2, busy)][key] / table[_name(1, busy)][key]
            for key in ("ttft_s", "tokens_per_s", "total_s")
        }
        for busy in BUSY
    }
    return {
        "rounds": rounds,
        "prompt_tokens_about": prompt_tokens,
        "table": table,
        "ratios": ratios,
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{result['rounds']} rounds, prompt about {result['prompt_tokens_about']} tokens")
    print(f"{'setting':<26} {'TTFT s':>8} {'tokens/s':>9} {'total s':>8}")
    for name, row in result["table"].items():
        print(f"{name:<26} {row['ttft_s']:8.2f} {row['tokens_per_s']:9.1f} {row['total_s']:8.2f}")
    for where, row in result["ratios"].items():
        print(
            f"2 threads / 1, {where}: TTFT {row['ttft_s']:.2f}x, tokens/s "
            f"{row['tokens_per_s']:.2f}x, total {row['total_s']:.2f}x"
        )


if __name__ == "__main__":
    parser = benchlib.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    benchlib.emit(run(args.rounds), args.json, _print)
