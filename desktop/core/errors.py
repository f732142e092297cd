"""Errors that reach a person: each says what happened, to what, and what to do."""

from __future__ import annotations


class FolioError(Exception):
    """Base of every error Folio reports to a person.

    ``message`` says what happened and what to do in words that hold wherever it is read.
    When the way out is a ``folio-cli`` command, ``cli`` is the same message naming it:
    ``str()`` is then that wording, which folio-cli prints, while the window shows
    ``message`` and names its own menus and buttons where it must.
    """

    def __init__(self, message: str = "", *, cli: str | None = None) -> None:
        super().__init__(cli or message)
        self.message = message


def worded(exc: FolioError, *, cli: bool) -> str:
    """``exc``'s message as the reader will meet it: folio-cli's wording with ``cli``, the
    window's without. Used where an error is kept (a comparison's cell, an evaluation's
    result) and shown later by whichever of the two made it."""
    return str(exc) if cli else exc.message


class SettingsError(FolioError):
    """A setting has an invalid value; the message names the field."""


class LibraryError(FolioError):
    """A folder or file cannot be added to or taken out of the library as asked."""


class NothingIndexed(LibraryError):
    """Nothing under a folder is indexed, so nothing can be written from its chunks."""


class NotADataFolder(LibraryError):
    """The folder chosen as the data folder holds other files and none of Folio's."""


class ModelError(FolioError):
    """A model is missing, unknown or failed to load."""


class StoreError(FolioError):
    """The vector store cannot be opened or used."""


class StoreLockedError(StoreError):
    """Another Folio process has the library open."""


class EmbeddingMismatchError(StoreError):
    """The library was filled with another embedding model than the one asked for."""


class ChatError(FolioError):
    """A chat, persona or message cannot be found or used."""


class PersonaExistsError(ChatError):
    """A persona is being created, or renamed, onto a name another persona already has."""


class Cancelled(FolioError):
    """The user cancelled a long-running task."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


class ProviderError(ChatError):
    """A model provider refused or failed a request; the message says what to do."""


class StreamDropped(ProviderError):
    """The connection broke mid-answer: what arrived is kept and marked interrupted."""


class ContextTooLong(ProviderError):
    """The prompt is longer than the model accepts; fewer sources may fit."""


class ConsentRequired(ProviderError):
    """Document text would go to a remote provider the user has not agreed to yet."""

    def __init__(
        self, provider: str, message: str | None = None, *, cli: str | None = None
    ) -> None:
        """``message`` (and ``cli``, as for every error) replace the usual one (asking with
        retrieval on) for other work that sends passages, e.g. a remote judge model."""
        self.provider = provider
        if message is None:
            what = f"Asking {provider} with retrieval on sends passages of your documents to it."
            message = f"{what} Allow it once, or turn retrieval off."
            cli = (
                f"{what} Allow it once (the window asks; folio-cli takes --allow-remote), or "
                "turn retrieval off."
            )
        super().__init__(message, cli=cli)


class FinetuneError(FolioError):
    """A dataset or a fine-tuning job cannot be used; the message names the file or job."""


class DatasetError(FinetuneError):
    """A training file or dataset is invalid or missing; the message names the line."""


class EvaluationError(FolioError):
    """An evaluation set, file or run cannot be used; the message names the set, line or run."""
