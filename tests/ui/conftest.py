"""Window tests' shared clean-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.ui.workers import wait_for_jobs
from tests.ui.studios import _studios


@pytest.fixture(autouse=True)
def _close_studios() -> Iterator[None]:
    """Each studio's work stops after its test; edits left unsaved are dropped, not asked.

    Closed here rather than by qtbot: a studio must stop its generation and polling first.
    """
    yield
    for studio in _studios:
        studio.editor.load(None)
        studio.shutdown()
        studio.close()
        studio.deleteLater()
    wait_for_jobs()
    _studios.clear()
