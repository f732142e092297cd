"""What kind of answer a question asks for, and whether a sentence carries one it did not
already say: the expected answer type of question-answering systems (Moldovan et al.,
"The Structure and Performance of an Open-Domain Question Answering System", ACL 2000).

Sentence scoring (``focus.SentenceRanker``) ranks by likeness to the question, so a
sentence that restates the question ("Take a look at the sources.list file.") can beat the
one holding the answer ("You can also use lsb_release."). When the question asks for a
name written as code (a program, a file, an option...) or for a number, a sentence that
holds such a token the question does not is more likely to answer it. Only these two types
are recognised: both can be told from the question's words and the sentence's characters
alone, with no model, and documentation answers mostly in them. LlamaIndex has no answer
typing; NLTK's taggers would need model files that are not installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class AnswerType(StrEnum):
    """The kinds of answer recognised."""

    CODE = "code"  # a program, command, file, package, option... as written in a terminal
    NUMBER = "number"  # a count, a year, a size, a version


# "which program", "which make target", "what dpkg-source option": the noun the question
# asks for, right after the question word or one word after it ("which project translates
# Debian package descriptions" asks for a project, not a package).
_CODE_NOUNS = (
    "program|programs|command|commands|tool|tools|utility|utilities|file|files|"
    "directory|directories|folder|package|packages|option|options|flag|flags|switch|"
    "target|targets|variable|variables|field|fields|script|scripts|function|functions|"
    "module|modules|method|methods|class|extension|path|url|website|site|address"
)
_ASKS_CODE = re.compile(rf"\b(?:which|what)\b(?:\s+[\w.-]+)?\s+(?:{_CODE_NOUNS})\b", re.IGNORECASE)
_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|old|big|large|often)\b|"
    r"\b(?:which|what)\s+(?:year|version|number|size|port|percentage)\b|"
    r"\bwhen\b",
    re.IGNORECASE,
)
# A token as code is written: with a path separator, a dot, hyphen or underscore inside a
# word (lsb_release, deb-pkg, .disk/info, debian.ch), or an option's leading dashes.
_CODE_TOKEN = re.compile(r"(?<![\w-])(?:--?[A-Za-z][\w-]*|[\w.~/-]*\w[._/-]\w[\w./-]*)")
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")
# Not code, though written like it: "e.g.", "i.e.", a bare version or figure ("3.0"), and
# words joined by hyphens alone, which English writes as often as code does ("boot-up",
# "one-line" beside "deb-pkg"): told apart only by a dictionary, which is not at hand.
_NOT_CODE = re.compile(r"^(?:\w\.)+\w?$|^[\d.,/-]+$|^[^\W_]+(?:-[^\W_]+)+$")
_EDGE = ".,;:!?()[]{}'\"`"
_WORD = re.compile(r"[^\W_]+")


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for, or None when it is neither of the two."""
    if _ASKS_CODE.search(question):
        return AnswerType.CODE
    if _ASKS_NUMBER.search(question):
        return AnswerType.NUMBER
    return None


@dataclass(frozen=True)
class ExpectedAnswer:
    """What one question asks for, read once and held to test each sentence against it.

    ``said`` is what the question holds already: its numbers (for NUMBER) or its words
    (for CODE), lower-cased.
    """

    kind: AnswerType
    said: frozenset[str]

    @classmethod
    def of(cls, question: str) -> ExpectedAnswer | None:
        """The expected answer of ``question``, or None when it asks for neither type."""
        kind = expected_type(question)
        if kind is None:
            return None
        asked = question.lower()
        pattern = _NUMBER_TOKEN if kind is AnswerType.NUMBER else _WORD
        return cls(kind, frozenset(pattern.findall(asked)))

    def new_tokens(self, sentence: str) -> list[str]:
        """The tokens of this kind in ``sentence`` that the question does not hold, in
        order, lower-cased.

        A number counts as said when the question holds it. Code counts as said when every
        word of its last path part is a word of the question: "/etc/apt/sources.list" is
        "sources.list" said again, "default.target" is "the default target", while
        "lsb_release" and "--skip-patches" add a word.
        """
        if self.kind is AnswerType.NUMBER:
            return [t for t in _NUMBER_TOKEN.findall(sentence) if t not in self.said]
        found = []
        for match in _CODE_TOKEN.finditer(sentence):
            token = match.group().strip(_EDGE).lower()
            if not token or _NOT_CODE.match(token):
                continue
            last = token.rstrip("/").rsplit("/", 1)[-1]
            if not set(_WORD.findall(last)) <= self.said:
                found.append(token)
        return found
