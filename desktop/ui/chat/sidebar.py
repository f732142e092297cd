"""The chat history sidebar: new chat, search titles, rename, delete."""

from __future__ import annotations

from desktop.services import Services
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.qt import (
    QAbstractItemView,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPoint,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

_ID = Qt.ItemDataRole.UserRole


class ChatList(QWidget):
    """Lists chats, most recent first; ``selected`` carries a chat id (or None for new).

    ``deleted`` carries the id of a chat just deleted, so the window can leave the chat it
    shows open unless that is the one that went.
    """

    selected = Signal(object)
    deleted = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search chats")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self.reload())
        self.list = QListWidget()
        self.list.setAccessibleName("Chats")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemClicked.connect(lambda item: self.selected.emit(item.data(_ID)))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        new = QPushButton("New chat")
        new.clicked.connect(lambda: self.selected.emit(None))
        layout = QVBoxLayout(self)
        layout.addWidget(new)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.reload()

    def reload(self, current: str | None = None) -> None:
        self.list.clear()
        for chat in self.services.chats.all(search=self.search.text().strip() or None):
            item = QListWidgetItem(chat.title)
            item.setData(_ID, chat.id)
            self.list.addItem(item)
            if chat.id == current:
                self.list.setCurrentItem(item)

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def rename(self, chat_id: str, title: str) -> None:
        if title.strip():
            self.services.chats.rename(chat_id, title)
            self.reload(chat_id)

    def delete(self, chat_id: str) -> bool:
        """Delete a chat once the person confirms; True when it was deleted."""
        chat = next((c for c in self.services.chats.all() if c.id == chat_id), None)
        if chat is None:
            return False
        count = len(self.services.chats.messages(chat_id))
        if not confirm_deletion(
            self,
            f'Delete the chat "{chat.title}"?',
            f"Its {count} message{'s' if count != 1 else ''} and their ratings are deleted "
            "for good.",
        ):
            return False
        current = self.list.currentItem()
        keep = current.data(_ID) if current is not None else None
        self.services.chats.delete(chat_id)
        self.reload(keep if keep != chat_id else None)
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
            title, ok = QInputDialog.getText(self, "Rename chat", "Title:", text=item.text())
            if ok:
                self.rename(chat_id, title)
        elif chosen == delete:
            self.delete(chat_id)
