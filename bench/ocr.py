"""OCR speed (pages/s) and accuracy (character error rate, word recall) on real scanned pages.

The "scans" are pages of a real PDF no one on this project wrote, the Debian New
Maintainers' Guide (``bench/eval/corpus/maint-guide``, from Debian's ``maint-guide``
package; see SOURCE.md there), rasterised by PDFium as a scanner would deliver them. Each
is read by RapidOCR and compared with the same page's text layer (PDFium's text), which is
the truth here:

- CER: Levenshtein distance between the two texts, whitespace runs collapsed to one space,
  divided by the reference's length (0 is perfect; reading order counts, so two-column
  pages or a table read row-wise cost more than misread letters);
- word recall: share of the reference's words (letters, digits, ``-_./``; case kept) that
  appear in the OCR's words, counted as multisets: what keyword search relies on.

Configurations, side by side in one run: render resolutions (dpi) with RapidOCR's largest
image side raised to keep the page whole, and the product's own path
(``desktop.core.library.readers.ocr.recognise`` at ``PDF_DPI``). Each page is timed for
render + OCR.

    .venv/bin/python bench/ocr.py [--json] [--pdf FILE] [--pages 4,9,17,30] [--threads 2]
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import benchlib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PDF = REPO / "bench" / "eval" / "corpus" / "maint-guide" / "maint-guide.en.pdf"
# Body-text pages of the guide (prose, lists, a command listing); page 1 is the cover.
PAGES = "4,9,17,30"
# (label, render dpi, RapidOCR max_side_len); RapidOCR's default max side is 2000.
VARIANTS = (
    ("150 dpi", 150, 2000),
    ("200 dpi, max side 2000 (RapidOCR default)", 200, 2000),
    ("300 dpi, max side 3600", 300, 3600),
)
_WORD = re.compile(r"[\w\-./]+")


def _flat(text: str) -> str:
    return " ".join(text.split())


def score(ocr: str, reference: str) -> tuple[float, float]:
    """(CER, word recall) of ``ocr`` against ``reference``."""
    from collections import Counter

    from rapidfuzz.distance import Levenshtein

    ref = _flat(reference)
    cer = Levenshtein.distance(_flat(ocr), ref) / max(1, len(ref))
    wanted = Counter(_WORD.findall(reference))
    found = Counter(_WORD.findall(ocr))
    recall = sum(min(n, found[w]) for w, n in wanted.items()) / max(1, sum(wanted.values()))
    return cer, recall


def main() -> None:
    args = _parser().parse_args()
    import pypdfium2 as pdfium
    from rapidocr_onnxruntime import RapidOCR

    from desktop.core.library.readers import ocr

    pdf = pdfium.PdfDocument(str(args.pdf))
    numbers = [int(n) for n in args.pages.split(",")]
    references = {}
    for number in numbers:
        textpage = pdf[number - 1].get_textpage()
        references[number] = textpage.get_text_bounded()
        textpage.close()

    def run_variant(label: str, dpi: int, recognise: Any) -> dict[str, Any]:
        rows = []
        for number in numbers:
            started = time.perf_counter()
            image = pdf[number - 1].render(scale=dpi / 72).to_pil()
            text = recognise(image)
            seconds = time.perf_counter() - started
            cer, recall = score(text, references[number])
            rows.append({"page": number, "seconds": seconds, "cer": cer, "word_recall": recall})
        total = sum(row["seconds"] for row in rows)
        return {
            "variant": label,
            "dpi": dpi,
            "pages_per_second": len(rows) / total,
            "seconds_per_page": total / len(rows),
            "cer": statistics.mean(row["cer"] for row in rows),
            "word_recall": statistics.mean(row["word_recall"] for row in rows),
            "pages": rows,
        }

    # Warm-up: the first call loads the models; not part of any variant's time.
    ocr.recognise(pdf[0].render(scale=1).to_pil(), args.threads)
    results = [
        run_variant(
            f"Folio: {ocr.PDF_DPI} dpi, max side {ocr._MAX_SIDE}",
            ocr.PDF_DPI,
            lambda image: ocr.recognise(image, args.threads).text,
        )
    ]
    for label, dpi, max_side in VARIANTS:
        engine = RapidOCR(
            intra_op_num_threads=args.threads, inter_op_num_threads=1, max_side_len=max_side
        )

        def bare(image: Any, engine: Any = engine) -> str:
            found, _ = engine(image)
            return "\n".join(text for _, text, _ in found or [])

        results.append(run_variant(label, dpi, bare))
    benchlib.emit(
        {"pdf": str(args.pdf), "pages": numbers, "threads": args.threads, "variants": results},
        args.json,
        _print,
    )


def _print(result: dict[str, Any]) -> None:
    print(f"{Path(result['pdf']).name}, pages {result['pages']}, {result['threads']} threads")
    print(f"{'variant':44} {'pages/s':>8} {'s/page':>7} {'CER':>6} {'word recall':>12}")
    for row in result["variants"]:
        print(
            f"{row['variant']:44} {row['pages_per_second']:8.3f} {row['seconds_per_page']:7.2f} "
            f"{row['cer']:6.3f} {row['word_recall']:12.3f}"
        )


def _parser() -> Any:
    made = benchlib.parser(__doc__)
    made.add_argument("--pdf", type=Path, default=PDF, help="a PDF with a text layer")
    made.add_argument("--pages", default=PAGES, help="1-based page numbers, comma-separated")
    made.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    return made


if __name__ == "__main__":
    main()
