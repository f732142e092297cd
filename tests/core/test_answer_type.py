"""Answer typing: which questions ask for code or a number, which sentences hold one the
question did not, and what that changes in the ranking, with the real embedding model."""

from __future__ import annotations

import pytest

from desktop.core.chat import focus
from desktop.core.chat.answer_type import AnswerType, ExpectedAnswer, expected_type
from desktop.core.chat.focus import SentenceRanker
from desktop.core.library.citation import Citation


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which program tells me which distribution I track?", AnswerType.CODE),
        ("After configuring it, which make target builds a kernel package?", AnswerType.CODE),
        ("What dpkg-source option skips the patches?", AnswerType.CODE),
        ("which FILE holds the CD's version?", AnswerType.CODE),
        ("In which year did Debian start?", AnswerType.NUMBER),
        ("How many packages use hardening flags?", AnswerType.NUMBER),
        ("When was the first release?", AnswerType.NUMBER),
        # The noun asked for is "project", not the "package" three words on.
        ("Which project translates Debian package descriptions?", None),
        ("What date format should a version use?", None),
        ("Who decided the release codenames?", None),
        ("Why is the sky blue?", None),
    ],
)
def test_the_kind_of_answer_is_told_from_the_question_words(
    question: str, kind: AnswerType | None
) -> None:
    assert expected_type(question) == kind


CODE_QUESTION = "Apart from sources.list, which program shows the default target I track?"


@pytest.mark.parametrize(
    ("sentence", "new"),
    [
        ("You can also use lsb_release (in the lsb-release package).", ["lsb_release"]),
        ("Extract it with the --skip-patches option.", ["--skip-patches"]),
        ("Read the CD label in /.disk/info to find out.", ["/.disk/info"]),
        ("Swiss assets are held by debian.ch.", ["debian.ch"]),
        # Said by the question already: the same file under its full path, or its words.
        ("Take a look at the /etc/apt/sources.list file.", []),
        ("It is listed in /lib/systemd/system/default.target.", []),
        # Written like code but English, an abbreviation or a figure.
        ("During boot-up, a one-line entry (e.g. version 3.0) is read.", []),
    ],
)
def test_code_the_question_did_not_say_is_found(sentence: str, new: list[str]) -> None:
    expected = ExpectedAnswer.of(CODE_QUESTION)
    assert expected is not None and expected.kind is AnswerType.CODE
    assert expected.new_tokens(sentence) == new


def test_numbers_the_question_did_not_say_are_found() -> None:
    question = "How many days after an upload to 3.0 does a fix reach testing?"
    expected = ExpectedAnswer.of(question)
    assert expected is not None and expected.kind is AnswerType.NUMBER
    assert expected.new_tokens("After 10 days in 3.0, or 2,000 uploads.") == ["10", "2,000"]
    assert expected.new_tokens("Fixes in 3.0 migrate down.") == []


def test_a_question_asking_for_neither_type_expects_nothing() -> None:
    assert ExpectedAnswer.of("Why does Debian use a social contract?") is None


# From the Debian New Maintainers' Guide (bench/eval/corpus): the first sentence is most
# like the question; the third answers it.
RESTATES = (
    "When dpkg-source extracts a source package in 3.0 (quilt) source format, it "
    "automatically applies all patches listed in the series file."
)
OTHER = "The newer 3.0 (quilt) source format stores patches in files using the quilt command."
ANSWERS = (
    "You can avoid applying quilt patches in the 3.0 (quilt) source format at the end of "
    "the extraction with the --skip-patches option."
)


def test_a_sentence_holding_the_asked_for_code_outranks_one_restating_the_question(
    services, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    question = (
        "Which dpkg-source option extracts a 3.0 (quilt) source package without applying "
        "its patches?"
    )
    text = f"{RESTATES} {OTHER} {ANSWERS}"
    cited = [Citation("/d/maint-guide.html", None, 0.5, text, "maint-guide.html")]
    ranker = SentenceRanker(services.embed_texts)
    typed, bonus = ranker.rank(question, cited), focus.ANSWER_TYPE_BONUS
    monkeypatch.setattr(focus, "ANSWER_TYPE_BONUS", 0.0)
    untyped = ranker.rank(question, cited)
    assert [s.text for s in untyped] == [RESTATES, ANSWERS, OTHER]  # likeness alone
    assert [s.text for s in typed] == [ANSWERS, RESTATES, OTHER]
    assert typed[0].score == pytest.approx(untyped[1].score + bonus)
