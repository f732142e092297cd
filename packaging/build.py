"""Build Folio's installers into ``dist/``: the PyInstaller bundle, then this platform's packages.

    python packaging/build.py                 # bundle, then installers
    python packaging/build.py --reuse-bundle  # keep dist/folio, re-make the installers

Linux gives ``folio_<version>_amd64.deb`` and ``folio-<version>-linux-x86_64.tar.gz``;
Windows ``Folio-Setup-<version>.exe`` (Inno Setup's ``iscc``, from ``$ISCC`` or the PATH);
macOS ``Folio-<version>.dmg``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE = DIST / "folio"
sys.path.insert(0, str(ROOT / "packaging"))

from linux_deb import build_deb  # noqa: E402
from portable_cpu import check_llama_portable  # noqa: E402


def project_version() -> str:
    """The one version number, from ``pyproject.toml``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def run(*cmd: str | Path, **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)  # type: ignore[call-overload]


def build_bundle() -> None:
    """``dist/folio/`` (and ``dist/Folio.app`` on macOS) from ``packaging/folio.spec``."""
    run(
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level=WARN",
        "--distpath",
        DIST,
        "--workpath",
        BUILD / "pyinstaller",
        ROOT / "packaging" / "folio.spec",
        env={**os.environ, "FOLIO_MODELS_BUILD": str(BUILD / "models")},
    )


def build_tarball(version: str) -> Path:
    """The portable Linux archive: the bundle as ``folio-<version>/``, unpack and run."""
    target = DIST / f"folio-{version}-linux-x86_64.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(BUNDLE, arcname=f"folio-{version}")
    return target


def build_windows_installer(version: str) -> Path:
    iscc = os.environ.get("ISCC") or shutil.which("iscc") or shutil.which("ISCC")
    if not iscc:
        raise SystemExit("Inno Setup's iscc was not found: install Inno Setup 6 or set $ISCC.")
    run(
        iscc,
        f"/DAppVersion={version}",
        f"/DSourceDir={BUNDLE}",
        f"/DOutputDir={DIST}",
        f"/DIconFile={ROOT / 'resources' / 'icons' / 'folio.ico'}",
        ROOT / "packaging" / "windows" / "folio.iss",
    )
    return DIST / f"Folio-Setup-{version}.exe"


def build_dmg(version: str) -> Path:
    target = DIST / f"Folio-{version}.dmg"
    run("bash", ROOT / "packaging" / "macos" / "make_dmg.sh", version, DIST / "Folio.app", target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reuse-bundle", action="store_true", help="keep dist/folio, only re-make installers"
    )
    args = parser.parse_args(argv)
    version = project_version()
    started = time.monotonic()
    if not args.reuse_bundle or not BUNDLE.is_dir():
        build_bundle()
    if platform.machine().lower() in ("x86_64", "amd64"):
        check_llama_portable(BUNDLE)

    if sys.platform.startswith("linux"):
        outputs = [build_deb(BUNDLE, version, ROOT, DIST, BUILD), build_tarball(version)]
    elif sys.platform == "win32":
        outputs = [build_windows_installer(version)]
    elif sys.platform == "darwin":
        outputs = [build_dmg(version)]
    else:
        raise SystemExit(f"No installer is made for {sys.platform}.")

    print(f"Built in {time.monotonic() - started:.0f} s:")
    for out in outputs:
        print(f"  {out.relative_to(ROOT)}  {out.stat().st_size / 2**20:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
