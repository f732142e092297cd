"""A configuration to answer with, a cell of the compare grid: a model, a persona or none,
retrieval on or off; written ``MODEL[,persona=NAME][,retrieval=on|off]`` (README, "folio-cli")."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.errors import ChatError
from desktop.core.models.names import display_name

_SWITCH = {"on": True, "off": False}


@dataclass(frozen=True)
class CellConfig:
    """Model id, persona name (None: the model's own voice) and retrieval."""

    model: str
    persona: str | None = None
    retrieval: bool = True

    def spec(self) -> str:
        """As the CLI writes it, e.g. ``local:default,persona=Zen,retrieval=off``."""
        parts = [self.model]
        if self.persona:
            parts.append(f"persona={self.persona}")
        parts.append(f"retrieval={'on' if self.retrieval else 'off'}")
        return ",".join(parts)

    @property
    def label(self) -> str:
        """A short name for a column or a row, with the model's name as a person reads it
        (``names.display_name``): "SmolLM2 135M · built in + Zen, no retrieval" (a persona
        named with a comma in quotes: + “Pirate, polite”). The id is in ``spec()``, which JSON
        output carries beside it."""
        # A comma in a persona's name would read as the label's own separator: quoted then.
        name = f"“{self.persona}”" if self.persona and "," in self.persona else self.persona
        persona = f" + {name}" if name else ""
        retrieval = "retrieval" if self.retrieval else "no retrieval"
        return f"{display_name(self.model)}{persona}, {retrieval}"

    @classmethod
    def parse(cls, spec: str) -> CellConfig:
        """The configuration ``spec`` names (retrieval on unless it says off).

        A persona's name may hold commas ("Pirate, polite"): a part that is no ``key=value``
        option continues the persona's name. Every ``spec()`` reads back as it was, even of a
        persona named like an option ("b,retrieval=off"): written as ``spec()`` writes it,
        retrieval last, the last ``retrieval=`` is the switch and the rest the persona's name.
        Runs and saved sets store ``spec()``, so what they store is always read.

        Raises ChatError naming the part that is wrong and the form expected.
        """
        written = _as_written(spec)
        if written is not None:
            return written
        model, *parts = spec.split(",")
        model = model.strip()
        if not model or "=" in model:
            raise ChatError(
                f"Configuration {spec!r} should start with a model id: "
                "MODEL[,persona=NAME][,retrieval=on|off], e.g. local:default,retrieval=off."
            )
        persona: str | None = None  # as written, trimmed once read whole
        retrieval: bool | None = None
        last = ""
        for part in parts:
            key, sep, value = part.partition("=")
            key = key.strip()
            if key == "persona" and sep and persona is None and value.strip():
                persona, last = value.lstrip(), "persona"
            elif key == "retrieval" and retrieval is None and value.strip().lower() in _SWITCH:
                retrieval, last = _SWITCH[value.strip().lower()], "retrieval"
            elif last == "persona" and persona is not None and key != "persona":
                persona = f"{persona},{part}"
            else:
                raise ChatError(
                    f"Configuration {spec!r}: {part.strip()!r} is not persona=NAME or "
                    "retrieval=on|off (each at most once)."
                )
        persona = persona.strip() if persona is not None else None
        return cls(model, persona, True if retrieval is None else retrieval)


def _as_written(spec: str) -> CellConfig | None:
    """The configuration whose ``spec()`` is exactly ``spec``, or None when no configuration
    writes it so (typed by a person in another order, spaced, or with retrieval left out)."""
    head, sep, switch = spec.rpartition(",retrieval=")
    if not sep or switch not in _SWITCH:
        return None
    model, named, persona = head.partition(",persona=")
    # A model id is PROVIDER:NAME, and a local model's name may hold "," or "=" ("local:a,b").
    provider, colon, _ = model.partition(":")
    if not colon or not provider or "=" in provider or "," in provider or ",retrieval=" in model:
        return None
    config = CellConfig(model, persona if named else None, _SWITCH[switch])
    return config if config.spec() == spec and persona == persona.strip() else None


def default_grid(base: str, persona: str | None, fine_tuned: str | None) -> list[CellConfig]:
    """The six cells {base, persona-prompted, fine-tuned} × {retrieval on, off}; a row whose
    persona or fine-tuned model is not chosen is left out."""
    rows = [CellConfig(base)]
    if persona:
        rows.append(CellConfig(base, persona))
    if fine_tuned:
        rows.append(CellConfig(fine_tuned))
    return [
        CellConfig(row.model, row.persona, retrieval) for row in rows for retrieval in (True, False)
    ]
