"""Names a person gives things Folio lists and pickers show (personas, evaluation sets):
one rule for what a name may hold, and one for when two names are the same."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

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


def same_key(name: str, names: Iterable[str]) -> list[str]:
    """Those of ``names`` with ``name``'s ``name_key``, in their order."""
    key = name_key(name)
    return [other for other in names if name_key(other) == key]


def find_name(name: str, names: Iterable[str]) -> str | None:
    """The one of ``names`` that ``name`` (spaces around it ignored) is taken for: the one
    spelled exactly so, else the only one with its ``name_key`` ("GOOD" finds "good").
    None when there is none, or when several share the key and none is spelled so (a
    library from before names were matched this way may hold both "Good" and "good")."""
    name = name.strip()
    listed = list(names)
    if name in listed:
        return name
    matches = same_key(name, listed)
    return matches[0] if len(matches) == 1 else None


# Characters no file name may hold on one of the systems Folio runs on: "/" anywhere, and
# on Windows also these (Microsoft, "Naming Files, Paths, and Namespaces").
_NOT_IN_FILE_NAMES = frozenset('/\\:*?"<>|')


def file_name_for(name: str, suffix: str) -> str:
    """A file name to suggest when ``name`` (a set's, a report's) is saved as ``suffix``
    (".jsonl"): each character no file name may hold (path separators, Windows' reserved
    ``:*?"<>|``, controls) becomes "-", leading and trailing dots and spaces go (a leading
    dot hides the file, Windows drops trailing ones), and it is cut to ``NAME_LIMIT``
    characters. "export" stands in for a name with nothing left."""
    cleaned = "".join(
        "-" if c in _NOT_IN_FILE_NAMES or unicodedata.category(c) in _HIDDEN_CATEGORIES else c
        for c in name
    )
    stem = cleaned[:NAME_LIMIT].strip(". ") or "export"
    return stem + suffix
