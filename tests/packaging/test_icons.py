"""The committed icons are the ones the SVG source renders to, within a renderer's variance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import make_icons  # noqa: E402

SOURCE = make_icons.SVG.read_text()


def test_generated_icons_match_the_svg() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "make_icons.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "old, new",
    [
        ("#FFB444", "#44B4FF"),  # the chat bubble in another colour
        ("#2456A6", "#2466A6"),  # the tile's gradient a shade greener
        ('<rect x="64" y="160" width="32"', '<rect x="64" y="168" width="32"'),  # a line moved
    ],
)
def test_a_stale_icon_is_caught_at_every_size(tmp_path: Path, old: str, new: str) -> None:
    assert old in SOURCE
    svg = tmp_path / "changed.svg"
    svg.write_text(SOURCE.replace(old, new))
    problems = make_icons.check(make_icons.render_all(svg))
    assert [p.split(":")[0] for p in problems] == [
        f"png/folio-{size}.png" for size in make_icons.PNG_SIZES
    ]
    assert all("differ from a fresh render" in p for p in problems)


@pytest.mark.parametrize("levels", [1, 2, make_icons.LEVELS])
def test_antialiasing_off_by_a_few_levels_everywhere_still_matches(levels: int) -> None:
    # Another CPU or Qt patch version moves edge pixels by a level or two; here every channel
    # of every pixel is moved, the worst case of that kind.
    images = {
        size: image.point(lambda v: min(v + levels, 255))
        for size, image in make_icons.render_all().items()
    }
    assert make_icons.check(images) == []


def test_changed_share_counts_pixels_with_a_channel_past_the_tolerance() -> None:
    old = Image.new("RGBA", (10, 10), (100, 100, 100, 255))
    new = old.copy()
    for x in range(3):
        new.putpixel((x, 0), (100, 100 + make_icons.LEVELS + 1, 100, 255))
    new.putpixel((5, 5), (100 + make_icons.LEVELS, 100, 100, 255))  # at the tolerance: same
    assert make_icons.changed_share(old, new) == pytest.approx(0.03)


def test_rendering_icons_leaves_a_process_that_can_still_build_widgets() -> None:
    # The test run renders icons and then opens windows in one process: Qt's one
    # application object must be able to hold widgets, or the first window aborts.
    code = (
        "import sys; sys.path.insert(0, 'packaging'); import make_icons\n"
        "make_icons.render_all()\n"
        "from PySide6.QtWidgets import QWidget; QWidget()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
