"""What every reader shares: the refusal a person reads when a file yields no documents."""

from __future__ import annotations

from desktop.core.library.catalog import FileStatus


class Unreadable(Exception):
    """A file that yields no documents: ``status`` is failed or skipped, ``reason`` says why."""

    def __init__(self, status: FileStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
