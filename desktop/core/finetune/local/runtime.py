"""Where the training process runs: Folio's own Python when it has the training packages (a
source install with ``pip install 'folio[train]'``), else the private environment that the
packaged app installs on demand (``environment.py``).

In the private environment the trainer imports Folio's own modules (``desktop``) and
llama.cpp's bindings (``llama_cpp``, for the adapter's check) through ``<data>/training/src``:
links to the copies the running app carries, so an upgraded app trains with its own code.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.errors import FinetuneError
from desktop.core.finetune.local.environment import TrainingEnvironment, bundled, child_env
from desktop.core.finetune.local.extra import INSTALL_HINT, missing_training_packages

WORKER = "desktop.core.finetune.local.worker"  # the training process's module
LINKED = ("desktop", "llama_cpp")  # what the trainer imports from the running app


@dataclass
class TrainerCommand:
    """How to start the training process: ``argv`` before the worker's own arguments, and
    its environment."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


class TrainerRuntime:
    """Where the training process runs here.

    ``own``: Folio's own Python trains when it has the training packages (a source install;
    default: not the packaged app, whose Python cannot load them). Otherwise the private
    environment does, once installed, and ``offers_install`` is true: the window and the CLI
    offer to install it.
    """

    def __init__(self, home: Path, own: bool | None = None) -> None:
        self.environment = TrainingEnvironment(home)
        self.own = not bundled() if own is None else own

    @property
    def offers_install(self) -> bool:
        """Whether training support is installed on demand here (the private environment)."""
        return not self.own

    def available(self) -> bool:
        """Whether training can start here now (cheap: nothing is imported or linked)."""
        return not missing_training_packages() if self.own else self.environment.ready()

    def command(self) -> TrainerCommand | None:
        """The trainer's command, or None when training support is not installed."""
        if self.own:
            if missing_training_packages():
                return None
            return TrainerCommand([sys.executable, "-m", WORKER], child_env())
        if self.environment.ready():
            return self.private_command()
        return None

    def private_command(self) -> TrainerCommand:
        """The trainer's command in the private environment, with ``src`` linked to the
        running app's modules (refreshed each time: an upgraded app trains with its own code).

        Raises FinetuneError when the app's own modules cannot be found.
        """
        env = self.environment
        env.src.mkdir(parents=True, exist_ok=True)
        for name in LINKED:
            spec = importlib.util.find_spec(name)
            locations = spec.submodule_search_locations if spec else None
            if not locations:
                raise FinetuneError(f"Folio's own {name} modules are missing: reinstall Folio.")
            link, tmp = env.src / name, env.src / f".{name}.{os.getpid()}"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(next(iter(locations)), target_is_directory=True)
            tmp.replace(link)  # atomic: a trainer starting now sees the old link or the new
        path = os.pathsep.join(filter(None, [str(env.src), os.environ.get("PYTHONPATH")]))
        # Compiled modules go to the data folder, never into the app's own (read-only, and
        # an uninstall would leave them behind).
        cache = str(env.folder / "pycache")
        return TrainerCommand(
            [str(env.python()), "-m", WORKER],
            child_env(PYTHONPATH=path, PYTHONPYCACHEPREFIX=cache),
        )

    def check(self) -> None:
        """FinetuneError saying how to install training support, when it is missing (cheap:
        nothing is linked or started)."""
        if not self.available():
            raise self.missing_error()

    def require(self) -> TrainerCommand:
        """The trainer's command; FinetuneError saying how to install training support."""
        command = self.command()
        if command is None:
            raise self.missing_error()
        return command

    def missing_message(self) -> str:
        """What is missing and how to add it, for this kind of install, naming no command."""
        return self.missing_error().message

    def missing_error(self) -> FinetuneError:
        """What is missing and how to add it, for this kind of install."""
        if self.offers_install and self.environment.outdated():
            return FinetuneError(
                "Training support was installed by another version of Folio: install it "
                "again, then try again.",
                cli="Training support was installed by another version of Folio: install it "
                "again (Install training support, or `folio-cli finetune install-training "
                "--yes`), then try again.",
            )
        if self.offers_install:
            needs = (
                "Training on this computer needs PyTorch, transformers and PEFT, which are not "
                "installed: install training support"
            )
            return FinetuneError(
                f"{needs}, then try again.",
                cli=f"{needs} from the studio's Train locally tab or with "
                "`folio-cli finetune install-training --yes`, then try again.",
            )
        missing = ", ".join(missing_training_packages())
        return FinetuneError(
            f"Training on this computer needs {missing}, which is not installed. Add it with "
            f"`{INSTALL_HINT}` (in Folio's own environment), then try again."
        )
