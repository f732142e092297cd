"""Reading printed text from images, offline: RapidOCR's PP-OCR models on ONNX Runtime.

The detection, text-direction and recognition models ship inside the
``rapidocr-onnxruntime`` wheel (Apache-2.0), so nothing is fetched at run time. The
recogniser's alphabet is Chinese plus Latin: English and identifiers read well, but accents
are often dropped ("Druckprüfung" comes back as "Druckprufung"); docs/PERFORMANCE.md has
the measured accuracy.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

# PDF pages are rendered at this many pixels per inch for OCR. Measured on four pages of
# the Debian New Maintainers' Guide (bench/ocr.py, 2 threads): word recall 0.60 at 150 dpi,
# 0.63 at 200 dpi, 0.67 at 300 dpi, which takes 1.45 times as long per page as 200 dpi.
PDF_DPI = 200
# RapidOCR shrinks any image whose longer side exceeds this (its default, 2000 px, is an A4
# page at 170 dpi); an A4 page at PDF_DPI is 2339 px tall, so keep that whole.
_MAX_SIDE = 2400

OCR_OFF_REASON = (
    "a scanned page or image, and OCR is off: turn on “Read scanned pages and images (OCR)” "
    'in Settings (or set "ocr": true in settings.json) and sync again'
)


@dataclass(frozen=True)
class OcrText:
    """The text OCR found in one image.

    ``text`` is in reading order: words on one row joined by spaces, rows by newlines, and
    a blank line where the gap between rows is wider than a line. ``confidence`` is the
    recogniser's mean score over the rows it kept (0 to 1; 0 when it found nothing).
    """

    text: str
    confidence: float
    lines: int


@dataclass(frozen=True)
class OcrOptions:
    """How readers use OCR: whether at all, on how many CPU threads, and whom to tell.

    ``on_progress`` receives a short description such as "recognising page 3 of 12" before
    each page or image is recognised; it may raise (``Cancelled``) to stop the reading.
    """

    enabled: bool = True
    threads: int = 1
    on_progress: Callable[[str], None] | None = None

    def report(self, page: int, pages: int) -> None:
        """Tell ``on_progress`` that page ``page`` of ``pages`` is being recognised."""
        if self.on_progress is not None:
            self.on_progress(
                f"recognising page {page} of {pages}" if pages > 1 else "recognising text"
            )


class _Engine:
    """One RapidOCR pipeline; its three ONNX sessions take about 0.4 s and 100 MB to load."""

    def __init__(self, threads: int) -> None:
        # Heavy: imports OpenCV and ONNX Runtime and loads three models; done on first use.
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR(
            intra_op_num_threads=threads, inter_op_num_threads=1, max_side_len=_MAX_SIDE
        )
        # RapidOCR keeps per-call state on the object; one image at a time.
        self._lock = threading.Lock()

    def __call__(self, image: Any) -> list[tuple[list[list[float]], str, float]]:
        with self._lock:
            result, _ = self._ocr(image)
        return [(box, text, float(score)) for box, text, score in result or []]


@functools.cache
def _engine(threads: int) -> _Engine:
    """The engine for ``threads``, loaded once per process."""
    return _Engine(threads)


def _rgb(image: Image) -> Image:
    """``image`` as RGB; transparency is laid on white, as it would be printed."""
    # Imported on first use: it loads Pillow, which takes a while.
    from PIL import Image as PilImage

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        page = PilImage.new("RGB", rgba.size, "white")
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale (scanners' TIFFs): scale to 8 bits, which convert() would clip.
        return image.point(lambda value: value / 256).convert("L").convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _reading_order(boxes: Sequence[tuple[list[list[float]], str, float]]) -> str:
    """Rows of text from detected boxes: boxes that overlap vertically share a row.

    RapidOCR returns one box per stretch of text, sorted top to bottom with a fixed 10-pixel
    tolerance, which splits one printed line into several when it is slightly skewed; it has
    no layout analysis to lean on, hence this grouping.
    """
    spans = sorted(
        (
            (min(p[1] for p in box), max(p[1] for p in box), min(p[0] for p in box), text)
            for box, text, _ in boxes
        ),
        key=lambda span: (span[0] + span[1]) / 2,
    )
    rows: list[list[tuple[float, float, float, str]]] = []
    for span in spans:
        middle = (span[0] + span[1]) / 2
        if rows and rows[-1][0][0] <= middle <= rows[-1][0][1]:
            rows[-1].append(span)
        else:
            rows.append([span])
    heights = sorted(row[0][1] - row[0][0] for row in rows)
    line_height = heights[len(heights) // 2] if heights else 0.0
    out: list[str] = []
    previous_bottom: float | None = None
    for row in rows:
        top = min(span[0] for span in row)
        if previous_bottom is not None and top - previous_bottom > line_height:
            out.append("")
        out.append(" ".join(span[3] for span in sorted(row, key=lambda span: span[2])))
        previous_bottom = max(span[1] for span in row)
    return "\n".join(out)


def recognise(image: Image, threads: int = 1) -> OcrText:
    """The text in ``image`` (a Pillow image of any mode), by OCR on ``threads`` CPU threads.

    The engine is loaded on the first call in a process and kept. Raises nothing for an
    image without text: that gives an empty ``OcrText``.
    """
    # Imported on first use: it loads NumPy, which takes a while.
    import numpy as np

    # RapidOCR reads a 3-channel array as BGR (OpenCV's order).
    pixels = np.ascontiguousarray(np.asarray(_rgb(image))[:, :, ::-1])
    boxes = _engine(max(1, threads))(pixels)
    kept = [box for box in boxes if box[1].strip()]
    if not kept:
        return OcrText("", 0.0, 0)
    confidence = sum(score for _, _, score in kept) / len(kept)
    text = _reading_order(kept)
    return OcrText(text, confidence, sum(1 for line in text.splitlines() if line))
