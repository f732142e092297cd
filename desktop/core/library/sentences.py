"""Sentences for the chunk splitter, in blocks Punkt can read in time.

LlamaIndex's ``SentenceSplitter`` runs nltk's Punkt over each stretch of text between its
paragraph separators (three line breaks) that is longer than a chunk. Prose with ordinary
paragraphs (two line breaks) is one such stretch: a 30 MB book was passed to Punkt whole,
whose regular expressions then ran past nltk's time limit (``nltk.redos``, 5 s) and the
file failed (bench/big_file_split.py, docs/PERFORMANCE.md "Large files"). Splitting at
three line breaks less would change every library's chunks; instead, a stretch longer
than ``PUNKT_BLOCK_CHARS`` is cut at paragraph, then line, then word boundaries into
blocks Punkt reads one at a time. A shorter stretch goes to Punkt whole, exactly as before,
so the chunks of every file of ordinary size are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

# Punkt reads 3 MB of prose in ~1 s here and gave up on 30 MB; blocks of 100,000
# characters (about 25 pages) keep each pass far inside its limit, and a block boundary
# falls where a sentence ends anyway (a paragraph's end) whenever the text has one.
PUNKT_BLOCK_CHARS = 100_000

# Where a block may end, best first: after a blank line, after a line break, after a space.
_BOUNDARIES = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"\s+"))


@cache
def punkt_splitter() -> Callable[[str], list[str]]:
    """LlamaIndex's Punkt sentence splitter (the ``SentenceSplitter`` default), loaded once
    (its model loads in ~1 s): text -> its sentences, each with the whitespace after it."""
    # Imported on first use: it loads NLTK's Punkt model from LlamaIndex's cache.
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    return split_by_sentence_tokenizer()


def blocks(text: str, limit: int = PUNKT_BLOCK_CHARS) -> list[str]:
    """``text`` cut into consecutive blocks of at most ``limit`` characters that join back
    to it exactly, each ending at the last paragraph break before the limit, else the last
    line break, else the last whitespace (the break kept with the block before it), else
    at the limit itself (a text with no whitespace at all)."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        end = limit
        for boundary in _BOUNDARIES:
            ends = [match.end() for match in boundary.finditer(window)]
            if ends and ends[-1] > 0:
                end = ends[-1]
                break
        pieces.append(text[start : start + end])
        start += end
    pieces.append(text[start:])
    return pieces


def split_sentences_bounded(text: str) -> list[str]:
    """Punkt's sentences of ``text``, as LlamaIndex's ``split_by_sentence_tokenizer`` gives
    them (each with the whitespace after it), reading a long text a block at a time
    (``blocks``) so that no pass runs past nltk's time limit. ``TimeoutError`` if even one
    block does (a block with no sentence ends Punkt can find quickly): the caller fails
    that file, with why."""
    if len(text) <= PUNKT_BLOCK_CHARS:
        return punkt_splitter()(text)
    sentences: list[str] = []
    for block in blocks(text, PUNKT_BLOCK_CHARS):
        sentences.extend(punkt_splitter()(block))
    return sentences
