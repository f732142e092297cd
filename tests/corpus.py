"""Real files of every supported type, written by the libraries that make them."""

from __future__ import annotations

import json
from pathlib import Path


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """``folder``, made, holding each named text file (UTF-8)."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A PDF with one text paragraph per page (reportlab), optionally encrypted."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    encrypt = None
    if password:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(password, canPrint=0)
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def write_image_only_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawings, like a scan: no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for i in range(20):
        pdf.rect(50 + i * 10, 50 + i * 20, 200, 100, fill=1)
    pdf.showPage()
    pdf.save()
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def write_pptx(path: Path, slides: list[tuple[str, str]]) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.save(str(path))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(str(path))
    return path


def write_epub(path: Path, chapters: list[tuple[str, str]]) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("folio-test-book")
    book.set_title("Test Book")
    book.set_language("en")
    items = []
    for i, (title, text) in enumerate(chapters, start=1):
        chapter = epub.EpubHtml(title=title, file_name=f"chap_{i}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>{title}</h1><p>{text}</p></body></html>"
        book.add_item(chapter)
        items.append(chapter)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def write_ipynb(path: Path, markdown: str, code: str) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


def write_html(path: Path, title: str, body: str) -> Path:
    path.write_text(
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f"<style>body {{ color: black; }}</style></head>"
        f"<body><h1>{title}</h1><p>{body}</p></body></html>",
        encoding="utf-8",
    )
    return path


def write_notebook_json(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def every_type(folder: Path) -> dict[str, Path]:
    """One file per supported type, each holding a sentence with its own marker word."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "pdf": write_pdf(
            folder / "guide.pdf",
            ["Page one talks about zebrafish husbandry.", "Page two explains the quokka trial."],
        ),
        "docx": write_docx(folder / "memo.docx", ["The memo mentions the walrus budget."]),
        "pptx": write_pptx(
            folder / "deck.pptx",
            [("Roadmap", "The first slide shows the narwhal launch."), ("Risks", "Axolotl delay.")],
        ),
        "xlsx": write_xlsx(folder / "sheet.xlsx", [["animal", "count"], ["pangolin", 7]]),
        "csv": _write(folder / "table.csv", "animal,count\nokapi,3\n"),
        "md": _write(folder / "notes.md", "# Field notes\n\nWe saw a capybara at dawn.\n"),
        "html": write_html(folder / "page.html", "Wildlife page", "A tapir crossed the road."),
        "txt": _write(folder / "plain.txt", "A plain note about the wombat census.\n"),
        "epub": write_epub(folder / "book.epub", [("Chapter One", "The ocelot sleeps all day.")]),
        "ipynb": write_ipynb(folder / "analysis.ipynb", "# Meerkat analysis", "meerkats = 12"),
        "py": _write(folder / "script.py", 'def lemur():\n    return "lemur colony"\n'),
    }


MARKERS = {
    "pdf": "quokka",
    "docx": "walrus",
    "pptx": "narwhal",
    "xlsx": "pangolin",
    "csv": "okapi",
    "md": "capybara",
    "html": "tapir",
    "txt": "wombat",
    "epub": "ocelot",
    "ipynb": "meerkat",
    "py": "lemur",
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NOTE_PARTS = {
    "footnotes": ("footnote", "FN-5150 is the footnote's part number."),
    "endnotes": ("endnote", "EN-7070 is the endnote's part number."),
    "comments": ("comment", "CM-3030 is the reviewer's comment."),
}


def write_docx_with_extras(path: Path) -> Path:
    """A Word document with a footnote, an endnote, a comment and a text box.

    python-docx writes none of these, so their XML parts are added to its package as Word
    writes them (a text box as a drawing with its VML fallback copy).
    """
    import zipfile

    write_docx(path, ["Body BD-1 paragraph.", "TEXTBOX-ANCHOR"])
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    textbox = (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
        'markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><wps:txbx '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        "<w:txbxContent><w:p><w:r><w:t>TB-2020 sits in a text box.</w:t></w:r></w:p>"
        "</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict>"
        "<w:txbxContent><w:p><w:r><w:t>TB-2020 sits in a text box.</w:t></w:r></w:p>"
        "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    document = parts["word/document.xml"].decode()
    parts["word/document.xml"] = document.replace(
        "<w:t>TEXTBOX-ANCHOR</w:t></w:r>", "<w:t>Anchor.</w:t></w:r>" + textbox
    ).encode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    links = ""
    for index, (kind, (tag, text)) in enumerate(_NOTE_PARTS.items()):
        separator = (
            f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>'
            if tag != "comment"
            else ""
        )
        parts[f"word/{kind}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind} xmlns:w="{_W_NS}">'
            f'{separator}<w:{tag} w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:{tag}>'
            f"</w:{kind}>"
        ).encode()
        links += (
            f'<Relationship Id="rIdX{index}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/{kind}" Target="{kind}.xml"/>'
        )
    parts["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>", links + "</Relationships>"
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return path
