"""``folio-cli``'s entry point: Ctrl+C while folio-cli's modules load (about a second of
LlamaIndex, pydantic and Qdrant's client) ends with exit 130 and one line, as it does
once a command runs, not with a traceback of the import under way.

It lives outside ``desktop.cli`` because importing anything in that package runs the
package's own imports first.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it (folio-cli's contract)


def main() -> int:
    """Load folio-cli and run ``sys.argv``'s command line; its exit code."""
    try:
        from desktop.cli import main as run  # imported here: the loading is what is guarded

        return run()
    except KeyboardInterrupt:
        print("folio-cli: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
