"""What makes an answer worth reading with the embedded model: the sentences that bear on the
question, the supporting sentence, follow-ups, the prompt prefix reused, loops ended and
answers cut at the token limit marked. Real model, real embedder, real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from desktop.core.chat.focus import (
    ScoredSentence,
    SentenceRanker,
    focus,
    own_text,
    split_sentences,
    supporting,
)
from desktop.core.chat.followup import condense, with_earlier
from desktop.core.chat.loops import LoopGuard, keep_before, loop_start
from desktop.core.chat.personas import Persona
from desktop.core.chat.service import EMPTY_LIBRARY_NOTICE, cli_notice
from desktop.core.chat.support import Support
from desktop.core.library.citation import Citation
from desktop.core.models.local import COPY_BIAS

pytestmark = pytest.mark.slow

FILLER = [
    "The cafeteria serves soup on Mondays and Thursdays.",
    "Parking permits are renewed every January at the front desk.",
    "The office plants are watered by the facilities team.",
    "Printers on the third floor print double-sided by default.",
    "Visitors sign in at reception and wear a badge.",
    "The gym in the basement opens at six in the morning.",
    "Meeting rooms are booked through the shared calendar.",
    "Recycling bins are emptied on Friday afternoons.",
]
FACT = "The backup tapes are stored in the Zurich vault of Helvetia Storage."


@pytest.fixture
def handbook(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A library whose one long passage hides a fact among unrelated sentences."""
    folder = tmp_path / "docs"
    folder.mkdir()
    body = " ".join([*FILLER[:4], FACT, *FILLER[4:]])
    (folder / "handbook.md").write_text(f"# Office handbook\n\n{body}\n")
    (folder / "platypus.md").write_text(
        "# Chapter 7: Acronyms\n\nPLATYPUS stands for Parallel Layered Archive Toolkit. "
        "Chapter 7 explains it in full.\n"
    )
    (folder / "lunch.md").write_text("# Lunch\n\nLunch is served from noon until two.\n")
    services.ingestor.ingest([folder])
    return services


def test_focused_context_keeps_the_fact_and_drops_unrelated_sentences(handbook) -> None:  # type: ignore[no-untyped-def]
    answer = handbook.chat.ask("Where are the backup tapes stored?")
    system = answer.prompt[0].content
    assert FACT in system  # the sentence that answers
    assert FILLER[-1] not in system and FILLER[0] not in system  # far from it: left out
    passage = next(c for c in answer.citations if c.file_name == "handbook.md")
    assert FACT in passage.text and FILLER[-1] in passage.text  # citations keep it all
    handbook.chat.focused_context = False
    whole = handbook.chat.ask("Where are the backup tapes stored?")
    assert FILLER[-1] in whole.prompt[0].content  # the switch the benchmark compares


def test_supporting_sentence_is_the_planted_fact_and_is_stored(handbook) -> None:  # type: ignore[no-untyped-def]
    answer = handbook.chat.ask("Where are the backup tapes stored?")
    assert answer.support is not None
    # The sentence, with the one after it (documentation often answers there).
    assert answer.support.sentence == f"{FACT} {FILLER[4]}"
    assert answer.support.citation.file_name == "handbook.md"
    assert answer.to_json()["support"]["sentence"].startswith(FACT)
    stored = handbook.chats.messages(answer.chat_id)[-1]
    assert stored.support is not None and stored.support.sentence == answer.support.sentence
    assert stored.support.citation == answer.support.citation


def test_no_support_and_no_focus_with_retrieval_off(handbook) -> None:  # type: ignore[no-untyped-def]
    answer = handbook.chat.ask("Where are the backup tapes stored?", retrieval=False)
    assert answer.support is None and answer.searched is None


