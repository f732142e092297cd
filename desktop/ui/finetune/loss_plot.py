"""A fine-tuning job's training and validation loss against the step, drawn with QPainter.

Small on purpose: two lines, their axes' ranges and a legend. (QtCharts is not part of the
PySide6 wheels Folio ships with.)
"""

from __future__ import annotations

from desktop.core.finetune.records import Metric
from desktop.ui.qt import QColor, QPainter, QPaintEvent, QPen, QPointF, QRectF, Qt, QWidget

TRAIN_COLOR = QColor("#1f77b4")
VALID_COLOR = QColor("#ff7f0e")
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 12, 22, 26


class LossPlot(QWidget):
    """Loss per step; ``train_points`` and ``valid_points`` are what is drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_points: list[tuple[int, float]] = []
        self.valid_points: list[tuple[int, float]] = []
        self.setMinimumSize(320, 180)
        self.setAccessibleName("Loss plot")

    def set_metrics(self, metrics: list[Metric]) -> None:
        self.train_points = [(m.step, m.train_loss) for m in metrics if m.train_loss is not None]
        self.valid_points = [(m.step, m.valid_loss) for m in metrics if m.valid_loss is not None]
        self.setToolTip(self.summary())
        self.update()

    def summary(self) -> str:
        """The last losses in words, for the tooltip and screen readers."""
        parts = []
        for label, points in (("training", self.train_points), ("validation", self.valid_points)):
            if points:
                step, loss = points[-1]
                parts.append(f"{label} loss {loss:.4f} at step {step}")
        return "; ".join(parts) or "No loss reported yet."

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        text_pen = QPen(palette.text().color())
        painter.setPen(text_pen)
        points = self.train_points + self.valid_points
        if not points:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No loss reported yet")
            return
        area = QRectF(
            _MARGIN_LEFT,
            _MARGIN_TOP,
            max(self.width() - _MARGIN_LEFT - _MARGIN_RIGHT, 1),
            max(self.height() - _MARGIN_TOP - _MARGIN_BOTTOM, 1),
        )
        first, last = min(p[0] for p in points), max(p[0] for p in points)
        low, high = min(p[1] for p in points), max(p[1] for p in points)
        if last == first:
            last = first + 1
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5

        def at(step: int, loss: float) -> QPointF:
            x = area.left() + (step - first) / (last - first) * area.width()
            y = area.bottom() - (loss - low) / (high - low) * area.height()
            return QPointF(x, y)

        painter.drawRect(area)
        align_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        label_width = _MARGIN_LEFT - 6
        painter.drawText(QRectF(0, area.top() - 8, label_width, 16), align_right, f"{high:.3g}")
        painter.drawText(QRectF(0, area.bottom() - 8, label_width, 16), align_right, f"{low:.3g}")
        below = area.bottom() + 4
        painter.drawText(QRectF(area.left(), below, 80, 16), Qt.AlignmentFlag.AlignLeft, str(first))
        painter.drawText(
            QRectF(area.right() - 80, below, 80, 16), Qt.AlignmentFlag.AlignRight, str(last)
        )
        painter.drawText(
            QRectF(area.left(), below, area.width(), 16), Qt.AlignmentFlag.AlignHCenter, "step"
        )
        legend_x = area.left()
        for label, color, series in (
            ("training loss", TRAIN_COLOR, self.train_points),
            ("validation loss", VALID_COLOR, self.valid_points),
        ):
            if not series:
                continue
            pen = QPen(color)
            pen.setWidthF(1.6)
            painter.setPen(pen)
            line = [at(step, loss) for step, loss in series]
            if len(line) == 1:
                painter.drawEllipse(line[0], 2.5, 2.5)
            else:
                painter.drawPolyline(line)
            painter.drawLine(QPointF(legend_x, 11), QPointF(legend_x + 18, 11))
            painter.setPen(text_pen)
            painter.drawText(QRectF(legend_x + 22, 3, 120, 16), Qt.AlignmentFlag.AlignLeft, label)
            legend_x += 140
