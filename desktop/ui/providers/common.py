"""What the Models and Providers tabs share: saving a settings change, the Test button."""

from __future__ import annotations

from desktop.core.errors import FolioError
from desktop.core.models.local_files import ModelInfo
from desktop.core.models.providers import provider, remote_models
from desktop.core.settings import updated
from desktop.services import Services
from desktop.ui.messages import error_text, message_label, say
from desktop.ui.qt import (
    QLabel,
    QPushButton,
    Qt,
    QWidget,
    Signal,
)
from desktop.ui.workers import Job

ROLE = Qt.ItemDataRole.UserRole  # where a list item keeps the name it stands for


def save_change(services: Services, label: QLabel, **changes: object) -> bool:
    """Validate and save ``changes``; on failure say why in ``label`` and change nothing."""
    try:
        services.change_settings(updated(services.settings, **changes))
    except (FolioError, OSError) as exc:
        say(label, error_text(exc), error=True)
        return False
    return True


def models_summary(label: str, models: list[ModelInfo]) -> str:
    """What a Test says: how many models ``label`` lists, and the first few of them."""
    names = ", ".join(m.id.split(":", 1)[1] for m in models[:5])
    more = f", … ({len(models) - 5} more)" if len(models) > 5 else ""
    count = f"{len(models)} model{'' if len(models) == 1 else 's'}"
    return f"{label} answers: {count}" + (f" ({names}{more})." if models else ".")


class ProviderTab(QWidget):
    """A tab with a Test button that lists a provider's models in the background."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.test_button = QPushButton("Test")
        self.test_result = message_label()
        self.test_result.setAccessibleName("Test result")

    def test_provider(self, name: str) -> Job:
        """The model count, or the one-line reason it cannot be listed, in ``test_result``."""
        settings, secrets = self.services.settings, self.services.secrets

        def work(_job: Job) -> str:
            p = provider(name, settings)
            return models_summary(p.label, remote_models(p, secrets))

        # Slots are this tab's methods, so a closed dialog simply drops a late answer.
        job = Job(work)
        job.succeeded.connect(self._on_tested)
        job.failed.connect(self._on_test_failed)
        self.test_button.setEnabled(False)
        say(self.test_result, f"Asking {name} for its models…")
        return job.start()

    def _on_tested(self, text: str) -> None:
        say(self.test_result, text)
        self.test_button.setEnabled(True)

    def _on_test_failed(self, text: str) -> None:
        say(self.test_result, text, error=True)
        self.test_button.setEnabled(True)
