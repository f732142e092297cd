"""Real files as people have them: legacy encodings, regional CSV, workbooks, saved pages."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from desktop.core.library.catalog import FileStatus
from desktop.core.library.readers import Unreadable, read_documents
from tests.corpus import write_pdf

VENTIL = "Ventil VX-3131 für Drücke bis 16 bar, Lieferant Müller GmbH."


def _text(path: Path) -> str:
    return "\n".join(doc.text for doc in read_documents(path))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _reason(path: Path) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        read_documents(path)
    return caught.value


# Encodings


@pytest.mark.parametrize(
    "data",
    [
        VENTIL.encode("utf-16-le"),
        VENTIL.encode("utf-16-be"),
        VENTIL.encode("utf-16"),
        codecs.BOM_UTF8 + VENTIL.encode("utf-8"),
        VENTIL.encode("utf-32"),
        codecs.BOM_UTF32_BE + VENTIL.encode("utf-32-be"),
        VENTIL.encode("cp1252"),
    ],
    ids=["utf16le-no-bom", "utf16be-no-bom", "utf16-bom", "utf8-bom", "utf32", "utf32be", "cp1252"],
)
@pytest.mark.parametrize("suffix", [".txt", ".md", ".py"])
def test_text_in_any_common_encoding_is_read(tmp_path: Path, data: bytes, suffix: str) -> None:
    assert _text(_write(tmp_path / f"note{suffix}", data)).strip() == VENTIL


def test_latin1_text_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.md", "Café crème".encode("latin-1"))
    assert _text(path) == "Café crème"


def test_spanish_cp1252_text_is_read(tmp_path: Path) -> None:
    text = "Señor Muñoz pidió café y jamón en la estación."
    assert _text(_write(tmp_path / "nota.txt", text.encode("cp1252"))) == text


def test_polish_cp1250_text_is_read(tmp_path: Path) -> None:
    text = "Zażółć gęślą jaźń — polski tekst do sprawdzenia."
    assert _text(_write(tmp_path / "tekst.txt", text.encode("cp1250"))) == text


def test_text_of_unknown_encoding_is_refused_with_what_to_do(tmp_path: Path) -> None:
    error = _reason(_write(tmp_path / "soup.txt", bytes(range(0x80, 0x100)) * 4))
    assert error.status == FileStatus.FAILED
    assert "not valid UTF-8" in error.reason and "offset 0" in error.reason
    assert "re-save the file as UTF-8" in error.reason


def test_binary_data_named_as_text_is_still_refused(tmp_path: Path) -> None:
    import gzip

    for name, data in [
        ("archive.txt", gzip.compress(b"some text" * 100)),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        ("table.md", bytes(range(256)) * 4),
    ]:
        error = _reason(_write(tmp_path / name, data))
        assert error.status == FileStatus.FAILED and "binary data" in error.reason, name


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    page = '<html><head><meta charset="windows-1252"><title>Preis</title></head>'
    page += "<body><p>Preis: 12 € für Müller</p></body></html>"
    path = _write(tmp_path / "preis.html", page.encode("cp1252"))
    assert _text(path) == "Preis: 12 € für Müller"


def test_html_http_equiv_latin1_is_read_as_browsers_do(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "</head><body><p>Straße – Größe</p></body></html>"
    )
    # Browsers read iso-8859-1 as windows-1252, where the dash is 0x96.
    path = _write(tmp_path / "strasse.htm", page.encode("cp1252"))
    assert _text(path) == "Straße – Größe"


def test_xml_declaration_is_honoured(tmp_path: Path) -> None:
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<teil>Größe für Müller</teil>\n'
    path = _write(tmp_path / "teil.xml", xml.encode("latin-1"))
    assert "Größe für Müller" in _text(path)


# CSV


def test_semicolon_csv_with_decimal_comma_keeps_columns_and_values(tmp_path: Path) -> None:
    path = _write(tmp_path / "lager.csv", b"Artikelnummer;Lagerort;Preis\nCS-1201;Hamburg;12,50\n")
    assert _text(path) == "Artikelnummer: CS-1201, Lagerort: Hamburg, Preis: 12,50"


def test_excel_unicode_text_csv_is_read(tmp_path: Path) -> None:
    data = "Part\tSupplier\r\nENC-1006\tMüller GmbH\r\n".encode("utf-16")
    assert _text(_write(tmp_path / "parts.csv", data)) == "Part: ENC-1006, Supplier: Müller GmbH"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"id|city\nPX-7|Oslo\nPX-8|Bergen\n", "id: PX-7, city: Oslo\nid: PX-8, city: Bergen"),
        (
            b'name,note\n"Smith, Jo","said ""hi"""\n',
            'name: Smith, Jo, note: said "hi"',
        ),
        (
            b"code;price;stock\nAB-1;3,99;12\nAB-2;;4\n",
            "code: AB-1, price: 3,99, stock: 12\ncode: AB-2, stock: 4",
        ),
    ],
    ids=["pipe", "quoted-comma", "empty-cell"],
)
def test_csv_dialects_are_detected(tmp_path: Path, data: bytes, expected: str) -> None:
    assert _text(_write(tmp_path / "t.csv", data)) == expected


