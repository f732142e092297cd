"""HTML pages: the text a browser shows, titled by ``<title>``.

html5lib parses the page as browsers do (WHATWG's algorithm: text after ``</body>`` or
``</html>`` lands in the body, unclosed tags close where a browser closes them), elements a
browser does not render are dropped, and inscriptis lays the rest out as text: block
elements on lines of their own, list items and table cells apart, inline ones joined.
"""

from __future__ import annotations

import re
from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.encoding import decode_text

HTML_TYPES = frozenset({".html", ".htm", ".xhtml"})
# Elements whose content a browser never shows as text (inscriptis drops script and style
# itself, but shows a template's and a noscript's content).
_NOT_RENDERED = ("head", "script", "style", "template", "noscript")
# Inline CSS that hides an element and everything in it. A descendant of a
# ``visibility: hidden`` element may make itself visible again; pages rarely do.
_HIDING_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!important\s*)?(?:;|$)",
    re.IGNORECASE,
)


def page_text(markup: str) -> tuple[str, str]:
    """The ``(title, text)`` a browser shows for an HTML page; either may be empty."""
    # Imported on first use: it loads inscriptis, which takes a while.
    import html5lib  # loaded with the first page
    from inscriptis import Inscriptis
    from inscriptis.model.config import ParserConfig

    root = html5lib.parse(markup, treebuilder="lxml", namespaceHTMLElements=False).getroot()
    title = " ".join("".join(root.xpath("//title[1]//text()")).split())
    hidden = root.xpath(
        " | ".join(f"//{tag}" for tag in _NOT_RENDERED)
        + " | //*[@hidden and not(@hidden='until-found')] | //*[@style]"
    )
    for element in hidden:
        if (
            element.tag in _NOT_RENDERED
            or element.get("hidden") is not None
            or _HIDING_STYLE.search(element.get("style", ""))
        ):
            _drop(element)
    text = Inscriptis(root, ParserConfig()).get_text()
    return title, "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _drop(element) -> None:
    """Remove ``element`` and its content, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


class HtmlReader(BaseReader):
    """One page as one document, decoded by its declared charset when it names one."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document: what a browser shows, titled by ``<title>``."""
        title, text = page_text(decode_text(file, file.read_bytes(), html=True))
        return [Document(text=text, metadata={"title": title} if title else {})]
