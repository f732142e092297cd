"""``folio-cli models ...``: every provider's models, servers, downloads and API keys."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from desktop.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    advised,
    check_output,
    emit,
    interruptible,
    not_empty,
)
from desktop.core.errors import Cancelled, FinetuneError, FolioError, ModelError
from desktop.core.library.filenames import one_line
from desktop.core.models.ids import (
    LOCAL_FT_PREFIX,
    LOCAL_PREFIX,
    OPENAI,
    RESERVED_PROVIDERS,
    Provider,
    provider_name_problem,
)
from desktop.core.models.local_files import DEFAULT_LLM_ID, Lineage
from desktop.core.models.uses import removal_refused, server_models
from desktop.core.plurals import counted
from desktop.core.settings import ServerSettings, new_server_problem, updated

if TYPE_CHECKING:
    from desktop.core.secrets import Secrets
    from desktop.services import Services


def cmd_list(services: Services, args: argparse.Namespace) -> int:
    models, problems = services.models(cli=True)
    problems = {name: advised(args, reason) for name, reason in problems.items()}
    data = {
        "models": [
            {
                "id": m.id,
                "kind": m.kind,
                "provider": m.provider,
                "available": m.available,
                "remote": m.remote,
                "lineage": m.lineage,
            }
            for m in models
        ],
        "problems": problems,
    }
    lines = []
    for m in models:
        where = f"sends text to {m.provider}" if m.remote else "on this computer"
        missing = "" if m.available else "  [missing]"
        lines.append(f"{m.id}  ({m.kind}, {where}){missing}{_lineage_text(m.lineage)}")
    lines += [f"{name}: {reason}" for name, reason in problems.items()]
    emit(args, data, "\n".join(one_line(text) for text in lines))
    return EXIT_OK


def _lineage_text(lineage: Lineage | None) -> str:
    """``  [from gpt-4o-mini, dataset zen, persona Zen, 2025-06-01]`` for fine-tuned models."""
    if not lineage:
        return ""
    parts = [f"from {lineage['base'] or 'an unknown base'}"]
    parts += [f"dataset {lineage['dataset']}"] if lineage["dataset"] else []
    parts += [f"persona {lineage['persona']}"] if lineage["persona"] else []
    parts += [lineage["date"]] if lineage["date"] else []
    steps = lineage.get("steps")
    if steps:
        parts.append(counted(steps, "step"))
    if lineage.get("valid_loss") is not None:
        parts.append(f"validation loss {lineage['valid_loss']:.3f}")
    return f"  [{', '.join(parts)}]"


def cmd_add_server(services: Services, args: argparse.Namespace) -> int:
    problem = provider_name_problem(args.name)
    if problem is not None:
        raise UsageError(problem)
    from desktop.core.models.providers import name_taken  # imports the OpenAI SDK

    taken = name_taken(args.name, services.settings)
    if taken is not None and taken != args.name:
        # ``Lab:x`` beside ``lab:x`` could not be told apart in the picker.
        raise UsageError(
            f"{args.name!r} names Folio's own {taken!r} models: choose another name."
            if taken in RESERVED_PROVIDERS
            else f"{args.name!r} differs only in capitals from the server {taken!r}: give "
            f"{taken!r} to replace that one, or choose another name."
        )
    found = new_server_problem(args.base_url, args.api_key_env)
    if found is not None:
        field, problem = found
        example = " (e.g. --base-url http://127.0.0.1:11434/v1)" if field == "base_url" else ""
        flag = f"--{field.replace('_', '-')}"
        raise UsageError(f"{flag} {getattr(args, field)!r} {problem}{example}.")
    servers = dict(services.settings.servers)
    replaced = servers.get(args.name)
    try:
        servers[args.name] = ServerSettings(base_url=args.base_url, api_key_env=args.api_key_env)
    except ValidationError as exc:  # the settings' own rule for a server's address and key
        raise UsageError(_server_problem(exc, args)) from exc
    services.change_settings(updated(services.settings, servers=servers))
    server = services.settings.servers[args.name]
    was = f" (it replaces the one at {replaced.base_url})" if replaced else ""
    emit(
        args,
        {
            "name": args.name,
            "base_url": server.base_url,
            "api_key_env": server.api_key_env,
            "replaced": replaced is not None,
        },
        f"Added {args.name} at {server.base_url}{was}; its models are `{args.name}:<model>`.",
    )
    return EXIT_OK


def _server_problem(exc: ValidationError, args: argparse.Namespace) -> str:
    """What is wrong with ``add-server``'s options, each named by its flag and value."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "base_url"
        reason = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"--{field.replace('_', '-')} {getattr(args, field)!r} {reason}")
    return "; ".join(problems) + "."


