"""What a ``.folioignore`` costs a run, behind its two limits (``walk.MAX_PATTERN_CHARS``
and ``walk.MAX_IGNORE_FILE_BYTES``).

1. Compiling one pattern (pathspec's ``GitIgnoreSpec``, twice as ``walk`` does: once to
   check the line, once in the spec) against its length, in characters, up to past the
   limit. pathspec's translation grows faster than the length.
2. Matching one path against a spec of N ordinary patterns (``name/*.tmp``), per file, for
   N up to the number a file at the byte limit holds, and the compile time of that spec.

    .venv/bin/python bench/ignore_patterns.py [--json]
"""

from __future__ import annotations

import json
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.library.walk import (
    MAX_IGNORE_FILE_BYTES,
    MAX_PATTERN_CHARS,
    compile_ignore,
    ignore_pattern_problem,
)

LENGTHS = (1_000, MAX_PATTERN_CHARS, 40_000, 160_000, 640_000)
COUNTS = (100, 1_000, 5_000, 20_000)
PATHS = 2_000


def _compile_seconds(length: int) -> float:
    """Seconds to check and compile one pattern of ``length`` characters, limit aside."""
    pattern = "x" * length
    started = time.perf_counter()
    ignore_pattern_problem(pattern[:MAX_PATTERN_CHARS])  # the check's own cost at the limit
    from pathspec import GitIgnoreSpec

    GitIgnoreSpec.from_lines([pattern])
    GitIgnoreSpec.from_lines([pattern])
    return time.perf_counter() - started


def _spec_costs(count: int) -> dict[str, float]:
    """Compile seconds and matching ms per path for ``count`` ordinary patterns."""
    rng = random.Random(count)
    lines = ["".join(rng.choices(string.ascii_lowercase, k=12)) + "/*.tmp" for _ in range(count)]
    started = time.perf_counter()
    spec, problems = compile_ignore(lines)
    compiled = time.perf_counter() - started
    assert not problems
    started = time.perf_counter()
    for i in range(PATHS):
        spec.match_file(f"reports/2026/file{i}.md")
    per_path = (time.perf_counter() - started) / PATHS
    return {
        "patterns": count,
        "bytes": sum(len(line) + 1 for line in lines),
        "compile_s": round(compiled, 3),
        "match_ms_per_path": round(per_path * 1000, 4),
    }


def main() -> None:
    lengths = [{"chars": n, "compile_s": round(_compile_seconds(n), 3)} for n in LENGTHS]
    specs = [_spec_costs(n) for n in COUNTS]
    result = {
        "limits": {"pattern_chars": MAX_PATTERN_CHARS, "file_bytes": MAX_IGNORE_FILE_BYTES},
        "one_pattern": lengths,
        "many_patterns": specs,
    }
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    print(f"limits: {MAX_PATTERN_CHARS:,} characters a pattern, {MAX_IGNORE_FILE_BYTES:,} bytes")
    print("one pattern: characters -> seconds to check and compile")
    for row in lengths:
        print(f"  {row['chars']:>9,}  {row['compile_s']:8.3f} s")
    print("ordinary patterns: count (bytes) -> compile s, ms per path matched")
    for row in specs:
        print(
            f"  {row['patterns']:>7,} ({row['bytes']:>9,} B)  {row['compile_s']:7.3f} s"
            f"  {row['match_ms_per_path']:8.4f} ms"
        )


if __name__ == "__main__":
    main()
