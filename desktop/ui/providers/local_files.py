"""The Local files tab: GGUF files on this computer added as local models."""

from __future__ import annotations

from pathlib import Path

from desktop.core.models.ids import LOCAL_PREFIX
from desktop.core.models.local_files import (
    gguf_problem,
    local_model_name_problem,
    model_file_path,
    suggested_local_name,
)
from desktop.core.models.uses import removal_refused
from desktop.services import Services
from desktop.ui.messages import message_label, say
from desktop.ui.providers.common import ROLE, save_change
from desktop.ui.qt import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.shown import line_shown, name_shown


class LocalFilesTab(QWidget):
    """GGUF files the user already has: add one from disk under a name, or remove it."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QListWidget()
        self.list.setAccessibleName("Local models")
        add = QPushButton("Add GGUF file…")
        add.clicked.connect(self.choose)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        self.message = message_label()
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Models on this computer, used as local:<name>."))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.list.currentItemChanged.connect(
            lambda *_: self.remove_button.setEnabled(self.list.currentItem() is not None)
        )
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for name, file in sorted(self.services.settings.local_models.items()):
            missing = "" if Path(file).expanduser().is_file() else "  (file missing)"
            item = QListWidgetItem(f"local:{line_shown(name)} — {name_shown(file)}{missing}")
            item.setData(ROLE, name)
            self.list.addItem(item)
        self.remove_button.setEnabled(self.list.currentItem() is not None)

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model file", "", "GGUF models (*.gguf);;All files (*)"
        )
        if not path:
            return
        default = suggested_local_name(Path(path).name)
        name, ok = QInputDialog.getText(self, "Name the model", "Use it as local:", text=default)
        if ok:
            self.add(Path(path), name.strip())

    def name_problem(self, name: str) -> str | None:
        """Why the model cannot be added as ``local:<name>``, naming the name as written
        (and a model already added under it, in any case), or None."""
        shown = line_shown(name)
        problem = local_model_name_problem(name)
        if problem is not None:
            subject = f'the name "{shown}"' if name else "the name"
            return f"Not added: {subject} {problem}."
        wanted = name.casefold()
        local = self.services.settings.local_models
        taken = next((n for n in local if n.casefold() == wanted), None)
        if taken == name:
            return f"Not added: local:{shown} exists: choose another name."
        if taken is not None:
            return (
                f'Not added: local:{line_shown(taken)} exists, and "{shown}" differs from it '
                "only in capitals: choose another name."
            )
        return None

    def add(self, path: Path, name: str) -> bool:
        """Offer ``path`` as ``local:<name>``; a name the rule refuses, or a file that is not
        a GGUF model, is refused, saying why."""
        problem = self.name_problem(name)
        if problem is not None:
            say(self.message, problem, error=True)
            return False
        path = model_file_path(path)
        problem = gguf_problem(path)
        if problem is not None:
            say(self.message, f"Not added: {problem}.", error=True)
            return False
        local = self.services.settings.local_models
        if not save_change(self.services, self.message, local_models={**local, name: str(path)}):
            return False
        say(self.message, f"Added local:{line_shown(name)}.")
        self.reload()
        self.changed.emit()
        return True

    def remove(self) -> bool:
        item = self.list.currentItem()
        if item is None:
            return False
        name = item.data(ROLE)
        model_id = LOCAL_PREFIX + name
        refused = removal_refused(model_id, lambda m: m == model_id, self.services.model_uses())
        if refused is not None:
            say(self.message, refused.message, error=True)
            return False
        local = {k: v for k, v in self.services.settings.local_models.items() if k != name}
        if not save_change(self.services, self.message, local_models=local):
            return False
        say(
            self.message,
            f"Removed local:{line_shown(name)}; the file itself is left where it is.",
        )
        self.reload()
        self.changed.emit()
        return True
