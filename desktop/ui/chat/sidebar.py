"""The chat history sidebar: new chat, search titles, rename, delete; the chat shown is the
one highlighted."""

from __future__ import annotations

from desktop.core.names import is_blank
from desktop.services import Services
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.qt import (
    QAbstractItemView,
    QEvent,
    QInputDialog,
    QItemSelectionModel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown

_ID = Qt.ItemDataRole.UserRole


class _ChatRows(QListWidget):
    """The list of chats, whose highlight (the selection) only ever marks the chat shown.

    The arrow keys and the mouse move the keyboard cursor (the current row, framed while
    the list has the focus); Enter or a click opens the chat under it, and only then does
    the highlight move to it. Moving the highlight with the cursor would mark a chat that
    is not the one on screen.
    """

    def selectionCommand(
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        if event is None:  # set by the code (``ChatList.show_current``), not a person
            return super().selectionCommand(index, event)
        return QItemSelectionModel.SelectionFlag.NoUpdate


class ChatList(QWidget):
    """Lists chats, most recent first; ``selected`` carries a chat id (or None for new).

    ``deleted`` carries the id of a chat just deleted, so the window can leave the chat it
    shows open unless that is the one that went. ``show_current`` is told which chat is
    shown, however it came to be, and highlights it.
    """

    selected = Signal(object)
    deleted = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.shown: str | None = None  # the chat the window shows; None for a new one
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search chats")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self.reload())
        self.list = _ChatRows()
        self.list.setAccessibleName("Chats")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemClicked.connect(self._open)
        self.list.itemActivated.connect(self._open)  # Enter and Return, and double-clicks
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        new = QPushButton("New chat")
        new.clicked.connect(self._new)
        layout = QVBoxLayout(self)
        layout.addWidget(new)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.reload()

    def reload(self) -> None:
        """List the chats as stored now (titles, order, search); the chat shown stays marked."""
        self.list.clear()
        for chat in self.services.chats.all(search=self.search.text().strip() or None):
            item = QListWidgetItem(line_shown(chat.title))
            item.setData(_ID, chat.id)
            self.list.addItem(item)
        self._highlight()

    def show_current(self, chat_id: str | None) -> None:
        """Highlight the chat the window shows now (none for a new chat), listing it first
        if it is new."""
        self.shown = chat_id
        if chat_id is not None and self._item(chat_id) is None:
            self.reload()
        else:
            self._highlight()

    def _item(self, chat_id: str | None) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item is not None and item.data(_ID) == chat_id:
                return item
        return None

    def _highlight(self) -> None:
        item = self._item(self.shown)
        if item is None:
            self.list.clearSelection()
        else:
            self.list.setCurrentItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        """Open the chat ``item`` stands for, unless it is the one shown (a double-click
        also activates: opening again would stop an answer being written)."""
        chat_id = item.data(_ID)
        if chat_id != self.shown:
            self.show_current(chat_id)
            self.selected.emit(chat_id)

    def _new(self) -> None:
        self.show_current(None)
        self.selected.emit(None)

    def titles(self) -> list[str]:
        """The chats' titles as the list shows them, top to bottom."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def rename(self, chat_id: str, title: str) -> None:
        """Give the chat ``title`` (one line, cut as the history keeps it); a title with
        nothing visible leaves the old one, as Cancel would."""
        if not is_blank(title):
            self.services.chats.rename(chat_id, title)
            self.reload()

    def delete(self, chat_id: str) -> bool:
        """Delete a chat once the person confirms; True when it was deleted."""
        chat = next((c for c in self.services.chats.all() if c.id == chat_id), None)
        if chat is None:
            return False
        count = len(self.services.chats.messages(chat_id))
        if not confirm_deletion(
            self,
            f'Delete the chat "{line_shown(chat.title)}"?',
            f"Its {count} message{'s' if count != 1 else ''} and their ratings are deleted "
            "for good.",
        ):
            return False
        self.services.chats.delete(chat_id)
        self.reload()
        self.deleted.emit(chat_id)
        return True

    def _menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        chat_id = item.data(_ID)
        menu = QMenu(self)
        rename = menu.addAction("Rename…")
        delete = menu.addAction("Delete")
        chosen = menu.exec(self.list.mapToGlobal(position))
        if chosen == rename:
            stored = self.services.chats.get(chat_id).title  # as typed, not as listed
            title, ok = QInputDialog.getText(self, "Rename chat", "Title:", text=stored)
            if ok:
                self.rename(chat_id, title)
        elif chosen == delete:
            self.delete(chat_id)
