"""What every benchmark script shares: the ``--json`` switch and how results are printed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the script's first docstring line, with ``--json``."""
    made = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    made.add_argument("--json", action="store_true", help="print one JSON document")
    return made


def emit(result: dict[str, Any], as_json: bool, print_human: Callable[[Any], None]) -> None:
    """One JSON document on stdout, or the human-readable report."""
    if as_json:
        print(json.dumps(result))
    else:
        print_human(result)
