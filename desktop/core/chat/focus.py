"""Sentence-level retrieval inside the passages found: what the model reads, and the
supporting sentence a person sees under an answer.

Retrieval finds passages (chunks of a few hundred tokens). Inside them, each sentence is
scored against the question the way the library's hybrid search scores chunks: the
embedding model's cosine similarity plus BM25 keyword weight (Qdrant's ``Bm25``, through
``desktop.core.store.keywords``, with inverse document frequency over the sentences
compared). No language model is involved, so the supporting sentence costs milliseconds
and cannot be invented.

Sentences come from LlamaIndex's Punkt splitter (the one its ``SentenceSplitter`` uses),
applied line by line: documentation puts headings, list items and code on lines of their
own with no full stop, and Punkt alone would join them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.chat.answer_type import ExpectedAnswer
from desktop.core.chat.support import Support
from desktop.core.library.citation import Citation
from desktop.core.library.sentences import punkt_splitter
from desktop.core.store.keywords import Keywords

# Sentences kept for the model (each with its neighbours): at most KEEP_SENTENCES, and only
# those scoring at least SHARE_OF_BEST of the best one. Measured on bench/answer_facts.py:
# the best sentence alone (with its neighbours) halved the prompt against four, brought the
# first token at 0.63x the time, and the answer held the fact as often or more (15 vs 13 of
# 40 and 15 vs 13 of 37 in two runs); docs/PERFORMANCE.md, "Answers".
KEEP_SENTENCES = 1
SHARE_OF_BEST = 0.5
NEIGHBOURS = 1
# How much a full keyword match counts beside cosine similarity (both 0..1 here), and how
# much a sentence loses for each place its passage stands lower in the search results.
# Both measured on bench/answer_facts.py's questions (docs/PERFORMANCE.md, "Answers").
KEYWORD_WEIGHT = 1.0
PASSAGE_RANK_PENALTY = 0.05
# What a sentence gains for holding an answer of the kind the question asks for that the
# question does not hold (``answer_type``): chosen on bench/answer_facts.py's questions and
# checked on a second set written apart from it (docs/PERFORMANCE.md, "Answers").
ANSWER_TYPE_BONUS = 0.5
# Shorter pieces (a bullet, "Q:") say nothing alone; they travel as neighbours only.
MIN_SENTENCE_CHARS = 12

EmbedTexts = Callable[[list[str]], Any]  # texts -> array (n, d) of unit vectors


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, whitespace-trimmed, none empty: Punkt sentences
    within each non-blank line."""
    sentences: list[str] = []
    for line in text.splitlines():
        if line.strip():
            sentences.extend(s.strip() for s in punkt_splitter()(line.strip()) if s.strip())
    return sentences


@dataclass(frozen=True)
class ScoredSentence:
    """One sentence of a retrieved passage and how well it answers the question.

    ``source`` is the passage's index in the citations (0-based), ``position`` the
    sentence's index within it, ``score`` cosine similarity plus ``KEYWORD_WEIGHT`` times the
    keyword score (0..1 each), plus ``ANSWER_TYPE_BONUS`` when it holds an answer of the
    kind asked for, less ``PASSAGE_RANK_PENALTY`` per place of the passage.
    """

    text: str
    source: int
    position: int
    score: float


class SentenceRanker:
    """Scores every sentence of the retrieved passages against a question."""

    def __init__(self, embed_texts: EmbedTexts, keywords: Keywords | None = None) -> None:
        self._embed = embed_texts
        self._keywords = keywords or Keywords()

    def rank(self, question: str, citations: Sequence[Citation]) -> list[ScoredSentence]:
        """Every sentence of ``citations``, best first. One embedding call for the question
        and all sentences (tens of sentences: tens of milliseconds with the embedded model)."""
        pieces = [
            (i, j, s)
            for i, c in enumerate(citations)
            for j, s in enumerate(split_sentences(c.text))
        ]
        if not pieces or not question.strip():
            return []
        vectors = self._embed([question, *(s for _, _, s in pieces)])
        dense = [float(vectors[0] @ v) for v in vectors[1:]]
        keyword = self._keyword_scores(question, [s for _, _, s in pieces])
        expected = ExpectedAnswer.of(question)
        typed = [
            ANSWER_TYPE_BONUS if expected and expected.new_tokens(s) else 0.0 for _, _, s in pieces
        ]
        scored = [
            ScoredSentence(s, i, j, d + KEYWORD_WEIGHT * k + t - PASSAGE_RANK_PENALTY * i)
            for (i, j, s), d, k, t in zip(pieces, dense, keyword, typed, strict=True)
        ]
        return sorted(scored, key=lambda s: -s.score)

    def _keyword_scores(self, question: str, sentences: list[str]) -> list[float]:
        """BM25 of each sentence for the question, scaled so the best is 1 (0 for none).

        Term weights are Qdrant's BM25 document weights; the inverse document frequency,
        which Qdrant applies over a whole collection, is taken over these sentences with
        BM25's own formula (Robertson and Zaragoza, "The Probabilistic Relevance Framework:
        BM25 and Beyond", 2009, eq. 3.3 with +1 inside the log as Lucene does).
        """
        query = set(self._keywords.query(question).indices)
        docs = [
            dict(zip(v.indices, v.values, strict=True))
            for v in map(self._keywords.document, sentences)
        ]
        n = len(docs)
        idf = {
            t: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for t in query
            if (df := sum(t in d for d in docs))
        }
        raw = [sum(d.get(t, 0.0) * w for t, w in idf.items()) for d in docs]
        best = max(raw, default=0.0)
        return [r / best if best > 0 else 0.0 for r in raw]


