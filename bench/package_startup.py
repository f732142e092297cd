"""Size of the installers and start-up time of the packaged app (cold and warm).

Run after ``make package``; it measures the bundle in ``dist/folio`` (the same files the
.deb puts in ``/opt/folio``), or an installed copy with ``--bin /usr/bin``.

- ``folio-cli --version``: median of several runs.
- Time to window: from launch until the X server shows Folio's main window (Xvfb,
  xdotool). A *cold* start follows ``echo 3 > /proc/sys/vm/drop_caches`` (root only;
  otherwise it is reported as not measured), as after a reboot; a *warm* one follows another
  start, as when a user reopens Folio.

    .venv/bin/python bench/package_startup.py [--json] [--bin DIR] [--runs N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from smoke_test import Xvfb, clean_env, wait_for_window  # noqa: E402


def drop_caches() -> bool:
    """Empty the page cache so the next start reads every file from disk."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def time_to_window(gui: Path, home: Path, env: dict[str, str]) -> float:
    errors = home.with_name("folio-stderr.txt")  # shown if folio exits before its window
    with errors.open("wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen([str(gui), "--home", str(home)], env=env, stderr=stderr)
        try:
            wait_for_window(env, proc, errors)
            return time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def cli_version_seconds(cli: Path, env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(cli), "--version"], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sizes() -> dict[str, float]:
    dist = ROOT / "dist"
    found = {p.name: p.stat().st_size / 2**20 for p in sorted(dist.glob("folio*.*"))}
    bundle = dist / "folio"
    if bundle.is_dir():
        total = sum(p.lstat().st_size for p in bundle.rglob("*"))
        found["bundle (installed size)"] = total / 2**20
    return {name: round(mb, 1) for name, mb in found.items()}


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--bin", type=Path, default=ROOT / "dist" / "folio")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    gui, cli = args.bin / "folio", args.bin / "folio-cli"

    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(Path(tmp))
        result: dict[str, Any] = {
            "sizes_mb": sizes(),
            "cli_version_s": round(cli_version_seconds(cli, env, args.runs), 3),
        }
        with Xvfb() as display:
            env = {**env, "DISPLAY": display}
            home = Path(tmp) / "home"
            time_to_window(gui, home, env)  # first start creates the data folder
            cold = []
            for _ in range(args.runs):
                if not drop_caches():
                    break
                cold.append(time_to_window(gui, home, env))
            warm = [time_to_window(gui, home, env) for _ in range(args.runs)]
        result["window_cold_s"] = round(statistics.median(cold), 2) if cold else None
        result["window_warm_s"] = round(statistics.median(warm), 2)
        result["runs"] = args.runs

    def human(r: dict[str, Any]) -> None:
        for name, mb in r["sizes_mb"].items():
            print(f"{name:40} {mb:8.1f} MB")
        print(f"{'folio-cli --version (median)':40} {r['cli_version_s']:8.3f} s")
        cold = "not measured (needs root)" if r["window_cold_s"] is None else r["window_cold_s"]
        print(f"{'time to window, cold (median)':40} {cold:>8} s")
        print(f"{'time to window, warm (median)':40} {r['window_warm_s']:8.2f} s")

    benchlib.emit(result, args.json, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
