"""``folio-cli``'s argparse parser: argparse's own, with errors that show how to give a word
that starts with '-' (a file called ``-notes.txt``, a question ``-why?``).

argparse reads such a word as an unknown option and reports only the argument then missing
("the following arguments are required: PATH"). The fix is argparse's own convention: '--'
ends the options, so the words after it are taken as they are. The error here names the
word and prints the whole command line rewritten that way, which runs as meant.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import shlex
import sys
from collections.abc import Iterator
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
# A step over the words of a line: where it starts, the option it gives (None for a name,
# a text or an unknown option) and its words, the option's with its values.
_Step = tuple[int, argparse.Action | None, list[str]]
_Option = tuple[int, argparse.Action, list[str]]  # a step that gives an option


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
        whose usage lists only the commands: the usage of the command they were given to is
        shown instead, found past any word before its name (``models --json list``).
        """
        text = message + (self._dashed_word_hint(message) or self._quote_hint(message))
        shown: argparse.ArgumentParser = self
        root = _ROOT.get()
        if self is root and message.startswith("unrecognized arguments:"):
            line = list(_LINE.get())
            named = _named(self, line)
            shown = _command_of(self, line)[0] or (named[0] if named else self)
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
        """For a word read as an option: one given where its parser does not read it, a
        misspelt one, or a name or value that starts with '-'; the line that gives it, or
        what is wrong with it."""
        root = _ROOT.get()
        if root is None:
            return ""
        line = list(_LINE.get())
        placed = _misplaced_option(root, line)
        if placed:
            return placed
        command, start = _command_of(root, line)
        if command is None:
            return _command_hint(self, root, line, message)
        found = _unknown_dashed_word(command, tuple(line[start:]))
        if found is None:
            return ""
        at, word = found
        if message.startswith("unrecognized arguments:") and word not in message.split()[2:]:
            return ""  # another word is the trouble
        fixed, as_name = _given_after_dashes(command, line[start:], at)
        takes_names = any(not a.option_strings for a in command._actions)
        # '--word' is far likelier a misspelt option than a name: say so first.
        unknown = _unknown_option(command, word) if as_name and word.startswith("--") else ""
        if as_name and not takes_names:
            return unknown  # the word can only be a misspelt option
        given = f"{PROG} {shlex.join([*line[:start], *fixed])}"
        if unknown:
            return f"{unknown}. If {word!r} is a name, write {given}"
        hint = f". {word!r} starts with '-', so it was read as an option; to give it, write {given}"
        for_a_file = as_name and any(
            not a.option_strings and a.dest in PATH_ARGUMENTS for a in command._actions
        )
        return hint + (f" (or, for a file, ./{word})" if for_a_file else "")


def _command_hint(
    parser: argparse.ArgumentParser, root: argparse.ArgumentParser, line: list[str], message: str
) -> str:
    """For a line that names no command, refused by ``parser``: a misspelt command
    ("serach") or action ("models add-sever", "finetune --json strat") with its close
    match, else a misspelt option of folio-cli's own before the command ("--hmoe")."""
    group = _subcommands(parser)
    refused = _refused_choice(message, group)
    if group is not None and refused is not None:
        close = difflib.get_close_matches(refused, list(group.choices), n=1)
        if close:
            return f". Did you mean {close[0]}?"
    reached, at = _reached(root, line)
    word = line[at] if at < len(line) else ""
    return _unknown_option(root, word) if _reads_as_option(word) and reached is root else ""


# argparse's "argument ACTION: invalid choice: 'strat' (choose from ...)": the word, as repr
# gives it.
_INVALID_CHOICE = re.compile(r"^argument (\S+): invalid choice: (.+?) \(choose from ")


def _refused_choice(message: str, group: argparse._SubParsersAction | None) -> str | None:
    """The word ``message`` says is no command of ``group``: argparse's own reading of the
    line, so an option given before it (``finetune --json strat``) is no matter."""
    found = _INVALID_CHOICE.match(message)
    if group is None or found is None or found[1] != group.metavar:
        return None
    try:
        word = ast.literal_eval(found[2])
    except (ValueError, SyntaxError):
        return None
    return word if isinstance(word, str) else None


def _head_end(parser: argparse.ArgumentParser, line: list[str]) -> int:
    """Where ``parser``'s own options at the start of ``line`` (folio-cli's ``--home DIR``)
    end and the name of a command (or of a group's action) starts."""
    return next((i for i, action, _ in _walk(line, parser) if action is None), len(line))


