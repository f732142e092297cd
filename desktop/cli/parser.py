"""``folio-cli``'s argparse parser: argparse's own, with errors that show how to give a word
that starts with '-' (a file called ``-notes.txt``, a question ``-why?``).

argparse reads such a word as an unknown option and reports only the argument then missing
("the following arguments are required: PATH"). The fix is argparse's own convention: '--'
ends the options, so the words after it are taken as they are. The error here names the
word and prints the whole command line rewritten that way, which runs as meant.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import sys
from contextvars import ContextVar
from typing import NoReturn

PROG = "folio-cli"
# Arguments that name files or folders: their bytes may be any the file system allows (a
# name that is not UTF-8 arrives with its bytes escaped, and is found again as it is).
PATH_ARGUMENTS = frozenset(
    {"file", "path", "paths", "home", "csv", "html", "folder", "dataset", "to"}
)
_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse's own test for a negative number
# The whole command line being read, and the parser that reads it first.
_LINE: ContextVar[tuple[str, ...]] = ContextVar("folio_cli_line", default=())
_ROOT: ContextVar[argparse.ArgumentParser | None] = ContextVar("folio_cli_root", default=None)


class CommandLineParser(argparse.ArgumentParser):
    """argparse's parser, whose errors name a word read as an unknown option because it
    starts with '-', with the command line that gives it (the module docstring says how).

    Command groups made by ``add_subparsers`` are of this class too (argparse makes them of
    their parent's class); each knows the words it was given, the tail of the whole line.
    """

    _given: tuple[str, ...] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._given = tuple(sys.argv[1:] if args is None else args)
        if _ROOT.get() is None:  # the first parser to read the line is the whole command's
            _ROOT.set(self)
            _LINE.set(self._given)
        return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        tokens = _LINE.set(()), _ROOT.set(None)
        try:
            return super().parse_args(args, namespace)
        finally:
            _LINE.reset(tokens[0])
            _ROOT.reset(tokens[1])

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message``, with the line that gives a word read as an
        option, or words of one text given unquoted, when there is one; exit 2.

        Words left over after a command are reported by the whole command line's parser,
        whose usage lists only the commands: the command's own usage is shown instead.
        """
        text = message + (self._dashed_word_hint(message) or self._quote_hint(message))
        shown: argparse.ArgumentParser = self
        root = _ROOT.get()
        if self is root and message.startswith("unrecognized arguments:"):
            shown = _command_of(self, list(_LINE.get()))[0] or self
        argparse.ArgumentParser.error(shown, text)  # its usage, then exit 2

    def _quote_hint(self, message: str) -> str:
        """For ``search waggle dance``: the command takes one text, and the words after its
        first were left over; the line with them quoted as one."""
        root = _ROOT.get()
        if root is None or not message.startswith("unrecognized arguments:"):
            return ""
        line = list(_LINE.get())
        command, start = _command_of(root, line)
        if command is None:
            return ""
        text = _one_text(command)
        if text is None:
            return ""
        options, names = _options_and_names(command, line[start:])
        if len(names) < 2 or any(_reads_as_option(n) for n in names):
            return ""
        fixed = [*line[:start], *options, " ".join(names)]
        name = text.metavar or text.dest
        return f". To give words with spaces as one {name}, quote them: {PROG} {shlex.join(fixed)}"

    def _dashed_word_hint(self, message: str) -> str:
        root = _ROOT.get()
        if root is None:
            return ""
        line = list(_LINE.get())
        command, start = _command_of(root, line)
        if command is None:
            return _command_hint(root, line, message)
        placed = _misplaced_option(root, command, line, start)
        if placed:
            return placed
        found = _unknown_dashed_word(command, tuple(line[start:]))
        if found is None:
            return ""
        at, word = found
        if message.startswith("unrecognized arguments:") and word not in message.split()[2:]:
            return ""  # another word is the trouble
        fixed, for_a_file = _given_after_dashes(command, line[start:], at)
        as_name = "--" in fixed
        takes_names = any(not a.option_strings for a in command._actions)
        # '--word' is far likelier a misspelt option than a name: say so first.
        unknown = _unknown_option(command, word) if as_name and word.startswith("--") else ""
        if as_name and not takes_names:
            return unknown  # the word can only be a misspelt option
        if as_name and _one_text(command) is not None:  # its words are one text
            after = fixed.index("--") + 1
            fixed = [*fixed[:after], " ".join(fixed[after:])]
        given = f"{PROG} {shlex.join([*line[:start], *fixed])}"
        if unknown:
            return f"{unknown}. If {word!r} is a name, write {given}"
        hint = f". {word!r} starts with '-', so it was read as an option; to give it, write {given}"
        return hint + (f" (or, for a file, ./{word})" if for_a_file else "")


def _command_hint(root: argparse.ArgumentParser, line: list[str], message: str) -> str:
    """For a line that names no command: a misspelt option of folio-cli's own before it
    ("--hmoe"), or a misspelt command ("serach"), with its close match."""
    head = _head_end(root, line)
    word = line[head] if head < len(line) else ""
    if _reads_as_option(word):
        rest = line[head + 1 :]
        command, start = _command_of(root, rest)
        if command is not None and _action(command, word) is not None:
            # "--json status": the command's own flag, given before the command's name.
            fixed = [*line[:head], *rest[:start], word, *rest[start:]]
            return (
                f". {word.split('=', 1)[0]} is an option of {command.prog}: give it after the "
                f"command's name, {PROG} {shlex.join(fixed)}"
            )
        return _unknown_option(root, word)
    group = _subcommands(root)
    if group is None or not message.startswith("argument COMMAND: invalid choice"):
        return ""
    close = difflib.get_close_matches(word, list(group.choices), n=1)
    return f". Did you mean {close[0]}?" if close else ""


def _head_end(root: argparse.ArgumentParser, line: list[str]) -> int:
    """Where folio-cli's own options (``--home DIR``) end and the command's name starts."""
    i = 0
    while i < len(line) and _reads_as_option(line[i]):
        action = _action(root, line[i])
        if action is None:
            break
        i += 1 + (0 if "=" in line[i] else _values_taken(action, line[i + 1 :]))
    return i


def _misplaced_option(
    root: argparse.ArgumentParser, command: argparse.ArgumentParser, line: list[str], start: int
) -> str:
    """For ``status --home DIR`` (folio-cli's own option after the command) or ``--json
    status`` (the command's option before it): the line with the option where it goes."""
    head = _head_end(root, line)
    named = line[head:start]  # the command's name: "status", or "models add-server"
    words = line[start:]
    for i, word in enumerate(words):
        if word == "--":
            break
        own = _action(root, word) if _reads_as_option(word) else None
        if own is not None and _action(command, word) is None and own.nargs != 0:
            taken = 0 if "=" in word else _values_taken(own, words[i + 1 :])
            moved = words[i : i + 1 + taken]
            needed = own.nargs if isinstance(own.nargs, int) else 1
            if "=" not in word and len(moved) - 1 < needed:
                moved = [word, str(own.metavar or "DIR")]  # its value was left out too
            before = _without(root, line[:head], own)  # given twice, the later one counts
            fixed = [*before, *moved, *named, *words[:i], *words[i + 1 + taken :]]
            return (
                f". {word.split('=', 1)[0]} is an option of {PROG} itself: give it before "
                f"the command, {PROG} {shlex.join(fixed)}"
            )
    return ""


def _without(
    parser: argparse.ArgumentParser, words: list[str], action: argparse.Action
) -> list[str]:
    """``words`` (options with their values) less every use of ``action``'s option."""
    kept: list[str] = []
    i = 0
    while i < len(words):
        found = _action(parser, words[i]) if _reads_as_option(words[i]) else None
        taken = 0 if found is None or "=" in words[i] else _values_taken(found, words[i + 1 :])
        if found is not action:
            kept.extend(words[i : i + 1 + taken])
        i += 1 + taken
    return kept


def _unknown_option(command: argparse.ArgumentParser, word: str) -> str:
    """ ". '--limit' is not an option of folio-cli search (did you mean ...?; its options:
    ...)" for a ``--word`` the command does not know. The close match is difflib's, as
    argparse's own ``suggest_on_error`` (Python 3.14) finds it."""
    options = [o for a in command._actions for o in a.option_strings if a.help != argparse.SUPPRESS]
    options = [o for o in options if o not in ("-h", "--help")]
    if not options:
        return f". {word!r} is not an option of {command.prog}, which takes none"
    close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    return (
        f". {word!r} is not an option of {command.prog} ({guess}its options: {', '.join(options)})"
    )


def _one_text(command: argparse.ArgumentParser) -> argparse.Action | None:
    """The command's one text argument (search's QUERY, ask's QUESTION), or None when it
    takes no text, several, or file names."""
    texts = [a for a in command._actions if not a.option_strings]
    if len(texts) != 1 or texts[0].nargs is not None or texts[0].dest in PATH_ARGUMENTS:
        return None
    return texts[0]


def _unknown_dashed_word(
    parser: argparse.ArgumentParser, words: tuple[str, ...]
) -> tuple[int, str] | None:
    """The first of ``words`` that argparse reads as an option (it starts with '-', holds no
    space and is no negative number) and that is none of ``parser``'s, with its place."""
    for at, word in enumerate(words):
        if word == "--":
            return None  # what follows is not read as options
        if _reads_as_option(word) and _action(parser, word) is None:
            return at, word
    return None


def _reads_as_option(word: str) -> bool:
    """Whether argparse takes ``word`` for an option (its ``_parse_optional`` rules)."""
    return word.startswith("-") and word != "-" and " " not in word and not _NUMBER.match(word)


def _action(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    """The option ``word`` names (``--opt``, ``--opt=value``, or an unambiguous start of a
    long option, as argparse allows), or None."""
    option = word.split("=", 1)[0]
    known = parser._option_string_actions
    if option in known:
        return known[option]
    starting = {known[name] for name in known if name.startswith("--") and name.startswith(option)}
    return next(iter(starting)) if len(starting) == 1 and option.startswith("--") else None


def _values_taken(action: argparse.Action, rest: list[str]) -> int:
    """How many of the words after an option argparse gives it as values."""
    nargs = action.nargs
    if isinstance(nargs, int):
        return nargs
    if nargs is None:
        return 1
    following = next((i for i, w in enumerate(rest) if _reads_as_option(w) or w == "--"), len(rest))
    return min(following, 1) if nargs == argparse.OPTIONAL else following


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _command_of(
    root: argparse.ArgumentParser, line: list[str]
) -> tuple[argparse.ArgumentParser | None, int]:
    """The command ``line`` names (``ingest``, ``models add-server``) and where its own
    words start; None for the command when the line names none."""
    parser, i = root, 0
    while (group := _subcommands(parser)) is not None:
        if i >= len(line):
            return None, i
        word = line[i]
        if word in group.choices:
            parser, i = group.choices[word], i + 1
            continue
        action = _action(parser, word) if _reads_as_option(word) else None
        if action is None:
            return None, i
        taken = 0 if "=" in word else _values_taken(action, line[i + 1 :])
        i += 1 + taken
    return parser, i


def _options_and_names(
    command: argparse.ArgumentParser, words: list[str], literal: int = -1
) -> tuple[list[str], list[str]]:
    """A command's own ``words`` split into its options with their values, and the rest
    (names and text), each in order; ``words[literal]`` counts as a name even when it reads
    as an option."""
    options: list[str] = []
    names: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        action = _action(command, word) if _reads_as_option(word) and i != literal else None
        if word == "--":
            names.extend(words[i + 1 :])
            break
        if action is None:
            names.append(word)
            i += 1
            continue
        taken = 0 if "=" in word else _values_taken(action, words[i + 1 :])
        options.extend(words[i : i + 1 + taken])
        i += 1 + taken
    return options, names


def _given_after_dashes(
    command: argparse.ArgumentParser, words: list[str], at: int
) -> tuple[list[str], bool]:
    """``words`` (a command's own) rewritten so that ``words[at]`` is taken as it is: after
    the option it follows, as ``--opt=word``, when it is that option's value; else after a
    '--' placed behind every option and its values, the command's names and text in their
    order. With whether the command takes a file or folder name there."""
    options, names = _options_and_names(command, words[:at])
    option = options[-1] if options else ""
    action = _action(command, option) if option == words[at - 1] else None
    if action is not None and "=" not in option and action.nargs in (None, 1):
        # The word is this option's value, which argparse takes only after '='.
        later_options, later_names = _options_and_names(command, words[at + 1 :])
        given = f"{option}={words[at]}"
        return [*options[:-1], given, *later_options, *names, *later_names], False
    spaced = _spaced_values(command, words, at)
    if spaced is not None:
        return spaced, False
    options, names = _options_and_names(command, words, literal=at)
    takes_paths = any(not a.option_strings and a.dest in PATH_ARGUMENTS for a in command._actions)
    return [*options, "--", *names], takes_paths


def _spaced_values(command: argparse.ArgumentParser, words: list[str], at: int) -> list[str] | None:
    """``words`` with ``words[at]`` and the other values of the option that takes several
    (``--example Q A``) and has it among them begun with a space, where they start with '-';
    None when ``words[at]`` is no such value. argparse has no ``--opt=`` form for several
    values, but it never reads a word holding a space as an option."""
    for back in range(1, at + 1):
        action = _action(command, words[at - back]) if _reads_as_option(words[at - back]) else None
        if action is None:
            continue
        if not isinstance(action.nargs, int) or action.nargs < back or "=" in words[at - back]:
            return None
        span = range(at - back + 1, at - back + 1 + action.nargs)
        return [f" {w}" if i in span and _reads_as_option(w) else w for i, w in enumerate(words)]
    return None