def test_the_embedded_model_is_nudged_toward_its_sources_words(handbook) -> None:  # type: ignore[no-untyped-def]
    llm = handbook.llm("local:default")
    assert llm.copy_bias == COPY_BIAS["local:default"] > 0
    sent: list[dict[str, Any]] = []
    real = llm._llama.create_chat_completion

    def spy(**kwargs: Any) -> Any:  # records what llama.cpp is given, then calls it
        sent.append(kwargs)
        return real(**kwargs)

    llm._llama.create_chat_completion = spy
    question = "Where are the backup tapes stored?"
    on = handbook.chat.ask(question)
    off = handbook.chat.ask(question, retrieval=False)
    assert on.text.strip() and off.text.strip()
    bias, none = sent[0]["logit_bias"], sent[1]["logit_bias"]
    assert none is None  # no sources, nothing to copy

    def tokens(text: str) -> set[int]:
        return set(llm._llama.tokenize(text.encode(), add_bos=False))

    # The fact's own words are nudged; the question's are not, though the fact holds them.
    assert tokens(" Zurich vault of Helvetia Storage") - tokens(question) <= set(bias)
    assert not tokens(" backup tapes stored") & set(bias)
    assert set(bias.values()) == {COPY_BIAS["local:default"]}
    # Nor the layout: the sources' labels and the passages' titles.
    layout = tokens(" [1] handbook.md\nTitle:") - tokens(f"{FACT} {' '.join(FILLER)}")
    assert layout and not layout & set(bias)
    assert "[1] handbook.md" in on.prompt[0].content and "Title: " in on.prompt[0].content


def test_a_focused_passage_s_own_text_leaves_its_layout_out() -> None:
    text = "The tapes are in Zurich. The canteen opens at noon. The vault is locked at night."
    cited = [Citation("/d/a.md", None, 0.5, text, "a.md", "Office handbook")]
    ranked = [
        ScoredSentence("The tapes are in Zurich.", 0, 0, 1.0),
        ScoredSentence("The vault is locked at night.", 0, 2, 0.99),
    ]
    (focused,) = focus(cited, ranked, keep=2, neighbours=0)
    assert focused == (
        "Title: Office handbook\nThe tapes are in Zurich.\n…\nThe vault is locked at night."
    )
    assert own_text(focused) == "The tapes are in Zurich.\nThe vault is locked at night."
    assert own_text("The tapes are in Zurich.") == "The tapes are in Zurich."  # no title


def test_ranker_scores_the_answering_sentence_first(services) -> None:  # type: ignore[no-untyped-def]
    ranker = SentenceRanker(services.embed_texts)
    text = " ".join([*FILLER[:3], FACT, *FILLER[3:]])
    cited = [Citation("/d/handbook.md", None, 0.5, text, "handbook.md", "Office handbook")]
    ranked = ranker.rank("Which company keeps the backup tapes?", cited)
    assert ranked[0].text == FACT and ranked[0].position == 3
    kept = focus(cited, ranked, keep=1, neighbours=1)[0]
    assert kept is not None
    assert kept.splitlines() == ["Title: Office handbook", FILLER[2], FACT, FILLER[3]]


def test_support_gives_a_question_heading_way_to_its_answer() -> None:
    faq = "# FAQ\nHow do I load a console font?\nEdit the /etc/kbd/config file.\nThat is all."
    cited = [Citation("/d/faq.md", None, 0.5, faq, "faq.md")]
    ranked = [ScoredSentence("How do I load a console font?", 0, 1, 1.0)]
    support = supporting(ranked, cited)
    assert support is not None and support.sentence == "Edit the /etc/kbd/config file."
    told = [ScoredSentence("Edit the /etc/kbd/config file.", 0, 2, 1.0)]
    assert supporting(told, cited).sentence == "Edit the /etc/kbd/config file. That is all."  # type: ignore[union-attr]


def test_support_stops_before_the_next_section_s_heading() -> None:
    parking = "# Parking\nVisitors park in lot C; the gate code is 4417.\n## Lunch\nAt noon."
    cited = [Citation("/d/visit.md", None, 0.5, parking, "visit.md")]
    ranked = [ScoredSentence("Visitors park in lot C; the gate code is 4417.", 0, 1, 1.0)]
    support = supporting(ranked, cited)
    assert support is not None and support.sentence == ranked[0].text