def test_csv_without_header_gives_its_values(tmp_path: Path) -> None:
    path = _write(tmp_path / "raw.csv", b"CS-1201;Hamburg;12,50\nCS-1202;Bremen;8,00\n")
    assert _text(path) == "CS-1201, Hamburg, 12,50\nCS-1202, Bremen, 8,00"


def test_large_csv_groups_whole_rows_into_few_documents(tmp_path: Path) -> None:
    rows = "".join(f"P-{n};Lager {n % 7};{n},00\n" for n in range(5000))
    docs = read_documents(_write(tmp_path / "big.csv", f"Teil;Ort;Preis\n{rows}".encode()))
    assert 10 < len(docs) < 1000
    lines = [line for doc in docs for line in doc.text.split("\n")]
    assert len(lines) == 5000
    assert lines[4999] == "Teil: P-4999, Ort: Lager 1, Preis: 4999,00"


# XLSX


def test_workbook_reads_every_sheet_with_its_name(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    parts = book.active
    parts.title = "Parts"
    parts.append(["Report of parts on hand"])
    parts.merge_cells("A1:C1")
    parts.append(["Part", "Supplier", "Stock"])
    parts.append(["ENC-1006", "Müller GmbH", 12])
    parts.append(["ENC-1007", "Acme", 3.0])
    summary = book.create_sheet("Summary")
    summary.append(["Total lead time (days)", 42, "XT-4242"])
    book.save(tmp_path / "stock.xlsx")
    docs = read_documents(tmp_path / "stock.xlsx")
    by_sheet = {doc.metadata["sheet"]: doc.text for doc in docs}
    assert by_sheet == {
        "Parts": "Report of parts on hand\n"
        "Part: ENC-1006, Supplier: Müller GmbH, Stock: 12\n"
        "Part: ENC-1007, Supplier: Acme, Stock: 3",
        "Summary": "Total lead time (days), 42, XT-4242",
    }


# HTML


def test_html_shows_what_a_browser_shows(tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Shop</title><style>p{}</style></head><body>"
        "<ul><li>Home</li><li>Pricing</li></ul><p>Hel<b>lo</b> there</p>"
        "<script>var secret = 1</script><template><p>TPL-1</p></template>"
        "<noscript>NOSCRIPT-1</noscript><div hidden>HIDDEN-1</div>"
        '<div style="color: red; display:none">HIDDEN-2</div>'
        '<span style="visibility: hidden">HIDDEN-3</span>tail kept'
        '<p aria-hidden="true">Decor shown</p></body></html>'
        "<p>Appended after the page</p>"
    )
    docs = read_documents(_write(tmp_path / "shop.html", page.encode()))
    text = docs[0].text
    assert docs[0].metadata["title"] == "Shop"
    for gone in ("secret", "TPL-1", "NOSCRIPT-1", "HIDDEN-1", "HIDDEN-2", "HIDDEN-3", "p{}"):
        assert gone not in text
    lines = [line.strip(" *") for line in text.splitlines() if line.strip()]
    assert lines[:2] == ["Home", "Pricing"]
    assert "Hello there" in lines
    assert "tail kept" in text and "Decor shown" in text
    assert lines[-1] == "Appended after the page"


# Markdown


def test_markdown_front_matter_is_metadata_not_text(tmp_path: Path) -> None:
    source = "---\ntitle: Backup guide\ntags: [ops, backup]\ndate: 2024-05-01\n---\n\nBody.\n"
    doc = read_documents(_write(tmp_path / "guide.md", source.encode()))[0]
    assert doc.metadata["title"] == "Backup guide"
    assert doc.metadata["front_matter"] == {"tags": ["ops", "backup"], "date": "2024-05-01"}
    assert doc.text.strip() == "Body."


def test_markdown_title_is_never_a_comment_in_code(tmp_path: Path) -> None:
    source = "Intro.\n\n```sh\n# install the backup tool\napt install borg\n```\n\n# Restore\n"
    doc = read_documents(_write(tmp_path / "restore.md", source.encode()))[0]
    assert doc.metadata["title"] == "Restore"


def test_markdown_setext_heading_is_a_title(tmp_path: Path) -> None:
    source = "Release notes\n=============\n\n# Later heading\n"
    assert read_documents(_write(tmp_path / "n.md", source.encode()))[0].metadata["title"] == (
        "Release notes"
    )


def test_markdown_front_matter_that_is_not_yaml_stays_text(tmp_path: Path) -> None:
    source = "---\n: not: valid: [\n---\n\n# Notes\n"
    doc = read_documents(_write(tmp_path / "bad.md", source.encode()))[0]
    assert "not: valid" in doc.text and doc.metadata["title"] == "Notes"


# PDF


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pdf_page_gives_its_text(tmp_path: Path, rotation: int) -> None:
    import pypdfium2 as pdfium

    plain = write_pdf(tmp_path / "plain.pdf", ["Torque table for valve VX-3131.", "Second."])
    pdf = pdfium.PdfDocument(str(plain))
    pdf[0].set_rotation(rotation)
    pdf.save(str(tmp_path / "turned.pdf"))
    pdf.close()
    docs = read_documents(tmp_path / "turned.pdf")
    assert docs[0].text.strip() == "Torque table for valve VX-3131."


def test_pdf_words_broken_at_line_end_are_joined(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "manual.pdf",
        ["After the reconfigu-\nration, check the valve. A well-known rule: a well-\nknown fix."],
    )
    text = " ".join(_text(path).split())
    assert "reconfiguration" in text
    assert text.count("well-known") == 2


# DOCX


def test_docx_footnotes_comments_and_text_boxes_are_read(tmp_path: Path) -> None:
    from tests.corpus import write_docx_with_extras

    path = write_docx_with_extras(tmp_path / "memo.docx")
    text = _text(path)
    for marker in ("Body BD-1", "FN-5150", "EN-7070", "CM-3030", "TB-2020"):
        assert marker in text
    assert text.count("TB-2020") == 1


# Mark-less UTF-16 of text mostly outside ASCII, where few bytes are zero.
NON_LATIN = {
    "cyrillic": "Клапан VX-3131 закрыт. Давление до 16 бар, поставщик ООО «Мюллер».",
    "greek": "Η βαλβίδα VX-3131 είναι κλειστή. Πίεση έως 16 bar.",
    "chinese-with-ascii": "UTF16 CJK 病假工资 按照基本工资的 80% 计算 (no BOM).",
    "japanese": "東京本社の定例会議は毎週月曜日の午後三時から、VX-3131 について。",
    "korean": "병가 급여는 기본급의 80%로 지급됩니다. 문의: VX-3131",
}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", sorted(NON_LATIN))
def test_utf16_without_a_mark_is_read_in_any_script(
    tmp_path: Path, name: str, encoding: str
) -> None:
    text = NON_LATIN[name]
    assert _text(_write(tmp_path / "note.txt", text.encode(encoding))) == text


def test_binary_patterns_that_decode_to_a_few_letters_are_still_refused(tmp_path: Path) -> None:
    import random

    rng = random.Random(5)
    for data in [bytes([0, 1, 2, 3] * 500), bytes(rng.randrange(256) for _ in range(4096))]:
        assert "binary data" in _reason(_write(tmp_path / "data.txt", data)).reason


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            b"name\tcity\tjob\nAlice\tParis\tpilot\nBob\tRome\tchef\n",
            "name: Alice, city: Paris, job: pilot\nname: Bob, city: Rome, job: chef",
        ),
        (
            b"Vorname;Nachname;Stadt\nAnna;Schulz;Bremen\nJan;Meyer;Kiel\n",
            "Vorname: Anna, Nachname: Schulz, Stadt: Bremen\n"
            "Vorname: Jan, Nachname: Meyer, Stadt: Kiel",
        ),
    ],
    ids=["tsv", "semicolon"],
)
def test_a_header_over_text_only_columns_names_them(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert _text(_write(tmp_path / "people.csv", data)) == expected


def test_a_first_row_that_repeats_below_is_data_not_a_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "log.csv", b"open;door\nclose;door\nopen;window\n")
    assert _text(path) == "open, door\nclose, door\nopen, window"


def test_mark_less_utf16_is_read_when_its_sample_ends_inside_a_surrogate_pair(
    tmp_path: Path,
) -> None:
    # The sniffed sample is the first 8,192 bytes: let a character outside the BMP (four
    # bytes in UTF-16) straddle that boundary.
    # Mostly Cyrillic, so few zero bytes: told by decoding, not by where zeros fall.
    text = ("Клапанзакрытдавлениенорма, " * 160)[:4095] + "𠀋 закрыт. Давление до 16 бар."
    data = text.encode("utf-16-le")
    assert data[8190:8192] == "𠀋".encode("utf-16-le")[:2]
    assert _text(_write(tmp_path / "note.txt", data)) == text


def test_utf8_with_a_few_bad_bytes_keeps_its_text(tmp_path: Path) -> None:
    data = "Ventil für Drücke bis 16 bar, café ".encode() + b"\xff\xfe\x81"
    data += " Müller GmbH\n".encode()
    text = _text(_write(tmp_path / "cut.txt", data))
    assert text.startswith("Ventil für Drücke bis 16 bar, café ")
    assert text.endswith(" Müller GmbH\n") and text.count("\ufffd") == 3
