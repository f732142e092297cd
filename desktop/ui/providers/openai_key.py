"""The OpenAI tab: the API key in the keyring, and where requests go."""

from __future__ import annotations

import os

from desktop.core.errors import FolioError
from desktop.core.models.ids import OPENAI, OPENAI_URL
from desktop.core.models.providers import provider
from desktop.core.secrets import OPENAI_KEY_ENV
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.providers.common import ProviderTab
from desktop.ui.qt import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from desktop.ui.workers import Job


class OpenAITab(ProviderTab):
    """The OpenAI API key: saved to or forgotten from the keyring; where the key comes from."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        secrets = services.secrets
        self.status = message_label()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("sk-…  (from platform.openai.com → API keys)")
        self.key.setAccessibleName("OpenAI API key")
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.forget_button = QPushButton("Forget")
        self.forget_button.clicked.connect(self.forget)
        self.test_button.clicked.connect(self.test)
        self.message = message_label()
        if not secrets.available:
            # Never somewhere else: without a keyring the key can only come from the environment.
            say(self.message, secrets.unavailable_reason(OPENAI_KEY_ENV), error=True)
            for widget in (self.key, self.save_button, self.forget_button):
                widget.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.key, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.forget_button)
        row.addWidget(self.test_button)
        form = QFormLayout()
        form.addRow("API key", row)
        form.addRow("", self.status)
        form.addRow("", self.message)
        form.addRow("", self.test_result)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_status()

    def show_status(self) -> None:
        """Say where the key comes from (keyring, environment, nowhere) and where it goes."""
        secrets = self.services.secrets
        if secrets.stored(OPENAI):
            text = "A key is stored in the system keyring."
        elif os.environ.get(OPENAI_KEY_ENV):
            text = f"Using the key from the {OPENAI_KEY_ENV} environment variable."
        else:
            text = f"No key yet: add one to list OpenAI's models, or set {OPENAI_KEY_ENV}."
        base_url = provider(OPENAI, self.services.settings).base_url
        if base_url != OPENAI_URL:
            text += f" Requests go to {base_url} (OPENAI_BASE_URL)."
        self.status.setText(text)
        self.forget_button.setEnabled(secrets.stored(OPENAI))

    def save(self) -> bool:
        try:
            self.services.secrets.set(OPENAI, self.key.text(), OPENAI_KEY_ENV)
        except FolioError as exc:
            say(self.message, error_text(exc), error=True)
            return False
        self.key.clear()
        say(self.message, "Saved the key in the system keyring.")
        self.show_status()
        self.changed.emit()
        return True

    def forget(self) -> None:
        self.services.secrets.forget(OPENAI)
        say(self.message, "Forgot the stored key.")
        self.show_status()
        self.changed.emit()

    def test(self) -> Job:
        return self.test_provider(OPENAI)
