"""Every supported type is read by its LlamaIndex reader; bad files get a status and reason."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from desktop.core.library.catalog import FileStatus
from desktop.core.library.readers import Unreadable, read_documents
from tests.corpus import MARKERS, every_type, write_image_only_pdf, write_pdf


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return every_type(tmp_path_factory.mktemp("every-type"))


@pytest.mark.parametrize("kind", sorted(MARKERS))
def test_every_type_yields_its_text(files: dict[str, Path], kind: str) -> None:
    docs = read_documents(files[kind])
    text = " ".join(doc.text for doc in docs).lower()
    assert MARKERS[kind] in text


def test_pdf_pages_are_numbered(files: dict[str, Path]) -> None:
    docs = read_documents(files["pdf"])
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    assert "zebrafish" in docs[0].text and "quokka" in docs[1].text


def test_slides_are_numbered(files: dict[str, Path]) -> None:
    docs = read_documents(files["pptx"])
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    assert "axolotl" in docs[1].text.lower()


def test_markdown_title_is_its_first_heading(files: dict[str, Path]) -> None:
    assert read_documents(files["md"])[0].metadata["title"] == "Field notes"


def test_html_drops_head_and_style(files: dict[str, Path]) -> None:
    text = read_documents(files["html"])[0].text
    assert "tapir" in text and "color: black" not in text


def _reason(path: Path) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        read_documents(path)
    return caught.value


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "secret.pdf", ["classified"], password="hunter2")
    error = _reason(path)
    assert error.status == FileStatus.FAILED
    assert "password-protected" in error.reason


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = write_pdf(tmp_path / "whole.pdf", ["some text"] * 3).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    error = _reason(path)
    assert error.status == FileStatus.FAILED
    assert "damaged" in error.reason or "no text" in error.reason


def test_garbage_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"this is not a pdf at all" * 10)
    error = _reason(path)
    assert error.status == FileStatus.FAILED and "damaged" in error.reason
    assert "PDFium" not in error.reason and "replace it with a whole copy" in error.reason


def test_scanned_pdf_without_text(tmp_path: Path) -> None:
    error = _reason(write_image_only_pdf(tmp_path / "scan.pdf"))
    assert error.status == FileStatus.FAILED
    assert "no extractable text" in error.reason and "OCR" in error.reason


def test_binary_data_with_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 4)
    error = _reason(path)
    assert error.status == FileStatus.FAILED and "binary data" in error.reason


def test_nul_padding_past_the_first_8_kb_is_dropped_from_the_text(tmp_path: Path) -> None:
    # A log cut short by a crash: text, then a run of NUL bytes, then text again.
    path = tmp_path / "service.log"
    path.write_bytes(b"started the gecko service\n" * 400 + b"\x00" * 4096 + b"restarted\n")
    text = read_documents(path)[0].text
    assert "\x00" not in text
    assert text.endswith("started the gecko service\nrestarted\n")


def test_latin1_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    assert read_documents(path)[0].text == "Caf\u00e9 cr\u00e8me"


def test_utf16_with_bom_is_text(tmp_path: Path) -> None:
    path = tmp_path / "windows.txt"
    path.write_text("Notes saved by an old editor about the gecko.", encoding="utf-16")
    assert "gecko" in read_documents(path)[0].text


def test_damaged_docx(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    error = _reason(path)
    assert error.status == FileStatus.FAILED and error.reason == (
        "damaged or not really a Word document (it is not a zip package, as files of its "
        "kind are); open it in the program that made it and save it again"
    )


def _package(path: Path, parts: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as package:
        for name, text in parts.items():
            package.writestr(name, text)
    return path


_CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" '
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile '
    'full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
    "</container>"
)


@pytest.mark.parametrize(
    ("name", "parts", "detail"),
    [
        # A zip with the wrong insides: the part a Word document is read from is named.
        ("notes.docx", {"readme.txt": "hello"}, "it has no part named 'word/document.xml'"),
        # An EPUB whose package has no metadata: the reader's bare KeyError, in words.
        (
            "book.epub",
            {
                "mimetype": "application/epub+zip",
                "META-INF/container.xml": _CONTAINER,
                "content.opf": '<?xml version="1.0"?><package '
                'xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata/><manifest/>'
                "</package>",
            },
            "a part it must have is missing: 'http://purl.org/dc/elements/1.1/'",
        ),
    ],
)
def test_a_package_missing_a_part_says_which_and_what_to_do(
    tmp_path: Path, name: str, parts: dict[str, str], detail: str
) -> None:
    error = _reason(_package(tmp_path / name, parts))
    assert error.status == FileStatus.FAILED
    assert f"({detail}); open it in the program that made it and save it again" in error.reason


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("x.epub", b"junk", "an EPUB book"),
        ("x.pptx", b"junk", "a PowerPoint file"),
        ("x.xlsx", b"junk", "an Excel workbook"),
        ("nb.ipynb", b"{not json", "a Jupyter notebook"),
        ("cells.ipynb", b'{"cells": 5}', "a Jupyter notebook"),
    ],
)
def test_a_damaged_file_is_named_for_its_kind_in_one_sentence(
    tmp_path: Path, name: str, content: bytes, kind: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = _reason(path)
    assert error.status == FileStatus.FAILED and f"damaged or not really {kind} (" in error.reason
    # One sentence when the caller adds its full stop: no stop of the reader's own inside.
    assert not error.reason.endswith((".", ".)")) and "\n" not in error.reason.strip()


def test_unsupported_type_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "photo.heic"
    path.write_bytes(b"\x00\x01")
    error = _reason(path)
    assert error.status == FileStatus.SKIPPED and ".heic" in error.reason


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("   \n\n  ", encoding="utf-8")
    assert "no text" in _reason(path).reason


def test_vanished_file(tmp_path: Path) -> None:
    error = _reason(tmp_path / "gone.txt")
    assert error.status == FileStatus.FAILED and "disappeared" in error.reason


@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx", "epub"])
def test_a_package_whose_part_would_inflate_past_100_times_is_not_unpacked(
    files: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    import shutil
    import zipfile

    # The real file of its kind, with one more part: 64 MB of zeros packed into ~64 kB
    # (about 1,000 times), as a zip bomb is built. 64 MB would be read, slowly; what
    # matters is that it is refused from the zip's directory, before anything inflates.
    bomb = shutil.copy(files[kind], tmp_path / f"bomb.{kind}")
    with (
        zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as package,
        package.open("padding/zeros.xml", "w") as part,
    ):
        for _ in range(64):
            part.write(bytes(1 << 20))
    error = _reason(Path(bomb))
    assert error.status == FileStatus.SKIPPED
    assert error.reason.startswith("not read: its part padding/zeros.xml would unpack to 64 MB")
    assert "more than 100 times its packed size" in error.reason
    # Parts that pack well, as markup does, but not a thousandfold, are read as before.
    fine = shutil.copy(files[kind], tmp_path / f"fine.{kind}")
    with zipfile.ZipFile(fine, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "padding/markup.xml",
            "<w:p>" + "".join(f"<w:t>{n}</w:t>" for n in range(40_000)) + "</w:p>",
        )
    assert MARKERS[kind] in " ".join(doc.text for doc in read_documents(Path(fine))).lower()
