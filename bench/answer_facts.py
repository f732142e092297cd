"""Answer accuracy: does the answer contain the fact, retrieval on and off, and how soon.

Indexes the Debian FAQ and New Maintainers' Guide (``bench/eval/corpus``: real documents
nobody working on Folio wrote) and asks each question of ``bench/eval/facts.jsonl`` (short
exact answers: a name, a number, a command) of the embedded model, in several variants
side by side: for each question every variant is asked in turn, the order rotating from one
question to the next so load on the machine hits each alike.

Variants (``--variants``, comma-separated):
  passages      retrieval on, whole passages in the prompt, no repetition penalty
                (Folio before focused context)
  focused       retrieval on, the passages' best sentences with neighbours and titles
  focused-rp    focused, with the embedded model's repetition penalty (REPEAT_PENALTY)
  focused-keep4 focused-rp, keeping up to four best sentences (with their neighbours)
                instead of KEEP_SENTENCES (Folio's choice until measured otherwise)
  focused-untyped  focused-rp with answer typing off (``focus.ANSWER_TYPE_BONUS`` 0):
                sentences ranked by likeness to the question alone
  off           retrieval off

Per variant: the share of answers that contain a fact (case-insensitive, whitespace
collapsed), the share of supporting sentences that do (retrieval on), the median and mean
time to first token from the call (so it includes search and sentence scoring), median
prompt tokens, answers cut at the token limit or ended as loops. Answers are capped at
``--max-tokens`` (default 160: every fact here fits in a sentence).

Loops (``--loops``): open questions with retrieval off (``OPEN_QUESTIONS``), each answered
at every repetition penalty in ``PENALTIES`` with the loop rule off, up to 200 tokens; per
penalty, how many answers repeat a sentence or a run of words (``loops.loop_start``), and
how long the answers are.

Follow-ups (``--followups``): for each question with a ``lead`` and a ``followup``, the
lead is asked in a new chat, then the follow-up; retrieval is scored (right file, and page
for the PDF, in the top k) for the question in full, the follow-up alone, and the follow-up
as Folio searched it (for the embedded model, with the earlier question; for others,
rewritten with the chat first). No timing is asserted anywhere.

Support alone (``--support``): for every question, the supporting sentence Folio chooses
from the search results (sentence scoring only, no language model, so it takes seconds):
the share that holds the fact, and the misses with where the sentence that holds it ranked;
side by side, the same with answer typing off (``focus.ANSWER_TYPE_BONUS`` 0). Shares are
given per question set as well as over all. ``--variants ""`` skips the answers.

Question sets (``--questions``, comma-separated names in ``bench/eval``): ``facts`` (the
40 questions Folio's sentence scoring was tuned on) and ``facts_heldout``,
``facts_heldout2``, ``facts_heldout3`` (40 more each, written apart from the first, over
other sentences of the same documents), to check that what was tuned on the first holds on
questions it never saw (``bench/eval/corpus/SOURCE.md``). Default: ``facts``.

    .venv/bin/python bench/answer_facts.py [--json] [--variants focused,off] [--limit N]
        [--questions facts,facts_heldout] [--support]
"""

from __future__ import annotations

import json
import os
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

from desktop.core.chat import focus as sentence_focus  # noqa: E402
from desktop.core.chat.focus import ANSWER_TYPE_BONUS, KEEP_SENTENCES  # noqa: E402
from desktop.core.paths import data_home  # noqa: E402
from desktop.core.settings import Settings, updated  # noqa: E402
from desktop.services import Services  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parent / "eval"
VARIANTS = ("passages", "focused", "focused-rp", "focused-keep4", "focused-untyped", "off")
PENALTIES = (1.0, 1.1, 1.2, 1.3)
OPEN_QUESTIONS = (
    "Is AI going to take over the world?",
    "What is the meaning of life?",
    "Tell me about the history of computers.",
    "Why is the sky blue?",
    "What makes a good teacher?",
    "How do I become a better writer?",
    "What are the benefits of exercise?",
    "Explain how the internet works.",
    "What should I cook for dinner tonight?",
    "Why do people like music?",
)


