"""Per-answer scores: where the source passage was retrieved, how many of the reference's
key facts the answer carries, and (with a judge model) correctness and faithfulness.

Each score is defined here once; the report and docs/EVALUATION.md quote these definitions.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import LLM
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from desktop.core.evaluate.sets import EvalItem, RetrievalLevel
from desktop.core.library.citation import Citation

DEFINITIONS = {
    "hit_at_k": "hit@k: the share of the questions with a known source whose source was among "
    "the k passages given to the model (retrieval off gives none: 0). A source passage must "
    "be given itself; a question naming only a source file is a hit when a passage from that "
    "file (and that page, when one is named) is given. Questions with neither are not "
    "counted: the report says how many of the set's questions it is over.",
    "mrr": "MRR: over the same questions, the mean of 1/rank of the first passage that is "
    "the source (0 when none is).",
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


def borrowed_words(texts: Iterable[str], example: str, passage: str) -> set[str]:
    """Key words of ``texts`` that come from a prompt's worked ``example`` and not from
    ``passage``: the mark of a small model copying the example it has just read instead of
    writing about the passage ("When is the coffee machine cleaned?" about a passage on
    printers). Question writers for evaluation sets and fine-tuning datasets share it."""
    from_example = _example_words(example) - key_words(passage)
    return set().union(*(key_words(text) for text in texts)) & from_example


@functools.lru_cache(maxsize=8)
def _example_words(example: str) -> frozenset[str]:
    """``key_words`` of a worked example, computed once: it is a constant of its prompt."""
    return frozenset(key_words(example))


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


def same_file(item: EvalItem, citation: Citation) -> bool:
    """Whether ``citation`` comes from the item's source file, and from its page when the
    item names one. An absolute ``source_path`` must be the passage's path; a relative one
    (a set written on another computer, "handbook/leave.pdf") matches the end of it, whole
    folder and file names."""
    if not item.source_path or not citation.path:
        return False
    if item.source_page is not None and citation.page != item.source_page:
        return False
    wanted, found = PurePath(item.source_path), PurePath(citation.path)
    if wanted.is_absolute():
        return wanted == found
    tail = len(wanted.parts)
    return 0 < tail <= len(found.parts) and found.parts[-tail:] == wanted.parts


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
    """hit (0 or 1) and reciprocal rank of the item's source; ``rank`` 1-based or None."""

    hit: float
    reciprocal_rank: float
    rank: int | None
    level: RetrievalLevel = RetrievalLevel.PASSAGE


def source_id(item: EvalItem) -> str | None:
    """The id LlamaIndex's evaluator expects for the item's source: the passage's, or for an
    item naming only a file, the file's (and page's), shared by every passage from it."""
    match item.scored_by:
        case RetrievalLevel.PASSAGE:
            return SOURCE_ID
        case RetrievalLevel.FILE:
            page = f"#page={item.source_page}" if item.source_page is not None else ""
            return f"file:{item.source_path}{page}"
    return None


def retrieval_score(item: EvalItem, sources: Sequence[Citation]) -> RetrievalScore | None:
    """hit@k and MRR of the item's source among ``sources`` (k = len(sources)), computed by
    LlamaIndex's ``RetrieverEvaluator`` with its ``hit_rate`` and ``mrr`` metrics; None for
    an item with neither a source passage nor a source file.

    An item with a passage is scored by it (``same_passage``). An item naming only a file
    is scored by that file (``same_file``): every passage from it carries the file's id,
    which is the id expected, so the evaluator's first match is the first passage from the
    file, as hit@k and MRR at file level mean.
    """
    expected = source_id(item)
    if expected is None:
        return None
    level = RetrievalLevel.PASSAGE if expected == SOURCE_ID else RetrievalLevel.FILE
    if not sources:
        # Nothing was retrieved (an empty library): a miss. LlamaIndex's metrics refuse an
        # empty list of retrieved ids rather than score it.
        return RetrievalScore(0.0, 0.0, None, level)
    # Imported here: the evaluation package is loaded only when a run is scored.
    from llama_index.core.evaluation import RetrieverEvaluator

    matches = same_passage if level == RetrievalLevel.PASSAGE else same_file
    passages = [
        NodeWithScore(
            node=TextNode(id_=expected if matches(item, c) else f"other-{n}", text=c.text),
            score=c.score,
        )
        for n, c in enumerate(sources)
    ]
    evaluator = RetrieverEvaluator.from_metric_names(
        ["hit_rate", "mrr"], retriever=_GivenPassages(passages)
    )
    values = evaluator.evaluate(item.question, expected_ids=[expected]).metric_vals_dict
    ids = [p.node.node_id for p in passages]
    rank = ids.index(expected) + 1 if expected in ids else None
    return RetrievalScore(values["hit_rate"], values["mrr"], rank, level)


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
