"""Ending an answer that loops: a small model can repeat one sentence until its token limit.

llama.cpp's repetition penalty makes a loop rarer but does not end one, and no library
stop rule matches "a sentence said twice", so Folio checks the streamed text itself. The
rule is deliberately narrow, so a right answer is rarely cut: a whole sentence or line of at
least ``MIN_SENTENCE_CHARS`` characters (``MIN_CJK_SENTENCE_CHARS`` in Chinese or Japanese,
whose sentences end at "。" with no space and say more per character) said again word for
word, or a run of ``RUN_WORDS`` words repeated verbatim (lists loop without full stops).
Lines inside a fenced code block are left to the run rule alone: an answer may rightly show
the same command twice, while a block that loops soon repeats a run of words.
"""

from __future__ import annotations

import re

MIN_SENTENCE_CHARS = 20
MIN_CJK_SENTENCE_CHARS = 10
RUN_WORDS = 12
_CJK_ENDS = "。！？"
_ENDS = ".!?" + _CJK_ENDS
# A sentence ends at a full stop and the space after it, at a CJK full stop (no space
# follows one), or at a line break.
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+|(?<=[{_CJK_ENDS}])\s*|\n+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
_WORD = re.compile(r"\S+")


# A list item's marker left dangling where the repetition was cut ("…much.\n2.").
_DANGLING_MARKER = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}[.)]|[-*•])[ \t]*$")


def keep_before(text: str, cut: int) -> str:
    """The answer worth keeping of a looping ``text``: everything before ``cut``, without
    trailing space or a dangling list marker."""
    return _DANGLING_MARKER.sub("", text[:cut]).rstrip()


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def loop_start(text: str) -> int | None:
    """Where the repetition in ``text`` begins (a character offset: the text before it is
    the answer worth keeping), or None when the text does not loop."""
    seen: set[str] = set()
    spans = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.end() > 0]
    if text.rstrip()[-1:] in _ENDS:  # the last sentence is complete too
        spans.append((len(text.rstrip()), len(text)))
    fences = [m.start() for m in _FENCE.finditer(text)]
    start = 0
    for end, after in spans:
        sentence = _norm(text[start:end])
        in_code = sum(1 for f in fences if f < start) % 2 == 1
        shortest = MIN_CJK_SENTENCE_CHARS if _CJK.search(sentence) else MIN_SENTENCE_CHARS
        if len(sentence) >= shortest and not in_code and not _FENCE.match(sentence):
            if sentence in seen:
                return start
            seen.add(sentence)
        start = after
    words = list(_WORD.finditer(text))
    if len(words) >= 2 * RUN_WORDS:
        tail = [w.group().lower() for w in words[-RUN_WORDS:]]
        lowered = [w.group().lower() for w in words[:-RUN_WORDS]]
        for i in range(len(lowered) - RUN_WORDS + 1):
            if lowered[i : i + RUN_WORDS] == tail:
                return words[len(words) - RUN_WORDS].start()
    return None


class LoopGuard:
    """Watches a streamed answer; ``feed`` says where to cut it once it loops.

    Checked when a sentence or line ends (and every ``RUN_WORDS`` words), not on every
    token, so a long answer costs a few scans, not one per token.
    """

    def __init__(self) -> None:
        self._checked_words = 0

    def feed(self, text: str) -> int | None:
        """The whole answer so far; the offset to cut it at when it loops, else None."""
        words = text.count(" ") + text.count("\n")
        ends_sentence = text.rstrip(" ")[-1:] in f"{_ENDS}\n" if text else False
        if not ends_sentence and words - self._checked_words < RUN_WORDS:
            return None
        self._checked_words = words
        return loop_start(text)