def contains(text: str, facts: list[str]) -> bool:
    """Whether ``text`` carries one of ``facts`` (case-insensitive, whitespace collapsed)."""
    flat = " ".join(text.lower().split())
    return any(" ".join(f.lower().split()) in flat for f in facts)


def hit(citations: list[Any], file: str, page: int | None) -> bool:
    """Whether a passage of ``file`` (and ``page``, for a PDF) is among ``citations``."""
    suffix = "/" + file
    return any(
        c.path.replace(os.sep, "/").endswith(suffix) and (page is None or c.page == page)
        for c in citations
    )


def ask(services: Services, item: dict[str, Any], variant: str) -> dict[str, Any]:
    """One answer of ``variant``: fact found, support found, timings, tokens."""
    chat = services.chat
    llm = services.llm(services.settings.default_model)
    # Every variant reads its whole prompt, as a new question does: no KV cache, saved
    # state or embeddings from the variant asked just before with the same question
    # (``--warm`` measures what the prompt cache saves between different questions).
    llm._llama.reset()
    if llm._llama.cache is not None:
        llm._llama.cache.cache_state.clear()
    services.embedding_cache.clear()
    chat.focused_context = variant != "passages"
    chat.focus_sentences = 4 if variant == "focused-keep4" else KEEP_SENTENCES
    # Before focused context Folio scored no sentences: the baseline pays for none.
    chat.ranker = None if variant == "passages" else services.sentence_ranker
    llm.repeat_penalty = 1.0 if variant in ("passages", "focused") else penalty(services)
    llm.stops_loops = variant != "passages"
    sentence_focus.ANSWER_TYPE_BONUS = 0.0 if variant == "focused-untyped" else ANSWER_TYPE_BONUS
    first: list[float] = []
    started = time.perf_counter()
    answer = chat.answer(
        item["question"],
        retrieval=variant != "off",
        on_token=lambda _t: first.append(time.perf_counter()) if not first else None,
    )
    ended = time.perf_counter()
    usage = answer.usage or {}
    return {
        "variant": variant,
        "fact": contains(answer.text, item["facts"]),
        "support": contains(answer.support.sentence, item["facts"]) if answer.support else None,
        "source_found": hit(answer.citations, item["file"], item["page"]),
        "ttft_s": (first[0] - started) if first else None,
        "seconds": ended - started,
        "prompt_tokens": usage.get("prompt_tokens"),
        "cut_off": answer.cut_off,
        "looped": bool(answer.notice and "repeating" in answer.notice),
        "answer": answer.text,
    }


def penalty(services: Services) -> float:
    """The embedded model's tuned repetition penalty."""
    from desktop.core.models.local import REPEAT_PENALTY  # the table the app uses

    return REPEAT_PENALTY.get(services.settings.default_model, 1.0)


def timed_answer(services: Services, question: str) -> dict[str, Any]:
    """One focused answer: time to first token and the prompt tokens llama.cpp read."""
    llm = services.llm(services.settings.default_model)
    first: list[float] = []
    before = llm.prompt_counters()["prompt_tokens_evaluated"]
    started = time.perf_counter()
    services.chat.answer(
        question, on_token=lambda _t: first.append(time.perf_counter()) if not first else None
    )
    read = llm.prompt_counters()["prompt_tokens_evaluated"] - before
    return {"ttft_s": first[0] - started if first else None, "read": read}