_MODELS_LIST = "`folio-cli models list` shows them"


def cmd_remove(services: Services, args: argparse.Namespace) -> int:
    """Remove a server (and its stored key), a local GGUF model by name, or a local
    fine-tuned model (``local:ft:<name>``: its adapter and run are deleted), unless the
    library, the default model, a fine-tuned model or a training run still relies on it."""
    not_empty(args.name, "NAME", f"give a server's name or a local model's id; {_MODELS_LIST}")
    settings = services.settings
    # A local model by the id `models list` shows (local:NAME) or by its bare name.
    bare = args.name.removeprefix(LOCAL_PREFIX)
    if args.name.startswith(LOCAL_FT_PREFIX):
        try:
            job = services.local_training.find(args.name)
        except ModelError as exc:
            raise UsageError(str(exc)) from exc
        # The id as it is spelled: `find` also takes another case of the name.
        model_id = job.model_id or args.name
        _refuse_if_used(services, model_id, lambda m: m == model_id)
        services.local_training.remove(model_id)
        kind = "fine-tuned"
        text = (
            f"Removed the fine-tuned model {model_id} (its adapter and training run are deleted)."
        )
    elif args.name in settings.servers:
        model_id, kind = args.name, "server"
        _refuse_if_used(services, f"The server {model_id}", server_models(model_id))
        key = " and its stored key" if services.secrets.stored(model_id) else ""
        servers = {k: v for k, v in settings.servers.items() if k != model_id}
        consent = [p for p in settings.remote_consent if p != model_id]
        services.change_settings(updated(settings, servers=servers, remote_consent=consent))
        services.secrets.forget(model_id)
        text = f"Removed the server {model_id}{key}."
    elif bare in settings.local_models:
        model_id, kind = LOCAL_PREFIX + bare, "local"
        _refuse_if_used(services, model_id, lambda m: m == model_id)
        kept = {k: v for k, v in settings.local_models.items() if k != bare}
        services.change_settings(updated(settings, local_models=kept))
        text = f"Removed the local model {model_id} (the file itself is left where it is)."
    elif LOCAL_PREFIX + bare == DEFAULT_LLM_ID:
        raise UsageError(
            f"{args.name} is the embedded model that comes with Folio and cannot be removed."
        )
    elif args.name.casefold() == OPENAI:
        raise UsageError(
            "OpenAI is built into Folio and cannot be removed; `folio-cli models forget-key "
            "openai` deletes its stored key."
        )
    else:
        tuned = [m.id for m in services.local_training.models()]
        local = [LOCAL_PREFIX + n for n in settings.local_models]
        known = ", ".join([*sorted(settings.servers), *sorted(local), *sorted(tuned)])
        raise UsageError(
            f"There is no server or local model called {args.name!r} (known: "
            f"{known or 'none yet'}); {_MODELS_LIST}."
        )
    emit(args, {"removed": model_id, "kind": kind}, text)
    return EXIT_OK


def _refuse_if_used(services: Services, shown: str, goes: Callable[[str], bool]) -> None:
    """UsageError naming what still relies on the models ``goes`` is true for (``shown``:
    the server or model being removed) and what to do first; nothing when nothing does."""
    refused = removal_refused(shown, goes, services.model_uses())
    if refused is not None:
        raise UsageError(str(refused))


def cmd_rename(services: Services, args: argparse.Namespace) -> int:
    """Rename a local fine-tuned model."""
    try:
        new_id = services.local_training.rename(args.model, args.new_name)
    except (ModelError, FinetuneError) as exc:
        raise UsageError(str(exc)) from exc
    emit(args, {"renamed": args.model, "id": new_id}, f"Renamed {args.model} to {new_id}.")
    return EXIT_OK