def test_support_that_points_back_comes_with_what_it_points_to() -> None:
    lists = "• debian-mentors@lists.debian.org mailing list\n(This mailing list is for the novice.)"
    lists += "\n• debian-devel@lists.debian.org mailing list"
    cited = [Citation("/d/guide.pdf", 9, 0.5, lists, "guide.pdf")]
    ranked = [ScoredSentence("(This mailing list is for the novice.)", 0, 1, 1.0)]
    support = supporting(ranked, cited)
    assert support is not None and support.sentence.startswith("• debian-mentors@")
    assert "for the novice" in support.sentence and "debian-devel" in support.sentence
    # A sentence that names its own subject stands as it is.
    plain = [ScoredSentence("• debian-devel@lists.debian.org mailing list", 0, 2, 1.0)]
    assert supporting(plain, cited).sentence == "• debian-devel@lists.debian.org mailing list"  # type: ignore[union-attr]


def test_stored_support_finds_the_passage_that_holds_its_sentence() -> None:
    # Two passages of one page: the sentence is in the second, across a line break.
    first = Citation("/d/faq.pdf", 3, 0.9, "Backups run at night.", "faq.pdf")
    second = Citation("/d/faq.pdf", 3, 0.8, "Tapes are kept in the\nfireproof safe.", "faq.pdf")
    other = Citation("/d/other.pdf", 3, 0.7, "Tapes are kept in the fireproof safe.", "other.pdf")
    stored = Support("Tapes are kept in the fireproof safe.", second).to_json()
    assert Support.from_json(stored, [other, first, second]).citation == second
    # The sentence's passage is no longer among the sources: the same page still is.
    assert Support.from_json(stored, [other, first]).citation == first
    # Nothing of that page: the sentence alone, where it was.
    alone = Support.from_json(stored, [other]).citation
    assert (alone.path, alone.page, alone.text) == ("/d/faq.pdf", 3, stored["sentence"])


def test_sentences_split_within_lines() -> None:
    text = "# Install\n- apt-get install foo\nRun it. Then stop it!\n\nDone"
    assert split_sentences(text) == [
        "# Install",
        "- apt-get install foo",
        "Run it.",
        "Then stop it!",
        "Done",
    ]


def test_follow_up_retrieves_with_the_earlier_question(handbook) -> None:  # type: ignore[no-untyped-def]
    first = handbook.chat.ask("What does PLATYPUS stand for?")
    follow = handbook.chat.ask("Which chapter explains it?", chat_id=first.chat_id)
    assert follow.searched is not None and "PLATYPUS" in follow.searched
    assert follow.citations[0].file_name == "platypus.md"
    stored = handbook.chats.messages(first.chat_id)[-1]
    assert stored.searched == follow.searched
    assert first.searched is None  # a first question is searched as asked


def test_prefix_of_a_persona_is_reused_after_another_persona(services) -> None:  # type: ignore[no-untyped-def]
    personas = services.chats.personas
    personas.save(Persona("Pirate", "You are a pirate captain of the seven seas. " * 12))
    personas.save(Persona("Poet", "You are a romantic poet of the old school. " * 12))
    llm = services.llm("local:default")

    def evaluated(persona: str, question: str) -> tuple[int, int]:
        before = llm.prompt_counters()["prompt_tokens_evaluated"]
        answer = services.chat.answer(question, persona=persona, retrieval=False)
        assert answer.usage is not None
        return (
            llm.prompt_counters()["prompt_tokens_evaluated"] - before,
            answer.usage["prompt_tokens"],
        )

    first, prompt = evaluated("Pirate", "Hello?")
    assert first >= prompt * 0.8  # nothing to reuse: the whole prompt is read
    evaluated("Poet", "Hello?")  # another persona in between
    again, prompt = evaluated("Pirate", "What is rum made of?")
    assert again < prompt * 0.3  # only the question's own tokens


