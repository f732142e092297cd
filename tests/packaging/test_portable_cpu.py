"""The build refuses a llama.cpp compiled for the build machine instead of any AVX2 CPU."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
from portable_cpu import check_llama_portable

# A loop compilers vectorise with the widest registers the target allows.
KERNEL = """
void scale(float *restrict out, const float *restrict in, float k, int n) {
    for (int i = 0; i < n; i++) out[i] = in[i] * k + out[i];
}
"""

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("objdump")), reason="needs gcc and objdump"
)


def _bundle_with(tmp_path: Path, *flags: str) -> Path:
    """A bundle whose llama_cpp/lib holds a real shared library built with ``flags``."""
    source = tmp_path / "kernel.c"
    source.write_text(KERNEL)
    lib = tmp_path / "bundle" / "_internal" / "llama_cpp" / "lib" / "libggml-cpu.so"
    lib.parent.mkdir(parents=True)
    subprocess.run(
        ["gcc", "-O3", "-shared", "-fPIC", *flags, "-o", str(lib), str(source)], check=True
    )
    return tmp_path / "bundle"


def test_an_avx2_build_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_llama_portable(_bundle_with(tmp_path, "-mavx2", "-mfma"))
    assert "nothing beyond AVX2" in capsys.readouterr().out


def test_an_avx512_build_is_refused(tmp_path: Path) -> None:
    bundle = _bundle_with(tmp_path, "-mavx512f", "-mprefer-vector-width=512")
    with pytest.raises(SystemExit, match=r"libggml-cpu\.so uses .*zmm.*beyond AVX2"):
        check_llama_portable(bundle)


def test_a_bundle_without_llama_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    with pytest.raises(SystemExit, match=r"No llama\.cpp library"):
        check_llama_portable(tmp_path / "bundle")


def test_a_build_without_objdump_stops_instead_of_skipping_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle_with(tmp_path, "-mavx2", "-mfma")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(SystemExit, match=r"objdump not found.*install binutils"):
        check_llama_portable(bundle)
