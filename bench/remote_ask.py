"""Remote ask overhead: Folio through OPENAI_BASE_URL against the bare OpenAI SDK.

llama.cpp's OpenAI-compatible server (``tests/llama_server.py``: the embedded SmolLM2 GGUF,
2 threads) stands in for a remote provider. Each round asks one question twice, in
alternating order: once with ``services.chat.ask(question, model="openai:smollm2",
retrieval=False)`` (Folio's provider code, LlamaIndex's OpenAI LLM, history writes) and once
with ``openai.OpenAI().chat.completions.create(stream=True)`` on the exact messages Folio
sent, with the same max tokens and temperature. Time to first token and tokens/s after it
are compared (answers differ in length, so whole-answer times would not be); medians are
reported. llama.cpp's server keeps the last
prompt's KV cache, so each round first sends the question once unmeasured: both measured
calls then find the prompt evaluated, and the difference is what each client adds.

    .venv/bin/python bench/remote_ask.py [--json] [--rounds 5]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.models.local_files import embedded_llm_path  # noqa: E402
from desktop.core.settings import Settings  # noqa: E402
from desktop.services import Services  # noqa: E402
from tests.llama_server import MODEL_ALIAS, running_server  # noqa: E402

QUESTIONS = [
    "Name three uses of a paperclip.",
    "What is a good name for a cat?",
    "Describe the colour blue in one sentence.",
    "Give one tip for writing clear emails.",
    "What do bees make?",
    "Why do leaves fall in autumn?",
]
MAX_TOKENS = 48


def _figures(started: float, stamps: list[float]) -> dict[str, float]:
    """Time to first token, and tokens/s after it (answers differ in length)."""
    decode = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / decode if decode > 0 else float("nan")
    return {"ttft_s": stamps[0] - started, "tokens_per_s": rate}


def folio_ask(services: Services, question: str) -> tuple[dict[str, float], list[Any]]:
    started = time.perf_counter()
    stamps: list[float] = []
    answer = services.chat.ask(
        question,
        model=f"openai:{MODEL_ALIAS}",
        retrieval=False,
        on_token=lambda _: stamps.append(time.perf_counter()),
    )
    return _figures(started, stamps), answer.prompt


def sdk_ask(client: Any, messages: list[Any]) -> dict[str, float]:
    payload = [{"role": m.role.value, "content": m.content or ""} for m in messages]
    started = time.perf_counter()
    stamps: list[float] = []
    stream = client.chat.completions.create(
        model=MODEL_ALIAS, messages=payload, stream=True, max_tokens=MAX_TOKENS, temperature=0.2
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            stamps.append(time.perf_counter())
    return _figures(started, stamps)


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import openai

    gguf = embedded_llm_path()
    assert gguf is not None
    folio: list[dict[str, float]] = []
    sdk: list[dict[str, float]] = []
    with running_server(gguf) as base, tempfile.TemporaryDirectory() as tmp:
        os.environ["OPENAI_BASE_URL"] = base
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        settings = Settings(max_answer_tokens=MAX_TOKENS)
        services = Services(Path(tmp), settings)
        client = openai.OpenAI()
        folio_ask(services, "Say hello.")  # warm-up: imports, first connection
        for i in range(args.rounds):
            question = QUESTIONS[i % len(QUESTIONS)]
            # Priming: gets the messages Folio sends and puts them in the server's prompt
            # cache, so neither measured call pays for evaluating the prompt.
            _, prompt = folio_ask(services, question)
            if i % 2:
                f, _ = folio_ask(services, question)
                s = sdk_ask(client, prompt)
            else:
                s = sdk_ask(client, prompt)
                f, _ = folio_ask(services, question)
            folio.append(f)
            sdk.append(s)
        services.close()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    result = {
        "rounds": args.rounds,
        "folio_ttft_s": median(folio, "ttft_s"),
        "sdk_ttft_s": median(sdk, "ttft_s"),
        "folio_tokens_per_s": median(folio, "tokens_per_s"),
        "sdk_tokens_per_s": median(sdk, "tokens_per_s"),
    }
    result["ttft_added_ms"] = round(1000 * (result["folio_ttft_s"] - result["sdk_ttft_s"]))
    result["rate_ratio"] = round(result["folio_tokens_per_s"] / result["sdk_tokens_per_s"], 2)

    def human(r: dict[str, Any]) -> None:
        print(
            f"time to first token: Folio {r['folio_ttft_s']} s, SDK {r['sdk_ttft_s']} s "
            f"(Folio adds {r['ttft_added_ms']} ms)"
        )
        print(
            f"tokens/s:            Folio {r['folio_tokens_per_s']}, SDK {r['sdk_tokens_per_s']} "
            f"({r['rate_ratio']}x)"
        )

    benchlib.emit(result, args.json, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