def test_a_personas_examples_are_sent_as_turns_and_read_once(services) -> None:  # type: ignore[no-untyped-def]
    example = (
        "Where is the ship?",
        "Arr, she be moored in the bay, matey, safe from storms, her sails furled and her "
        "hold full of rum, waiting for the tide and a crew brave enough to sail her!",
    )
    services.chats.personas.save(Persona("Pirate", "Answer like a pirate.", examples=(example,)))
    services.chats.personas.save(Persona("Plain pirate", "Answer like a pirate."))
    llm = services.llm("local:default")

    def evaluated(persona: str, question: str) -> tuple[Any, int]:
        before = llm.prompt_counters()["prompt_tokens_evaluated"]
        answer = services.chat.answer(question, persona=persona, retrieval=False)
        return answer, llm.prompt_counters()["prompt_tokens_evaluated"] - before

    plain, _ = evaluated("Plain pirate", "Hello?")
    first, _ = evaluated("Pirate", "Hello?")
    assert [(m.role.value, m.content) for m in first.prompt[1:]] == [
        ("user", example[0]),
        ("assistant", example[1]),
        ("user", "Hello?"),
    ]
    added = first.usage["prompt_tokens"] - plain.usage["prompt_tokens"]
    assert added >= llm.count_tokens(example[0] + example[1])  # paid on every question
    _, read = evaluated("Pirate", "What is rum made of?")
    assert read < added  # the persona and its examples were reused, not read again


def test_looping_answer_is_ended(services) -> None:  # type: ignore[no-untyped-def]
    # After an answer that repeats a sentence, the embedded model asked for it "again"
    # repeats it until its token limit, at any temperature, penalty or not (tried 12 times).
    chat = services.chats.create("Cat")
    services.chats.add_message(chat.id, "user", "Say: the cat sat on the mat.")
    services.chats.add_message(chat.id, "assistant", "The cat sat on the mat. " * 4)
    streamed: list[str] = []
    answer = services.chat.ask(
        "Say it again, the same way.", chat_id=chat.id, retrieval=False, on_token=streamed.append
    )
    assert answer.notice is not None and "repeating" in answer.notice
    assert answer.text.lower().count("the cat sat on the mat") == 1
    # The repetition was never streamed: a terminal cannot take back what it printed.
    assert "".join(streamed) == answer.text
    assert not answer.cut_off  # ended by the rule, not by the token limit
    assert services.chats.messages(chat.id)[-1].content == answer.text  # stored as ended


def test_loop_rules() -> None:
    text = "AI is a tool that helps people. AI is a tool that helps people. AI"
    assert keep_before(text, loop_start(text) or 0) == "AI is a tool that helps people."
    listed = "1. I like green apples very much\n2. I like green apples very much\n3."
    assert keep_before(listed, loop_start(listed) or 0) == "1. I like green apples very much"
    assert loop_start("Install it with dpkg. Then run apt-get install -f to finish.") is None
    run = " ".join(["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"] * 2)
    assert loop_start(run) == run.index("alpha", 1)
    guard, streamed, cut = LoopGuard(), "", None
    for word in ("It rains a lot in spring here. " * 2 + "It").split():
        streamed += word + " "
        cut = guard.feed(streamed)
        if cut is not None:
            break
    assert cut is not None and keep_before(streamed, cut) == "It rains a lot in spring here."
    # Chinese and Japanese end sentences at "。" with no space after it.
    chinese = "人工智能是一种帮助人们的工具。" * 2 + "人工"
    assert keep_before(chinese, loop_start(chinese) or 0) == "人工智能是一种帮助人们的工具。"
    assert loop_start("我很好。谢谢你。我很好。") is None  # too short to be a loop
    # The same command shown twice in code is an answer, not a loop; a looping block is cut.
    twice = (
        "Update first:\n```\nsudo apt-get update --allow-releaseinfo-change\n```\n"
        "Then later, again:\n```\nsudo apt-get update --allow-releaseinfo-change\n```\n"
    )
    assert loop_start(twice) is None
    looping = "```\n" + "sudo apt-get update\n" * 10
    assert loop_start(looping) is not None


