"""Finding the files under a folder: ignore rules, hidden files, symlink loops."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from desktop.core.library.filenames import stored_name
from desktop.core.library.lock import LOCK_FILE
from desktop.core.tasks import CancelToken

log = logging.getLogger(__name__)

IGNORE_FILE = ".folioignore"
# The longest ignore pattern used: Linux's PATH_MAX, the longest path there is to match.
# Compiling a pattern takes time in proportion to its length (0.25 s at 160,000 characters),
# but a run with a longer line grows faster than that (44 s for one line of 1 MB, past 200 s
# at 2 MB; docs/PERFORMANCE.md, "Ignore files"), so such a line would stall the run.
MAX_PATTERN_CHARS = 4096
# The largest ``.folioignore`` read, in bytes: some 5,000 patterns. Every file is matched
# against each pattern (about 1 ms a file at 5,000), so a far larger one would stall every
# run of its folder; the longest ignore files published (github/gitignore) are under 10 kB.
MAX_IGNORE_FILE_BYTES = 100_000
# Folders that hold tooling, not documents.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


@dataclass(frozen=True)
class FoundFile:
    """A file seen on disk, with what change detection needs.

    ``path`` is the stored name (``filenames.stored_name``), which the library, the store and
    citations use; ``os_path`` is the name to open. They differ only for a name that is not
    UTF-8. ``via_link`` says a symlink (to the file or a folder above it) led here.
    """

    path: str
    size: int
    mtime_ns: int
    os_path: str
    via_link: bool = False


def _is_virtualenv(path: str) -> bool:
    return os.path.exists(os.path.join(path, "pyvenv.cfg"))


def is_data_folder(path: str) -> bool:
    """Whether the folder at OS path ``path`` is a Folio data folder (this process's or any
    other's): every Folio process writes the lock file there before it opens anything else,
    and keeps it, so a folder Folio has ever opened holds one."""
    return os.path.isfile(os.path.join(path, LOCK_FILE))


def data_folder_of(path: str) -> str | None:
    """The Folio data folder that OS path ``path`` is, or directly holds it (its databases,
    settings, store or models folder); None otherwise. Deeper paths are not looked up: a
    person may keep documents in a folder beneath one they also use as the data folder."""
    for candidate in (path, os.path.dirname(path)):
        if os.path.isdir(candidate) and is_data_folder(candidate):
            return candidate
    return None


def skipped_folder(parent: str, name: str) -> bool:
    """Whether the folder ``name`` in ``parent`` is never looked into: hidden, tooling
    (``SKIPPED_DIRS``), a virtualenv or a Folio data folder. The walker and the window's
    folder watcher share it."""
    path = os.path.join(parent, name)
    if name.startswith(".") or name in SKIPPED_DIRS or _is_virtualenv(path):
        return True
    if is_data_folder(path):
        _log_data_folder(path)
        return True
    return False


def _log_data_folder(path: str) -> None:
    # Its database, vector store and models change whenever Folio writes: indexing them
    # would put Folio's own files in answers and embed them again at every sync.
    log.info(
        "Not indexing %s: it is a Folio data folder (it holds %s), Folio's own database, "
        "vector store and models rather than documents.",
        stored_name(path),
        LOCK_FILE,
    )


def ignore_pattern(path: str, folder: str) -> str:
    """The ``.folioignore`` line in ``folder`` that leaves out exactly ``path`` (OS paths).

    Anchored at the folder ("/sub/name"), with gitignore's special characters escaped. A
    character that does not print becomes ``?``, which matches any one character: a
    file-name byte that is not UTF-8 cannot be written in the (UTF-8) ignore file, nor a
    line break in a line, and the others could not be read or typed.
    """
    rel = os.path.relpath(path, folder).replace(os.sep, "/")
    line = "".join("?" if not c.isprintable() else "\\" + c if c in "\\*?[" else c for c in rel)
    if line.endswith(" "):
        line = line[:-1] + "\\ "  # gitignore drops trailing spaces unless escaped
    return "/" + line


# How much of a pattern a message quotes: enough to find the line, not a page of it.
SHOWN_PATTERN_CHARS = 80


def shown_pattern(pattern: str) -> str:
    """``pattern`` between quotes as a person typed it: backslashes stay single (``repr``
    would double them), and only a character that does not print is escaped. A pattern
    over ``SHOWN_PATTERN_CHARS`` characters is cut there, with "…" after the quote."""
    cut = pattern[:SHOWN_PATTERN_CHARS]
    shown = "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut) + "'"
    return shown + ("…" if len(pattern) > len(cut) else "")


def ignore_pattern_problem(pattern: str) -> str | None:
    """Why gitignore matching (pathspec's ``GitIgnoreSpec``, which ``walk`` uses) cannot use
    the ignore pattern ``pattern``, or None when it can. The reason is words that follow
    the pattern ("has ...", "ends ...").

    pathspec refuses a pattern with ``ValueError`` (``GitIgnorePatternError``: a '!' with
    nothing after it, a '\\' that escapes nothing) or ``re.error`` (a ``[...]`` set Python's
    regular expressions cannot compile, such as the backwards range ``[z-a]``); a blank
    line or a comment is no pattern and no problem.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        return (
            f"is {len(pattern):,} characters long, longer than any path it could match "
            f"({MAX_PATTERN_CHARS:,})"
        )
    try:
        with warnings.catch_warnings():
            # re's "possible nested set" warning concerns a pattern that does compile.
            warnings.simplefilter("ignore", FutureWarning)
            pathspec.GitIgnoreSpec.from_lines([pattern])
    except re.error as exc:
        detail = exc.msg
        if "range" in detail:
            detail += "; a range runs from low to high, e.g. [a-z]"
        return f"holds a [...] set that cannot be read ({detail})"
    except ValueError as exc:
        # gitignore strips trailing spaces unless the last one is escaped ("\\ ").
        text = pattern if pattern.endswith("\\ ") else pattern.rstrip()
        if text == "!":
            return (
                "has nothing after its '!' (a '!' brings back what an earlier pattern left "
                "out: write that pattern after it, e.g. !keep.md)"
            )
        if (len(text) - len(text.rstrip("\\"))) % 2:
            return "ends with a '\\' that escapes nothing (write '\\\\' for a backslash itself)"
        return f"is no pattern gitignore matching can read ({str(exc).rstrip('.')})"
    return None


def compile_ignore(lines: Iterable[str]) -> tuple[pathspec.PathSpec, list[tuple[int, str, str]]]:
    """The gitignore spec of ``lines`` (each one pattern, without its line break), and the
    lines left out of it because gitignore matching cannot use them, as (line number from
    1, the line, why: ``ignore_pattern_problem``). One such line never costs the others:
    they keep their order, which decides what a '!' line brings back."""
    kept: list[str] = []
    problems: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, 1):
        problem = ignore_pattern_problem(line)
        if problem is None:
            kept.append(line)
        else:
            problems.append((number, line, problem))
    return pathspec.GitIgnoreSpec.from_lines(kept), problems


class _Unusable(Exception):
    """A ``.folioignore`` Folio does not read: ``reason`` follows its name, ``needed`` says
    what it has to be instead ("until it is ...")."""

    def __init__(self, reason: str, needed: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.needed = needed


def _load_ignore(
    folder: str, on_bad_pattern: Callable[[str, str], None] | None
) -> pathspec.PathSpec | None:
    """The ``.folioignore`` of ``folder`` (an OS path) compiled, or None if it has none or
    it cannot be read. A line gitignore matching cannot use is left out and passed to
    ``on_bad_pattern`` (the file's stored name, which line and why), as is a file that
    cannot be read (with why)."""
    path = os.path.join(folder, IGNORE_FILE)
    try:
        found = os.stat(path)
        if stat.S_ISDIR(found.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(found.st_mode):
            # A pipe or a device: reading it could wait for ever or never end.
            raise _Unusable("is not a file", "a text file of patterns")
        if found.st_size > MAX_IGNORE_FILE_BYTES:
            raise _Unusable(
                f"is {found.st_size:,} bytes, more than the {MAX_IGNORE_FILE_BYTES:,} Folio reads",
                "made smaller",
            )
        with open(path, encoding="utf-8") as handle:
            # Lines without their line breaks: pathspec refuses a line that ends in an
            # escaped space (ignore_pattern's for a name ending in a space) and a break.
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, _Unusable) as exc:
        # Said, not only logged: the files it would leave out are indexed meanwhile.
        if isinstance(exc, _Unusable):
            reason, needed = exc.reason, exc.needed
        else:
            reason = (
                "is not UTF-8 text"
                if isinstance(exc, UnicodeDecodeError)
                else f"cannot be read ({exc.strerror or exc})"
            )
            needed = "saved as UTF-8 text Folio can read"
        reason += (
            "; none of its patterns apply, so the files it would leave out are indexed, "
            f"until it is {needed}"
        )
        log.warning("%s: %s", stored_name(path), reason)
        if on_bad_pattern is not None:
            on_bad_pattern(stored_name(path), reason)
        return None
    spec, problems = compile_ignore(lines)
    for number, line, problem in problems:
        reason = (
            f"line {number}, {shown_pattern(line)}, {problem}; the line is skipped until you "
            "correct or delete it"
        )
        log.warning("%s: %s", stored_name(path), reason)
        if on_bad_pattern is not None:
            on_bad_pattern(stored_name(path), reason)
    return spec


def folder_available(path: str) -> bool:
    """Whether a library folder (or file), given as an OS path, can be reached and read now.

    An unplugged drive, an unmounted share or a folder renamed for a moment is not: its
    files are kept until it is back, instead of being dropped and embedded again.
    """
    if os.path.isfile(path):
        return True
    try:
        with os.scandir(path):
            return True
    except OSError:
        return False


def _stat(path: str, via_link: bool) -> FoundFile | None:
    try:
        st = os.stat(path)
    except OSError as exc:  # dangling symlink, vanished, or no permission
        log.info("Cannot stat %s: %s", stored_name(path), exc.strerror)
        return None
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        return None
    linked = via_link or os.path.islink(path)
    return FoundFile(stored_name(path), st.st_size, st.st_mtime_ns, path, linked)


def folder_ignored(spec: pathspec.PathSpec, rel: str) -> bool:
    """Whether ``spec`` leaves out the folder at ``rel`` (relative, "/"-separated), as git
    decides: the last pattern that matches the folder itself wins, so ``*`` then ``!sub/``
    keeps ``sub`` (and walks it for the files a later ``!sub/b.txt`` takes back).

    pathspec's GitIgnoreSpec ranks a match through a pattern's trailing "/" below a whole
    match, which is right for the files inside a folder but makes ``*`` win over ``!sub/``
    for the folder itself; pathspec has no call for a folder alone, so the patterns after
    the one it chose are read here, each counting only where it matches up to the folder's
    end (``!sub/`` matches ``sub/inner/`` only at ``sub/``, and git leaves ``inner`` out).
    """
    path = rel + "/"
    result = spec.check_file(path)
    if not result.include or result.index is None:
        return bool(result.include)
    decision = True
    for pattern in spec.patterns[result.index + 1 :]:
        regex = getattr(pattern, "regex", None)
        if pattern.include is None or regex is None:
            continue
        if any(match.end() == len(path) for match in regex.finditer(path)):
            decision = pattern.include
    return decision


def walk(
    root: Path,
    extra_patterns: list[str] | None = None,
    on_unreadable: Callable[[str, str], None] | None = None,
    on_bad_pattern: Callable[[str, str], None] | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[FoundFile]:
    """Every file under ``root`` (or ``root`` itself if it is a file) that is not ignored.

    Skips hidden entries, ``.git``, ``node_modules``, virtualenvs and Folio data folders
    (``root`` itself too, if it is one), and whatever the ``.folioignore`` files (gitignore
    syntax, one per folder, applying below it) and ``extra_patterns`` exclude. Symlinked
    folders are followed once: a loop ends the descent.
    ``root`` is an OS path (any bytes); see ``FoundFile`` for the two names of each file.
    A folder that cannot be read is passed to ``on_unreadable`` (stored name, reason): its
    files are unknown, not gone. A ``.folioignore`` line gitignore matching cannot use is
    skipped, the rest of the file still applying, and passed to ``on_bad_pattern`` (the
    file's stored name; its line number, the line and why, in words); such a pattern of
    ``extra_patterns`` is skipped without a word, its caller saying so once for all folders.
    Raises ``Cancelled`` at the next folder once ``cancel`` is cancelled: a tree of many
    folders whose files are all ignored yields nothing for a long time.
    """
    root_str = os.path.abspath(root)
    if os.path.isfile(root_str):
        found = _stat(root_str, via_link=False)
        if found:
            yield found
        return
    if is_data_folder(root_str):
        _log_data_folder(root_str)
        return
    base, _ = compile_ignore(extra_patterns or [])
    # (folder, its spec) pairs: a .folioignore applies to paths relative to its own folder.
    specs: dict[str, list[tuple[str, pathspec.PathSpec]]] = {root_str: [(root_str, base)]}
    seen_dirs: set[tuple[int, int]] = set()
    # Folders reached through a symlink, and so everything below them. The library's own
    # folder counts when it is one, or lies under one: replaced by a link to another library
    # folder, its files must be known for that folder's (the scan leaves such copies out).
    linked: set[str] = {root_str} if os.path.realpath(root_str) != root_str else set()

    def ignored(path: str, is_dir: bool, active: list[tuple[str, pathspec.PathSpec]]) -> bool:
        for folder, spec in active:
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            if folder_ignored(spec, rel) if is_dir else spec.match_file(rel):
                return True
        return False

    def on_error(exc: OSError) -> None:
        name = stored_name(str(exc.filename))
        log.warning("Cannot read folder %s: %s", name, exc.strerror)
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENAMETOOLONG:  # past PATH_MAX (4,096 bytes on Linux)
            reason += ": its path is longer than the system allows; move it to a shorter one"
        if on_unreadable is not None:
            on_unreadable(name, reason)

    for folder, dirs, files in os.walk(root_str, followlinks=True, onerror=on_error):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            st = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink brought us back: a loop
            dirs[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        via_link = folder in linked
        active = list(specs.pop(folder, []))
        own = _load_ignore(folder, on_bad_pattern)
        if own is not None:
            active.append((folder, own))
        kept = []
        for name in sorted(dirs):
            sub = os.path.join(folder, name)
            if skipped_folder(folder, name):
                continue
            if ignored(sub, True, active):
                continue
            specs[sub] = active
            if via_link or os.path.islink(sub):
                linked.add(sub)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.startswith(".") or ignored(path, False, active):
                continue
            found = _stat(path, via_link)
            if found:
                yield found
