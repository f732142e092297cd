"""Names a person gives things Folio lists and pickers show (personas, evaluation sets):
one rule for what a name may hold, and one for when two names are the same."""

from __future__ import annotations

import unicodedata

# Long enough for any real name, short enough to fit a list and to quote in a message.
NAME_LIMIT = 80
# Control and format characters (right-to-left overrides, zero-width joiners), line and
# paragraph separators: they change how a name shows, so two names could look the same.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def shown_name(name: str) -> str:
    """``name`` as an error message quotes it: cut at ``NAME_LIMIT`` characters."""
    return name[:NAME_LIMIT] + ("…" if len(name) > NAME_LIMIT else "")


def name_problem(name: str) -> str | None:
    """Why a trimmed, non-empty name cannot be used (over ``NAME_LIMIT`` characters, or
    holding characters that change how text shows), or None if it can."""
    hidden = any(unicodedata.category(c) in _HIDDEN_CATEGORIES for c in name)
    if len(name) > NAME_LIMIT or hidden:
        return (
            f"The name {shown_name(name)!r} is not usable: at most {NAME_LIMIT} characters, "
            "no control or formatting characters."
        )
    return None


def name_key(name: str) -> str:
    """``name`` as names are matched everywhere (finding, adding, renaming, removing):
    Unicode-normalised (NFKC), case-folded, every run of whitespace one space, trimmed. Two
    names with the same key name the same thing."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only spaces and invisible format characters (a
    zero-width space, a byte-order mark), which ``str.strip`` keeps."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)
