"""Models and Providers: the OpenAI key, the user's servers, model downloads and local GGUFs.

The window's counterpart of ``folio-cli models``: it changes the same settings through
``Services.change_settings`` and keeps keys only in the system keyring (``Services.secrets``).
Listing a server's models, downloading and switching the library's embedding model run as
background ``Job``s. Each tab lives in a module of its own beside this one; ``common`` holds
what they share.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.services import Services
from desktop.ui.providers.downloads import DownloadsTab
from desktop.ui.providers.embeddings import EmbeddingsTab
from desktop.ui.providers.local_files import LocalFilesTab
from desktop.ui.providers.openai_key import OpenAITab
from desktop.ui.providers.servers import ServersTab
from desktop.ui.providers.storage import StorageTab
from desktop.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)


def _library_busy(parent: QWidget | None) -> Callable[[], bool]:
    """Whether the window's library pane (``parent.library``, if any) is running a job."""
    return lambda: bool(getattr(getattr(parent, "library", None), "busy", False))


class ProvidersDialog(QDialog):
    """Settings → Models and Providers. Modeless, so downloads go on while the person chats."""

    providers_changed = Signal()  # keys or servers changed: remote lists must be asked again
    local_models_changed = Signal()  # a GGUF was downloaded, added or removed
    embedding_switch_running = Signal(bool)  # hold indexing back while True
    store_moved = Signal()  # the library's vectors now live in another store

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        is_busy: Callable[[], bool] | None = None,
    ) -> None:
        """``is_busy`` says whether the library is indexing; by default, the window's pane."""
        super().__init__(parent)
        self.setWindowTitle("Models and Providers")
        self.resize(1060, 560)
        self.openai = OpenAITab(services)
        self.servers = ServersTab(services)
        self.downloads = DownloadsTab(services)
        self.local = LocalFilesTab(services)
        self.embeddings = EmbeddingsTab(services, is_busy or _library_busy(parent))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.openai, "OpenAI")
        self.tabs.addTab(self.servers, "Servers")
        self.tabs.addTab(self.downloads, "Downloads")
        self.tabs.addTab(self.local, "Local files")
        self.tabs.addTab(self.embeddings, "Embeddings")
        self.storage = StorageTab(services)
        self.tabs.addTab(self.storage, "Storage")
        self.storage.moved.connect(self.store_moved)
        self.embeddings.running.connect(self.embedding_switch_running)
        self.openai.changed.connect(self.providers_changed)
        self.servers.changed.connect(self.providers_changed)
        for tab in (self.downloads, self.local):
            tab.changed.connect(self.local_models_changed)
        self.downloads.changed.connect(self.local.reload)
        self.local.changed.connect(self.downloads.reload)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(close)

    def reload(self) -> None:
        """Show the settings as they are now: the Settings dialog or the CLI may have changed."""
        self.openai.show_status()
        self.servers.reload(select=self.servers.selected())
        self.downloads.reload()
        self.local.reload()
        self.embeddings.show_state()
        self.storage.show_state()

    def cancel_downloads(self) -> None:
        """Stop every download at its next block, and an embedding switch at its next batch.

        Each resumes when started again.
        """
        self.downloads.cancel_all()
        self.embeddings.cancel()
        self.storage.cancel()
