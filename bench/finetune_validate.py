"""Validating a training file: Folio's checks against bare parsing and token counting.

The training data is real: every prompt/response file of the ``moodswapper`` package
(4,419 pairs), repeated with a numbered prompt until the file holds ``--examples`` lines so
no two are duplicates. Each round times, in alternating order:

- ``validate_file`` (read and convert each line, shape/role/order/empty checks, tiktoken
  counts per message, limits, duplicates, cost), and
- the floor under it: ``json.loads`` per line and ``encode_ordinary`` of the same texts
  with the same encoding, nothing else.

Medians are reported, with the overhead of Folio's checks over the floor. The whole
``folio-cli finetune validate`` process on the moodswapper files (imports included) is
timed too, as a person running it would see it.

    .venv/bin/python bench/finetune_validate.py [--json] [--examples 20000] [--rounds 5]
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.finetune.pricing import DEFAULT_BASE, base_model  # noqa: E402
from desktop.core.finetune.validate import token_encoding, validate_file  # noqa: E402


def moodswapper_files() -> list[Path]:
    """The package's JSONL files (installed with --no-deps by the Makefile)."""
    spec = importlib.util.find_spec("moodswapper")
    if spec is None or spec.origin is None:
        sys.exit("moodswapper is not installed: run `make .venv/bin/.installed`.")
    return sorted((Path(spec.origin).parent / "data").glob("*.jsonl"))


def build_file(target: Path, examples: int) -> Path:
    """``examples`` distinct prompt/response lines made from moodswapper's files."""
    records = [
        json.loads(line)
        for path in moodswapper_files()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with target.open("w", encoding="utf-8") as out:
        for n in range(examples):
            record = dict(records[n % len(records)])
            if n >= len(records):
                record["prompt"] = f"{record['prompt']} ({n // len(records)})"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return target


def floor(path: Path, encoding_name: str) -> int:
    """Parse every line and count its texts' tokens: the least any validator must do."""
    encoding = token_encoding(encoding_name)
    tokens = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            for key in ("prompt", "response"):
                tokens += len(encoding.encode_ordinary(record[key]))
    return tokens


def cli_seconds(files: list[Path]) -> list[float]:
    """Wall time of ``folio-cli finetune validate FILE``, one process per file."""
    times = []
    for path in files:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "desktop.cli", "finetune", "validate", str(path)],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return times


def run(examples: int, rounds: int) -> dict[str, Any]:
    model = base_model(DEFAULT_BASE)
    assert model is not None
    with tempfile.TemporaryDirectory() as tmp:
        path = build_file(Path(tmp) / "train.jsonl", examples)
        size_mb = path.stat().st_size / 1e6
        report = validate_file(path)  # warm: the encoding is loaded once per process
        floor(path, model.encoding)
        folio_s: list[float] = []
        floor_s: list[float] = []
        for round_ in range(rounds):
            order = [("folio", folio_s), ("floor", floor_s)]
            for name, times in order if round_ % 2 == 0 else reversed(order):
                started = time.perf_counter()
                if name == "folio":
                    validate_file(path)
                else:
                    floor(path, model.encoding)
                times.append(time.perf_counter() - started)
    moods = moodswapper_files()
    cli = cli_seconds(moods)
    folio, bare = statistics.median(folio_s), statistics.median(floor_s)
    return {
        "examples": report.examples,
        "tokens": report.tokens,
        "file_mb": round(size_mb, 1),
        "ok": report.ok,
        "folio_s": round(folio, 3),
        "floor_s": round(bare, 3),
        "examples_per_s": round(report.examples / folio),
        "overhead": round(folio / bare - 1, 3),
        "cli_files": len(moods),
        "cli_median_s": round(statistics.median(cli), 2),
        "cli_max_s": round(max(cli), 2),
    }


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = run(args.examples, args.rounds)

    def human(r: dict[str, Any]) -> None:
        print(
            f"validate {r['examples']:,} examples ({r['tokens']:,} tokens, {r['file_mb']} MB): "
            f"{r['folio_s']} s ({r['examples_per_s']:,} examples/s); parse + count alone "
            f"{r['floor_s']} s; overhead {r['overhead']:.0%}"
        )
        print(
            f"folio-cli finetune validate on {r['cli_files']} moodswapper files: median "
            f"{r['cli_median_s']} s, slowest {r['cli_max_s']} s (whole process)"
        )

    benchlib.emit(result, args.json, human)


if __name__ == "__main__":
    main()