def cmd_export(services: Services, args: argparse.Namespace) -> int:
    """Copy a local fine-tuned model's adapter GGUF out of Folio."""
    not_empty(args.to, "--to", "give a file, or a folder, to write the model to")
    destination = Path(args.to)
    if args.to.endswith(("/", os.sep)) and not destination.is_dir():
        raise UsageError(f"There is no folder {destination}: create it, or choose another.")
    if not destination.is_dir():
        # A file to write: checked as every command's output is (a symlink loop, a file
        # inside the data folder, a missing folder, a file there already), before any work.
        check_output(services, args.to, "--to", force=args.force)
    try:
        path = services.local_training.export(
            args.model, destination, args.merged, replace=args.force
        )
    except (ModelError, FinetuneError) as exc:
        raise UsageError(str(exc)) from exc
    base_id = services.local_training.find(args.model).base
    if args.merged:
        text = f"Wrote {path}: {base_id} with the adapter merged in, a GGUF of its own."
    else:
        text = f"Wrote {path}: a LoRA adapter for {base_id}'s GGUF (llama.cpp: --lora {path.name})."
    data = {"model": args.model, "base": base_id, "merged": args.merged}
    emit(args, {**data, ("model_file" if args.merged else "adapter"): str(path)}, one_line(text))
    return EXIT_OK


