"""The report's bar chart, painted: a group of bars per 0–1 score, a bar per configuration.

The same chart as the exported page's (``report_html.chart_svg``): the scores it charts and
its palette come from there, so a configuration has one colour in the window and in the
file. Painted with QPainter, as the loss plot is (QtCharts is not in the PySide6 wheels
Folio ships with).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.evaluate.report import ConfigScores, Report
from desktop.core.evaluate.report_html import CHARTED, PALETTE
from desktop.ui.qt import (
    QColor,
    QEvent,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPointF,
    QRectF,
    Qt,
    QToolTip,
    QWidget,
)

LEFT = 34  # room for the 0, 0.5 and 1 beside the axis
TOP = 8
PLOT_HEIGHT = 150
LABEL_HEIGHT = 20  # the scores' names under their groups
LEGEND_ROW = 18
GROUP_GAP = 18
MAX_BAR = 26  # wider bars read as blocks, not bars


@dataclass(frozen=True)
class Bar:
    """One painted bar and what hovering it tells."""

    rect: QRectF
    text: str


def colour(index: int) -> QColor:
    """The ``index``-th configuration's colour, as in the exported chart."""
    return QColor(PALETTE[index % len(PALETTE)])


class ScoreChart(QWidget):
    """Grouped bars of a report's 0–1 scores with a legend; a bar's value shows on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: Report | None = None
        self.bars: list[Bar] = []  # as last painted, for the tooltips
        self.setAccessibleName("Scores chart")
        self.setMinimumWidth(320)
        self._resize_for(0)

    def set_report(self, report: Report | None) -> None:
        """Chart ``report`` (nothing for None)."""
        self.report = report
        self._resize_for(len(report.configs) if report else 0)
        self.setAccessibleDescription(self.description())
        self.update()

    def _resize_for(self, configurations: int) -> None:
        self.setMinimumHeight(TOP + PLOT_HEIGHT + LABEL_HEIGHT + 8 + LEGEND_ROW * configurations)

    def charted(self) -> list[str]:
        """The scores shown: those measured for at least one configuration."""
        if self.report is None:
            return []
        return [k for k in CHARTED if any(getattr(s, k) is not None for s in self.report.configs)]

    def description(self) -> str:
        """The chart in words, for screen readers: each configuration's charted scores."""
        if self.report is None:
            return "No report"
        keys = self.charted()
        return "; ".join(
            f"{s.label}: " + ", ".join(self.figure(s, k) for k in keys if getattr(s, k) is not None)
            for s in self.report.configs
        )

    def figure(self, scores: ConfigScores, key: str) -> str:
        """One bar in words: "hit@k 0.50 over 12 of 20 questions", "facts 0.61"."""
        text = f"{CHARTED[key]} {getattr(scores, key):.2f}"
        if key in ("hit_at_k", "mrr") and self.report is not None:
            text += f" over {scores.coverage(self.report.questions)} questions"
        return text

    def paintEvent(self, event: QPaintEvent) -> None:
        """The axis and its ticks, the bars group by group, then the legend."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.bars = []
        report, keys = self.report, self.charted()
        painter.fillRect(self.rect(), self.palette().base())
        text = self.palette().text().color()
        if report is None or not report.configs or not keys:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No scores to chart yet")
            return
        n = len(report.configs)
        bottom = TOP + PLOT_HEIGHT
        group = (self.width() - LEFT - 8) / len(keys)
        bar = max(3.0, min(MAX_BAR, (group - GROUP_GAP) / n))
        grid = QPen(self.palette().mid().color())
        for tick in (0.0, 0.5, 1.0):
            y = bottom - tick * PLOT_HEIGHT
            painter.setPen(grid)
            painter.drawLine(QPointF(LEFT, y), QPointF(self.width() - 8, y))
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y - 8, LEFT - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{tick:g}",
            )
        for g, key in enumerate(keys):
            x0 = LEFT + g * group + (group - n * bar) / 2
            for i, scores in enumerate(report.configs):
                value = getattr(scores, key)
                if value is None:
                    continue
                height = max(0.0, min(1.0, value)) * PLOT_HEIGHT
                rect = QRectF(x0 + i * bar, bottom - height, bar - 2, height)
                painter.fillRect(rect, colour(i))
                # A score of 0 still gets a hover target the height of a tick mark.
                target = rect.adjusted(0, -4, 0, 0) if height < 4 else rect
                self.bars.append(Bar(target, f"{scores.label}: {self.figure(scores, key)}"))
            painter.setPen(text)
            painter.drawText(
                QRectF(LEFT + g * group, bottom + 2, group, LABEL_HEIGHT),
                Qt.AlignmentFlag.AlignCenter,
                CHARTED[key],
            )
        for i, scores in enumerate(report.configs):
            y = bottom + LABEL_HEIGHT + 8 + LEGEND_ROW * i
            painter.fillRect(QRectF(LEFT, y, 12, 12), colour(i))
            painter.setPen(text)
            painter.drawText(
                QRectF(LEFT + 18, y - 2, self.width() - LEFT - 18, LEGEND_ROW),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                scores.label,
            )

    def event(self, event: QEvent) -> bool:
        """Hovering a bar shows its configuration, score and value."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            point = QPointF(event.pos())
            found = next((b.text for b in self.bars if b.rect.contains(point)), None)
            if found:
                QToolTip.showText(event.globalPos(), found, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
