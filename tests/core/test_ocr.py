"""OCR of scanned PDF pages and image files, on real pictures of text rendered here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.library.catalog import FileStatus
from desktop.core.library.readers import Unreadable, read_documents
from desktop.core.library.readers.ocr import OcrOptions, recognise
from desktop.core.settings import Settings
from tests.corpus import write_pdf

SCAN_LINES = ["Ventil VX-3131 Druckprüfung", "Order 4711-AB passed at 16 bar."]


def page_image(tmp_path: Path, lines: list[str], dpi: int = 200) -> Image.Image:
    """A page of printed text as a scanner would deliver it: a PDF rendered by PDFium."""
    import pypdfium2 as pdfium

    source = write_pdf(tmp_path / f"source-{lines[0][:8]}.pdf", ["\n".join(lines)])
    pdf = pdfium.PdfDocument(str(source))
    # The top of an A4 page, where the text is: OCR of a whole page takes seconds.
    image = pdf[0].render(scale=dpi / 72, crop=(0, 650, 0, 0)).to_pil()
    pdf.close()
    return image


def _reason(path: Path, ocr: OcrOptions | None = None) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        read_documents(path, ocr)
    return caught.value


def test_recognise_finds_the_identifiers_in_reading_order(tmp_path: Path) -> None:
    found = recognise(page_image(tmp_path, SCAN_LINES), threads=2)
    first, second = found.text.splitlines()
    assert "VX-3131" in first and "Druckpr" in first
    assert second == "Order 4711-AB passed at 16 bar."
    assert found.lines == 2
    assert 0.8 < found.confidence <= 1.0


def test_an_image_without_text_gives_empty_text() -> None:
    found = recognise(Image.new("RGB", (800, 600), "white"))
    assert (found.text, found.confidence, found.lines) == ("", 0.0, 0)


def test_scanned_only_pdf_page_is_read_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    page_image(tmp_path, SCAN_LINES).save(path)  # an image-only PDF, like a scanner's
    docs = read_documents(path)
    assert len(docs) == 1
    assert "VX-3131" in docs[0].text and "4711-AB" in docs[0].text
    assert docs[0].metadata["page"] == 1 and docs[0].metadata["ocr"] is True


def test_mixed_pdf_gives_text_layer_and_ocr_pages(tmp_path: Path) -> None:
    scanned = page_image(tmp_path, SCAN_LINES)
    path = tmp_path / "mixed.pdf"
    write_pdf(path, ["Typed page about heron nests."])
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    scan_pdf = tmp_path / "page2.pdf"
    scanned.save(scan_pdf)
    pdf.import_pages(pdfium.PdfDocument(str(scan_pdf)))
    pdf.save(tmp_path / "joined.pdf")
    pdf.close()
    docs = read_documents(tmp_path / "joined.pdf")
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    assert "heron nests" in docs[0].text and "ocr" not in docs[0].metadata
    assert "VX-3131" in docs[1].text and docs[1].metadata["ocr"] is True


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".webp", ".bmp"])
def test_image_files_are_read_by_ocr(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scan{suffix}"
    page_image(tmp_path, ["Serial SN-20931 checked."]).save(path)
    docs = read_documents(path, OcrOptions(threads=2))
    assert len(docs) == 1
    assert "SN-20931" in docs[0].text
    assert docs[0].metadata == {"ocr": True}


def test_multi_page_tiff_gives_one_document_per_frame(tmp_path: Path) -> None:
    frames = [page_image(tmp_path, [f"Sheet {n} of part KX-{n}{n}07"]) for n in (1, 2, 3)]
    path = tmp_path / "scans.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    details: list[str] = []
    docs = read_documents(path, OcrOptions(threads=2, on_progress=details.append))
    assert [doc.metadata["page"] for doc in docs] == [1, 2, 3]
    for n, doc in zip((1, 2, 3), docs, strict=True):
        assert f"KX-{n}{n}07" in doc.text
    assert details == [f"recognising page {n} of 3" for n in (1, 2, 3)]


def test_upside_down_scan_is_read(tmp_path: Path) -> None:
    path = tmp_path / "upside-down.png"
    page_image(tmp_path, ["Valve VX-3131 inverted"]).rotate(180).save(path)
    assert "VX-3131" in read_documents(path)[0].text


def test_image_without_text_gets_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (1200, 800), 255).save(path)
    error = _reason(path)
    assert error.status == FileStatus.FAILED and "no text found in the image" in error.reason


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff", ".webp"])
def test_corrupt_images_get_a_reason(tmp_path: Path, suffix: str) -> None:
    whole = tmp_path / f"whole{suffix}"
    page_image(tmp_path, ["Serial SN-20931"]).save(whole)
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(b"not an image at all" * 50)
    for path in (truncated, garbage):
        error = _reason(path)
        assert error.status == FileStatus.FAILED and "damaged" in error.reason, (path, error.reason)


def test_ocr_off_skips_images_and_scans_saying_how_to_turn_it_on(tmp_path: Path) -> None:
    image = tmp_path / "scan.png"
    page_image(tmp_path, SCAN_LINES).save(image)
    pdf = tmp_path / "scan.pdf"
    page_image(tmp_path, SCAN_LINES).save(pdf)
    for path in (image, pdf):
        error = _reason(path, OcrOptions(enabled=False))
        assert error.status == FileStatus.SKIPPED
        assert "OCR is off" in error.reason and "Settings" in error.reason


def test_ocr_loads_its_bundled_models_without_the_network(tmp_path: Path) -> None:
    image = tmp_path / "scan.png"
    page_image(tmp_path, SCAN_LINES).save(image)
    script = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse; socket.getaddrinfo = refuse\n"
        "from PIL import Image\n"
        "from desktop.core.library.readers.ocr import recognise\n"
        f"print(recognise(Image.open({str(image)!r})).text)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert "VX-3131" in done.stdout


def test_ingested_scan_is_found_by_keyword_and_marked_ocr(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = make_services(Settings(threads=2))
    docs = tmp_path / "docs"
    docs.mkdir()
    page_image(tmp_path, SCAN_LINES).save(docs / "scan.pdf")
    page_image(tmp_path, ["Serial SN-20931 checked."]).save(docs / "label.jpg")
    (docs / "blank.png").write_bytes(b"\x89PNG broken")
    seen: list[str | None] = []
    report = services.ingestor.ingest([docs], on_progress=lambda p: seen.append(p.detail))
    statuses = {Path(r.path).name: r.status for r in services.library.all_files()}
    assert statuses == {
        "scan.pdf": FileStatus.INDEXED,
        "label.jpg": FileStatus.INDEXED,
        "blank.png": FileStatus.FAILED,
    }
    assert report.added == 2 and report.failed == 1
    assert "recognising text" in seen
    hit = services.retriever.search("VX-3131", k=1, mode="keyword")[0]
    assert hit.file_name == "scan.pdf" and hit.page == 1
    from desktop.core.library.ingest import _file_filter

    for name in ("scan.pdf", "label.jpg"):
        nodes = services.store.get_nodes(filters=_file_filter([str(docs / name)]))
        assert nodes and all(node.metadata["ocr"] is True for node in nodes)


def test_turning_ocr_on_reads_scans_skipped_while_it_was_off(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = make_services(Settings(ocr=False, threads=2))
    docs = tmp_path / "docs"
    docs.mkdir()
    page_image(tmp_path, SCAN_LINES).save(docs / "scan.png")
    services.ingestor.ingest([docs])
    (record,) = services.library.all_files()
    assert record.status == FileStatus.SKIPPED and "OCR is off" in (record.reason or "")
    services.apply_settings(Settings(ocr=True, threads=2))
    report = services.ingestor.sync()
    (record,) = services.library.all_files()
    assert record.status == FileStatus.INDEXED and report.updated == 1
    assert services.retriever.search("VX-3131", k=1, mode="keyword")[0].file_name == "scan.png"
