"""One turn of a chat as the pane shows it: text, sources, actions, rating, token usage."""

from __future__ import annotations

import html
from collections.abc import Mapping

from desktop.core.chat.prompts import source_label
from desktop.core.library.citation import Citation
from desktop.core.paths import resources_dir
from desktop.ui.chat.passage import PassageDialog, open_source
from desktop.ui.qt import (
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QIcon,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)


def usage_text(usage: Mapping[str, object] | None) -> str:
    """Token counts as one short line, e.g. ``812 tokens in · 96 out (estimated)``."""
    if not usage:
        return ""
    text = f"{usage.get('prompt_tokens', 0)} tokens in · {usage.get('completion_tokens', 0)} out"
    return text + (" (estimated)" if usage.get("estimated") else "")


def _icon(name: str) -> QIcon:
    """An icon of Folio's own (``resources/icons/NAME.svg``): emoji fonts are not everywhere."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


class MessageView(QFrame):
    """One turn: the text (Markdown) and, for answers, sources, actions and a rating.

    An answer can be rated once it is stored (``message_id`` set): thumbs up marks it as
    one to learn from (Fine-tuning → From liked answers), thumbs down as one to leave out.
    """

    regenerate = Signal()
    rated = Signal(object)  # 1, -1 or None (rating taken back)

    def __init__(self, role: str, text: str, meta: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.query = ""
        self.citations: list[Citation] = []
        self.message_id: int | None = None
        self.rating: int | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.header = QLabel(f"<b>{'You' if role == 'user' else 'Folio'}</b> {html.escape(meta)}")
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.MarkdownText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.body.setOpenExternalLinks(True)
        self.sources = QListWidget()
        self.sources.setAccessibleName("Sources")
        self.sources.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sources.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sources.itemActivated.connect(lambda item: self._open(item))
        self.sources.setVisible(False)
        self.notice = QLabel()
        self.notice.setAccessibleName("Notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("font-style: italic")
        self.notice.setVisible(False)
        self.usage = QLabel()
        self.usage.setAccessibleName("Token usage")
        self.usage.setStyleSheet("color: gray; font-size: small")
        self.usage.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.notice)
        layout.addWidget(self.sources)
        layout.addWidget(self.usage)
        self.action_bar = QHBoxLayout()
        if role == "assistant":
            self.copy_button = QPushButton("Copy")
            self.copy_button.clicked.connect(self.copy)
            self.passage_button = QPushButton("Show passage")
            self.passage_button.clicked.connect(self.show_passage)
            self.open_button = QPushButton("Open file")
            self.open_button.clicked.connect(lambda: self._open(self.sources.currentItem()))
            self.regenerate_button = QPushButton("Regenerate")
            self.regenerate_button.clicked.connect(self.regenerate)
            for button in (
                self.copy_button,
                self.passage_button,
                self.open_button,
                self.regenerate_button,
            ):
                self.action_bar.addWidget(button)
            self.action_bar.addStretch(1)
            self.like_button = QPushButton(_icon("thumb-up"), "")
            self.like_button.setAccessibleName("Good answer")
            self.like_button.setToolTip(
                "Good answer: keep it as an example to fine-tune a model on "
                "(Chat → Fine-tuning… → From liked answers). Click again to take it back."
            )
            self.dislike_button = QPushButton(_icon("thumb-down"), "")
            self.dislike_button.setAccessibleName("Bad answer")
            self.dislike_button.setToolTip(
                "Bad answer: never use it for fine-tuning. Click again to take it back."
            )
            for button, value in ((self.like_button, 1), (self.dislike_button, -1)):
                button.setCheckable(True)
                button.setEnabled(False)  # until the answer is stored
                button.clicked.connect(lambda checked, v=value: self._rate(v if checked else None))
                self.action_bar.addWidget(button)
            layout.addLayout(self.action_bar)
        self.text = ""
        self.set_text(text)

    def set_stored(self, message_id: int, rating: int | None) -> None:
        """The answer is stored as ``message_id``: it can be rated from now on."""
        self.message_id = message_id
        self.show_rating(rating)
        for button in (self.like_button, self.dislike_button):
            button.setEnabled(True)

    def show_rating(self, rating: int | None) -> None:
        self.rating = rating
        self.like_button.setChecked(rating == 1)
        self.dislike_button.setChecked(rating == -1)

    def _rate(self, rating: int | None) -> None:
        # Shown at once; the pane stores it and puts the old one back if that fails.
        self.show_rating(rating)
        self.rated.emit(rating)

    def set_text(self, text: str) -> None:
        self.text = text
        self.body.setText(text or "…")

    def set_notice(self, notice: str | None) -> None:
        """What a person should know about this answer (a dropped connection, trimmed sources)."""
        self.notice.setText(f"⚠ {notice}" if notice else "")
        self.notice.setVisible(bool(notice))

    def set_usage(self, usage: Mapping[str, object] | None) -> None:
        self.usage.setText(usage_text(usage))
        self.usage.setVisible(bool(usage))

    def set_sources(self, citations: list[Citation], query: str) -> None:
        self.citations, self.query = citations, query
        self.sources.clear()
        for number, citation in enumerate(citations, start=1):
            snippet = " ".join(citation.text.split())[:140]
            item = QListWidgetItem(
                f"{source_label(number, citation)}  ({citation.score:.2f})  {snippet}"
            )
            item.setToolTip(citation.path)
            self.sources.addItem(item)
        self.sources.setVisible(bool(citations))
        self.sources.setFixedHeight(min(len(citations), 5) * 24 + 6)
        if citations:
            self.sources.setCurrentRow(0)
        for name in ("passage_button", "open_button"):
            if hasattr(self, name):
                getattr(self, name).setEnabled(bool(citations))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)

    def _open(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            open_source(self.citations[self.sources.row(item)])

    def show_passage(self) -> PassageDialog | None:
        row = self.sources.currentRow()
        if row < 0 or row >= len(self.citations):
            return None
        dialog = PassageDialog(self.citations[row], self.query, self)
        dialog.show()
        return dialog
