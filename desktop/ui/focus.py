"""Keyboard focus a person can reach and see, whatever the platform's style does."""

from __future__ import annotations

from typing import cast

from desktop.ui.qt import QEvent, QFocusEvent, QFocusFrame, QObject, Qt, QWidget

# Focus that arrives by the mouse needs no frame: the pointer is already there.
_POINTED = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.PopupFocusReason)


class FocusRing(QObject):
    """A frame drawn around whichever of its widgets has the keyboard focus.

    Each widget gets ``Qt.StrongFocus``: macOS gives buttons only ``TabFocus``, which Tab
    skips unless Full Keyboard Access is on. Styles differ in how (and whether) they show a
    focused button or list: Fusion draws a faint outline only after a Tab press, so the
    ring draws its own frame (``QFocusFrame``, the style's focus frame) around the widget
    Tab reached.
    """

    def __init__(self, owner: QWidget, widgets: list[QWidget]) -> None:
        super().__init__(owner)
        self.frame = QFocusFrame(owner)
        self.frame.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.widgets = widgets
        for widget in widgets:
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self)

    @property
    def around(self) -> QWidget | None:
        """The widget framed now, if any."""
        return self.frame.widget() if self.frame.isVisible() else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Frame a widget as the keyboard focus reaches it; drop the frame as it leaves."""
        if event.type() == QEvent.Type.FocusIn and watched in self.widgets:
            if cast(QFocusEvent, event).reason() not in _POINTED:
                self.frame.setWidget(cast(QWidget, watched))
                self.frame.show()
        elif event.type() == QEvent.Type.FocusOut and watched is self.frame.widget():
            # None lets go of the widget (the type hints know only widgets).
            self.frame.setWidget(None)  # type: ignore[arg-type]
            self.frame.hide()
        return False
