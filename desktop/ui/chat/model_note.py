"""A note above the answers while the built-in model answers: a better model for this computer.

The model comes from ``suggestion.suggested_download`` (the catalog, this computer's memory);
its button opens the Downloads tab. Once dismissed, the note stays hidden for this data folder.
"""

from __future__ import annotations

from desktop.core.models.downloads import CatalogEntry
from desktop.core.models.ids import LOCAL_PREFIX
from desktop.core.models.local_files import DEFAULT_LLM_ID
from desktop.core.models.names import BUILT_IN_NAME, display_name
from desktop.core.models.suggestion import suggested_download, total_memory
from desktop.services import Services
from desktop.ui.qt import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget, Signal
from desktop.ui.state import window_state

DISMISSED_KEY = "notes/model_suggestion_dismissed"


class ModelNote(QFrame):
    """Suggests downloading the catalog model that suits this computer, while the built-in
    model is chosen.

    Hidden for any other model, when no catalog model fits this computer's memory, when the
    one that fits is already in the model list, and for good once dismissed.
    """

    download_requested = Signal()  # the person wants the Downloads tab

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.memory = total_memory()  # bytes; measured once, it does not change while running
        self.suggestion: CatalogEntry | None = None
        self.dismissed = bool(window_state(services.home).value(DISMISSED_KEY, False, type=bool))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Model suggestion")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Open Models and Providers → Downloads")
        self.download_button.clicked.connect(self.download_requested.emit)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Hide this suggestion for good")
        self.dismiss_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.download_button)
        layout.addWidget(self.dismiss_button)
        self.hide()

    def show_for(self, model_id: str) -> None:
        """Show the note if ``model_id`` is the built-in model and a download would do better."""
        entry = None
        if model_id == DEFAULT_LLM_ID and not self.dismissed:
            entry = suggested_download(self.memory, self.services.settings.local_models)
        self.suggestion = entry
        if entry is not None:
            name = display_name(LOCAL_PREFIX + entry.name)
            self.text.setText(
                f"{BUILT_IN_NAME}, the built-in model, is small and often gets facts wrong. "
                f"{name} suits this computer's memory and answers better from your documents: "
                f"a {entry.size_gb:.1f} GB download."
            )
        self.setVisible(entry is not None)

    def dismiss(self) -> None:
        """Hide the note, now and at every later start on this data folder."""
        self.dismissed = True
        state = window_state(self.services.home)
        state.setValue(DISMISSED_KEY, True)
        state.sync()
        self.hide()