def _misplaced_option(root: argparse.ArgumentParser, line: list[str]) -> str:
    """For options given where their parser does not read them, folio-cli's own after the
    command's name (``status --home DIR``) and the command's before it (``--json status``,
    ``-k 3 search bees``, ``models --json list``): the first, with the line that gives each
    where it goes."""
    found = _named(root, line)
    if found is None:
        return ""
    command, names = found
    sorted_out = _sorted_out(root, command, names, line)
    if sorted_out is None:
        return ""
    own, early, late = sorted_out
    misplaced = [*(step for step in own if step[0] > names[0]), *early]
    if not misplaced:
        return ""
    named = [line[n] for n in names]  # "status", or "models add-server"
    fixed = [*_the_later_counts(own), *named, *(w for _, _, taken in early for w in taken), *late]
    first = min(misplaced, key=lambda step: step[0])
    where = (
        f"{PROG} itself: give it before the command"
        if first in own
        else f"{command.prog}: give it after the command's name"
    )
    option = line[first[0]].split("=", 1)[0]
    return f". {option} is an option of {where}, {PROG} {shlex.join(fixed)}"


def _named(
    root: argparse.ArgumentParser, line: list[str]
) -> tuple[argparse.ArgumentParser, list[int]] | None:
    """The command ``line`` names and where each of its names is ("models", "add-server"),
    found past any word given before a name; None when it names none."""
    parser, at = root, _head_end(root, line)
    names: list[int] = []
    while (group := _subcommands(parser)) is not None:
        ends = {*group.choices, "--"}  # what follows '--' names nothing
        name = next((i for i in range(at, len(line)) if line[i] in ends), None)
        if name is None or line[name] == "--":
            return None
        parser, at = group.choices[line[name]], name + 1
        names.append(name)
    return parser, names


def _sorted_out(
    root: argparse.ArgumentParser,
    command: argparse.ArgumentParser,
    names: list[int],
    line: list[str],
) -> tuple[list[_Option], list[_Option], list[str]] | None:
    """The words of ``line`` but the command's ``names``, sorted out: folio-cli's own options
    with their values, wherever given; the command's options given before its name; and the
    command's other words. None when a word before the name is no option to move. (Nor is
    --version, which given before the command would only print the version.)"""
    own: list[_Option] = []
    early: list[_Option] = []
    for i, action, taken in _steps_before(root, command, line, names):
        if action is None or (action.nargs == 0 and action in root._actions):
            return None  # a name, a text or --version before the command's name
        (own if action in root._actions else early).append((i, action, taken))
    start = names[-1] + 1
    late: list[str] = []
    # After the name, folio-cli's own option is one even where an option of the command
    # would take it for its value (``ask --persona --home DIR``): argparse reads it as an
    # option there too.
    for i, action, taken in _walk(line[start:], root):
        if action is None or action.nargs == 0 or _action(command, taken[0]) is not None:
            late.extend(taken)
        else:
            own.append((start + i, action, taken))
    return own, early, late


def _steps_before(
    root: argparse.ArgumentParser,
    command: argparse.ArgumentParser,
    line: list[str],
    names: list[int],
) -> list[_Step]:
    """The steps of ``line`` before the command's last name, each found among the command's
    options and folio-cli's own, and placed in the whole line. Values are read up to a name
    only: argparse gives an option no word past the name that follows it."""
    spans = zip([0, *(n + 1 for n in names[:-1])], names, strict=True)
    return [
        (start + i, action, taken)
        for start, end in spans
        for i, action, taken in _walk(line[start:end], command, root)
    ]


def _the_later_counts(steps: list[_Option]) -> list[str]:
    """The words of ``steps``, options with their values, less each use of an option given
    again later: the later one counts, as argparse has it. A value left out is shown by its
    placeholder (``--home DIR``)."""
    kept: list[str] = []
    for k, (_, action, taken) in enumerate(steps):
        if all(later is not action for _, later, _ in steps[k + 1 :]):
            kept.extend(_with_value(action, taken))
    return kept