def cmd_catalog(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads httpx, which takes a while.
    from desktop.core.models.downloads import catalog_rows

    rows = catalog_rows(services.home / "models" / "gguf")
    data = {
        "models": [
            {
                "name": r.name,
                "size_gb": r.size_gb,
                "ram_gb": r.ram_gb,
                "licence": r.licence,
                "description": r.description,
                "downloaded": r.downloaded,
            }
            for r in rows
        ]
    }
    text = "\n".join(
        f"{r.name:14} {r.size_gb:4.1f} GB download, {r.ram_gb:4.1f} GB RAM"
        f"{'  [downloaded]' if r.downloaded else ''}  {r.description}"
        for r in rows
    )
    emit(args, data, text)
    return EXIT_OK


def cmd_download(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads httpx, which takes a while.
    from desktop.core.models.downloads import download, find_entry

    try:
        entry = find_entry(args.name)
    except ModelError as exc:
        raise UsageError(f"{exc} `folio-cli models catalog` describes them.") from exc
    line = ProgressLine(every=0.0)

    def progress(done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 0
        line.show(f"{entry.name}: {done / 2**20:.0f}/{total / 2**20:.0f} MB", key=percent)

    # Ctrl+C stops the download; the partial file is kept and the next run resumes it.
    with interruptible() as cancel:
        try:
            path = download(entry, services.home / "models" / "gguf", progress, cancel)
        except Cancelled:
            line.done()
            print("folio-cli: download stopped; run it again to resume.", file=sys.stderr)
            return EXIT_INTERRUPTED
    line.done()
    local = {**services.settings.local_models, entry.name: str(path)}
    services.change_settings(updated(services.settings, local_models=local))
    emit(
        args,
        {"name": entry.name, "id": f"local:{entry.name}", "path": str(path)},
        f"Downloaded {entry.name}: use it as local:{entry.name}.",
    )
    return EXIT_OK


def cmd_set_key(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads the OpenAI SDK, which takes a while.
    from desktop.core.models.providers import provider

    try:
        p = provider(args.provider, services.settings)
    except ModelError as exc:
        raise UsageError(f"PROVIDER: {exc}") from exc
    if not services.secrets.available:
        # Said before the key is read: no keyring is this computer's lack, not bad input.
        raise FolioError(_no_keyring(p, services.secrets))
    piped = not sys.stdin.isatty()
    key = sys.stdin.readline() if piped else getpass.getpass("API key: ")
    if piped and not key.strip():
        raise UsageError(
            f"No API key for {p.label} was read: set-key reads it from its standard input "
            f"(e.g. `folio-cli models set-key {p.name} < key.txt`, or run it in a terminal "
            "to type it)."
        )
    services.secrets.set(p.name, key, p.key_env or _key_variable(p.name))
    emit(args, {"provider": p.name, "stored": True}, f"Stored the key for {p.label}.")
    return EXIT_OK


def _no_keyring(p: Provider, secrets: Secrets) -> str:
    """Why ``p``'s key cannot be stored here, and where to put it instead."""
    if p.key_env:
        return secrets.unavailable_reason(p.key_env)
    # The server reads no variable yet: it must be added again with one.
    variable = _key_variable(p.name)
    return (
        f"No system keyring is available here, so Folio cannot store the key for {p.name} "
        f"safely: add the server again with a variable for its key (`folio-cli models "
        f"add-server {p.name} --base-url {shlex.quote(p.base_url)} --api-key-env {variable}`) "
        f"and set {variable} to the key."
    )


def _key_variable(server: str) -> str:
    """An environment variable's name for ``server``'s key: ``LAB_API_KEY``."""
    stem = re.sub(r"[^A-Za-z0-9]", "_", server).upper()
    # A shell variable cannot start with a digit.
    return f"{'KEY_' if stem[:1].isdigit() else ''}{stem}_API_KEY"


def cmd_forget_key(services: Services, args: argparse.Namespace) -> int:
    # Imported on first use: it loads the OpenAI SDK, which takes a while.
    from desktop.core.models.providers import provider

    # A key kept for a server no longer in the settings can still be forgotten; a name that
    # is neither is a typo, and saying "forgot" would hide it.
    stored = services.secrets.stored(args.provider)
    if not stored:
        try:
            provider(args.provider, services.settings)
        except ModelError as exc:
            raise UsageError(f"PROVIDER: {exc}") from exc
    services.secrets.forget(args.provider)
    text = (
        f"Forgot the stored key for {args.provider}."
        if stored
        else f"No key for {args.provider} was stored, so there was nothing to forget."
    )
    emit(args, {"provider": args.provider, "stored": False, "forgotten": stored}, text)
    return EXIT_OK


def add_commands(msub: Any, common: argparse.ArgumentParser) -> None:
    """``models`` subcommands, on the parser ``cli.build_parser`` made."""
    p = msub.add_parser("list", parents=[common], help="every provider's models")
    p.set_defaults(func=cmd_list, read_only=True)
    p = msub.add_parser(
        "add-server", parents=[common], help="add an OpenAI-compatible server (Ollama, ...)"
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--base-url", required=True, help="e.g. http://localhost:11434/v1")
    p.add_argument("--api-key-env", help="environment variable holding its key, if any")
    p.set_defaults(func=cmd_add_server)
    p = msub.add_parser("remove", parents=[common], help="remove a server or a local model")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove)
    p = msub.add_parser("rename", parents=[common], help="rename a local fine-tuned model")
    p.add_argument("model", metavar="local:ft:NAME")
    p.add_argument("new_name", metavar="NEW_NAME")
    p.set_defaults(func=cmd_rename)
    p = msub.add_parser(
        "export", parents=[common], help="copy a local fine-tuned model's LoRA adapter (GGUF)"
    )
    p.add_argument("model", metavar="local:ft:NAME")
    p.add_argument("--to", required=True, metavar="PATH", help="a file, or a folder")
    p.add_argument(
        "--merged", action="store_true", help="the base with the adapter merged in (a whole GGUF)"
    )
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    p.set_defaults(func=cmd_export)
    p = msub.add_parser("catalog", parents=[common], help="models that `download` can fetch")
    p.set_defaults(func=cmd_catalog)
    p = msub.add_parser("download", parents=[common], help="download a model from the catalog")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_download)
    p = msub.add_parser(
        "set-key", parents=[common], help="store a provider's API key (read from stdin)"
    )
    p.add_argument("provider", metavar="PROVIDER", help="openai, or a server's name")
    p.set_defaults(func=cmd_set_key)
    p = msub.add_parser("forget-key", parents=[common], help="delete a stored API key")
    p.add_argument("provider", metavar="PROVIDER")
    p.set_defaults(func=cmd_forget_key)
