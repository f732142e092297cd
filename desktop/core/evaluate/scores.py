"""Per-answer scores: where the source passage was retrieved, how many of the reference's
key facts the answer carries, and (with a judge model) correctness and faithfulness.

Each score is defined here once; the report and docs/EVALUATION.md quote these definitions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import LLM
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from desktop.core.evaluate.sets import EvalItem
from desktop.core.library.citation import Citation

DEFINITIONS = {
    "hit_at_k": "hit@k: the share of questions whose source passage was among the k passages "
    "given to the model (retrieval off gives none: 0).",
    "mrr": "MRR: the mean of 1/rank of the source passage among those passages (0 when it "
    "is not among them).",
    "facts": "facts: the share of the reference answer's key words (words and numbers, "
    "common words left out) that the answer also has; 0–1, needs no judge model.",
    "correctness": "correctness: the judge model's 1–5 grade of the answer against the "
    "reference (LlamaIndex's CorrectnessEvaluator), as 0–1.",
    "faithfulness": "faithfulness: the share of answers the judge model finds supported by "
    "the passages given (LlamaIndex's FaithfulnessEvaluator); retrieval-on only.",
    "style": "style: how likely a classifier on embeddings, trained on the persona's "
    "examples against the base model's answers, finds the answer in the persona's voice; "
    "0–1, on questions it was not trained on.",
    "ttft_ms": "first token: median time from asking to the first token of the answer, ms.",
    "seconds": "total: median time for the whole answer, s.",
    "tokens_in": "tokens in: mean prompt tokens per question (system prompt, passages, question).",
    "prompt_tokens_added": "prompt tokens added: tokens in, less the smallest tokens in of "
    "the run (the bare question).",
    "cost_per_1000_usd": "cost per 1,000 questions: the mean cost of an answer at the "
    "provider's price, × 1,000 (0 on this computer, none when the price is unknown).",
}

# English function words (articles, pronouns, auxiliaries, prepositions): they carry no
# fact, and an answer would match them by chance. SQuAD's answer normalisation drops
# articles for the same reason (Rajpurkar et al., 2016, evaluate-v1.1.py).
# fmt: off
STOP_WORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "of", "to", "in", "on",
    "at", "by", "for", "from", "with", "without", "into", "onto", "over", "under", "about",
    "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done",
    "have", "has", "had", "having", "i", "you", "he", "she", "it", "we", "they", "me", "him",
    "her", "them", "my", "your", "his", "its", "our", "their", "this", "that", "these",
    "those", "there", "here", "what", "which", "who", "whom", "whose", "when", "where", "why",
    "how", "can", "could", "should", "would", "may", "might", "must", "shall", "will", "not",
    "no", "nor", "yes", "also", "just", "only", "very", "too", "all", "any", "some", "each",
    "other", "such", "own", "same", "more", "most", "few", "both", "one", "up", "down", "out",
    "off", "again", "once", "because", "until", "while", "during", "through", "between",
})
# fmt: on
_WORD = re.compile(r"\w+", re.UNICODE)


def key_words(text: str) -> set[str]:
    """The words of ``text`` that can carry a fact: case-folded, accents kept, stop words
    and one-letter words (not digits) left out, a plural "s" taken off."""
    words = set()
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if word in STOP_WORDS or (len(word) == 1 and not word.isdigit()):
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def facts_overlap(answer: str, reference: str) -> float | None:
    """The share (0–1) of ``reference``'s key words found in ``answer``; None when the
    reference has none (nothing to check).

    ROUGE-1 recall (Lin, 2004) over key words: deterministic, needs no model, and rewards an
    answer that states the reference's names and numbers however it words the rest. A long
    answer is not penalised; ``correctness`` (with a judge) is the stricter score.
    """
    wanted = key_words(reference)
    if not wanted:
        return None
    return len(wanted & key_words(answer)) / len(wanted)


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def same_passage(item: EvalItem, citation: Citation) -> bool:
    """Whether ``citation`` is the item's source passage: the same file (when the item
    names one) and the same text, or one text holding the other (chunking settings changed
    since the set was written)."""
    if not item.source_text:
        return False
    if item.source_path and citation.path and item.source_path != citation.path:
        return False
    source, found = _squash(item.source_text), _squash(citation.text)
    return bool(found) and (source == found or source in found or found in source)


class _GivenPassages(BaseRetriever):
    """The passages already retrieved for a question, as a LlamaIndex retriever: the run
    searches once per question, and ``RetrieverEvaluator`` scores what that search found."""

    def __init__(self, passages: list[NodeWithScore]) -> None:
        super().__init__()
        self._passages = passages

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._passages


SOURCE_ID = "source"


@dataclass(frozen=True)
class RetrievalScore:
    """hit (0 or 1) and reciprocal rank of the source passage; ``rank`` 1-based or None."""

    hit: float
    reciprocal_rank: float
    rank: int | None


def retrieval_score(item: EvalItem, sources: Sequence[Citation]) -> RetrievalScore | None:
    """hit@k and MRR of the item's passage among ``sources`` (k = len(sources)), computed by
    LlamaIndex's ``RetrieverEvaluator`` with its ``hit_rate`` and ``mrr`` metrics; None for
    an item with no source passage."""
    if not item.source_text:
        return None
    # Imported here: the evaluation package is loaded only when a run is scored.
    from llama_index.core.evaluation import RetrieverEvaluator

    passages = [
        NodeWithScore(
            node=TextNode(id_=SOURCE_ID if same_passage(item, c) else f"other-{n}", text=c.text),
            score=c.score,
        )
        for n, c in enumerate(sources)
    ]
    evaluator = RetrieverEvaluator.from_metric_names(
        ["hit_rate", "mrr"], retriever=_GivenPassages(passages)
    )
    values = evaluator.evaluate(item.question, expected_ids=[SOURCE_ID]).metric_vals_dict
    ids = [p.node.node_id for p in passages]
    rank = ids.index(SOURCE_ID) + 1 if SOURCE_ID in ids else None
    return RetrievalScore(values["hit_rate"], values["mrr"], rank)


@dataclass(frozen=True)
class JudgeScore:
    """The judge model's verdicts: correctness 0–1, faithfulness 0 or 1 (None: not judged)."""

    correctness: float | None
    faithfulness: float | None


def judge(llm: LLM, item: EvalItem, answer: str, contexts: list[str] | None) -> JudgeScore:
    """Grade ``answer`` with LlamaIndex's CorrectnessEvaluator (1–5 against the reference,
    mapped to 0–1) and, when passages were given, its FaithfulnessEvaluator.

    A reply the evaluator cannot read gives None for that score. Raises as the model does
    (``ProviderError`` from a remote one).
    """
    # Imported here: loaded only when a judge model is set.
    from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

    correctness: float | None = None
    try:
        graded = CorrectnessEvaluator(llm=llm).evaluate(
            query=item.question, response=answer, reference=item.reference
        )
    except ValueError:
        # Its parser wants "score\nreasoning" and raises on any other reply.
        graded = None
    if graded is not None and graded.score is not None:
        correctness = (graded.score - 1) / 4
    faithfulness: float | None = None
    if contexts:
        verdict = FaithfulnessEvaluator(llm=llm).evaluate(
            query=item.question, response=answer, contexts=contexts
        )
        faithfulness = None if verdict.passing is None else float(verdict.passing)
    if correctness is not None:
        correctness = min(1.0, max(0.0, correctness))
    return JudgeScore(correctness, faithfulness)
