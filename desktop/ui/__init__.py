"""Folio's window: PySide6 only, on top of the same core services as folio-cli."""
