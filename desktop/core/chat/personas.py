"""Personas: a named system prompt (and optional temperature and example exchanges) put in
front of a base model."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from desktop.core.db import transaction as write_transaction
from desktop.core.errors import ChatError, PersonaExistsError
from desktop.core.names import is_blank, name_key, name_problem, shown_name

FOUNDING_PERSONA_NAME = "Sarcastic techie"
FOUNDING_PERSONA_PROMPT = (
    "You are a sarcastic young techie who lives for software and gadgets. You answer "
    "correctly and helpfully, but always with a dry joke or a playful jab, and you love "
    "a good tech reference. Keep answers short."
)
FOUNDING_PERSONA_TEMPERATURE = 0.7
# Shown to the model as earlier turns of the chat: small models copy the voice of an answer
# they have just read far more than they follow an instruction (docs/PERFORMANCE.md,
# "Persona prompts and example exchanges").
FOUNDING_PERSONA_EXAMPLES = (
    (
        "How do I make my laptop faster?",
        "Close the 47 browser tabs you swear you'll read later. Then check what starts at "
        "login and turn off what you never use. Still slow? More RAM beats a new wallpaper.",
    ),
)
# At most this many example exchanges: each is sent with every question, and a few show a
# voice (OpenAI's prompt-engineering guide, "few-shot" examples); more only cost tokens.
MAX_EXAMPLES = 5
# The longest prompt a persona may have, in characters: 256,000, the most OpenAI's
# Assistants API takes as an assistant's system instructions (API reference, "Create
# assistant": "instructions ... The maximum length is 256,000 characters"). At OpenAI's
# estimate of about 4 characters a token for English ("What are tokens and how to count
# them?"), that is some 64,000 tokens: half the 128k-token context of GPT-4o and of
# Llama 3.2 (the largest in Folio's download catalog, and Settings.context_window's upper
# bound), leaving the other half for the passages, the question and the answer. The prompt
# is sent with every question, so a longer one would leave no room for them.
MAX_PROMPT_CHARS = 256_000
CHARS_PER_TOKEN = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS personas (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    prompt TEXT NOT NULL,
    temperature REAL,
    examples TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS persona_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Persona:
    """A named system prompt, with optional example exchanges.

    ``examples`` are (question, answer) pairs in the persona's voice, sent before the chat
    as earlier turns (few-shot prompting): with the embedded SmolLM2-135M, two of them
    moved answers toward the voice far more than the system prompt did.
    """

    name: str
    prompt: str
    temperature: float | None = None
    examples: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"name", "prompt", "temperature", "examples": [{"question", "answer"}]}``, as
        ``folio-cli personas`` prints it."""
        return {
            "name": self.name,
            "prompt": self.prompt,
            "temperature": self.temperature,
            "examples": [{"question": q, "answer": a} for q, a in self.examples],
        }


