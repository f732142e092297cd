"""The persona library: a name belongs to one persona; nothing is replaced in silence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.chat.history import ChatStore
from desktop.core.chat.personas import FOUNDING_PERSONA_NAME, FOUNDING_PERSONA_PROMPT, Persona
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
        Persona(FOUNDING_PERSONA_NAME, FOUNDING_PERSONA_PROMPT, 0.7),
    ]


def test_editing_a_persona_that_is_gone_says_so(store: ChatStore) -> None:
    with pytest.raises(ChatError, match="No persona named 'Ghost'"):
        store.personas.update("Ghost", Persona("Ghost", "Boo."))
    assert [p.name for p in store.personas.all()] == [FOUNDING_PERSONA_NAME]
