"""The Debian package: the bundle in ``/opt/folio``, commands, desktop entry and icons.

``Depends`` is worked out from the bundle itself: every shared library its programs load
from the system (rather than from the bundle) is traced to the Debian package that owns it,
and ``libc6`` gets the highest glibc symbol version the binaries ask for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "linux"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
COMMANDS = ("folio", "folio-cli")
# Plugins Qt loads only when their libraries are present (EGL device integrations for
# kiosks): their libraries are not made dependencies.
OPTIONAL_PLUGINS = ("egldeviceintegrations/",)
_LDD_LINE = re.compile(r"^\s*(\S+) => (not found|\S+)")
_GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)")


def _elf_files(bundle: Path) -> list[Path]:
    elfs = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    elfs.append(path)
    return sorted(elfs)


def _system_libraries(bundle: Path, elfs: list[Path]) -> tuple[set[str], set[str]]:
    """Libraries resolved outside the bundle, and those not found at all."""
    # The bootloader puts the bundle's folders first on the search path; so does this.
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(sorted({str(e.parent) for e in elfs}))}
    system: set[str] = set()
    missing: set[str] = set()
    for elf in elfs:
        if any(part in elf.as_posix() for part in OPTIONAL_PLUGINS):
            continue
        out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            match = _LDD_LINE.match(line)
            if not match:
                continue
            name, where = match.groups()
            if where == "not found":
                missing.add(f"{name} (needed by {elf.relative_to(bundle)})")
            elif not Path(where).resolve().is_relative_to(bundle.resolve()):
                system.add(where)
    return system, missing


def _owning_packages(paths: set[str]) -> set[str]:
    """Debian packages owning ``paths``, allowing for merged /usr."""
    candidates: dict[str, list[str]] = {}
    for path in paths:
        real = os.path.realpath(path)
        variants = [path, real]
        for p in (path, real):
            variants.append(p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p)
        candidates[path] = list(dict.fromkeys(variants))
    every = sorted({v for vs in candidates.values() for v in vs})
    out = subprocess.run(["dpkg", "-S", *every], capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        package, _, owned = line.partition(": ")
        owner[owned.strip()] = package.split(":")[0].split(",")[0].strip()
    packages = set()
    for path, variants in candidates.items():
        found = next((owner[v] for v in variants if v in owner), None)
        if found is None:
            raise SystemExit(f"No Debian package owns {path}, which the bundle loads.")
        packages.add(found)
    return packages


def _glibc_needed(elfs: list[Path]) -> str:
    """The highest ``GLIBC_x.y`` symbol version any bundled binary asks for."""
    best = (2, 17)
    for elf in elfs:
        out = subprocess.run(["objdump", "-T", str(elf)], capture_output=True, text=True).stdout
        for major, minor in _GLIBC.findall(out):
            best = max(best, (int(major), int(minor)))
    return f"{best[0]}.{best[1]}"


def depends(bundle: Path) -> str:
    """The ``Depends`` field for the bundle, from what it loads off this system."""
    elfs = _elf_files(bundle)
    system, missing = _system_libraries(bundle, elfs)
    if missing:
        raise SystemExit(
            "The bundle needs libraries this machine lacks, so its dependencies cannot be "
            "worked out; install them and build again:\n  " + "\n  ".join(sorted(missing))
        )
    packages = _owning_packages(system) - {"libc6"}
    return ", ".join([f"libc6 (>= {_glibc_needed(elfs)})", *sorted(packages)])


def _normalise_modes(root: Path) -> None:
    """Everything owned by root, readable by all, writable by root only."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or os.access(path, os.X_OK)
        path.chmod(0o755 if executable else 0o644)


def build_deb(bundle: Path, version: str, root: Path, dist: Path, build: Path) -> Path:
    """``dist/folio_<version>_amd64.deb`` from the bundle at ``bundle``."""
    stage = build / "deb" / "folio"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "folio", symlinks=True)

    bin_dir = stage / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    for command in COMMANDS:
        (bin_dir / command).symlink_to(f"/opt/folio/{command}")

    share = stage / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(TEMPLATES / "folio.desktop", share / "applications" / "folio.desktop")
    icons = root / "resources" / "icons"
    for size in ICON_SIZES:
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copyfile(icons / "png" / f"folio-{size}.png", target / "folio.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copyfile(icons / "folio.svg", scalable / "folio.svg")
    (share / "doc" / "folio").mkdir(parents=True)
    shutil.copyfile(TEMPLATES / "copyright", share / "doc" / "folio" / "copyright")

    installed_kib = sum(p.lstat().st_size for p in stage.rglob("*")) // 1024
    control = (TEMPLATES / "control").read_text(encoding="utf-8")
    control = control.format(version=version, installed_size=installed_kib, depends=depends(bundle))
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    _normalise_modes(stage)

    target = dist / f"folio_{version}_amd64.deb"
    # zstd -19 is within 3% of xz -6 in size (the models barely compress) in well under half
    # the time; every dpkg new enough for the bundle's glibc reads it.
    threads = f"--threads-max={os.cpu_count() or 1}"  # 0 would mean one thread
    compress = ["-Zzstd", "-z19", threads]
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", *compress, "--build", str(stage), str(target)],
        check=True,
    )
    return target
