"""Folio: chat with your own documents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("folio")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
