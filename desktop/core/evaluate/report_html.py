"""An evaluation report as a standalone HTML page: the table, a bar chart, the answers that
differ most, the recommendation and each score's definition.

The chart is inline SVG drawn here (grouped bars, one group per 0–1 score, one bar per
configuration): a plotting library would add tens of megabytes to the installer for a
dozen rectangles. Every text from a person, a model or a document is escaped.
"""

from __future__ import annotations

import html

from desktop.core.evaluate.report import ConfigScores, Report, hit_name
from desktop.core.evaluate.scores import DEFINITIONS
from desktop.core.tasks import clock_time

# The 0–1 scores drawn in the chart, with their column headings.
CHARTED = {
    "hit_at_k": "hit@k",
    "mrr": "MRR",
    "facts": "facts",
    "correctness": "correctness",
    "faithfulness": "faithfulness",
    "style": "style",
}
# Colour-blind-safe palette (Okabe & Ito, 2008), one colour per configuration.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:right}td:first-child,th:first-child{text-align:left}"
    ".answer{border-left:3px solid #ccc;padding-left:.7rem;margin:.5rem 0}.muted{color:#666}"
)


def _cell(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _row(s: ConfigScores, questions: int) -> list[str]:
    cost = s.cost_per_1000_usd
    return [
        html.escape(s.label),
        str(s.answered),
        s.coverage(questions),
        *(_cell(getattr(s, key)) for key in CHARTED),
        _cell(s.ttft_ms, 0),
        _cell(s.seconds, 1),
        _cell(s.tokens_in, 0),
        _cell(s.prompt_tokens_added, 0),
        "free" if cost == 0 else _cell(cost, 2),
    ]


def chart_svg(report: Report) -> str:
    """Grouped bars of the 0–1 scores, a colour per configuration, with a legend."""
    scores = [k for k in CHARTED if any(getattr(s, k) is not None for s in report.configs)]
    n = max(1, len(report.configs))
    bar, gap, height, top = 14, 18, 160, 10
    group = n * bar + gap
    width = 40 + len(scores) * group
    legend_top = top + height + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{legend_top + 18 * n}" role="img" aria-label="scores by configuration">',
        f'<line x1="35" y1="{top + height}" x2="{width}" y2="{top + height}" stroke="#999"/>',
    ]
    for tick in (0, 0.5, 1):
        y = top + height - tick * height
        parts.append(f'<text x="30" y="{y + 4:.0f}" font-size="10" text-anchor="end">{tick}</text>')
    for g, key in enumerate(scores):
        x0 = 40 + g * group
        for i, s in enumerate(report.configs):
            value = getattr(s, key)
            if value is None:
                continue
            h = max(0.0, min(1.0, value)) * height
            over = (
                f" over {s.coverage(report.questions)} questions"
                if key in ("hit_at_k", "mrr")
                else ""
            )
            parts.append(
                f'<rect x="{x0 + i * bar}" y="{top + height - h:.1f}" width="{bar - 2}" '
                f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                f"<title>{html.escape(s.label)}: {value:.2f}{over}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + n * bar / 2:.0f}" y="{top + height + 14}" font-size="11" '
            f'text-anchor="middle">{_heading(key, report)}</text>'
        )
    for i, s in enumerate(report.configs):
        y = legend_top + 18 * i
        parts.append(
            f'<rect x="40" y="{y}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="58" y="{y + 10}" font-size="11">{html.escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _heading(key: str, report: Report) -> str:
    """A score's column heading: hit@k with the run's k."""
    return hit_name(report.k) if key == "hit_at_k" else CHARTED[key]


def to_html(report: Report) -> str:
    """The whole report as one page (no scripts, no outside files)."""
    e = html.escape
    when = clock_time(report.run.started_at)
    heads = ["configuration", "answered", f"{hit_name(report.k)}, MRR over"]
    heads += [_heading(key, report) for key in CHARTED]
    heads += ["first token ms", "total s", "tokens in", "prompt tokens added", "$ / 1,000"]
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>Evaluation: {e(report.set_name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Evaluation of {e(report.set_name)}</h1>",
        f'<p class="muted">Run {e(report.run.id)}, started {e(when)}; {report.questions} '
        f"questions{'' if report.complete else ' (not finished)'}.</p>",
        f"<h2>Recommendation</h2><p>{e(report.recommendation)}</p>",
        "<h2>Scores</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr>",
    ]
    for s in report.configs:
        row = _row(s, report.questions)
        parts.append("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>")
    parts.append("</table>")
    parts.append(f'<p class="muted">{e(report.coverage_note())}</p>')
    if report.style_note:
        parts.append(f'<p class="muted">{e(report.style_note)}</p>')
    parts.append(chart_svg(report))
    if report.differing:
        parts.append("<h2>Where the answers differ most</h2>")
    for d in report.differing:
        parts.append(f'<h3>{e(d.question)}</h3><p class="muted">Reference: {e(d.reference)}</p>')
        for label, answer, facts in d.answers:
            text = e(answer.strip() or "(no text)").replace("\n", "<br>")
            parts.append(
                f'<div class="answer"><strong>{e(label)}</strong> '
                f'<span class="muted">facts {_cell(facts)}</span><br>{text}</div>'
            )
    parts.append("<h2>What the scores mean</h2><ul>")
    parts += [f"<li>{e(text)}</li>" for text in DEFINITIONS.values()]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"
