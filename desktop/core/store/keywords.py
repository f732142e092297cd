"""BM25 sparse vectors for keyword search, the same on every store backend.

Qdrant Edge's ``Bm25`` does the tokenizing, stemming, stop words and weighting. Its
default tokenizer splits on spaces and punctuation, so a run of Chinese, Japanese or Korean
text (written without spaces between words) becomes one token, and a query such as
``病假工资`` matched nothing. Qdrant's ``Multilingual`` tokenizer segments with
dictionaries; measured here it finds Chinese words but misses short Japanese and Korean
queries whose in-context segmentation differs (``会議`` in ``東京の会議は…``, ``급여`` in
``급여는``). So each CJK run is rewritten as its overlapping two-character words before
Qdrant's tokenizer sees it: the rule of Lucene's ``CJKBigramFilter`` (Apache Lucene,
``org.apache.lucene.analysis.cjk``), which needs no dictionary and matches any query of two
or more characters. Text in other scripts is passed through unchanged.
"""

from __future__ import annotations

import re

import qdrant_edge as qe

# Han (with extensions A-F and compatibility ideographs), Hiragana, Katakana (with its
# phonetic extensions and half-width forms) and Hangul (syllables and jamo).
_CJK_RUN = re.compile(
    "["
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
    "]+"
)


def cjk_bigrams(text: str) -> str:
    """``text`` with every CJK run replaced by its overlapping bigrams, space-separated.

    ``"考勤：迟到三次"`` becomes ``" 考勤 ： 迟到 到三 三次 "``; a one-character run stays
    itself. Other characters are unchanged.
    """
    if not _CJK_RUN.search(text):
        return text

    def bigrams(match: re.Match[str]) -> str:
        run = match.group()
        if len(run) == 1:
            return f" {run} "
        return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "

    return _CJK_RUN.sub(bigrams, text)


class Keywords:
    """BM25 sparse vectors of documents and queries (Qdrant Edge's ``Bm25``, default config)."""

    def __init__(self) -> None:
        self._bm25 = qe.Bm25(qe.Bm25Config())

    def document(self, text: str) -> qe.SparseVector:
        """The sparse vector stored with a chunk: BM25 term weights of its tokens."""
        return self._bm25.embed_document(cjk_bigrams(text))

    def query(self, text: str) -> qe.SparseVector:
        """The sparse vector of a query: weight 1.0 for each distinct token."""
        return self._bm25.embed_query(cjk_bigrams(text))