def warm_pass(services: Services, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The focused variant over the questions in order, twice: each prompt read whole (KV
    cache and saved states cleared), then with the prompt cache as the app keeps it, where
    each question follows a different one and shares only the system prompt's prefix."""
    llm = services.llm(services.settings.default_model)
    services.chat.focused_context = True
    cold = []
    for item in items:
        llm._llama.reset()
        llm._llama.cache.cache_state.clear()
        cold.append(timed_answer(services, item["question"]))
    warm = [timed_answer(services, item["question"]) for item in items]

    def medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
        ttft = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
        return {
            "ttft_median_s": statistics.median(ttft),
            "prompt_tokens_read_median": statistics.median(r["read"] for r in rows),
        }

    return {"cold": medians(cold), "warm": medians(warm)}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares, medians and means of one variant's answers."""
    ttft = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
    tokens = [r["prompt_tokens"] for r in rows if r["prompt_tokens"]]
    supports = [r["support"] for r in rows if r["support"] is not None]
    return {
        "answers": len(rows),
        "fact_share": sum(r["fact"] for r in rows) / len(rows),
        "fact_share_by_set": {
            s: statistics.fmean(r["fact"] for r in rows if r["set"] == s)
            for s in dict.fromkeys(r["set"] for r in rows)
        },
        "support_share": sum(supports) / len(supports) if supports else None,
        "source_share": sum(r["source_found"] for r in rows) / len(rows),
        "ttft_median_s": statistics.median(ttft) if ttft else None,
        "ttft_mean_s": statistics.fmean(ttft) if ttft else None,
        "prompt_tokens_median": statistics.median(tokens) if tokens else None,
        "cut_off": sum(r["cut_off"] for r in rows),
        "looped": sum(r["looped"] for r in rows),
    }


def followups(services: Services, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Retrieval of follow-ups: in full, alone, and as searched after the lead."""
    k = services.settings.top_k
    rows = []
    for item in (i for i in items if i.get("followup")):
        full = services.chat.search(item["question"], k)
        alone = services.chat.search(item["followup"], k)
        lead = services.chat.ask(item["lead"], retrieval=True)
        asked = services.chat.ask(item["followup"], chat_id=lead.chat_id, retrieval=True)
        rows.append(
            {
                "followup": item["followup"],
                "searched": asked.searched,
                "full": hit(full, item["file"], item["page"]),
                "alone": hit(alone, item["file"], item["page"]),
                "as_searched": hit(asked.citations, item["file"], item["page"]),
            }
        )
    shares = {
        key: sum(r[key] for r in rows) / len(rows) for key in ("full", "alone", "as_searched")
    }
    return {"pairs": len(rows), "hit_share": shares, "details": rows}


def loops(services: Services) -> dict[str, Any]:
    """Looping answers to open questions at each repetition penalty, the loop rule off."""
    from desktop.core.chat.loops import loop_start  # the rule the chat applies

    llm = services.llm(services.settings.default_model)
    llm.stops_loops, llm.max_tokens = False, 200
    rows = {}
    for penalty_value in PENALTIES:
        llm.repeat_penalty = penalty_value
        answers = [services.chat.answer(q, retrieval=False).text for q in OPEN_QUESTIONS]
        rows[str(penalty_value)] = {
            "looping": sum(loop_start(a) is not None for a in answers),
            "answers": len(answers),
            "mean_chars": statistics.fmean(len(a) for a in answers),
            "looping_questions": [
                q for q, a in zip(OPEN_QUESTIONS, answers, strict=True) if loop_start(a) is not None
            ],
        }
    llm.stops_loops = True
    llm.repeat_penalty = penalty(services)
    return rows


def support_pass(services: Services, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The supporting sentence for every question, as ``ChatService`` chooses it, and as it
    would without answer typing: the share that holds the fact (over all and per question
    set), and each miss with the rank of the best sentence that holds it."""
    chosen = sentence_focus.ANSWER_TYPE_BONUS
    result: dict[str, Any] = {}
    for name, bonus in (("typed", chosen), ("untyped", 0.0)):
        sentence_focus.ANSWER_TYPE_BONUS = bonus
        try:
            held: dict[str, int] = {}
            misses = []
            for item in items:
                citations = services.chat.search(item["question"])
                ranked = services.sentence_ranker.rank(item["question"], citations)
                support = sentence_focus.supporting(ranked, citations)
                if support is not None and contains(support.sentence, item["facts"]):
                    held[item["set"]] = held.get(item["set"], 0) + 1
                    continue
                rank = next(
                    (i for i, s in enumerate(ranked) if contains(s.text, item["facts"])), None
                )
                misses.append(
                    {
                        "set": item["set"],
                        "question": item["question"],
                        "support": support.sentence if support else None,
                        "fact_sentence_rank": rank,
                        "sentences": len(ranked),
                    }
                )
        finally:
            sentence_focus.ANSWER_TYPE_BONUS = chosen
        sizes = {
            s: sum(1 for i in items if i["set"] == s)
            for s in dict.fromkeys(i["set"] for i in items)
        }
        result[name] = {
            "bonus": bonus,
            "share": sum(held.values()) / len(items) if items else 0.0,
            "by_set": {s: held.get(s, 0) / n for s, n in sizes.items()},
            "misses": misses,
        }
    return result


def passages_pass(
    services: Services, items: list[dict[str, Any]], counts: tuple[int, ...]
) -> dict[int, float]:
    """The share of questions whose supporting sentence (typed, as Folio chooses it) holds
    the fact when it is chosen among the sentences of ``counts`` passages each (the
    setting ``top_k``, which is also how many the answer cites)."""
    kept = services.settings
    shares: dict[int, float] = {}
    try:
        for count in counts:
            services.change_settings(updated(kept, top_k=count))
            shares[count] = support_pass(services, items)["typed"]["share"]
    finally:
        services.change_settings(kept)
    return shares


def run(
    variants: list[str],
    limit: int | None,
    max_tokens: int,
    with_followups: bool,
    with_loops: bool,
    with_warm: bool,
    with_support: bool = False,
    question_sets: tuple[str, ...] = ("facts",),
    support_passages: tuple[int, ...] = (),
) -> dict[str, Any]:
    items = [
        {**json.loads(line), "set": name}
        for name in question_sets
        for line in (EVAL_DIR / f"{name}.jsonl").read_text().splitlines()
    ]
    items = items[:limit] if limit else items
    with tempfile.TemporaryDirectory(prefix="folio-bench-facts-") as tmp:
        services = Services(data_home(Path(tmp) / "home"), Settings(max_answer_tokens=max_tokens))
        try:
            started = time.monotonic()
            report = services.ingestor.ingest([EVAL_DIR / "corpus"])
            ingest_s = time.monotonic() - started
            services.chat.answer("Warm-up: what is Debian?", retrieval=True)  # loads the models
            rows: list[dict[str, Any]] = []
            for number, item in enumerate(items if variants else []):
                turn = variants[number % len(variants) :] + variants[: number % len(variants)]
                for variant in turn:
                    rows.append(
                        {
                            "question": item["question"],
                            "set": item["set"],
                            **ask(services, item, variant),
                        }
                    )
            result: dict[str, Any] = {
                "questions": len(items),
                "files": report.to_json().get("indexed"),
                "ingest_seconds": round(ingest_s, 1),
                "max_answer_tokens": max_tokens,
                "variants": {v: summary([r for r in rows if r["variant"] == v]) for v in variants},
                "details": rows,
            }
            if with_support:
                result["support"] = support_pass(services, items)
            if support_passages:
                result["support_by_passages"] = passages_pass(services, items, support_passages)
            if with_followups:
                result["followups"] = followups(services, items)
            if with_warm:
                result["warm"] = warm_pass(services, items)
            if with_loops:
                result["loops"] = loops(services)
        finally:
            services.close()
    return result


def print_human(result: dict[str, Any]) -> None:
    print(f"{result['questions']} questions, answers up to {result['max_answer_tokens']} tokens")
    print("variant        fact   support  source  TTFT med  TTFT mean  prompt tok  cut  loops")
    for name, s in result["variants"].items():
        sup = f"{s['support_share']:.0%}" if s["support_share"] is not None else "—"
        med = f"{s['ttft_median_s']:.2f} s" if s["ttft_median_s"] is not None else "—"
        mean = f"{s['ttft_mean_s']:.2f} s" if s["ttft_mean_s"] is not None else "—"
        print(
            f"{name:<14} {s['fact_share']:>4.0%}  {sup:>7}  {s['source_share']:>6.0%}  "
            f"{med:>8}  {mean:>9}  {s['prompt_tokens_median'] or 0:>10}  {s['cut_off']:>3}"
            f"  {s['looped']:>5}"
        )
    if "support" in result:
        for name, s in result["support"].items():
            sets = ", ".join(f"{k} {v:.0%}" for k, v in s["by_set"].items())
            print(
                f"supporting sentence alone holds the fact, {name} (bonus {s['bonus']}): "
                f"{s['share']:.0%} ({sets})"
            )
            for miss in s["misses"]:
                rank = miss["fact_sentence_rank"]
                print(
                    f"  missed [{miss['set']}]: {miss['question']} (fact's sentence ranked {rank})"
                )
    for passages, share in result.get("support_by_passages", {}).items():
        print(f"supporting sentence among {passages} passages holds the fact: {share:.1%}")
    if "followups" in result:
        f = result["followups"]
        shares = ", ".join(f"{k} {v:.0%}" for k, v in f["hit_share"].items())
        print(f"follow-ups ({f['pairs']} pairs), right passage in the top k: {shares}")
    if "warm" in result:
        w = result["warm"]
        print(
            f"prompt cache: TTFT median {w['warm']['ttft_median_s']:.2f} s warm vs "
            f"{w['cold']['ttft_median_s']:.2f} s read whole; prompt tokens read "
            f"{w['warm']['prompt_tokens_read_median']} vs {w['cold']['prompt_tokens_read_median']}"
        )
    for value, row in result.get("loops", {}).items():
        print(
            f"repeat penalty {value}: {row['looping']} of {row['answers']} open answers loop "
            f"(mean {row['mean_chars']:.0f} characters)"
        )


def main() -> None:
    args = benchlib.parser(__doc__)
    args.add_argument("--variants", default=",".join(VARIANTS))
    args.add_argument("--limit", type=int, default=None, help="only the first N questions")
    args.add_argument("--max-tokens", type=int, default=160)
    args.add_argument("--followups", action="store_true", help="also measure follow-ups")
    args.add_argument("--loops", action="store_true", help="also count looping answers")
    args.add_argument("--warm", action="store_true", help="also measure the prompt cache")
    args.add_argument("--support", action="store_true", help="also score support alone")
    args.add_argument("--questions", default="facts", help="question sets in bench/eval")
    args.add_argument(
        "--support-passages",
        default="",
        help="also score support chosen among this many passages each (e.g. 5,8,12)",
    )
    opts = args.parse_args()
    variants = [v.strip() for v in opts.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"--variants: unknown {', '.join(sorted(unknown))} (known: {VARIANTS})")
    question_sets = tuple(q.strip() for q in opts.questions.split(",") if q.strip())
    missing = [q for q in question_sets if not (EVAL_DIR / f"{q}.jsonl").is_file()]
    if missing or not question_sets:
        raise SystemExit(f"--questions: no bench/eval/{missing[0] if missing else ''}.jsonl")
    result = run(
        variants, opts.limit, opts.max_tokens, opts.followups, opts.loops, opts.warm,
        opts.support, question_sets,
        tuple(int(n) for n in opts.support_passages.split(",") if n.strip()),
    )  # fmt: skip
    benchlib.emit(result, opts.json, print_human)


if __name__ == "__main__":
    main()
