"""The private training environment the packaged app installs on demand.

The installers leave PyTorch, transformers and PEFT out (PyTorch alone is hundreds of MB), so
the packaged app installs them, when the person asks, into a private virtual environment in
the data folder, ``<data>/training/env``, made from a Python 3.11+ found on the computer
(Debian's ``python3-venv``; the .deb recommends it). ``runtime.py`` runs the trainer there.

pip does the installing: its resolver, its ``--dry-run --report`` for the plan and its
``--progress-bar raw`` for progress. What is Folio's own is the choice of PyTorch build
(CPU unless an NVIDIA GPU is present) and the all-or-nothing placement of the result: the
environment is built in ``env.partial`` and renamed into place once complete, so a cancel or a
crash never leaves a half-installed environment that looks ready.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import desktop
from desktop.core.errors import Cancelled, FinetuneError

MIN_PYTHON = (3, 11)  # pyproject.toml's requires-python
# The versions Folio's tests train with (the `train` extra's ranges, pinned).
TORCH_VERSION = "2.13.0"
PINNED = ("transformers==5.24.0", "peft==0.21.2", "gguf==0.19.0")
# What the training process imports besides the train extra: Folio's core (numpy,
# filelock, platformdirs) and llama_cpp for the adapter's check (its own requirements).
WORKER_NEEDS = ("numpy", "filelock", "platformdirs", "jinja2", "diskcache", "typing_extensions")
# PyTorch's own index for its CPU build; on PyPI, Linux's torch is the CUDA build (several
# GB with its nvidia-* packages). Used when it answers (pip retries an unreachable index for
# over a minute per package); FOLIO_TORCH_INDEX replaces it ("" for none: a mirror or a
# wheel folder in pip's own configuration).
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Installed size over download size, measured with the CPU build on Linux: 250 MB of wheels
# became 1.2 GB (docs/PERFORMANCE.md). Used to check free space before downloading.
DISK_PER_DOWNLOAD = 5.0
MARKER = "folio-training.json"
POLL_S = 0.2
_PROGRESS = re.compile(r"Progress (\d+) of (\d+)")
_FETCH = re.compile(r"(?:Downloading|Processing|Using cached) \S*?([^/\s]+?)-\d[^/\s]*\.whl")


@dataclass(frozen=True)
class Package:
    """One package the install will fetch: its download size in bytes (0 when unknown)."""

    name: str
    version: str
    size: int


@dataclass(frozen=True)
class InstallPlan:
    """What installing training support here takes, shown before anything is downloaded."""

    python: str  # the base interpreter's path
    build: str  # PyTorch's build: "cpu" or "cuda" (Linux), "default" (macOS, Windows)
    requirements: list[str]
    index: str  # PyTorch's index, added to pip's own ("" for none)
    packages: list[Package]
    download_bytes: int
    disk_bytes: int  # about, once installed (DISK_PER_DOWNLOAD)
    folder: str

    def as_dict(self) -> dict[str, object]:
        """The plan as JSON-ready data (``folio-cli finetune install-training``)."""
        return asdict(self)


@dataclass(frozen=True)
class InstallProgress:
    """A step of the install: ``phase`` is "download" (``done``/``total`` bytes over all
    packages) or "install" (unpacking, no byte count); ``package`` is the one being fetched."""

    phase: str
    done: int = 0
    total: int = 0
    package: str = ""


def bundled() -> bool:
    """Whether this is the packaged app (PyInstaller), which offers the private environment."""
    return bool(getattr(sys, "frozen", False))


def gpu_build() -> str:
    """The PyTorch build for this computer: "cuda" on Linux with an NVIDIA driver, "cpu" on
    other Linux, "default" on macOS (CPU and MPS) and Windows (CPU), whose PyPI wheels need
    no choice."""
    if not sys.platform.startswith("linux"):
        return "default"
    nvidia = Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi")
    return "cuda" if nvidia else "cpu"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for another Python: the packaged app's library path undone (its
    bootloader points LD_LIBRARY_PATH at the bundle, whose libraries would shadow the other
    Python's own; it keeps the original in LD_LIBRARY_PATH_ORIG), no PYTHONHOME, no user
    site-packages, and Hugging Face libraries told never to reach the network."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHOME"}
    if bundled():
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        env.pop("LD_LIBRARY_PATH", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONNOUSERSITE="1")
    env.update(extra)
    return env


def _python_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of ``python`` when it can make virtual environments, else None."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys, venv, ensurepip; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            env=child_env(),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


def find_base_python() -> str:
    """A Python 3.11+ that can make virtual environments: ``FOLIO_TRAINING_PYTHON`` when
    set, else the newest ``python3.X`` on PATH, else ``python3``.

    Raises FinetuneError saying how to add one (Debian and Ubuntu: ``python3-venv``).
    """
    chosen = os.environ.get("FOLIO_TRAINING_PYTHON")
    names = [chosen] if chosen else [f"python3.{minor}" for minor in range(14, 10, -1)]
    if not chosen:
        names += ["python3", "python"]
    for name in names:
        path = shutil.which(name) or (name if os.path.isabs(name) else None)
        version = _python_version(path) if path else None
        if version is not None and version >= MIN_PYTHON:
            return path  # type: ignore[return-value]  # path is set when version is
    wanted = ".".join(map(str, MIN_PYTHON))
    if chosen and not (shutil.which(chosen) or os.path.exists(chosen)):
        raise FinetuneError(
            f"FOLIO_TRAINING_PYTHON names {chosen}, which does not exist: point it at a "
            f"Python {wanted} or newer, or unset it to use the one on the PATH."
        )
    where = f"FOLIO_TRAINING_PYTHON ({chosen}) is not" if chosen else "No"
    raise FinetuneError(
        f"{where} a Python {wanted} or newer that can make virtual environments, which "
        "training support installs into. On Debian or Ubuntu: `sudo apt install python3-venv`; "
        "elsewhere install Python from python.org, then try again."
    )


def _size(url: str) -> int:
    """Bytes behind a download URL (a HEAD request, or the file's size); 0 when unknown."""
    parsed = urllib.parse.urlparse(url)
    try:
        if parsed.scheme == "file":
            return os.path.getsize(urllib.request.url2pathname(parsed.path))
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.headers.get("Content-Length") or 0)
    except (OSError, ValueError):
        return 0


