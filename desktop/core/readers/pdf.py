"""PDF files: the text of each page, by PDFium."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library import FAILED
from desktop.core.readers.base import Unreadable

_PDFIUM_PASSWORD_ERROR = 4
# What PDF producers write when nobody set a title.
_PLACEHOLDER_TITLES = frozenset({"untitled", "title", "document", "microsoft word"})


class PdfReader(BaseReader):
    """PDF text per page, by PDFium.

    LlamaIndex's ``PDFReader`` uses pypdf, which on LaTeX-made PDFs (Debian's manuals,
    most papers) drops the spaces between words: "Afteryoubuildapackage". Measured on the
    retrieval evaluation, PDFium's text lifted keyword search on PDF pages from 0.82 to
    1.00 hit@5.
    """

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(str(file))
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
                raise Unreadable(
                    FAILED,
                    "password-protected PDF: Folio cannot read encrypted files; "
                    "save an unprotected copy and sync again",
                ) from exc
            raise Unreadable(FAILED, f"damaged or truncated PDF ({exc})") from exc
        try:
            title = (pdf.get_metadata_dict().get("Title") or "").strip()
            docs = []
            for number in range(len(pdf)):
                page = pdf[number]
                textpage = page.get_textpage()
                text = textpage.get_text_bounded().replace("\r\n", "\n")
                textpage.close()
                page.close()
                metadata: dict[str, object] = {"page": number + 1}
                if title and title.lower() not in _PLACEHOLDER_TITLES:
                    metadata["title"] = title
                docs.append(Document(text=text, metadata=metadata))
        finally:
            pdf.close()
        if docs and not any(doc.text.strip() for doc in docs):
            raise Unreadable(
                FAILED, "no extractable text: probably a scanned PDF, and Folio has no OCR yet"
            )
        return docs
