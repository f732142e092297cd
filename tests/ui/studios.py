"""The fine-tuning studios a test opened, closed after it by ``conftest._close_studios``."""

from __future__ import annotations

from desktop.ui.finetune.studio import FinetuneStudio

_studios: list[FinetuneStudio] = []