def requirement_list(build: str) -> list[str]:
    """What pip installs for a PyTorch ``build`` (``gpu_build``): exact versions of the
    training stack, the CPU build as ``torch==X+cpu``."""
    torch = f"torch=={TORCH_VERSION}" + ("+cpu" if build == "cpu" else "")
    return [torch, *PINNED, *WORKER_NEEDS]


def _answers(url: str) -> bool:
    """Whether a server answers at ``url`` at all (any HTTP status), within a few seconds."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


class TrainingEnvironment:
    """The private training environment under ``<home>/training``: ``env`` (ready when its
    marker file exists), ``env.partial`` while installing, ``src`` (links to Folio's and
    llama_cpp's modules), ``install.log``."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "training"
        self.env = self.folder / "env"
        self.partial = self.folder / "env.partial"
        self.src = self.folder / "src"
        self.log = self.folder / "install.log"

    # State ------------------------------------------------------------------------------

    def python(self, env: Path | None = None) -> Path:
        """The environment's interpreter (``env`` or the finished one)."""
        env = env or self.env
        return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def ready(self) -> bool:
        """Whether a complete environment is installed, with the packages this Folio trains
        with (one installed for another version is ``outdated``, not ready)."""
        return self.python().exists() and self._current(self.installed())

    def outdated(self) -> bool:
        """Whether the installed environment holds other versions than this Folio's (it was
        installed by another version): it must be installed again."""
        record = self.installed()
        return bool(record) and self.python().exists() and not self._current(record)

    @staticmethod
    def _current(record: dict[str, object]) -> bool:
        build = str(record.get("build", ""))
        return bool(record) and record.get("requirements") == requirement_list(build)

    def installed(self) -> dict[str, object]:
        """The marker's record of the install (python, build, requirements, date); {} if none."""
        try:
            data = json.loads((self.env / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def remove_partial(self) -> None:
        """Delete an unfinished environment (a plan not taken up, an install cut short)."""
        shutil.rmtree(self.partial, ignore_errors=True)

    def remove(self) -> None:
        """Delete the environment (and any partial one): training support is gone until
        installed again."""
        for path in (self.partial, self.env, self.src):
            shutil.rmtree(path, ignore_errors=True)

    # Planning ---------------------------------------------------------------------------

    @staticmethod
    def requirements(build: str) -> tuple[list[str], str]:
        """(requirements, PyTorch's index or "") for a PyTorch ``build`` (``gpu_build``).

        The CPU build is ``torch==X+cpu``, from PyTorch's index when it answers, else from
        what pip's own configuration offers (a mirror, a wheel folder).
        """
        index = ""
        if build == "cpu":
            index = os.environ.get("FOLIO_TORCH_INDEX", PYTORCH_CPU_INDEX)
            if index and index == PYTORCH_CPU_INDEX and not _answers(index):
                index = ""
        return requirement_list(build), index

    def plan(self, cancelled: Callable[[], bool] = lambda: False) -> InstallPlan:
        """Resolve the install without doing it: makes ``env.partial`` (a bare virtual
        environment with a current pip, a few seconds) and asks pip what it would download.

        Raises FinetuneError (no usable Python, pip's own error, not enough free space) or
        Cancelled.
        """
        base = find_base_python()
        build = gpu_build()
        requirements, index = self.requirements(build)
        options = ["--extra-index-url", index] if index else []
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.partial, ignore_errors=True)
        report = self.folder / "plan.json"
        try:
            with self.log.open("w", encoding="utf-8") as log:
                venv = [base, "-m", "venv", "--upgrade-deps", str(self.partial)]
                self._run(venv, log, cancelled)
                self._run(
                    [str(self.python(self.partial)), "-m", "pip", "install", "--dry-run",
                     "--quiet", "--report", str(report), *options, *requirements],
                    log,
                    cancelled,
                )  # fmt: skip
            items = json.loads(report.read_text(encoding="utf-8"))["install"]
        except BaseException:
            self.remove_partial()  # a plan cut short leaves nothing behind
            raise
        finally:
            report.unlink(missing_ok=True)
        packages = [
            Package(
                i["metadata"]["name"], i["metadata"]["version"], _size(i["download_info"]["url"])
            )
            for i in items
        ]
        total = sum(p.size for p in packages)
        return InstallPlan(
            python=base,
            build=build,
            requirements=requirements,
            index=index,
            packages=sorted(packages, key=lambda p: -p.size),
            download_bytes=total,
            disk_bytes=int(total * DISK_PER_DOWNLOAD),
            folder=str(self.env),
        )

    # Installing -------------------------------------------------------------------------

    def install(
        self,
        plan: InstallPlan,
        progress: Callable[[InstallProgress], None] = lambda p: None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Download and install the plan's packages into ``env.partial``, then put it in
        place as ``env``. ``progress`` gets InstallProgress as pip reports it.

        Raises Cancelled (the partial environment is deleted, an installed one kept), or
        FinetuneError (not enough free space, pip's error with the log's path).
        """
        free = shutil.disk_usage(self.folder).free if self.folder.exists() else 0
        if free and free < plan.disk_bytes:
            raise FinetuneError(
                f"Training support needs about {plan.disk_bytes / 1e9:.1f} GB in "
                f"{self.folder}, which has {free / 1e9:.1f} GB free: free some space, "
                "then try again."
            )
        if not self.python(self.partial).exists():
            self.plan(cancelled)  # the plan was made elsewhere, or its folder is gone
        options = ["--extra-index-url", plan.index] if plan.index else []
        command = [
            str(self.python(self.partial)), "-m", "pip", "install",
            "--progress-bar", "raw", *options, *plan.requirements,
        ]  # fmt: skip
        meter = DownloadMeter(plan, progress)
        try:
            with self.log.open("a", encoding="utf-8") as log:
                self._run(command, log, cancelled, meter.line)
            marker = {
                "python": plan.python,
                "build": plan.build,
                "requirements": plan.requirements,
                "installed_at": time.time(),
                "folio": desktop.__version__,
            }
            (self.partial / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
            old = self.folder / "env.old"
            shutil.rmtree(old, ignore_errors=True)
            if self.env.exists():
                self.env.rename(old)
            self.partial.rename(self.env)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(self.partial, ignore_errors=True)
            raise

    def _run(
        self,
        command: list[str],
        log: object,
        cancelled: Callable[[], bool],
        on_line: Callable[[str], None] = lambda line: None,
    ) -> None:
        """Run ``command`` with its output in the log (and, line by line, in ``on_line``);
        stopped within POLL_S of ``cancelled()``. Raises Cancelled or FinetuneError."""
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child_env(PYTHONUNBUFFERED="1", PIP_NO_INPUT="1"),
            start_new_session=True,  # stop pip and anything it started together
        )
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        buffer = b""
        last: list[str] = []
        while True:
            if cancelled():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait()
                raise Cancelled("Installing training support was cancelled.")
            chunk = process.stdout.read() or b""
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip()
                print(line, file=log)  # type: ignore[call-overload]
                if line.strip():
                    last.append(line)
                    del last[:-20]
                on_line(line)
            if not chunk and process.poll() is not None:
                break
            if not chunk:
                time.sleep(POLL_S)
        if process.returncode != 0:
            errors = [line for line in last if line.startswith("ERROR")] or last[-1:]
            reason = errors[-1] if errors else f"exit status {process.returncode}"
            raise FinetuneError(
                f"Installing training support failed: {reason} (the whole output is in {self.log})."
            )


class DownloadMeter:
    """Turns pip's output (``--progress-bar raw``) into InstallProgress over the whole plan:
    a "Downloading"/"Processing" line starts a package (the one before it counts as done), a
    "Progress N of M" line moves within it."""

    def __init__(self, plan: InstallPlan, progress: Callable[[InstallProgress], None]) -> None:
        self.sizes = {_canonical(p.name): p.size for p in plan.packages}
        self.total = plan.download_bytes
        self.progress = progress
        self.done = self.current = 0
        self.package = ""

    def line(self, line: str) -> None:
        """Take one line of pip's output."""
        if match := _PROGRESS.search(line):
            self.current = int(match.group(1))
        elif match := _FETCH.search(line):
            self.done += self.sizes.get(self.package, 0)
            self.package, self.current = _canonical(match.group(1)), 0
        elif line.startswith("Installing collected packages"):
            self.progress(InstallProgress("install", self.total, self.total))
            return
        else:
            return
        done = min(self.done + self.current, self.total)
        self.progress(InstallProgress("download", done, self.total, self.package))


def _canonical(name: str) -> str:
    """A package name as PEP 503 compares them (``Jinja2`` = ``jinja2``, ``a_b`` = ``a-b``)."""
    return re.sub(r"[-_.]+", "-", name).lower()
