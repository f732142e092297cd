"""Watching the library's folders while Folio runs; bursts of changes become one sync."""

from __future__ import annotations

import os

from desktop.ui.qt import QFileSystemWatcher, QObject, QTimer, Signal

DEBOUNCE_MS = 1500
# inotify watches are a shared, limited resource: beyond this many folders, rely on
# "Sync now" and the sync at start-up.
MAX_WATCHED_DIRS = 4000


class FolderWatcher(QObject):
    """Emits ``changed`` once things under the watched folders have settled."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self._watcher.directoryChanged.connect(lambda _: self._timer.start())
        self._watcher.fileChanged.connect(lambda _: self._timer.start())

    def watch(self, roots: list[str]) -> None:
        """Watch ``roots`` and the folders below them (replacing what was watched)."""
        current = self._watcher.directories() + self._watcher.files()
        if current:
            self._watcher.removePaths(current)
        paths: list[str] = []
        for root in roots:
            if os.path.isfile(root):
                paths.append(root)
                continue
            for folder, dirs, _ in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d != "node_modules"]
                paths.append(folder)
                if len(paths) >= MAX_WATCHED_DIRS:
                    break
        if paths:
            self._watcher.addPaths(paths[:MAX_WATCHED_DIRS])

    def watched(self) -> list[str]:
        return self._watcher.directories() + self._watcher.files()
