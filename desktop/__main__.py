"""``python -m desktop`` and the ``folio`` command: the window."""

from __future__ import annotations

import sys

from desktop.app import run_window
from desktop.cli import answer


def main() -> int:
    # The window answers read-only folio-cli commands while it has the library open.
    return run_window(answer=answer)


if __name__ == "__main__":
    sys.exit(main())
