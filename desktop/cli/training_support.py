"""``folio-cli finetune install-training``: install training support (PyTorch, transformers,
PEFT) into the private environment in the data folder, as the packaged app's window does.

Without ``--yes`` it only shows the plan: the download and disk sizes, the PyTorch build and
where it goes. With ``--yes`` it installs, with progress on stderr; Ctrl+C cancels and leaves
nothing half-installed. JSON: ``{"plan": {...}, "installed": bool, "folder": PATH}``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from desktop.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressLine,
    UsageError,
    emit,
    interruptible,
)
from desktop.core.errors import Cancelled
from desktop.core.finetune.local.extra import INSTALL_HINT

if TYPE_CHECKING:
    from desktop.core.finetune.local.environment import InstallProgress
    from desktop.services import Services

MB = 1_000_000
BUILDS = {"cpu": "PyTorch (CPU build)", "cuda": "PyTorch (CUDA build)"}


def cmd_install_training(services: Services, args: argparse.Namespace) -> int:
    """Show the plan, and with ``--yes`` install it; exit 130 when interrupted."""
    runtime = services.local_training.runtime
    environment = runtime.environment
    if runtime.own and args.yes:
        raise UsageError(
            "This Folio runs from source and trains with its own Python, not with the "
            "installed app's private environment: add the training packages there with "
            f"`{INSTALL_HINT}`."
        )
    line = ProgressLine()

    def show(step: InstallProgress) -> None:
        if step.phase == "install":
            line.show("Installing (unpacking the packages)…", key="install", force=True)
        else:
            done, total = step.done // MB, step.total // MB
            line.show(f"Downloading {step.package}: {done} of {total} MB", key=step.package)

    with interruptible("Cancelling: nothing half-installed is kept…") as cancel:
        try:
            line.show("Finding what to download for this computer…", force=True)
            plan = environment.plan(lambda: cancel.cancelled)
            if args.yes:
                environment.install(plan, show, lambda: cancel.cancelled)
            else:
                environment.remove_partial()
        except Cancelled:
            line.done()
            return EXIT_INTERRUPTED
    line.done()
    installed = environment.ready()
    sizes = (
        f"{BUILDS.get(plan.build, 'PyTorch')}, transformers and PEFT: "
        f"{plan.download_bytes / MB:,.0f} MB to download, about {plan.disk_bytes / 1e9:.1f} GB "
        "on disk"
    )
    if runtime.own:  # a source install: the private environment is not what trains
        text = (
            f"This Folio runs from source and trains with its own Python: add the training "
            f"packages there with `{INSTALL_HINT}`. (The installed app would install {sizes}.)"
        )
    elif args.yes:
        text = f"Installed {sizes}, into {plan.folder}."
    else:
        text = f"Would install {sizes}, into {plan.folder}. Run again with --yes to install."
    emit(args, {"plan": plan.as_dict(), "installed": installed, "folder": plan.folder}, text)
    return EXIT_OK


def add_commands(fsub: Any, common: argparse.ArgumentParser) -> None:
    """The ``install-training`` subcommand, on ``finetune``'s parser."""
    p = fsub.add_parser(
        "install-training",
        parents=[common],
        help="install PyTorch, transformers and PEFT for local training into the data folder",
    )
    p.add_argument("--yes", action="store_true", help="install (without it: show the sizes)")
    p.set_defaults(func=cmd_install_training)
