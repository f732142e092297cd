"""The Servers tab: OpenAI-compatible servers a person adds, tests and removes."""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.core.models.ids import PROVIDER_NAME_RULE, RESERVED_PROVIDERS, provider_name_problem
from desktop.core.models.providers import name_taken
from desktop.core.models.uses import removal_refused, server_models
from desktop.core.settings import new_server_problem, updated
from desktop.services import Services
from desktop.ui.dialogs import confirm_deletion
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.providers.common import ROLE, ProviderTab, save_change
from desktop.ui.qt import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.shown import line_shown
from desktop.ui.workers import Job


class ServersTab(ProviderTab):
    """OpenAI-compatible servers (Ollama, LM Studio, vLLM, llama.cpp): add, test, remove."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.list = QListWidget()
        self.list.setAccessibleName("Servers")
        self.test_button.clicked.connect(self.test)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. ollama; its models are ollama:<model>")
        self.name.setToolTip(f"A server's name takes {PROVIDER_NAME_RULE}.")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("e.g. http://localhost:11434/v1")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional; kept in the system keyring")
        self.key_env = QLineEdit()
        self.key_env.setPlaceholderText("optional: environment variable holding the key")
        if not services.secrets.available:
            self.key.setEnabled(False)
            self.key.setToolTip(services.secrets.unavailable_reason("the key variable"))
            self.key.setPlaceholderText("no system keyring here: use an environment variable")
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add)
        self.message = message_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("API key", self.key)
        form.addRow("Key variable", self.key_env)
        form.addRow("", self.add_button)
        form.addRow("", self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.test_result)
        layout.addWidget(QLabel("<b>Add a server</b>"))
        layout.addLayout(form)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self.list.clear()
        secrets = self.services.secrets
        for name, server in sorted(self.services.settings.servers.items()):
            if secrets.stored(name):
                key = "key in the keyring"
            elif server.api_key_env:
                key = f"key from ${server.api_key_env}"
            else:
                key = "no key"
            shown = f"{line_shown(name)} — {line_shown(server.base_url)}  ({line_shown(key)})"
            item = QListWidgetItem(shown)
            item.setData(ROLE, name)
            self.list.addItem(item)
            if name == select:
                self.list.setCurrentItem(item)
        self._enable()

    def _enable(self) -> None:
        chosen = self.selected() is not None
        self.remove_button.setEnabled(chosen)
        self.test_button.setEnabled(chosen)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(ROLE) if item is not None else None

    def name_problem(self, name: str) -> str | None:
        """Why a server cannot be added as ``name``, naming the field and the name as
        written, or None."""
        if not name:
            return f"Name: give the server a name of {PROVIDER_NAME_RULE}, e.g. ollama."
        shown = line_shown(name)
        taken = name_taken(name, self.services.settings)
        if taken in RESERVED_PROVIDERS:
            return (
                f'Name "{shown}": {taken} names Folio\'s own models ({taken}:<model>): '
                "choose another name."
            )
        if taken == name:
            return f'A server called "{shown}" exists: remove it first, or choose another name.'
        if taken is not None:
            existing = line_shown(taken)
            return (
                f'Name "{shown}": a server called "{existing}" exists, and model ids that '
                f"differ only in capitals ({existing}:<model>, {shown}:<model>) are easily "
                f"mistaken: choose another name, or remove {existing} first."
            )
        if provider_name_problem(name) is not None:
            return (
                f'Name "{shown}" cannot name a server: the name starts its model ids '
                f"(name:model), so it takes only {PROVIDER_NAME_RULE}."
            )
        return None

    def add(self) -> bool:
        """Add the server in the fields; its key goes to the keyring, never to settings."""
        settings = self.services.settings
        name = self.name.text().strip()
        problem = self.name_problem(name)
        if problem is not None:
            say(self.message, problem, error=True)
            self.name.setFocus()
            return False
        env = self.key_env.text().strip() or None
        server = {"base_url": self.base_url.text().strip(), "api_key_env": env}
        found = new_server_problem(server["base_url"] or "", env)
        if found is not None:
            wrong, problem = found
            label = {"base_url": "Base URL", "api_key_env": "Key variable"}[wrong]
            typed = server[wrong]
            shown = f'{label} "{line_shown(typed)}"' if typed else label
            say(self.message, f"{shown} {problem}.", error=True)
            (self.base_url if wrong == "base_url" else self.key_env).setFocus()
            return False
        key = self.key.text().strip()
        try:
            new = updated(settings, servers={**settings.servers, name: server})
            if key:
                self.services.secrets.set(name, key, env or f"the key variable of {name}")
        except (FolioError, OSError) as exc:
            say(self.message, error_text(exc), error=True)
            return False
        try:
            self.services.change_settings(new)
        except (FolioError, OSError) as exc:
            if key:
                # The server was not added: its key must not wait in the keyring for the
                # next server given this name.
                self.services.secrets.forget(name)
            say(self.message, error_text(exc), error=True)
            return False
        for field in (self.name, self.base_url, self.key, self.key_env):
            field.clear()
        say(
            self.message,
            f"Added {line_shown(name)}: its models are listed as {line_shown(name)}:<model>.",
        )
        self.reload(select=name)
        self.changed.emit()
        return True

    def remove(self) -> bool:
        """Remove the chosen server, its stored key and the permission to send it documents,
        once the person confirms; True when removed."""
        name = self.selected()
        if name is None:
            return False
        uses = self.services.model_uses()
        refused = removal_refused(f"The server {name}", server_models(name), uses)
        if refused is not None:  # said before asking: nothing would be removed
            say(self.message, refused.message, error=True)
            return False
        settings = self.services.settings
        shown = line_shown(name)
        gone = [f"Its models ({shown}:<model>) leave the model picker."]
        if self.services.secrets.stored(name):
            gone.append("Its key is deleted from the system keyring.")
        if name in settings.remote_consent:
            gone.append("Its permission to receive passages of your documents is withdrawn.")
        gone.append("Chats that used it keep their answers.")
        if not confirm_deletion(self, f'Remove the server "{shown}"?', " ".join(gone)):
            return False
        servers = {k: v for k, v in settings.servers.items() if k != name}
        consent = [p for p in settings.remote_consent if p != name]
        if not save_change(self.services, self.message, servers=servers, remote_consent=consent):
            return False
        self.services.secrets.forget(name)
        say(self.message, f"Removed {shown}, its key and its permission to receive documents.")
        say(self.test_result, "")
        self.reload()
        self.changed.emit()
        return True

    def test(self) -> Job | None:
        name = self.selected()
        return self.test_provider(name) if name is not None else None
