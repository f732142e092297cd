"""Refuse to package a llama.cpp built for the build machine's CPU instead of any AVX2 CPU.

llama-cpp-python compiles with ``-march=native`` unless told otherwise, and a library with
AVX-512 or AMX instructions crashes with SIGILL on most users' computers. The Makefile and
the release workflow set ``CMAKE_ARGS`` for a portable build; this check proves it worked by
disassembling the bundled libraries.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

# Registers only AVX-512 (zmm, mask k0-k7) and AMX (tile instructions) code can use.
_BEYOND_AVX2 = re.compile(r"%zmm\d|%k[0-7]\b|\btile(?:zero|loadd|stored|release|cfg)|\btdpb")


def _llama_libraries(bundle: Path) -> list[Path]:
    found = [p for p in bundle.rglob("*") if p.is_file() and "llama_cpp" in p.parts]
    return [p for p in found if p.suffix in (".so", ".dll", ".dylib") or ".so." in p.name]


def check_llama_portable(bundle: Path) -> None:
    """Raise SystemExit if a bundled llama.cpp library uses instructions beyond AVX2."""
    objdump = shutil.which("objdump")
    if objdump is None:
        raise SystemExit(
            "objdump not found, so the bundled llama.cpp cannot be checked for instructions "
            "beyond AVX2: install binutils (Debian: apt-get install binutils; Windows: MSYS2's "
            "binutils) and build again."
        )
    libraries = _llama_libraries(bundle)
    if not libraries:
        raise SystemExit(f"No llama.cpp library found under {bundle}.")
    for lib in libraries:
        listing = subprocess.run(
            [objdump, "-d", "--no-show-raw-insn", str(lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        match = _BEYOND_AVX2.search(listing)
        if match:
            raise SystemExit(
                f"{lib.name} uses {match.group(0)!r}, an instruction beyond AVX2: rebuild "
                "llama-cpp-python with the CMAKE_ARGS from the Makefile."
            )
    print(f"llama.cpp: {len(libraries)} libraries use nothing beyond AVX2.")
