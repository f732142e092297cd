"""``python -m desktop`` and the ``folio`` command: the window."""

from __future__ import annotations

import sys

from desktop.app import run_window


def main() -> int:
    return run_window()


if __name__ == "__main__":
    sys.exit(main())
