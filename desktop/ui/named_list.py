"""A list panel of named things kept in a store: what Evaluate's sets and the fine-tuning
studio's datasets have in common.

``NamedListPanel`` shows the stored items in a ``QTreeWidget``, one row each with the name
kept in the row's data, and keeps ``current`` (the chosen one) in step with the highlighted
row, asking ``can_leave`` first so that unsaved edits of the item shown are not lost. It
renames and removes items (refusing while one is ``busy``) and asks before documents are sent
to a remote model. Each panel supplies its rows, its store's rename and delete, its wording
and everything else of its own: how items are made, imported or exported, and the dialogs
for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from desktop.core.errors import FolioError
from desktop.services import Services
from desktop.ui.dialogs import ask_consent, remember_consent
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QAbstractItemView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown

NAME_ROLE = Qt.ItemDataRole.UserRole  # where a row keeps its item's name


@dataclass(frozen=True)
class Wording:
    """What a panel calls its items: its list's labels and the messages the base shows."""

    list_name: str  # the list's accessible name
    columns: tuple[str, ...]  # the list's headers, the name's first
    empty: str  # shown while there are none: the ways to make the first one
    message_name: str  # the message label's accessible name
    rename_title: str  # the rename dialog's title
    remove: str  # what removing is called, in ``in_use``: "remove" or "delete"
    removed: str  # said once {name} is gone
    in_use: str  # why {name} cannot be renamed or removed (the {action}) now


