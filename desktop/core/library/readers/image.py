"""Image files (PNG, JPEG, TIFF, WebP, BMP, GIF) as LlamaIndex Documents, read by OCR.

Pillow opens and decodes the file; every frame of a multi-page TIFF (or animated GIF/WebP)
becomes one Document with its ``page`` number. Every Document carries ``ocr: True`` so a
citation can say its text was recognised, not typed.
"""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.ocr import OcrOptions, recognise

IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"})
# Pillow's own guard against decompression bombs is 89 megapixels; a 600 dpi A4 scan is 35.
_MAX_PIXELS = 89_478_485


class ImageUnreadable(Exception):
    """An image file that yields no text; the message says why, naming what to do."""


class ImageReader(BaseReader):
    """OCR of each frame of an image file, with the options given."""

    def __init__(self, ocr: OcrOptions) -> None:
        self.ocr = ocr

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One Document per frame with text; raises ``ImageUnreadable`` when there is none."""
        # Imported on first use: it loads Pillow, which takes a while.
        from PIL import Image, ImageSequence, UnidentifiedImageError

        kind = file.suffix.lstrip(".").upper() or "image"
        try:
            with Image.open(file) as image:
                frames = getattr(image, "n_frames", 1)
                if image.width * image.height > _MAX_PIXELS:
                    raise ImageUnreadable(
                        f"image too large to read ({image.width}×{image.height} pixels); "
                        "scan at 300 dpi or less and sync again"
                    )
                docs = []
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    self.ocr.report(number, frames)
                    found = recognise(frame, self.ocr.threads)
                    if not found.text:
                        continue
                    metadata: dict[str, object] = {"ocr": True}
                    if frames > 1:
                        metadata["page"] = number
                    docs.append(Document(text=found.text, metadata=metadata))
        except Image.DecompressionBombError as exc:
            raise ImageUnreadable(
                f"image too large to read ({exc}); scan at 300 dpi or less and sync again"
            ) from exc
        except UnidentifiedImageError as exc:
            raise ImageUnreadable(
                f"damaged or not really a {kind} image: Pillow cannot identify it"
            ) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            # Pillow raises these for truncated or corrupt image data.
            raise ImageUnreadable(f"damaged or truncated {kind} image ({exc})") from exc
        if not docs:
            raise ImageUnreadable(
                "no text found in the image: OCR recognised nothing (a photo or drawing "
                "without printed text?)"
            )
        return docs
