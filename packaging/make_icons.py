"""Render Folio's app icon (resources/icons/folio.svg) to PNG, ICO and ICNS.

Usage:
    python packaging/make_icons.py           # (re)write resources/icons/{png/,folio.ico,folio.icns}
    python packaging/make_icons.py --check   # exit 1 if the committed PNGs are missing or stale

Needs PySide6 (QtSvg) and Pillow; runs headless.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageStat
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
ICON_DIR = ROOT / "resources" / "icons"
SVG = ICON_DIR / "folio.svg"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Pillow writes the ICNS types ic07-ic14, i.e. 32, 64, 128, 256, 512 and 1024 px images
# (16 px is not a type it writes; macOS scales down the 32 px one).
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)

# How far a fresh render may be from the committed PNG and still count as the same icon.
# Qt's software rasteriser takes different CPU code paths on different machines and Qt patch
# versions, which moves antialiased edge pixels by a level or two of 255: a pixel counts as
# changed only when one of its channels is off by more than LEVELS. A stale icon changes whole
# areas: measured here, moving the smallest text line by 8 of 256 units changes 0.78-1.6% of
# the pixels at every size and recolouring the bubble 12-14%, so a size is stale when more
# than SHARE of its pixels changed.
LEVELS = 8
SHARE = 0.005


def _ensure_app() -> QGuiApplication:
    """Return the running Qt application, creating an offscreen one if there is none.

    A ``QApplication``, not a bare ``QGuiApplication``: Qt keeps one application object per
    process, and a widget built later in the same process (the window, in a test run) aborts
    the process if that object cannot hold widgets.
    """
    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([sys.argv[0]])
    assert isinstance(app, QGuiApplication)
    return app


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    """Render the SVG to a transparent, antialiased size x size RGBA Pillow image."""
    qimg = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    qimg.fill(Qt.GlobalColor.transparent)
    painter = QPainter(qimg)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    rgba = qimg.convertToFormat(QImage.Format.Format_RGBA8888)
    data = bytes(rgba.constBits())
    return Image.frombuffer("RGBA", (size, size), data, "raw", "RGBA", rgba.bytesPerLine(), 1)


def render_all(svg: Path = SVG) -> dict[int, Image.Image]:
    """Render the SVG at every size in PNG_SIZES."""
    _ensure_app()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    return {size: render(renderer, size) for size in PNG_SIZES}


def write_all(images: dict[int, Image.Image], out_dir: Path) -> list[Path]:
    """Write the PNGs, the ICO and the ICNS under out_dir; return the paths written."""
    png_dir = out_dir / "png"
    png_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size, img in images.items():
        path = png_dir / f"folio-{size}.png"
        img.save(path, format="PNG", optimize=True)
        written.append(path)

    ico = out_dir / "folio.ico"
    largest = images[max(ICO_SIZES)]
    smaller = [images[s] for s in ICO_SIZES if s != max(ICO_SIZES)]
    largest.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=smaller)
    written.append(ico)

    icns = out_dir / "folio.icns"
    rest = [images[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)]
    images[max(ICNS_SIZES)].save(icns, format="ICNS", append_images=rest)
    written.append(icns)

    _verify(ico, icns)
    return written


def _verify(ico: Path, icns: Path) -> None:
    """Reopen the ICO and ICNS and make sure every expected size is in them."""
    with Image.open(ico) as im:
        got_ico = {w for w, _ in im.info["sizes"]}
    with Image.open(icns) as im:
        got_icns = {w * scale for w, _, scale in im.info["sizes"]}
    if missing := set(ICO_SIZES) - got_ico:
        raise SystemExit(f"{ico}: sizes missing: {sorted(missing)}")
    if missing := set(ICNS_SIZES) - got_icns:
        raise SystemExit(f"{icns}: sizes missing: {sorted(missing)}")


def changed_share(old: Image.Image, new: Image.Image) -> float:
    """The share (0-1) of pixels of two same-sized images with a channel off by more than LEVELS.

    Pillow's ImageChops and ImageStat do the per-pixel work, so no loop runs in Python.
    """
    diff = ImageChops.difference(old.convert("RGBA"), new.convert("RGBA"))
    channels = [band.point(lambda v: 255 if v > LEVELS else 0) for band in diff.split()]
    changed = channels[0]
    for band in channels[1:]:
        changed = ImageChops.lighter(changed, band)
    return float(ImageStat.Stat(changed).mean[0]) / 255


def check(images: dict[int, Image.Image]) -> list[str]:
    """Compare the committed PNGs with fresh renders, at the tolerance LEVELS/SHARE.

    Returns one problem a line: a size missing, of the wrong size, or stale.
    """
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        write_all(images, Path(tmp))
        for size in PNG_SIZES:
            name = f"png/folio-{size}.png"
            committed = ICON_DIR / name
            if not committed.exists():
                problems.append(f"{name}: missing")
                continue
            with Image.open(committed) as old, Image.open(Path(tmp) / name) as new:
                if old.size != new.size:
                    problems.append(f"{name}: {old.size} != {new.size}")
                elif (share := changed_share(old, new)) > SHARE:
                    problems.append(
                        f"{name}: {share:.1%} of its pixels differ from a fresh render "
                        f"(more than {SHARE:.1%}): run `python packaging/make_icons.py`"
                    )
        for name in ("folio.ico", "folio.icns"):
            if not (ICON_DIR / name).exists():
                problems.append(f"{name}: missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed icons are stale"
    )
    args = parser.parse_args(argv)

    images = render_all()
    if args.check:
        problems = check(images)
        for problem in problems:
            print(problem, file=sys.stderr)
        print("icons are stale" if problems else "icons are up to date")
        return 1 if problems else 0

    for path in write_all(images, ICON_DIR):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
