"""Installing training support on demand, as the packaged app does: plan, install, size.

Times ``TrainingEnvironment.plan`` (a new virtual environment with a current pip, pip's
dry-run report, the download sizes) and ``install`` (pip downloading and unpacking into the
private environment), in a new temporary data folder, and reports the planned download, the
size on disk afterwards and their ratio (the ``DISK_PER_DOWNLOAD`` the free-space check
uses). Where the PyTorch index cannot be reached, pip takes the CPU build from its own
configuration (here, this machine's wheel folder), so the download time is a floor: on a
network, add the download at its speed.

    .venv/bin/python bench/training_install.py [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.finetune.local.environment import (  # noqa: E402
    DISK_PER_DOWNLOAD,
    InstallProgress,
    TrainingEnvironment,
)


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed)."""
    return sum(
        (Path(root) / name).lstat().st_size for root, _, names in os.walk(path) for name in names
    )


def measure(home: Path) -> dict[str, float | int | str]:
    """Plan and install into ``home``; the figures."""
    environment = TrainingEnvironment(home)
    started = time.perf_counter()
    plan = environment.plan()
    planned = time.perf_counter() - started
    events: list[InstallProgress] = []
    started = time.perf_counter()
    environment.install(plan, events.append)
    installed = time.perf_counter() - started
    size = folder_size(environment.env)
    return {
        "build": plan.build,
        "packages": len(plan.packages),
        "download_mb": round(plan.download_bytes / 1e6, 1),
        "torch_mb": round(plan.packages[0].size / 1e6, 1),
        "installed_mb": round(size / 1e6, 1),
        "installed_per_download": round(size / plan.download_bytes, 2),
        "planned_disk_per_download": DISK_PER_DOWNLOAD,
        "plan_s": round(planned, 1),
        "install_s": round(installed, 1),
        "progress_events": len(events),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="install here and keep it")
    args = parser.parse_args()
    if args.keep:
        result = measure(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="folio-training-") as tmp:
            result = measure(Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