def supporting(ranked: Sequence[ScoredSentence], citations: Sequence[Citation]) -> Support | None:
    """The best-scored sentence long enough to stand alone, with the sentence after it, and
    its passage; None when there is none.

    Documentation often announces before it answers: "To list them, run:" is followed by the
    command, "There are two of them:" by the names; measured, the best sentence alone held
    the fact for 75 % of the benchmark's questions, with the next one for 82 %. A best
    sentence that is a question (a FAQ's heading repeating the person's question) gives way
    to the sentence after it, which answers it. A best sentence that points back ("This
    list is for the novice.", "– It updates the files.") comes with the sentence before it,
    which says what it points to (``_POINTS_BACK``).
    """
    for s in ranked:
        if len(s.text) < MIN_SENTENCE_CHARS:
            continue
        sentences = split_sentences(citations[s.source].text)
        after = sentences[s.position + 1] if s.position + 1 < len(sentences) else None
        if after is None or (_HEADING.match(after) and not s.text.endswith("?")):
            text = s.text
        elif s.text.endswith("?"):
            text = after
        else:
            text = f"{s.text} {after}"
        if s.position > 0 and _POINTS_BACK.match(s.text):
            text = f"{sentences[s.position - 1]} {text}"
        return Support(text, citations[s.source])
    return None


# A Markdown heading ("## Lunch"): the next section's title, never the rest of an answer.
_HEADING = re.compile(r"^#{1,6}\s")

# A sentence that opens (after a list mark or a bracket) with a word referring to what was
# just said: its subject is in the sentence before.
_POINTS_BACK = re.compile(
    r"^[\s(\[\-–—•*]*(this|that|these|those|it|its|they|their|such|both)\b", re.IGNORECASE
)


# The layout ``focus`` adds around a passage's sentences: a title line, and a line between
# sentences that are not next to each other in the passage.
TITLE_PREFIX = "Title: "
GAP = "…"


def own_text(focused: str) -> str:
    """The passage's own sentences of a ``focus`` entry, one a line: its title line and gap
    marks left out (the text an answer may quote; ``LocalLlama.copy_logit_bias``)."""
    lines = focused.splitlines()
    if lines and lines[0].startswith(TITLE_PREFIX):
        lines = lines[1:]
    return "\n".join(line for line in lines if line.strip() and line != GAP)


def focus(
    citations: Sequence[Citation],
    ranked: Sequence[ScoredSentence],
    keep: int = KEEP_SENTENCES,
    neighbours: int = NEIGHBOURS,
    share_of_best: float = SHARE_OF_BEST,
) -> list[str | None]:
    """What the model reads of each passage: its best sentences (of all passages' sentences,
    the ``keep`` best scoring within ``share_of_best`` of the best score, each with
    ``neighbours`` sentences either side, in the passage's order, gaps marked "…"), headed by
    the passage's title; None for a passage none of whose sentences made the cut. One entry
    per citation, in order."""
    candidates = [s for s in ranked if len(s.text) >= MIN_SENTENCE_CHARS]
    if not candidates:  # only headings and fragments: the passages as they are
        return [c.text for c in citations]
    best = candidates[0].score
    # The best sentence always; others within ``share_of_best`` of it (a margin, so a best
    # score at or below zero, a question unlike every sentence, still keeps it).
    floor = best - abs(best) * (1 - share_of_best)
    chosen: dict[int, set[int]] = {}
    for s in [s for s in candidates if s.score >= floor][:keep]:
        around = range(s.position - neighbours, s.position + neighbours + 1)
        chosen.setdefault(s.source, set()).update(around)
    focused: list[str | None] = []
    for i, citation in enumerate(citations):
        if i not in chosen:
            focused.append(None)
            continue
        sentences = split_sentences(citation.text)
        lines = [f"{TITLE_PREFIX}{citation.title}"] if citation.title else []
        last = -2
        for j in sorted(p for p in chosen[i] if 0 <= p < len(sentences)):
            if last >= 0 and j > last + 1:
                lines.append(GAP)
            lines.append(sentences[j])
            last = j
        focused.append("\n".join(lines))
    return focused