class UnknownPersona(ChatError):
    """No persona is called ``name`` (deleted since it was chosen, or never made): the
    window says where to choose another in the words of the place it was chosen in."""

    def __init__(self, name: str, message: str, *, cli: str) -> None:
        super().__init__(message, cli=cli)
        self.name = name


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
                founding = Persona(
                    FOUNDING_PERSONA_NAME,
                    FOUNDING_PERSONA_PROMPT,
                    FOUNDING_PERSONA_TEMPERATURE,
                    FOUNDING_PERSONA_EXAMPLES,
                )
                self._db.execute(f"INSERT OR IGNORE INTO personas {_COLUMNS}", _row(founding))
                self._db.execute("INSERT INTO persona_meta VALUES ('seeded', '1')")

    def all(self) -> list[Persona]:
        """Every persona, by name."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM personas ORDER BY name").fetchall()
        return [
            Persona(r["name"], r["prompt"], r["temperature"], _examples(r["examples"]))
            for r in rows
        ]

    def get(self, name: str) -> Persona:
        """The persona called ``name`` (matched by ``name_key``), or an UnknownPersona
        naming it (folio-cli's wording lists the others)."""
        with self._lock:
            found = self._find(name)
            if found is None:
                # folio-cli lists the others; the window has them in its pickers, and a list
                # joined with commas cannot be read when names hold commas.
                known = ", ".join(shown_name(p.name) for p in self.all()) or "none"
                if is_blank(name):  # spaces alone, as an unset variable leaves a name
                    raise UnknownPersona(
                        name,
                        "The persona's name is empty: choose a persona.",
                        cli=f"The persona's name is empty. Known personas: {known}.",
                    )
                shown = shown_name(name.strip())
                raise UnknownPersona(
                    name.strip(),
                    f"No persona named {shown!r}: choose another persona.",
                    cli=f"No persona named {shown!r}. Known personas: {known}.",
                )
            return found

    def _find(self, name: str) -> Persona | None:
        """The persona whose name has ``name``'s key: the one spelled exactly so first (a
        library from before names were matched this way may hold two with one key)."""
        key = name_key(name)
        matches = [p for p in self.all() if name_key(p.name) == key]
        exact = [p for p in matches if p.name == name.strip()]
        return next(iter(exact or matches), None)

    def save(self, persona: Persona, *, replace: bool = False) -> None:
        """Create a persona; a name taken already (matched by ``name_key``) is refused.

        ``replace=True`` replaces the persona of that name on purpose. Raises ChatError for an
        empty name or prompt, a prompt over ``MAX_PROMPT_CHARS`` or a temperature outside 0–2
        (``_checked``), PersonaExistsError for a taken name.
        """
        persona = self._checked(persona)
        with write_transaction(self._db, self._lock) as db:
            taken = self._find(persona.name)
            if taken is not None and not replace:
                raise _taken(taken.name)
            if taken is not None:
                db.execute("DELETE FROM personas WHERE name = ?", (taken.name,))
            db.execute(f"INSERT INTO personas {_COLUMNS}", _row(persona))

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
            taken = self._find(persona.name)
            if taken is not None and taken.name != old.name:
                raise _taken(taken.name)
            db.execute("DELETE FROM personas WHERE name = ?", (old.name,))
            db.execute(f"INSERT INTO personas {_COLUMNS}", _row(persona))

    @staticmethod
    def _checked(persona: Persona) -> Persona:
        """``persona`` with its name, prompt and examples trimmed, or a ChatError saying what
        is wrong: an empty or unusable name, an empty prompt or one over
        ``MAX_PROMPT_CHARS``, a temperature outside 0–2, a bad example exchange. Only what
        is saved is checked: a persona stored before a rule keeps loading."""
        name, prompt = persona.name.strip(), persona.prompt.strip()
        if not name:
            raise ChatError("A persona needs a name.")
        problem = name_problem(name)
        if problem:
            raise ChatError(problem)
        if is_blank(prompt):
            raise ChatError(f"Persona {name!r} needs a prompt: write how it should answer.")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ChatError(
                f"The prompt of persona {name!r} is {len(prompt):,} characters (about "
                f"{len(prompt) // CHARS_PER_TOKEN:,} tokens). It is sent with every question, "
                f"and at most {MAX_PROMPT_CHARS:,} characters (about "
                f"{MAX_PROMPT_CHARS // CHARS_PER_TOKEN:,} tokens) leave room in a model's "
                "context for the passages and the answer: shorten it."
            )
        if persona.temperature is not None and not 0.0 <= persona.temperature <= 2.0:
            raise ChatError(f"Persona {name!r}: temperature must be between 0 and 2.")
        return Persona(name, prompt, persona.temperature, _checked_examples(name, persona))

    def remove(self, name: str) -> None:
        """Delete the persona called ``name`` (matched by ``name_key``), or raise a ChatError
        as ``get`` does; chats that used it keep its name in their history."""
        with write_transaction(self._db, self._lock) as db:
            db.execute("DELETE FROM personas WHERE name = ?", (self.get(name).name,))


def add_examples_column(db: sqlite3.Connection) -> None:
    """The ``chats.db`` migration step that gives personas their example exchanges. A file
    with no personas table yet gets the column when ``PersonaLibrary`` makes the table."""
    present = {row[1] for row in db.execute("PRAGMA table_info(personas)")}
    if present and "examples" not in present:
        db.execute("ALTER TABLE personas ADD COLUMN examples TEXT NOT NULL DEFAULT '[]'")


_COLUMNS = "(name, prompt, temperature, examples) VALUES (?, ?, ?, ?)"


def _row(persona: Persona) -> tuple[str, str, float | None, str]:
    """The values of ``_COLUMNS`` for ``persona``: its examples as a JSON list of pairs."""
    examples = json.dumps([list(pair) for pair in persona.examples], ensure_ascii=False)
    return persona.name, persona.prompt, persona.temperature, examples


def _examples(stored: str | None) -> tuple[tuple[str, str], ...]:
    """The example exchanges of a stored row (``_row``'s JSON)."""
    return tuple((str(q), str(a)) for q, a in json.loads(stored or "[]"))


def _checked_examples(name: str, persona: Persona) -> tuple[tuple[str, str], ...]:
    """``persona``'s examples trimmed; a ChatError names one with an empty side, counting
    from 1, or says there are more than ``MAX_EXAMPLES``."""
    if len(persona.examples) > MAX_EXAMPLES:
        raise ChatError(
            f"Persona {name!r} has {len(persona.examples)} example exchanges; "
            f"{MAX_EXAMPLES} at most (each is sent with every question)."
        )
    examples = []
    for number, (question, answer) in enumerate(persona.examples, start=1):
        question, answer = question.strip(), answer.strip()
        if is_blank(question) or is_blank(answer):
            missing = "question" if is_blank(question) else "answer"
            raise ChatError(
                f"Persona {name!r}: example {number} has no {missing}. Write one, or remove "
                "the example."
            )
        examples.append((question, answer))
    return tuple(examples)


def _taken(name: str) -> PersonaExistsError:
    return PersonaExistsError(
        f"There is already a persona named {shown_name(name)!r}: choose another name, "
        "or edit that persona."
    )
