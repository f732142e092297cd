"""A configuration to answer with, a cell of the compare grid: a model, a persona or none,
retrieval on or off; written ``MODEL[,persona=NAME][,retrieval=on|off]`` (CLI.md)."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.errors import ChatError

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
        """A short name for a column or a row: "local:default + Zen, no retrieval"."""
        persona = f" + {self.persona}" if self.persona else ""
        return f"{self.model}{persona}, {'retrieval' if self.retrieval else 'no retrieval'}"

    @classmethod
    def parse(cls, spec: str) -> CellConfig:
        """The configuration ``spec`` names (retrieval on unless it says off).

        Raises ChatError naming the part that is wrong and the form expected.
        """
        model, *options = [part.strip() for part in spec.split(",")]
        if not model or "=" in model:
            raise ChatError(
                f"Configuration {spec!r} should start with a model id: "
                "MODEL[,persona=NAME][,retrieval=on|off], e.g. local:default,retrieval=off."
            )
        persona: str | None = None
        retrieval = True
        for option in options:
            key, sep, value = (s.strip() for s in option.partition("="))
            if key == "persona" and sep and value:
                persona = value
            elif key == "retrieval" and value.lower() in _SWITCH:
                retrieval = _SWITCH[value.lower()]
            else:
                raise ChatError(
                    f"Configuration {spec!r}: {option!r} is not persona=NAME or retrieval=on|off."
                )
        return cls(model, persona, retrieval)


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
