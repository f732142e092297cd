"""``python -m desktop`` and the ``folio`` command: the window arrives with the UI; until then,
a pointer to the command-line face."""

from __future__ import annotations

import sys


def main() -> int:
    print(
        "The Folio window is not part of this build yet; use `folio-cli --help`.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