def _with_value(action: argparse.Action, taken: list[str]) -> list[str]:
    """An option's words (``taken``), with a placeholder for the value when it was left out."""
    needed = action.nargs if isinstance(action.nargs, int) else 1
    if _value_attached(taken[0], action) or len(taken) > needed:
        return taken
    return [taken[0], str(action.metavar or "DIR")]


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
    """The option ``word`` names (``--opt``, ``--opt=value``, a short option with its value
    written on, ``-k3``, or an unambiguous start of a long option, as argparse allows), or
    None."""
    option = word.split("=", 1)[0]
    known = parser._option_string_actions
    if option in known:
        return known[option]
    short = known.get(word[:2]) if not word.startswith("--") and len(word) > 2 else None
    if short is not None and short.nargs != 0:
        return short
    starting = {known[name] for name in known if name.startswith("--") and name.startswith(option)}
    return next(iter(starting)) if len(starting) == 1 and option.startswith("--") else None


def _value_attached(word: str, action: argparse.Action) -> bool:
    """Whether option ``word`` carries its value (``--opt=value``, ``-k3``), so that argparse
    gives it none of the words after it."""
    if "=" in word:
        return True
    return not word.startswith("--") and len(word) > 2 and action.nargs != 0


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
    parser, at = _reached(root, line)
    return (None if _subcommands(parser) is not None else parser), at


def _reached(root: argparse.ArgumentParser, line: list[str]) -> tuple[argparse.ArgumentParser, int]:
    """The last parser ``line`` names in order, a command or a group (folio-cli itself,
    ``models``), with where its own words start; for a group, the word after its own
    options, which names none of its commands."""
    parser, start = root, 0
    while (group := _subcommands(parser)) is not None:
        at = start + _head_end(parser, line[start:])  # past the group's own options
        if at == len(line) or line[at] not in group.choices:
            return parser, at
        parser, start = group.choices[line[at]], at + 1
    return parser, start


def _options_and_names(
    command: argparse.ArgumentParser, words: list[str]
) -> tuple[list[str], list[str]]:
    """A command's own ``words`` split into its options with their values, and the rest
    (names and text, a '--' among them left out), each in order."""
    options: list[str] = []
    names: list[str] = []
    for i, action, taken in _walk(words, command):
        if action is not None:
            options.extend(taken)
        else:
            names.extend(taken[1:] if words[i] == "--" else taken)
    return options, names


def _walk(words: list[str], *parsers: argparse.ArgumentParser) -> Iterator[_Step]:
    """``words`` step by step as argparse reads them: where each step starts, the option it
    gives (found in the first of ``parsers`` that has it; None for a name, a text or an
    unknown option) and its words, the option's with the values argparse gives it. A '--'
    ends the options: the last step is it with every word after it, and no option."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            yield i, None, words[i:]
            return
        found = [_action(p, word) for p in parsers] if _reads_as_option(word) else []
        action = next((a for a in found if a is not None), None)
        if action is None or _value_attached(word, action):
            taken = 0
        else:
            taken = _values_taken(action, words[i + 1 :])
        yield i, action, words[i : i + 1 + taken]
        i += 1 + taken


def _given_after_dashes(
    command: argparse.ArgumentParser, words: list[str], at: int
) -> tuple[list[str], bool]:
    """``words`` (a command's own) rewritten so that argparse takes as they are all those it
    reads as unknown options: the options' values as ``_values_given`` gives them; and when a
    name or text is one, the names and text after a '--' placed behind every option and its
    values, in their order (the command's one text as one word). With whether ``words[at]``
    is given there, as a name."""
    given = [w for _, action, taken in _walk(words, command) for w in _values_given(action, taken)]
    options, names = _options_and_names(command, given)
    if not any(_reads_as_option(n) for n in names):
        return given, False
    as_name = words[at] in names
    if _one_text(command) is not None:  # its words are one text
        names = [" ".join(names)]
    return [*options, "--", *names], as_name


def _values_given(action: argparse.Action | None, taken: list[str]) -> list[str]:
    """An option's words (``taken``) with each value that starts with '-' given so that
    argparse takes it: after '=' for the option's one value (``--persona=-x``); begun with a
    space among several (``--example ' -q' A``), for which argparse has no '=' form, but it
    never reads a word holding a space as an option."""
    if action is None or not any(_reads_as_option(v) for v in taken[1:]):
        return taken
    if action.nargs in (None, 1):
        return [f"{taken[0]}={taken[1]}"]
    return [taken[0], *(f" {v}" if _reads_as_option(v) else v for v in taken[1:])]
