"""The persona library: a name belongs to one persona; nothing is replaced in silence."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.chat.history import ChatStore
from desktop.core.chat.personas import (
    CHARS_PER_TOKEN,
    FOUNDING_PERSONA_EXAMPLES,
    FOUNDING_PERSONA_NAME,
    FOUNDING_PERSONA_PROMPT,
    MAX_EXAMPLES,
    MAX_PROMPT_CHARS,
    Persona,
)
from desktop.core.errors import ChatError, PersonaExistsError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ChatStore]:
    chats = ChatStore(tmp_path / "chats.db")
    yield chats
    chats.close()


@pytest.mark.parametrize(
    "name", ["Sarcastic techie", "sarcastic techie ", "  SARCASTIC TECHIE", "Sarcastic Techie"]
)
def test_creating_a_persona_with_a_taken_name_is_refused_and_keeps_the_old_one(
    store: ChatStore, name: str
) -> None:
    with pytest.raises(PersonaExistsError, match="already a persona named 'Sarcastic techie'"):
        store.personas.save(Persona(name, "dup"))
    assert store.personas.get(FOUNDING_PERSONA_NAME).prompt == FOUNDING_PERSONA_PROMPT
    assert [p.name for p in store.personas.all()] == [FOUNDING_PERSONA_NAME]


def test_a_new_name_is_created_trimmed(store: ChatStore) -> None:
    store.personas.save(Persona("  Pirate ", " Say arr. "))
    assert store.personas.get("pirate") == Persona("Pirate", "Say arr.")


def test_replace_true_replaces_on_purpose(store: ChatStore) -> None:
    store.personas.save(Persona("sarcastic techie", "Be kind.", 0.2), replace=True)
    assert store.personas.all() == [Persona("sarcastic techie", "Be kind.", 0.2)]


def test_editing_a_persona_under_its_own_name_changes_it(store: ChatStore) -> None:
    store.personas.update(FOUNDING_PERSONA_NAME, Persona("Sarcastic techie ", "Be dry.", 0.5))
    assert store.personas.all() == [Persona(FOUNDING_PERSONA_NAME, "Be dry.", 0.5)]


def test_renaming_moves_the_persona_and_a_case_change_is_a_rename(store: ChatStore) -> None:
    store.personas.save(Persona("Pirate", "Say arr."))
    store.personas.update("Pirate", Persona("Captain", "Say arr."))
    assert [p.name for p in store.personas.all()] == ["Captain", FOUNDING_PERSONA_NAME]
    store.personas.update("captain", Persona("CAPTAIN", "Say arr!"))
    assert store.personas.get("Captain") == Persona("CAPTAIN", "Say arr!")


@pytest.mark.parametrize("target", ["Sarcastic techie", " sarcastic TECHIE "])
def test_renaming_onto_another_personas_name_is_refused_and_changes_nothing(
    store: ChatStore, target: str
) -> None:
    store.personas.save(Persona("Pirate", "Say arr."))
    with pytest.raises(PersonaExistsError, match="Sarcastic techie"):
        store.personas.update("Pirate", Persona(target, "Say arr, again."))
    assert store.personas.all() == [
        Persona("Pirate", "Say arr."),
        Persona(FOUNDING_PERSONA_NAME, FOUNDING_PERSONA_PROMPT, 0.7, FOUNDING_PERSONA_EXAMPLES),
    ]


def test_editing_a_persona_that_is_gone_says_so(store: ChatStore) -> None:
    with pytest.raises(ChatError, match="No persona named 'Ghost'"):
        store.personas.update("Ghost", Persona("Ghost", "Boo."))
    assert [p.name for p in store.personas.all()] == [FOUNDING_PERSONA_NAME]


@pytest.mark.parametrize("spelled", [" pirate ", "PIRATE", "Pirate", "ＰＩＲＡＴＥ"])
def test_a_name_finds_its_persona_however_it_is_spelled_for_adding_too(
    store: ChatStore, spelled: str
) -> None:
    store.personas.save(Persona("Pirate", "Say arr."))
    assert store.personas.get(spelled) == Persona("Pirate", "Say arr.")
    with pytest.raises(PersonaExistsError, match="already a persona named 'Pirate'"):
        store.personas.save(Persona(spelled, "Say arr, again."))
    store.personas.update(spelled, Persona("Pirate", "Say yo-ho."))
    assert store.personas.get("Pirate").prompt == "Say yo-ho."
    store.personas.remove(spelled)
    assert [p.name for p in store.personas.all()] == [FOUNDING_PERSONA_NAME]


def test_case_beyond_ascii_and_inner_spaces_match_one_persona(store: ChatStore) -> None:
    store.personas.save(Persona("Élan  Vital", "Be lively."))
    assert store.personas.get("élan vital").name == "Élan  Vital"
    with pytest.raises(PersonaExistsError, match="'Élan  Vital'"):
        store.personas.save(Persona("ÉLAN VITAL", "Be livelier."))
    store.personas.save(Persona("ÉLAN VITAL", "Be livelier."), replace=True)
    assert {p.name for p in store.personas.all()} == {"ÉLAN VITAL", FOUNDING_PERSONA_NAME}
    store.personas.save(Persona("Pirate", "Say arr."))
    with pytest.raises(PersonaExistsError, match="'ÉLAN VITAL'"):
        store.personas.update("Pirate", Persona("élan vital", "Say arr."))
    store.personas.remove(" élan   VITAL ")
    assert [p.name for p in store.personas.all()] == ["Pirate", FOUNDING_PERSONA_NAME]


def test_a_name_is_at_most_80_characters_and_shows_as_it_reads(store: ChatStore) -> None:
    longest = "P" * 80
    store.personas.save(Persona(longest, "Say arr."))
    assert store.personas.get(longest).name == longest
    for refused in ("P" * 5000, "Evil\u202eeman", "Two\nlines"):
        with pytest.raises(ChatError, match="is not usable: at most 80 characters") as raised:
            store.personas.save(Persona(refused, "Say arr."))
        assert len(str(raised.value)) < 200  # the name is quoted cut short, never whole
        with pytest.raises(ChatError, match="is not usable"):
            store.personas.update(longest, Persona(refused, "Say arr."))
    with pytest.raises(ChatError, match="No persona named") as raised:
        store.personas.remove("P" * 5000)
    assert len(str(raised.value)) < 300
    assert [p.name for p in store.personas.all()] == [longest, FOUNDING_PERSONA_NAME]


def test_example_exchanges_are_kept_trimmed_in_order(store: ChatStore) -> None:
    examples = (("  How old is it? ", "Older than dirt, friend."), ("Is it safe?", " Sure. "))
    store.personas.save(Persona("Grump", "Be grumpy.", examples=examples))
    kept = store.personas.get("grump")
    assert kept.examples == (
        ("How old is it?", "Older than dirt, friend."),
        ("Is it safe?", "Sure."),
    )
    assert kept.to_json()["examples"][1] == {"question": "Is it safe?", "answer": "Sure."}
    store.personas.update("Grump", Persona("Grump", "Be grumpy."))  # examples removed
    assert store.personas.get("Grump").examples == ()


@pytest.mark.parametrize(
    ("examples", "refusal"),
    [
        ((("Q?", "A."), ("  ", "An answer.")), "example 2 has no question"),
        ((("Q?", ""),), "example 1 has no answer"),
        ((("Q?", "A."), ("\u200b\ufeff ", "A.")), "example 2 has no question"),  # invisible
        (tuple(("Q?", "A.") for _ in range(MAX_EXAMPLES + 1)), f"{MAX_EXAMPLES} at most"),
    ],
)
def test_an_example_exchange_missing_a_side_or_too_many_is_refused_and_nothing_changes(
    store: ChatStore, examples: tuple[tuple[str, str], ...], refusal: str
) -> None:
    store.personas.save(Persona("Grump", "Be grumpy.", examples=(("Hi?", "What now."),)))
    with pytest.raises(ChatError, match=refusal):
        store.personas.update("Grump", Persona("Grump", "Be grumpier.", examples=examples))
    with pytest.raises(ChatError, match=refusal):
        store.personas.save(Persona("Other", "Be other.", examples=examples))
    assert store.personas.get("Grump") == Persona(
        "Grump", "Be grumpy.", None, (("Hi?", "What now."),)
    )
    assert [p.name for p in store.personas.all()] == ["Grump", FOUNDING_PERSONA_NAME]


@pytest.mark.parametrize("prompt", ["", "  ", "\u200b", "\ufeff\u2060 \u3000"])
def test_a_prompt_that_shows_nothing_is_refused(store: ChatStore, prompt: str) -> None:
    with pytest.raises(ChatError, match="'Ghost' needs a prompt: write how it should answer"):
        store.personas.save(Persona("Ghost", prompt))
    assert [p.name for p in store.personas.all()] == [FOUNDING_PERSONA_NAME]


def test_a_library_from_before_examples_opens_with_its_personas_and_can_add_examples(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chats.db"
    with sqlite3.connect(path) as old:  # the table as it was before example exchanges
        old.executescript(
            "CREATE TABLE personas (name TEXT PRIMARY KEY COLLATE NOCASE, prompt TEXT NOT NULL,"
            " temperature REAL);"
            "CREATE TABLE persona_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO personas VALUES ('Pirate', 'Say arr.', 0.9);"
            "INSERT INTO persona_meta VALUES ('seeded', '1');"
        )
    old.close()
    chats = ChatStore(path)
    try:
        assert chats.personas.all() == [Persona("Pirate", "Say arr.", 0.9)]
        chats.personas.update("Pirate", Persona("Pirate", "Say arr.", 0.9, (("Hi?", "Arr."),)))
        assert chats.personas.get("Pirate").examples == (("Hi?", "Arr."),)
    finally:
        chats.close()


def test_the_founding_persona_comes_with_an_example_in_its_voice(store: ChatStore) -> None:
    founding = store.personas.get(FOUNDING_PERSONA_NAME)
    assert founding.examples and all(q.endswith("?") and a for q, a in founding.examples)


def test_a_prompt_over_the_limit_is_refused_naming_its_size_and_the_limit(store: ChatStore) -> None:
    # About 105,000 tokens at 4 characters a token: no model's context holds it with room
    # for the passages and the answer.
    long = "Answer in the voice of a ship's captain. " * 10_250
    refusal = (
        f"The prompt of persona 'Captain' is {len(long.strip()):,} characters "
        rf"\(about {len(long.strip()) // CHARS_PER_TOKEN:,} tokens\).*at most "
        f"{MAX_PROMPT_CHARS:,} characters"
    )
    with pytest.raises(ChatError, match=refusal):
        store.personas.save(Persona("Captain", long))
    store.personas.save(Persona("Captain", "Answer like a captain."))
    with pytest.raises(ChatError, match=refusal):
        store.personas.update("Captain", Persona("Captain", long))
    assert store.personas.get("Captain").prompt == "Answer like a captain."
    at_limit = "x" * MAX_PROMPT_CHARS
    store.personas.save(Persona("Wide", f"  {at_limit}  "))  # measured trimmed, as it is kept
    assert store.personas.get("Wide").prompt == at_limit


def test_a_persona_saved_before_the_prompt_limit_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    ChatStore(path).close()
    long = "y" * (MAX_PROMPT_CHARS + 1)
    with sqlite3.connect(path) as db:  # as a Folio without the limit kept it
        db.execute("INSERT INTO personas VALUES ('Verbose', ?, NULL, '[]')", (long,))
    db.close()
    chats = ChatStore(path)
    try:
        assert chats.personas.get("verbose") == Persona("Verbose", long)
        assert "Verbose" in [p.name for p in chats.personas.all()]
        chats.personas.remove("Verbose")  # and can be removed
    finally:
        chats.close()
