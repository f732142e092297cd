"""One cell of the compare grid: its configuration (model, persona, retrieval) above the
answer, shown with the chat's own answer view (sources, passage, copy, thumbs)."""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.evaluate.cells import CellConfig
from desktop.core.evaluate.compare import CellResult
from desktop.core.models.names import display_name
from desktop.ui.chat.message import MessageView
from desktop.ui.model_combo import ModelCombo
from desktop.ui.qt import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown


class CompareCell(QFrame):
    """A configuration and its answer; ``removed`` asks the window to drop it."""

    removed = Signal()
    rated = Signal(object)  # 1, -1 or None, for the stored answer

    def __init__(
        self,
        config: CellConfig,
        models: list[str],
        personas: list[str],
        name: Callable[[str], str] = display_name,
        parent: QWidget | None = None,
    ) -> None:
        """``models``: the ids offered, shown by ``name``."""
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = ModelCombo(models, name, editable=True)
        self.model.select(config.model)
        self.persona = QComboBox()
        self.persona.setAccessibleName("Persona")
        self.persona.addItem("(no persona)")
        # Shown set apart (``line_shown``); the entry's data is the name the store knows.
        for persona in personas:
            self.persona.addItem(line_shown(persona), persona)
        if config.persona:
            if config.persona not in personas:
                self.persona.addItem(line_shown(config.persona), config.persona)
            self.persona.setCurrentIndex(self.persona.findData(config.persona))
        self.retrieval = QCheckBox("Retrieval")
        self.retrieval.setChecked(config.retrieval)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove cell")
        self.remove_button.clicked.connect(self.removed)
        self.answer = MessageView("assistant", "")
        self.answer.regenerate_button.hide()  # the grid runs again as a whole
        self.answer.rated.connect(self.rated)
        self.figures = QLabel()
        self.figures.setAccessibleName("Figures")
        self.figures.setStyleSheet("color: gray; font-size: small")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # it names personas and models
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a00")
        self.error.hide()
        top = QHBoxLayout()
        top.addWidget(self.model, 2)
        top.addWidget(self.persona, 1)
        top.addWidget(self.retrieval)
        top.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.answer, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.figures)
        self.clear()

    def config(self) -> CellConfig:
        """The configuration as chosen."""
        persona = str(self.persona.currentData()) if self.persona.currentIndex() > 0 else None
        return CellConfig(self.model.model_id(), persona, self.retrieval.isChecked())

    def clear(self) -> None:
        """Empty, before a run."""
        self.answer.set_text("")
        self.answer.body.setText("")
        self.answer.set_sources([], "")
        self.answer.set_notice(None)
        self.answer.set_support(None)
        self.answer.set_cut_off(False)
        self.answer.set_usage(None)
        for button in (self.answer.like_button, self.answer.dislike_button):
            button.setEnabled(False)
            button.setChecked(False)
        self.answer.message_id = None
        self.figures.setText("")
        self.error.hide()

    def stream(self, text: str) -> None:
        """More of the answer, as it arrives."""
        self.answer.set_text(self.answer.text + text)

    def show_result(self, result: CellResult, question: str, rating: int | None = None) -> None:
        """The cell's end: its answer with sources and ``rating``, or its error; figures."""
        if result.answer is not None:
            self.answer.set_text(result.answer.text)
            self.answer.set_sources(result.answer.citations, question)
            self.answer.set_notice(result.answer.notice)
            self.answer.set_support(result.answer.support)
            self.answer.set_cut_off(result.answer.cut_off)
            self.answer.continue_button.hide()  # the grid runs again as a whole
            if result.answer.message_id is not None:
                self.answer.set_stored(result.answer.message_id, rating)
        self.error.setText(result.error or "")
        self.error.setVisible(bool(result.error))
        self.figures.setText(result.figures_text())

    def set_editable(self, editable: bool) -> None:
        """Configurations stay as they are while the grid runs."""
        for widget in (self.model, self.persona, self.retrieval, self.remove_button):
            widget.setEnabled(editable)
