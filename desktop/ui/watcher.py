"""Watching the library's folders while Folio runs; bursts of changes become one sync."""

from __future__ import annotations

import os

from desktop.core.library.filenames import os_path, stored_name
from desktop.core.library.walk import is_data_folder, skipped_folder
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

    def watch(self, roots: list[str], returning: list[str] | None = None) -> None:
        """Watch ``roots`` and the folders below them (replacing what was watched).

        ``returning`` are library folders that cannot be reached now. The nearest existing
        folder above every root (and above each of ``returning``) is watched too, without
        what lies below it: unplugging, unmounting or renaming a library folder, and its
        return, start a sync. Paths are stored names (``desktop.core.library.filenames``).
        """
        current = self._watcher.directories() + self._watcher.files()
        if current:
            self._watcher.removePaths(current)
        paths: list[str] = []
        for root in roots:
            if os.path.isfile(os_path(root)):
                paths.append(root)
                continue
            if is_data_folder(os_path(root)):
                continue  # the walker takes nothing from it, and Folio writes there all the time
            for folder, dirs, _ in os.walk(os_path(root)):
                dirs[:] = [d for d in dirs if not skipped_folder(folder, d)]
                paths.append(folder)
                if len(paths) >= MAX_WATCHED_DIRS:
                    break
        for folder in [*roots, *(returning or [])]:
            above = os.path.dirname(folder)
            while above != os.path.dirname(above) and not os.path.isdir(above):
                above = os.path.dirname(above)
            paths.append(above)
        # Qt names files in UTF-8 only: a folder whose name is not cannot be watched.
        paths = list(dict.fromkeys(p for p in paths if stored_name(p) == p))
        if paths:
            self._watcher.addPaths(paths[:MAX_WATCHED_DIRS])

    def watched(self) -> list[str]:
        return self._watcher.directories() + self._watcher.files()