def _stream(text: str, piece: int) -> tuple[list[str], str]:
    """``text`` fed to a LoopGuard ``piece`` characters at a time, as ``_generate`` does:
    what would have been shown, and the answer kept."""
    guard, so_far, shown, cut = LoopGuard(), "", 0, None
    pieces: list[str] = []
    for i in range(0, len(text), piece):
        so_far += text[i : i + piece]
        if (cut := guard.feed(so_far)) is not None:
            break
        if guard.settled > shown:
            pieces.append(so_far[shown : guard.settled])
            shown = guard.settled
    cut = cut if cut is not None else loop_start(so_far)
    so_far = keep_before(so_far, cut) if cut is not None else so_far
    if len(so_far) > shown:
        pieces.append(so_far[shown:])
    return pieces, so_far


@pytest.mark.parametrize("piece", [1, 3, 7])
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("It rains a lot in spring here. " * 3, "It rains a lot in spring here."),
        (
            "1. I like green apples very much\n2. I like green apples very much\n3. I",
            "1. I like green apples very much",
        ),
        ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu " * 3, None),
        ("人工智能是一种帮助人们的工具。" * 3, "人工智能是一种帮助人们的工具。"),
    ],
)
def test_a_repetition_is_never_streamed(text: str, kept: str | None, piece: int) -> None:
    pieces, answer = _stream(text, piece)
    assert "".join(pieces) == answer  # nothing shown that the cut took back
    if kept is not None:
        assert answer == kept
    else:  # the run of words, said once
        assert answer.split() == text.split()[:12]


def test_text_held_back_is_released_when_it_goes_its_own_way() -> None:
    # Starts like the first sentence, then differs: all of it is shown, nothing cut.
    text = "The cat sat on the mat today. The cat sat on the sofa instead, later on."
    pieces, answer = _stream(text, 2)
    assert answer == text and "".join(pieces) == text
    guard = LoopGuard()
    guard.feed("The cat sat on the mat today. The cat sat")
    assert guard.settled == len("The cat sat on the mat today.")  # may still repeat: held
    guard.feed("The cat sat on the mat today. The cat sat on the sofa")
    assert guard.settled == len("The cat sat on the mat today. The cat sat on the sofa")


def test_answer_cut_at_the_token_limit_is_marked(services) -> None:  # type: ignore[no-untyped-def]
    # The session's model answers in at most 48 tokens: an essay is cut.
    answer = services.chat.ask(
        "Write a long essay about the history of the bicycle.", retrieval=False
    )
    assert answer.cut_off
    assert services.chats.messages(answer.chat_id)[-1].cut_off
    short = services.chat.ask("Say only the word yes.", retrieval=False)
    assert not short.cut_off


def test_empty_library_says_nothing_was_searched(services) -> None:  # type: ignore[no-untyped-def]
    answer = services.chat.ask("How many days of leave carry over?")
    assert answer.retrieval and answer.citations == []
    assert answer.notice == EMPTY_LIBRARY_NOTICE
    assert answer.to_json()["notice"] == EMPTY_LIBRARY_NOTICE
    # Kept with the answer, so a reopened chat says it again.
    assert services.chats.messages(answer.chat_id)[-1].notice == EMPTY_LIBRARY_NOTICE
    assert services.chats.messages(answer.chat_id)[0].notice is None  # the question has none
    # folio-cli says what to do with its own command, not the window's Library.
    said = cli_notice(answer.notice)
    assert said.endswith(
        "Add a folder with `folio-cli ingest FOLDER` to answer from your documents."
    )
    assert "Library" not in said


def test_condense_rewrites_with_the_model_and_keeps_the_earlier_question(services) -> None:  # type: ignore[no-untyped-def]
    # The path for models that rewrite follow-ups (the embedded one searches the follow-up
    # with the earlier question instead: test_follow_up_retrieves_with_the_earlier_question).
    history = [
        ChatMessage(role="user", content="What does PLATYPUS stand for?"),
        ChatMessage(role="assistant", content="Parallel Layered Archive Toolkit."),
    ]
    searched = condense("Which chapter explains it?", history, services.llm("local:default"))
    assert searched.endswith("What does PLATYPUS stand for?")
    assert len(searched) > len("What does PLATYPUS stand for?")  # the model's rewrite first
    assert condense("First question?", [], services.llm("local:default")) == "First question?"
    assert with_earlier("Which chapter?", history) == "Which chapter? What does PLATYPUS stand for?"
