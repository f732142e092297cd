"""``folio-cli`` chat commands: ask, and the persona library."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    advised,
    allow_remote,
    emit,
    interruptible,
    known_model,
    known_persona,
    not_empty,
    positive_int,
)
from desktop.core.chat.personas import MAX_EXAMPLES, Persona
from desktop.core.errors import ChatError, PersonaExistsError
from desktop.core.library.filenames import one_line
from desktop.core.names import shown_name

if TYPE_CHECKING:
    from desktop.services import Services


def check_ask(services: Services, args: argparse.Namespace) -> None:
    """UsageError naming the argument when ``ask``'s question is empty or its ``--model``,
    ``--persona`` or ``--chat`` names nothing there is, before any model loads or any chat
    is made."""
    not_empty(args.question, "QUESTION", "give the question to ask")
    if args.model is not None:
        known_model(services, args.model)
    if args.persona is not None:
        known_persona(services, args.persona)
    if args.chat is not None:
        try:
            services.chats.get(args.chat)
        except ChatError as exc:
            raise UsageError(
                f"--chat: {exc} A chat's id is printed after each answer (`chat_id` with "
                "--json); leave --chat out to start a new chat."
            ) from exc


def cmd_ask(services: Services, args: argparse.Namespace) -> int:
    # Prompts import LlamaIndex (seconds): loaded only when a question is asked.
    from desktop.core.chat.prompts import source_label

    check_ask(services, args)

    def on_token(token: str) -> None:
        sys.stdout.write(token)
        sys.stdout.flush()

    if args.allow_remote:
        allow_remote(services, [args.model or services.settings.default_model])
    # Ctrl+C ends the answer where it is; what was streamed is kept, marked interrupted.
    with interruptible() as cancel:
        answer = services.chat.ask(
            args.question,
            model=args.model,
            persona=args.persona,
            retrieval=not args.no_retrieval,
            chat_id=args.chat,
            top_k=args.k,
            on_token=None if args.json else on_token,
            cancel=cancel,
        )
    # Loaded already by the answer.
    from desktop.core.chat.service import cli_notice

    if args.json:
        data = answer.to_json()
        if data.get("notice"):
            data["notice"] = advised(args, cli_notice(data["notice"]))
        print(json.dumps(data, ensure_ascii=False))
    else:
        print()
        if answer.interrupted:
            # On stderr, as the chat id is: stdout keeps only what the model wrote.
            sys.stdout.flush()
            print("(interrupted: the answer is incomplete)", file=sys.stderr)
        if answer.cut_off:
            print("(cut at the answer length limit: ask it to continue in the same --chat)")
        if answer.support is not None:
            c = answer.support.citation
            where = f"{c.file_name}, page {c.page}" if c.page is not None else c.file_name
            print()
            print(one_line(f"From the sources: “{answer.support.sentence}” ({where})"))
        if answer.citations:
            print("\nSources:")
            for i, c in enumerate(answer.citations, start=1):
                print(f"  {one_line(source_label(i, c))}  (score {c.score:.3f})")
        print(f"\n(chat {answer.chat_id})", file=sys.stderr)
    if answer.notice:
        print(f"folio-cli: {cli_notice(answer.notice)}", file=sys.stderr)
    if answer.interrupted:
        # Stopped by Ctrl+C, or the connection dropped (a failure: the notice says so).
        return EXIT_INTERRUPTED if cancel.cancelled else EXIT_ERROR
    return EXIT_OK


def cmd_personas(services: Services, args: argparse.Namespace) -> int:
    personas = services.chats.personas
    # The persona library refuses only what was asked of it: an empty or taken name, an
    # empty prompt, a temperature out of range, a name it does not hold.
    if args.action == "add":
        try:
            examples = tuple((q, a) for q, a in args.example or ())
            persona = Persona(args.name, args.prompt, args.temperature, examples)
            personas.save(persona, replace=args.replace)
        except PersonaExistsError as exc:
            # The window's "or edit that persona" has no command here: --replace is the way.
            taken = shown_name(personas.get(args.name).name)
            raise UsageError(
                f"There is already a persona named {taken!r}: choose another name, or pass "
                "--replace to replace it."
            ) from exc
        except ChatError as exc:
            raise UsageError(str(exc)) from exc
    elif args.action == "remove":
        try:
            personas.remove(args.name)
        except ChatError as exc:
            raise UsageError(f"{exc} `folio-cli personas list` shows them.") from exc
    items = personas.all()
    text = "\n".join(one_line(f"{p.name}: {p.prompt}{_examples_note(p)}") for p in items)
    text = text or "No personas."
    emit(args, {"personas": [p.to_json() for p in items]}, text)
    return EXIT_OK


def _examples_note(persona: Persona) -> str:
    """`` (2 example exchanges)`` after a persona's prompt, or nothing."""
    count = len(persona.examples)
    return f" ({count} example exchange{'s' if count != 1 else ''})" if count else ""


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``ask``, on the parser ``desktop.cli.build_parser`` made."""
    p = sub.add_parser("ask", parents=[common], help="answer a question")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--model", help="model id (see `models list`)")
    p.add_argument("--persona", help="persona name (see `personas list`)")
    p.add_argument("--no-retrieval", action="store_true", help="answer without documents")
    p.add_argument("--chat", help="continue this chat id")
    p.add_argument("-k", type=positive_int, default=None, help="number of sources (1 or more)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let the model's remote provider receive passages of your documents, from now on",
    )
    p.set_defaults(func=cmd_ask)


def add_persona_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``personas list|add|remove``, on the parser ``desktop.cli.build_parser`` made."""
    personas = sub.add_parser("personas", help="the persona library")
    psub = personas.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = psub.add_parser("list", parents=[common], help="every persona")
    p.set_defaults(func=cmd_personas, read_only=True)
    p = psub.add_parser("add", parents=[common], help="add a persona")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--prompt", required=True, help="the system prompt")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument(
        "--example",
        nargs=2,
        action="append",
        metavar=("QUESTION", "ANSWER"),
        help=f"an exchange in the persona's voice, sent before each question (repeat, up to "
        f"{MAX_EXAMPLES})",
    )
    p.add_argument(
        "--replace", action="store_true", help="replace the persona of that name if there is one"
    )
    p.set_defaults(func=cmd_personas)
    p = psub.add_parser("remove", parents=[common], help="delete a persona")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_personas)
