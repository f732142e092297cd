"""Finding a passage in its file's text, the question's words in a passage, and a phrase
of the passage to search a PDF page for.

Chunks are the readers' text split and joined again, so their spacing need not match the
file's; passages are compared as runs of words, spacing ignored. A passage that no longer
matches whole (the file changed since it was indexed, or rendering cut it differently) is
placed by its first or last words.
"""

from __future__ import annotations

import re

# Words of the question worth marking: three letters or more, but not the English words
# that only hold a question together; marked, "the" and "what" lit up every line.
_QUESTION_WORD = re.compile(r"\w{3,}")
_FUNCTION_WORDS = frozenset({
    "the", "and", "but", "for", "nor", "not", "are", "was", "were", "been", "being", "has",
    "have", "had", "does", "did", "can", "could", "should", "would", "will", "shall", "may",
    "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
    "that", "this", "these", "those", "there", "their", "they", "them", "you", "your", "our",
    "its", "his", "her", "she", "him", "with", "from", "into", "onto", "about", "than", "then",
    "also", "any", "all", "some", "such",
})  # fmt: skip
_ANCHOR_WORDS = 6
# A PDF search phrase: long enough to be the passage's, short enough to sit on one line.
_PHRASE_WORDS = 8
# A line this short is searched whole: its last word too (see ``pdf_phrases``).
_LINE_WORDS = 12
# Two phrases per line at most: the whole and the one without its last word.
_PHRASES_TRIED = 16


def question_words(query: str) -> list[str]:
    """The question's words to mark, in lower case."""
    found = {w.casefold() for w in _QUESTION_WORD.findall(query)}
    return sorted(found - _FUNCTION_WORDS)


def word_spans(
    text: str, query: str, start: int = 0, end: int | None = None
) -> list[tuple[int, int]]:
    """Where the question's words occur as whole words in ``text[start:end]``, as offsets
    into ``text``, case ignored."""
    words = question_words(query)
    if not words:
        return []
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
    )
    stop = len(text) if end is None else end
    return [match.span() for match in pattern.finditer(text, start, stop)]


def _run(words: list[str]) -> re.Pattern[str]:
    """``words`` one after another as whole words, any spacing between them, case ignored."""
    return re.compile(
        r"(?<!\S)" + r"\s+".join(re.escape(word) for word in words) + r"(?!\S)", re.IGNORECASE
    )


def locate(text: str, passage: str) -> tuple[int, int] | None:
    """The ``(start, end)`` offsets of ``passage`` in ``text``, spacing and case ignored.

    When the whole passage is not there, it is placed by the first of its runs of
    ``_ANCHOR_WORDS`` words that is (its last words included), and taken to be as many words
    long as the passage. None when no run is found at all.
    """
    wanted = passage.split()
    if not wanted:
        return None
    # One regular-expression search each: a file of megabytes is searched in milliseconds,
    # where splitting it into words took most of a second.
    whole = _run(wanted).search(text)
    if whole is not None:
        return whole.span()
    size = min(_ANCHOR_WORDS, len(wanted))
    for skip in [*range(0, len(wanted) - size + 1, size), len(wanted) - size]:
        anchor = _run(wanted[skip : skip + size]).search(text)
        if anchor is not None:
            return _around(text, anchor.start(), skip, len(wanted), len(passage))
    return None


def _around(text: str, anchor: int, before: int, count: int, reach: int) -> tuple[int, int]:
    """The span of ``count`` words of ``text`` that starts ``before`` words ahead of the word
    at ``anchor``; only the ``reach`` characters around are split into words."""
    low = max(anchor - 2 * reach, 0)
    spans = [m.span() for m in re.finditer(r"\S+", text[low : anchor + 2 * reach])]
    here = next(i for i, (start, _) in enumerate(spans) if low + start == anchor)
    first = max(here - before, 0)
    last = min(first + count, len(spans)) - 1
    return low + spans[first][0], low + spans[last][1]


def pdf_phrases(passage: str, query: str) -> list[str]:
    """Phrases of a PDF passage to search its page for, the most telling first.

    Each is one line of the passage (a PDF search does not cross lines): the whole line
    when it is short (up to ``_LINE_WORDS`` words), else its first ``_PHRASE_WORDS`` words;
    then the same without the line's last word, which may be a word the reader joined
    across a line break (a hyphenated word made whole), tried when the first is not on the
    page. So a short line's last word, often the fact itself ("... in 1934."), is outlined
    with the rest. Lines with more of the question's words come first, then the passage's
    order.
    """
    words = set(question_words(query))
    candidates: list[tuple[int, int, int, str]] = []
    for order, line in enumerate(passage.splitlines()):
        parts = line.split()
        whole = parts if len(parts) <= _LINE_WORDS else parts[:_PHRASE_WORDS]
        trimmed = parts[:-1][:_PHRASE_WORDS] if len(parts) > 3 else parts
        for variant, chosen in enumerate(dict.fromkeys((" ".join(whole), " ".join(trimmed)))):
            if len(chosen.split()) < 3 or len(chosen) < 12:
                continue
            hits = len({w.casefold() for w in _QUESTION_WORD.findall(chosen)} & words)
            candidates.append((-hits, order, variant, chosen))
    return [phrase for *_, phrase in sorted(candidates)][:_PHRASES_TRIED]
