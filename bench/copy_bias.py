"""Copy bias: does nudging the embedded model toward the words of its sources put the fact in
the answer more often, and at what cost to the answer?

The embedded SmolLM2-135M often reads the fact in its focused sources and writes another
("25 days" beside a source that says 5). llama.cpp takes a ``logit_bias`` (token id ->
amount added to its logit at every step); Folio gives each token of the sources' sentences a
bias (``LocalLlama.copy_logit_bias``, ``COPY_BIAS``), so the model is likelier to write the
source's own words. The question's tokens and the system prompt's get none, so the model is
not pushed to echo the question, and neither do the sources' labels ("[1] faq.html"),
titles and gap marks (``focus.own_text``), so it is not pushed to copy the prompt's
layout.

Indexes ``bench/eval/corpus`` as ``bench/answer_facts.py`` does, builds each question's
messages through ``ChatService`` exactly as Folio sends them (focused context, answer
typing), then generates with llama.cpp directly once per bias (``--biases``; 0 is none, as
Folio was), each with Folio's own choice of tokens, one after the other per question, with
the same seed, temperature and repetition penalty Folio uses. Per bias: the share of answers
that contain the fact (case-insensitive), the share that copy the prompt's layout (a
"[n] file.html" or "Title:" line), and the mean answer length in characters. llama.cpp
runs on one thread here: on a machine doing other work, two threads on two cores wait on
each other and a call can take a minute (seen here); one thread keeps the comparison fair.
No timing is reported.

    .venv/bin/python bench/copy_bias.py [--json] [--biases 0,1.5,2.5]
        [--questions facts_heldout3] [--limit N]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(REPO))

from answer_facts import EVAL_DIR, contains  # noqa: E402

from desktop.core.chat.prompts import DEFAULT_SYSTEM_PROMPT  # noqa: E402
from desktop.core.paths import data_home  # noqa: E402
from desktop.core.settings import Settings  # noqa: E402
from desktop.services import Services  # noqa: E402

SEED = 7
MAX_TOKENS = 160
_COPIED_LAYOUT = re.compile(r"^\[\d+\] \S+\.(?:html|pdf|md|txt)|^Title: ", re.MULTILINE)


def run(biases: list[float], question_sets: tuple[str, ...], limit: int | None) -> dict[str, Any]:
    from llama_cpp import Llama

    items = [
        json.loads(line)
        for name in question_sets
        for line in (EVAL_DIR / f"{name}.jsonl").read_text().splitlines()
    ]
    items = items[:limit] if limit else items
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="folio-bench-copy-") as tmp:
        settings = Settings(max_answer_tokens=MAX_TOKENS)
        services = Services(data_home(Path(tmp) / "home"), settings)
        try:
            services.ingestor.ingest([EVAL_DIR / "corpus"])
            chat = services.chat
            llm = services.llm(settings.default_model)
            llama = Llama(
                model_path=llm.model_path,
                n_ctx=llm.context_window,
                n_threads=1,
                n_threads_batch=1,
                verbose=False,
            )

            for item in items:
                question = item["question"]
                turn = chat._choose(question, None, None, True, None, keep=False)
                prompt = chat._prompt(turn, chat.search(question))
                messages = [
                    {"role": m.role.value, "content": m.content or ""} for m in prompt.messages
                ]
                system = turn.system or DEFAULT_SYSTEM_PROMPT
                for bias in biases:
                    llm.copy_bias = bias
                    llama.reset()
                    reply = llama.create_chat_completion(
                        messages=messages,  # type: ignore[arg-type]
                        seed=SEED,
                        temperature=llm.temperature,
                        repeat_penalty=llm.repeat_penalty,
                        max_tokens=MAX_TOKENS,
                        logit_bias=llm.copy_logit_bias(prompt.quotable, f"{system}\n{question}"),
                    )
                    text = reply["choices"][0]["message"]["content"] or ""  # type: ignore[index]
                    rows.append(
                        {
                            "bias": bias,
                            "question": question,
                            "fact": contains(text, item["facts"]),
                            "copied_layout": bool(_COPIED_LAYOUT.search(text)),
                            "chars": len(text),
                            "answer": text,
                        }
                    )
        finally:
            services.close()
    summary = {}
    for bias in biases:
        mine = [r for r in rows if r["bias"] == bias]
        summary[str(bias)] = {
            "fact": sum(r["fact"] for r in mine) / len(mine),
            "copied_layout": sum(r["copied_layout"] for r in mine) / len(mine),
            "mean_chars": round(sum(r["chars"] for r in mine) / len(mine)),
        }
    return {"questions": len(items), "sets": list(question_sets), "summary": summary, "rows": rows}


def print_human(result: dict[str, Any]) -> None:
    print(f"{result['questions']} questions ({', '.join(result['sets'])}), seed {SEED}")
    print("bias   fact   copied layout   mean chars")
    for bias, row in result["summary"].items():
        fact, layout, chars = row["fact"], row["copied_layout"], row["mean_chars"]
        print(f"{bias:<6} {fact:>5.0%}  {layout:>13.0%}   {chars:>10}")


def main() -> None:
    args = benchlib.parser(__doc__)
    args.add_argument("--biases", default="0,1.5,2.5")
    args.add_argument("--questions", default="facts_heldout3")
    args.add_argument("--limit", type=int, default=None, help="only the first N questions")
    opts = args.parse_args()
    biases = [float(b) for b in opts.biases.split(",") if b.strip()]
    question_sets = tuple(q.strip() for q in opts.questions.split(",") if q.strip())
    benchlib.emit(run(biases, question_sets, opts.limit), opts.json, print_human)


if __name__ == "__main__":
    main()
