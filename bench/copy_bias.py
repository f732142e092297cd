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

Answer-token bias (``--answer-biases``, tried and not kept): on top of the copy bias, an
extra amount for the tokens of the answer candidates in the sources, the code or numbers
the question asks for and does not hold (``answer_type.ExpectedAnswer.new_tokens``), as
they are written there. Each extra is a row of its own, at the embedded model's copy
bias (``COPY_BIAS``).

    .venv/bin/python bench/copy_bias.py [--json] [--biases 0,1.5,2.5]
        [--answer-biases 2,4] [--questions facts_heldout3] [--limit N]
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

from desktop.core.chat.answer_type import ExpectedAnswer  # noqa: E402
from desktop.core.chat.prompts import DEFAULT_SYSTEM_PROMPT  # noqa: E402
from desktop.core.models.local import COPY_BIAS  # noqa: E402
from desktop.core.models.local_files import DEFAULT_LLM_ID  # noqa: E402
from desktop.core.paths import data_home  # noqa: E402
from desktop.core.settings import Settings  # noqa: E402
from desktop.services import Services  # noqa: E402

SEED = 7
MAX_TOKENS = 160
_COPIED_LAYOUT = re.compile(r"^\[\d+\] \S+\.(?:html|pdf|md|txt)|^Title: ", re.MULTILINE)


def answer_tokens(llm: Any, question: str, sources: str, unbiased: str) -> set[int]:
    """The token ids of the answer candidates in ``sources`` (code or numbers the question
    asks for and does not hold), as written there, with and without a space before; none
    of ``unbiased``'s."""
    expected = ExpectedAnswer.of(question)
    ids: set[int] = set()
    lowered = sources.lower()
    for candidate in expected.new_tokens(sources) if expected else []:
        at = lowered.find(candidate)
        written = sources[at : at + len(candidate)] if at >= 0 else candidate
        ids |= set(llm._tokens(written)) | set(llm._tokens(f" {written}"))
    return ids - set(llm._tokens(unbiased))


def run(
    biases: list[float],
    question_sets: tuple[str, ...],
    limit: int | None,
    answer_biases: tuple[float, ...] = (),
) -> dict[str, Any]:
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
                unbiased = f"{system}\n{question}"
                candidates = answer_tokens(llm, question, prompt.quotable, unbiased)
                rounds = [(str(b), b, 0.0) for b in biases]
                chosen = COPY_BIAS[DEFAULT_LLM_ID]
                rounds += [(f"{chosen}+{a}", chosen, a) for a in answer_biases]
                for name, bias, extra in rounds:
                    llm.copy_bias = bias
                    logit_bias = llm.copy_logit_bias(prompt.quotable, unbiased) or {}
                    for token in candidates if extra else ():
                        logit_bias[token] = logit_bias.get(token, 0.0) + extra
                    llama.reset()
                    reply = llama.create_chat_completion(
                        messages=messages,  # type: ignore[arg-type]
                        seed=SEED,
                        temperature=llm.temperature,
                        repeat_penalty=llm.repeat_penalty,
                        max_tokens=MAX_TOKENS,
                        logit_bias=logit_bias or None,
                    )
                    text = reply["choices"][0]["message"]["content"] or ""  # type: ignore[index]
                    rows.append(
                        {
                            "bias": name,
                            "answer_candidates": bool(candidates),
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
    for bias in dict.fromkeys(r["bias"] for r in rows):
        mine = [r for r in rows if r["bias"] == bias]
        summary[bias] = {
            "fact": sum(r["fact"] for r in mine) / len(mine),
            "copied_layout": sum(r["copied_layout"] for r in mine) / len(mine),
            "mean_chars": round(sum(r["chars"] for r in mine) / len(mine)),
            "fact_where_candidates": _share([r["fact"] for r in mine if r["answer_candidates"]]),
        }
    return {"questions": len(items), "sets": list(question_sets), "summary": summary, "rows": rows}


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def print_human(result: dict[str, Any]) -> None:
    print(f"{result['questions']} questions ({', '.join(result['sets'])}), seed {SEED}")
    print("bias      fact   copied layout   mean chars   fact where the sources hold candidates")
    for bias, row in result["summary"].items():
        fact, layout, chars = row["fact"], row["copied_layout"], row["mean_chars"]
        typed = row["fact_where_candidates"]
        shown = "—" if typed is None else f"{typed:.0%}"
        print(f"{bias:<9} {fact:>5.0%}  {layout:>13.0%}   {chars:>10}   {shown:>6}")


def main() -> None:
    args = benchlib.parser(__doc__)
    args.add_argument("--biases", default="0,1.5,2.5")
    args.add_argument("--answer-biases", default="", help="extras on answer tokens, e.g. 2,4")
    args.add_argument("--questions", default="facts_heldout3")
    args.add_argument("--limit", type=int, default=None, help="only the first N questions")
    opts = args.parse_args()
    biases = [float(b) for b in opts.biases.split(",") if b.strip()]
    question_sets = tuple(q.strip() for q in opts.questions.split(",") if q.strip())
    extras = tuple(float(a) for a in opts.answer_biases.split(",") if a.strip())
    benchlib.emit(run(biases, question_sets, opts.limit, extras), opts.json, print_human)


if __name__ == "__main__":
    main()