class NamedListPanel(QWidget):
    """Named items, as stored, with one of them chosen; renamed and removed here.

    A panel sets ``wording``, builds its rows in ``_rows`` (with ``_row``), renames and
    deletes in its store in ``_store_rename`` and ``_store_delete``, and lays out the widgets
    made here (``list``, ``empty_hint``, ``rename_button``, ``message``) with its own.
    """

    selected = Signal(object)  # the chosen item's name, or None
    renamed = Signal(str, str)  # old name, new name
    changed = Signal()  # an item was added, renamed, removed or grew

    wording: ClassVar[Wording]

    def __init__(
        self, services: Services, models: Callable[[], list[str]], parent: QWidget | None = None
    ) -> None:
        """``models``: the model ids the panel may make items with (the picker's)."""
        super().__init__(parent)
        self.services = services
        self.models = models
        self.current: str | None = None
        # Asked before another item is shown: its editor's "save your changes?".
        self.can_leave: Callable[[], bool] = lambda: True
        self.consent_box: QMessageBox | None = None  # asking to send documents away
        # The names the last reload listed: only one of them can become ``current``.
        self._listed: list[str] = []

        self.list = QTreeWidget()
        self.list.setHeaderLabels(list(self.wording.columns))
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName(self.wording.list_name)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.empty_hint = QLabel(self.wording.empty)
        self.empty_hint.setWordWrap(True)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self.ask_rename)
        self.message = message_label()
        self.message.setAccessibleName(self.wording.message_name)

    # -- what each panel supplies -----------------------------------------------------------

    def _rows(self) -> list[QTreeWidgetItem]:
        """The stored items' rows, top to bottom (made with ``_row``); says why if none can be
        read. Called by ``reload``, which shows them."""
        raise NotImplementedError

    def _store_rename(self, name: str, new_name: str) -> str:
        """Rename ``name`` in the store; the name it got. Raises FolioError or OSError."""
        raise NotImplementedError

    def _store_delete(self, name: str) -> None:
        """Delete ``name`` from the store. Raises FolioError or OSError."""
        raise NotImplementedError

    def busy(self, name: str | None) -> bool:
        """Whether ``name`` is being written or used, and so keeps its name and contents."""
        return False

    def _fit_columns(self) -> None:
        """Size the columns to the rows just shown: all of them, unless a panel says."""
        for column in range(self.list.columnCount()):
            self.list.resizeColumnToContents(column)

    def _enable(self) -> None:
        # A panel enables its own buttons too, after these.
        self.rename_button.setEnabled(self._changeable())

    # -- the list ---------------------------------------------------------------------------

    def _row(self, name: str, texts: list[str]) -> QTreeWidgetItem:
        """A row showing ``texts`` for the item ``name``, each on one line as written
        (``shown``): a name, or a persona's, holding a right-to-left letter or a newline
        would otherwise turn or split the row."""
        item = QTreeWidgetItem([line_shown(text) for text in texts])
        item.setData(0, NAME_ROLE, name)
        return item

    def reload(self, select: str | None = None) -> None:
        """Show the items as stored; select ``select`` (after asking to leave unsaved edits)."""
        rows = self._rows()
        self._listed = [row.data(0, NAME_ROLE) for row in rows]
        if select in self._listed:
            wanted: str | None = select
        elif self.current in self._listed:
            wanted = self.current
        else:
            wanted = self._listed[0] if self._listed else None
        if wanted != self.current and self.current in self._listed and not self.can_leave():
            wanted = self.current
        self.list.blockSignals(True)
        self.list.clear()
        for row in rows:
            self.list.addTopLevelItem(row)
            if row.data(0, NAME_ROLE) == wanted:
                self.list.setCurrentItem(row)
        self.list.blockSignals(False)
        self._fit_columns()
        self.empty_hint.setVisible(not rows)
        if wanted != self.current:
            self.current = wanted
            self.selected.emit(wanted)
        self._enable()

    def _items(self) -> list[QTreeWidgetItem]:
        """The list's rows, top to bottom."""
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item for item in items if item is not None]

    def names(self) -> list[str]:
        """The listed items' names, top to bottom."""
        return [item.data(0, NAME_ROLE) for item in self._items()]

    def select(self, name: str) -> bool:
        """Choose ``name`` as if clicked; False when it is not listed or the person stayed."""
        for item in self._items():
            if item.data(0, NAME_ROLE) == name:
                self.list.setCurrentItem(item)
                return self.current == name
        return False

    def _on_current_changed(
        self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        name = item.data(0, NAME_ROLE) if item is not None else None
        if name == self.current:
            return
        if self.can_leave() and name in self._listed:
            self.current = name
            self.selected.emit(name)
        # Staying, or a save that rebuilt the list, leaves the current item highlighted: its
        # row is found again by its name.
        self.list.blockSignals(True)
        for row in self._items():
            if row.data(0, NAME_ROLE) == self.current:
                self.list.setCurrentItem(row)
        self.list.blockSignals(False)
        self._enable()

    def _changeable(self) -> bool:
        """Whether the chosen item may be renamed or removed now."""
        return self.current is not None and not self.busy(self.current)

    def _added(self, name: str) -> None:
        """Show the new item ``name``, chosen, and tell the window."""
        self.reload(select=name)
        self.changed.emit()

    # -- rename and remove ------------------------------------------------------------------

    def ask_rename(self) -> None:
        """Ask for the chosen item's new name, then rename it."""
        if self.current is None:
            return
        name, ok = QInputDialog.getText(
            self, self.wording.rename_title, "New name:", text=self.current
        )
        if ok and name.strip() and name.strip() != self.current:
            self.rename(self.current, name.strip())

    def rename(self, name: str, new_name: str) -> bool:
        """Rename ``name``; False, and why in ``message``, when it is busy or the store says no."""
        if self.busy(name):
            shown = line_shown(name)
            say(self.message, self.wording.in_use.format(name=shown, action="rename"))
            return False
        try:
            renamed = self._store_rename(name, new_name)
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            return False
        if self.current == name:
            self.current = renamed  # the same item: nothing to ask or load again
        say(self.message, f"Renamed {line_shown(name)} to {line_shown(renamed)}.")
        self.renamed.emit(name, renamed)
        self.reload(select=renamed)
        self.changed.emit()
        return True

    def _remove(self, name: str) -> bool:
        """Remove ``name`` (the panel's ``remove`` or ``delete``, once confirmed); False, and
        why in ``message``, when it is busy or the store says no."""
        if self.busy(name):
            action = self.wording.remove
            shown = line_shown(name)
            say(self.message, self.wording.in_use.format(name=shown, action=action))
            return False
        try:
            self._store_delete(name)
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            return False
        if self.current == name:
            self.current = None  # gone: its unsaved edits go with it, nothing to ask
            self.selected.emit(None)
        say(self.message, self.wording.removed.format(name=line_shown(name)))
        self.reload()
        self.changed.emit()
        return True

    # -- sending documents to a remote model ------------------------------------------------

    def _ask_consent(self, sending: str, provider: str, go: Callable[[], object]) -> None:
        """Ask whether documents may go to ``provider``; ``go`` once allowed.

        ``sending`` says what would send them ("Generating with this model").
        """
        self.consent_box = ask_consent(
            self,
            "Send your documents to a remote model?",
            f"{sending} sends passages of your documents to {provider}.",
            f"They leave this computer. Folio asks once for {provider}. To keep your "
            "documents here, Cancel and choose a local model.",
            lambda allowed: self._on_consent(allowed, provider, go),
        )

    def _on_consent(self, allowed: bool, provider: str, go: Callable[[], object]) -> None:
        self.consent_box = None
        if not allowed:
            say(self.message, f"Nothing was sent to {provider}.")
            return
        problem = remember_consent(self.services, [provider])
        if problem is not None:
            say(self.message, problem, error=True)
            return
        go()
