"""Whether the optional training packages (the ``folio[train]`` extra) are installed.

Only looked up, never imported here: PyTorch alone takes seconds to import, and the window
asks this on every start.
"""

from __future__ import annotations

import importlib.util

from desktop.core.errors import FinetuneError

# The import names of the ``train`` extra in pyproject.toml.
TRAINING_PACKAGES = ("torch", "transformers", "peft", "gguf")
INSTALL_HINT = "pip install 'folio[train]'"


def missing_training_packages() -> list[str]:
    """The training packages that are not importable, in ``TRAINING_PACKAGES`` order."""
    return [name for name in TRAINING_PACKAGES if importlib.util.find_spec(name) is None]


def require_training() -> None:
    """Raises FinetuneError naming the missing packages and how to add them."""
    missing = missing_training_packages()
    if missing:
        raise FinetuneError(
            f"Training on this computer needs {', '.join(missing)}, which is not installed. "
            f"Add it with `{INSTALL_HINT}` (in Folio's own environment), then try again."
        )
