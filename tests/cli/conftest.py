"""What folio-cli's tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.settings import Settings, save_settings


@pytest.fixture
def cli_home(home: Path) -> Path:
    """The test's data folder, with short answers (24 tokens) on 2 threads: enough to see an
    answer arrive, in a fraction of the time."""
    save_settings(home, Settings(max_answer_tokens=24, threads=2))
    return home
