"""Markdown files: the text without its YAML front matter, titled as the page is.

markdown-it-py (CommonMark) finds the headings, so a ``# comment`` in a fenced code block
is not one, and setext headings (underlined with ``===``) are; its front-matter plugin finds
the YAML block, which PyYAML reads.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from desktop.core.library.readers.encoding import decode_text

MARKDOWN_TYPES = frozenset({".md", ".markdown"})


def _plain(value: object) -> object:
    """A YAML value as JSON-safe data (dates as ISO text), for the chunk's metadata."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class MarkdownReader(BaseReader):
    """One document: ``title`` from the front matter's ``title`` or the first heading, the
    other front-matter keys under ``front_matter``.

    Front matter that is not a YAML mapping stays in the text, so nothing written is lost.
    """

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document: the text without front matter, titled by the front matter or the first
        heading."""
        import yaml  # loaded with the first Markdown file

        text = decode_text(file, file.read_bytes())
        tokens = MarkdownIt("commonmark").use(front_matter_plugin).parse(text)
        metadata: dict[str, object] = {}
        body = text
        if tokens and tokens[0].type == "front_matter":
            try:
                front = yaml.safe_load(tokens[0].content)
            except yaml.YAMLError:
                front = None
            if isinstance(front, dict):
                front = _plain(front)
                assert isinstance(front, dict)
                end = tokens[0].map[1] if tokens[0].map else 0
                body = "".join(text.splitlines(keepends=True)[end:])
                title = front.pop("title", None)
                if title:
                    metadata["title"] = str(title).strip()
                if front:
                    metadata["front_matter"] = front
        if "title" not in metadata:
            for index, token in enumerate(tokens[:-1]):
                if token.type == "heading_open" and tokens[index + 1].content.strip():
                    metadata["title"] = tokens[index + 1].content.strip()
                    break
        return [Document(text=body, metadata=metadata)]
