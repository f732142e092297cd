"""Personas: a named system prompt (and optional temperature) put in front of a base model."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from desktop.core.db import transaction as write_transaction
from desktop.core.errors import ChatError, PersonaExistsError

FOUNDING_PERSONA_NAME = "Sarcastic techie"
FOUNDING_PERSONA_PROMPT = (
    "You are a sarcastic young techie who lives for software and gadgets. You answer "
    "correctly and helpfully, but always with a dry joke or a playful jab, and you love "
    "a good tech reference. Keep answers short."
)
FOUNDING_PERSONA_TEMPERATURE = 0.7

_SCHEMA = """
CREATE TABLE IF NOT EXISTS personas (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    prompt TEXT NOT NULL,
    temperature REAL
);
CREATE TABLE IF NOT EXISTS persona_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Persona:
    """A named system prompt."""

    name: str
    prompt: str
    temperature: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"name", "prompt", "temperature"}``, as ``folio-cli personas`` prints it."""
        return {"name": self.name, "prompt": self.prompt, "temperature": self.temperature}


class PersonaLibrary:
    """The persona library, in the chats database; seeded with the founding persona once."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock:
            self._db.executescript(_SCHEMA)
            seeded = self._db.execute("SELECT 1 FROM persona_meta WHERE key = 'seeded'").fetchone()
            if not seeded:
                # Seed once: a person who deletes the example should not see it come back.
                self._db.execute(
                    "INSERT OR IGNORE INTO personas VALUES (?, ?, ?)",
                    (FOUNDING_PERSONA_NAME, FOUNDING_PERSONA_PROMPT, FOUNDING_PERSONA_TEMPERATURE),
                )
                self._db.execute("INSERT INTO persona_meta VALUES ('seeded', '1')")

    def all(self) -> list[Persona]:
        """Every persona, by name."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM personas ORDER BY name").fetchall()
        return [Persona(r["name"], r["prompt"], r["temperature"]) for r in rows]

    def get(self, name: str) -> Persona:
        """The persona called ``name`` (case-insensitive), or a ChatError listing the others."""
        with self._lock:
            row = self._db.execute("SELECT * FROM personas WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(p.name for p in self.all()) or "none"
            raise ChatError(f"No persona named {name!r}. Known personas: {known}.")
        return Persona(row["name"], row["prompt"], row["temperature"])

    def save(self, persona: Persona, *, replace: bool = False) -> None:
        """Create a persona; an existing name (compared trimmed, ignoring case) is refused.

        ``replace=True`` replaces the persona of that name on purpose. Raises ChatError for an
        empty name or prompt or a temperature outside 0–2, PersonaExistsError for a taken name.
        """
        persona = self._checked(persona)
        with self._lock:
            if not replace:
                self._refuse_taken(persona.name)
            self._db.execute(
                "INSERT OR REPLACE INTO personas VALUES (?, ?, ?)",
                (persona.name, persona.prompt, persona.temperature),
            )

    def update(self, name: str, persona: Persona) -> None:
        """Edit the persona called ``name``, renaming it when ``persona.name`` differs.

        Changing only the case of the name is a rename of the same persona; renaming onto
        another persona's name raises PersonaExistsError and changes nothing. Raises ChatError
        when no persona is called ``name``.
        """
        persona = self._checked(persona)
        # One transaction: a crash never leaves both names, or neither.
        with write_transaction(self._db, self._lock) as db:
            old = self.get(name)
            if old.name.casefold() != persona.name.casefold():
                self._refuse_taken(persona.name)
            db.execute("DELETE FROM personas WHERE name = ?", (old.name,))
            db.execute(
                "INSERT INTO personas VALUES (?, ?, ?)",
                (persona.name, persona.prompt, persona.temperature),
            )

    @staticmethod
    def _checked(persona: Persona) -> Persona:
        """``persona`` with its name and prompt trimmed, or a ChatError saying what is wrong."""
        name, prompt = persona.name.strip(), persona.prompt.strip()
        if not name:
            raise ChatError("A persona needs a name.")
        if not prompt:
            raise ChatError(f"Persona {name!r} needs a prompt.")
        if persona.temperature is not None and not 0.0 <= persona.temperature <= 2.0:
            raise ChatError(f"Persona {name!r}: temperature must be between 0 and 2.")
        return Persona(name, prompt, persona.temperature)

    def _refuse_taken(self, name: str) -> None:
        # The name column is COLLATE NOCASE, so "sarcastic techie" finds "Sarcastic techie".
        row = self._db.execute("SELECT name FROM personas WHERE name = ?", (name,)).fetchone()
        if row is not None:
            raise PersonaExistsError(
                f"There is already a persona named {row['name']!r}: choose another name, "
                "or edit that persona."
            )

    def remove(self, name: str) -> None:
        """Delete a persona; chats that used it keep its name in their history."""
        self.get(name)
        with self._lock:
            self._db.execute("DELETE FROM personas WHERE name = ?", (name,))
