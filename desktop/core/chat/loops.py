"""Ending an answer that loops: a small model can repeat one sentence until its token limit.

llama.cpp's repetition penalty makes a loop rarer but does not end one, and no library
stop rule matches "a sentence said twice", so Folio checks the streamed text itself. The
rule is deliberately narrow, so a right answer is rarely cut: a whole sentence or line of at
least ``MIN_SENTENCE_CHARS`` characters (``MIN_CJK_SENTENCE_CHARS`` in Chinese or Japanese,
whose sentences end at "。" with no space and say more per character) said again word for
word, or a run of ``RUN_WORDS`` words repeated verbatim (lists loop without full stops).
Lines inside a fenced code block are left to the run rule alone: an answer may rightly show
the same command twice, while a block that loops soon repeats a run of words.

A repetition is cut from the answer, so it must never have been shown: the guard holds back
the part of the stream that may still turn out to be one (``LoopGuard.settled``) until it
goes its own way. A terminal cannot take back what it printed.
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


# A list item's marker left dangling where the repetition was cut ("…much.\n2."), and,
# while streaming, what may become one ("…much.\n2").
_DANGLING_MARKER = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}[.)]|[-*•])[ \t]*$")
_MAYBE_MARKER = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}[.)]?|[-*•])?[ \t]*$")


def keep_before(text: str, cut: int) -> str:
    """The answer worth keeping of a looping ``text``: everything before ``cut``, without
    trailing space or a dangling list marker."""
    return _DANGLING_MARKER.sub("", text[:cut]).rstrip()


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _counted_sentences(text: str) -> tuple[list[tuple[int, str]], int]:
    """The complete sentences of ``text`` the sentence rule compares, as (start offset,
    normalised text), and where the unfinished sentence after them begins."""
    counted: list[tuple[int, str]] = []
    spans = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.end() > 0]
    if text.rstrip()[-1:] in _ENDS:  # the last sentence is complete too
        spans.append((len(text.rstrip()), len(text)))
    fences = [m.start() for m in _FENCE.finditer(text)]
    start = 0
    for end, after in spans:
        sentence = _norm(text[start:end])
        if _counts(sentence, in_code=_in_code(fences, start)):
            counted.append((start, sentence))
        start = after
    return counted, start


def _in_code(fences: list[int], offset: int) -> bool:
    """Whether ``offset`` lies inside a fenced code block (after an odd number of fences)."""
    return sum(1 for f in fences if f < offset) % 2 == 1


def _counts(sentence: str, in_code: bool) -> bool:
    """Whether the sentence rule compares ``sentence``: long enough, and not code."""
    shortest = MIN_CJK_SENTENCE_CHARS if _CJK.search(sentence) else MIN_SENTENCE_CHARS
    return len(sentence) >= shortest and not in_code and not _FENCE.match(sentence)


def loop_start(text: str) -> int | None:
    """Where the repetition in ``text`` begins (a character offset: the text before it is
    the answer worth keeping), or None when the text does not loop."""
    seen: set[str] = set()
    for start, sentence in _counted_sentences(text)[0]:
        if sentence in seen:
            return start
        seen.add(sentence)
    words = list(_WORD.finditer(text))
    if len(words) >= 2 * RUN_WORDS:
        tail = [w.group().lower() for w in words[-RUN_WORDS:]]
        lowered = [w.group().lower() for w in words[:-RUN_WORDS]]
        for i in range(len(lowered) - RUN_WORDS + 1):
            if lowered[i : i + RUN_WORDS] == tail:
                return words[len(words) - RUN_WORDS].start()
    return None


class LoopGuard:
    """Watches a streamed answer: ``feed`` says where to cut it once it loops, and
    ``settled`` how much of it can be shown meanwhile.

    Checked when a sentence or line ends (and every ``RUN_WORDS`` words, or at once when a
    held run of words reaches ``RUN_WORDS``), not on every token, so a long answer costs a
    few scans, not one per token.
    """

    def __init__(self) -> None:
        self._checked_words = 0
        # The words said so far, as what followed each run of up to RUN_WORDS - 1 words:
        # ("the", "cat") -> {"sat"}. Built word by word, so the hold costs no rescans.
        self._next_words: dict[tuple[str, ...], set[str]] = {}
        self._indexed = 0
        self._checked_chars = 0
        self.settled = 0

    def feed(self, text: str) -> int | None:
        """The whole answer so far; the offset to cut it at when it loops, else None.

        Also moves ``settled``: the offset up to which ``text`` can be shown now. Held back
        are trailing space, a dangling list marker, a sentence while it matches the start of
        an earlier one the sentence rule counts, and trailing words while they repeat words
        said before; a held part is released once it differs, and is never shown if cut.
        """
        found = list(_WORD.finditer(text))
        words = [w.group().lower() for w in found]
        complete = len(words) if text[-1:].isspace() else len(words) - 1
        self._index(words, complete)
        run_start, run_length = self._repeated_run(found, words, complete, len(text))
        settled = min(run_start, self._held_sentence(text))
        marker = _MAYBE_MARKER.search(text[:settled])
        self.settled = len(text[: marker.start() if marker else settled].rstrip())
        spaces = text.count(" ") + text.count("\n")
        # A sentence ended in what arrived since the last check (a piece may hold the end).
        ended = any(c in _ENDS or c == "\n" for c in text[self._checked_chars :])
        if not ended and spaces - self._checked_words < RUN_WORDS and run_length < RUN_WORDS:
            return None
        self._checked_words, self._checked_chars = spaces, len(text)
        cut = loop_start(text)
        if cut is None and 0 < complete < len(words):
            # Up to the last whole word: an unfinished one ("alp") hides a repeated run.
            cut = loop_start(text[: found[complete - 1].end()])
        return cut

    def _index(self, words: list[str], complete: int) -> None:
        """Record what followed each run of words, for every complete word but the last
        (a run must have been said before the words that may repeat it)."""
        for i in range(self._indexed, complete - 1):
            for length in range(min(i, RUN_WORDS - 1) + 1):
                self._next_words.setdefault(tuple(words[i - length : i]), set()).add(words[i])
        self._indexed = max(self._indexed, complete - 1)

    def _repeated_run(
        self, found: list[re.Match[str]], words: list[str], complete: int, end: int
    ) -> tuple[int, int]:
        """Where the longest run of trailing words said before begins (``end``, the text's
        length, when none), and how many words it holds. An unfinished last word matches
        any earlier word it begins."""
        if not words:
            return end, 0
        longest = 0
        for length in range(1, min(len(words), RUN_WORDS) + 1):
            before = tuple(words[len(words) - length : -1])
            following = self._next_words.get(before, set())
            last = words[-1]
            if last in following or (
                complete < len(words) and any(w.startswith(last) for w in following)
            ):
                longest = length
            else:
                break
        if not longest:
            return end, 0
        return found[len(words) - longest].start(), longest

    @staticmethod
    def _held_sentence(text: str) -> int:
        """Where the unfinished sentence begins while it matches the start of an earlier
        sentence the rule counts (``len(text)`` otherwise)."""
        counted, start = _counted_sentences(text)
        partial = _norm(text[start:])
        if not partial or _in_code([m.start() for m in _FENCE.finditer(text)], start):
            return len(text)
        if any(sentence.startswith(partial) for _, sentence in counted):
            return start
        return len(text)
