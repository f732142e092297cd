"""A saved comparison as a document to share: Markdown or a standalone HTML page.

Written here rather than with a template library: the layout is one heading, one section
per cell and one table, and every text that came from a person, a model or a document is
escaped (``html.escape``) so an answer can never become markup.
"""

from __future__ import annotations

import html

from desktop.core.evaluate.compare import Comparison
from desktop.core.tasks import clock_time


def _when(comparison: Comparison) -> str:
    return clock_time(comparison.created_at)


def to_markdown(comparison: Comparison) -> str:
    """The question, then each cell: its configuration, answer, sources and figures."""
    lines = [f"# {comparison.question}", "", f"Compared {_when(comparison)} in Folio.", ""]
    for cell in comparison.cells:
        lines += [f"## {cell.config.label}", ""]
        if cell.answer is not None:
            lines += [cell.answer.text.strip() or "_(no text)_", ""]
            if cell.answer.interrupted:
                lines += ["_(stopped before the end)_", ""]
            for i, source in enumerate(cell.answer.citations, start=1):
                page = f", page {source.page}" if source.page else ""
                lines.append(f"{i}. {source.file_name}{page}")
            if cell.answer.citations:
                lines.append("")
        if cell.error:
            lines += [f"_Failed: {cell.error}_", ""]
        figures = cell.figures()
        if figures:
            lines += [cell.figures_text(), ""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "section{border:1px solid #ccc;border-radius:6px;padding:0 1rem;margin:1rem 0}"
    ".figures,.sources{color:#555;font-size:90%}.error{color:#a00}"
)


def to_html(comparison: Comparison) -> str:
    """A standalone page (no scripts, no outside files) with the same content."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{e(comparison.question)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(comparison.question)}</h1>",
        f"<p>Compared {e(_when(comparison))} in Folio.</p>",
    ]
    for cell in comparison.cells:
        parts.append(f"<section><h2>{e(cell.config.label)}</h2>")
        if cell.answer is not None:
            text = e(cell.answer.text.strip() or "(no text)").replace("\n", "<br>")
            parts.append(f"<p>{text}</p>")
            if cell.answer.interrupted:
                parts.append("<p><em>(stopped before the end)</em></p>")
            if cell.answer.citations:
                items = "".join(
                    f"<li>{e(s.file_name)}{e(f', page {s.page}') if s.page else ''}</li>"
                    for s in cell.answer.citations
                )
                parts.append(f'<ol class="sources">{items}</ol>')
        if cell.error:
            parts.append(f'<p class="error">Failed: {e(cell.error)}</p>')
        figures = cell.figures()
        if figures:
            shown = "; ".join(f"{e(name)}: {e(value)}" for name, value in figures)
            parts.append(f'<p class="figures">{shown}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
