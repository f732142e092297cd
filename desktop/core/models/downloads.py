"""Download recommended GGUF models from the Hugging Face hub.

``CATALOG`` lists small instruct models that run on a laptop CPU. ``download`` asks the hub
about the file through huggingface_hub (``HEAD /{repo}/resolve/{revision}/{file}``: redirects,
commit, size, sha256 ETag, typed errors) and then fetches the bytes itself, because
``hf_hub_download`` 1.x writes to a temporary file unique to the process and deletes it on any
failure, so a cancelled or killed download would start again from zero. Here the bytes go to
``<file>.<etag>.incomplete`` beside the destination and the next call resumes it with an HTTP
Range request; the size, and the sha256 the hub publishes for LFS files (every GGUF), are
checked before the file takes its final name, so a file at ``dest_dir / filename`` is always a
complete, checked download. One download of a file at a time, across processes: a
``<file>.lock`` (filelock, as huggingface_hub uses) is held while it runs.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import re
import shutil
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

# huggingface_hub reads this once, at its first import: set it before ours.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx
import huggingface_hub
from filelock import FileLock, Timeout
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import hf_raise_for_status, http_stream_backoff

from desktop.core.errors import ModelError
from desktop.core.tasks import CancelToken

ProgressHook = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a model downloads."""

# Our own user agent, so nothing about the machine is sent even if another package imported
# huggingface_hub before the telemetry switch above was set; no token is ever sent.
_HEADERS = {"user-agent": f"folio; hf_hub/{huggingface_hub.__version__}"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REPORT_EVERY = 1 << 20  # progress once per MiB: enough for a bar, not a flood of signals
_HASH_BLOCK = 8 << 20
_MAX_STALLS = 3  # reconnections in a row that bring no new byte before giving up


@dataclass(frozen=True)
class CatalogEntry:
    """A GGUF file on the hub that Folio can download; ``name`` gives the ``local:<name>`` id.

    ``size_gb`` (download) and ``ram_gb`` (to run it with a 4k context) are approximate.
    """

    name: str
    repo_id: str
    filename: str
    size_gb: float
    ram_gb: float
    licence: str
    description: str
    revision: str = "main"


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="qwen2.5-0.5b",
        repo_id="Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
        size_gb=0.49,
        ram_gb=1.0,
        licence="Apache-2.0",
        description="Smallest and fastest; fine for short answers, loses track on long ones.",
    ),
    CatalogEntry(
        name="llama3.2-1b",
        repo_id="bartowski/Llama-3.2-1B-Instruct-GGUF",
        filename="Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        size_gb=0.81,
        ram_gb=1.5,
        licence="Llama 3.2 Community License",
        description="Meta's 1B chat model: quick, good plain-English summaries.",
    ),
    CatalogEntry(
        name="smollm2-1.7b",
        repo_id="HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
        filename="smollm2-1.7b-instruct-q4_k_m.gguf",
        size_gb=1.06,
        ram_gb=2.0,
        licence="Apache-2.0",
        description="Big sibling of the built-in model; noticeably better at using sources.",
    ),
    CatalogEntry(
        name="qwen2.5-1.5b",
        repo_id="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        size_gb=1.12,
        ram_gb=2.0,
        licence="Apache-2.0",
        description="Best speed/quality balance on a laptop; many languages.",
    ),
    CatalogEntry(
        name="llama3.2-3b",
        repo_id="bartowski/Llama-3.2-3B-Instruct-GGUF",
        filename="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        size_gb=2.02,
        ram_gb=3.5,
        licence="Llama 3.2 Community License",
        description="Solid answers from long documents; wants 8 GB of RAM in the machine.",
    ),
    CatalogEntry(
        name="phi3.5-mini",
        repo_id="bartowski/Phi-3.5-mini-instruct-GGUF",
        filename="Phi-3.5-mini-instruct-Q4_K_M.gguf",
        size_gb=2.39,
        ram_gb=4.0,
        licence="MIT",
        description="Strongest reasoning here, slowest on few cores; English first.",
    ),
)


@dataclass(frozen=True)
class CatalogRow:
    """One catalog model as the CLI or the model picker shows it."""

    name: str
    size_gb: float
    ram_gb: float
    licence: str
    description: str
    downloaded: bool
    path: Path


def find_entry(name: str) -> CatalogEntry:
    """The catalog entry called ``name``, or a ModelError listing the known names."""
    for entry in CATALOG:
        if entry.name == name.strip().lower():
            return entry
    known = ", ".join(entry.name for entry in CATALOG)
    raise ModelError(f"No model called {name!r} in the catalog. Known models: {known}.")


def catalog_rows(dest_dir: Path) -> list[CatalogRow]:
    """Every catalog model, marked downloaded when its file is already in ``dest_dir``."""
    rows = []
    for entry in CATALOG:
        path = dest_dir / entry.filename
        rows.append(
            CatalogRow(
                entry.name,
                entry.size_gb,
                entry.ram_gb,
                entry.licence,
                entry.description,
                path.is_file(),
                path,
            )
        )
    return rows


def hub_endpoint() -> str:
    """The hub to download from: ``HF_ENDPOINT`` as it is now, not when huggingface_hub loaded."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def download(
    entry_or_name: CatalogEntry | str,
    dest_dir: Path,
    on_progress: ProgressHook | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Download a catalog model to ``dest_dir / filename`` and return that path.

    Resumes a partial download left by an earlier call, checks the hub's sha256, and returns
    at once, without touching the network, when the file is already there. ``on_progress``
    gets (bytes done, bytes total) about once per MiB. Raises ``Cancelled`` (the partial file
    stays for the next call) or ``ModelError``.
    """
    entry = find_entry(entry_or_name) if isinstance(entry_or_name, str) else entry_or_name
    cancel = cancel or CancelToken()
    dest = dest_dir / entry.filename
    if dest.is_file():
        return dest
    cancel.raise_if_cancelled()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        with _only_download(entry, dest):
            if not dest.is_file():  # else another download finished it meanwhile
                _download_to(entry, dest, on_progress, cancel)
    except OSError as error:
        raise _disk_error(entry, dest_dir, error) from error
    return dest


@contextmanager
def _only_download(entry: CatalogEntry, dest: Path) -> Iterator[None]:
    """Hold ``dest``'s download lock, or refuse: two downloads would share the partial file."""
    path = dest.with_name(f"{dest.name}.lock")
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ModelError(
            f"{entry.name} is already being downloaded, by another Folio window or folio-cli. "
            "Wait for that download to finish, or cancel it there and start again."
        ) from None
    try:
        yield
    finally:
        lock.release()
        with suppress(OSError):  # another process may hold it again by now (Windows)
            path.unlink()


def _download_to(
    entry: CatalogEntry,
    dest: Path,
    on_progress: ProgressHook | None,
    cancel: CancelToken,
) -> None:
    """Fetch (or resume) ``entry`` into its partial file, check it, give it ``dest``'s name."""
    endpoint = hub_endpoint()
    with _hub_errors(entry, endpoint):
        url = hf_hub_url(entry.repo_id, entry.filename, revision=entry.revision, endpoint=endpoint)
        meta = get_hf_file_metadata(url, token=False, headers=_HEADERS, endpoint=endpoint)
        if meta.commit_hash is None or meta.etag is None or meta.size is None:
            raise ModelError(
                f"{_shown_endpoint(endpoint)} did not answer like the Hugging Face hub for "
                f"{entry.name} (no commit, ETag or size). Check that address and any proxy in "
                "between."
            )
        partial = _partial_path(dest, meta.etag)
        _check_space(entry, partial, meta.size)
        digest = _download_bytes(meta.location, partial, meta.size, on_progress, cancel)
    # For LFS files (every GGUF) the hub's ETag is the file's sha256. huggingface_hub
    # itself only compares sizes, so a corrupted byte would otherwise go unnoticed.
    if _SHA256.fullmatch(meta.etag) and digest != meta.etag:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"The download of {entry.name} ({entry.filename}) is corrupted: its sha256 "
            "does not match the one the hub publishes. It was deleted; run the download "
            "again."
        )
    partial.replace(dest)


def _partial_path(dest: Path, etag: str) -> Path:
    """Where the bytes of this version of the file accumulate; older versions' parts go."""
    partial = dest.with_name(f"{dest.name}.{etag[:16]}.incomplete")
    for stale in dest.parent.glob(f"{glob.escape(dest.name)}.*.incomplete"):
        if stale != partial:
            stale.unlink(missing_ok=True)
    return partial


def _check_space(entry: CatalogEntry, partial: Path, total: int) -> None:
    have = partial.stat().st_size if partial.is_file() else 0
    free = shutil.disk_usage(partial.parent).free
    if free < total - have:
        raise ModelError(
            f"Not enough disk space for {entry.name}: it needs {(total - have) / 1e9:.2f} GB "
            f"more in {partial.parent}, which has {free / 1e9:.2f} GB free. Free some space "
            "and run the download again."
        )


def _download_bytes(
    url: str,
    partial: Path,
    total: int,
    on_progress: ProgressHook | None,
    cancel: CancelToken,
) -> str:
    """Fill ``partial`` up to ``total`` bytes from ``url``; return the sha256 of the whole file.

    Bytes already in ``partial`` are kept and only the rest is asked for. The hash is fed as
    bytes are written, so a finished download is not read back a second time.
    """
    if partial.is_file() and partial.stat().st_size > total:
        partial.unlink()  # not a prefix of this file: start again
    hasher = _hash_prefix(partial, cancel)
    done = partial.stat().st_size if partial.is_file() else 0
    reported = done
    if on_progress:
        on_progress(done, total)
    stalls = 0
    with partial.open("ab") as out:
        while done < total:
            headers = dict(_HEADERS)
            # Byte offsets must be file offsets: never let a server compress the body.
            headers["Accept-Encoding"] = "identity"
            if done:
                headers["Range"] = f"bytes={done}-"
            start = done
            try:
                with http_stream_backoff(
                    "GET",
                    url,
                    headers=headers,
                    timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT,
                    retry_on_exceptions=(),
                    retry_on_status_codes=(408, 429, 500, 502, 503, 504),
                ) as response:
                    hf_raise_for_status(response)
                    if done and response.status_code != 206:
                        # The server ignored Range and sends the whole file: take it all.
                        out.truncate(0)
                        hasher = hashlib.sha256()
                        done = reported = 0
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        hasher.update(chunk)
                        done += len(chunk)
                        if on_progress and (done - reported >= _REPORT_EVERY or done >= total):
                            on_progress(done, total)
                            reported = done
                        cancel.raise_if_cancelled()
            except httpx.TransportError:
                # A dropped or stalled connection: carry on from the bytes we have, as long
                # as reconnecting brings new ones.
                stalls = 0 if done > start else stalls + 1
                if stalls >= _MAX_STALLS:
                    raise
                time.sleep(0.5 * stalls)
            if done > total:
                raise ModelError(
                    f"The hub sent more than the {total} bytes it announced for {partial.name}."
                )
    return hasher.hexdigest()


def _hash_prefix(partial: Path, cancel: CancelToken) -> hashlib._Hash:
    """A sha256 fed with what an earlier call already downloaded, if anything."""
    hasher = hashlib.sha256()
    if partial.is_file():
        with partial.open("rb") as part:
            while block := part.read(_HASH_BLOCK):
                hasher.update(block)
                cancel.raise_if_cancelled()
    return hasher


@contextmanager
def _hub_errors(entry: CatalogEntry, endpoint: str) -> Iterator[None]:
    """Turn huggingface_hub and network errors into ModelErrors a person can act on."""
    where = f"{entry.repo_id} on {endpoint}"
    try:
        yield
    except RepositoryNotFoundError as error:
        raise ModelError(
            f"Cannot download {entry.name}: repository {where} was not found (or is private)."
        ) from error
    except RevisionNotFoundError as error:
        raise ModelError(
            f"Cannot download {entry.name}: revision {entry.revision!r} of {where} was not found."
        ) from error
    except RemoteEntryNotFoundError as error:
        raise ModelError(
            f"Cannot download {entry.name}: file {entry.filename} was not found in {where}."
        ) from error
    except OfflineModeIsEnabled as error:
        raise ModelError(
            f"Cannot download {entry.name}: HF_HUB_OFFLINE is set. Unset it to download models."
        ) from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "an error"
        raise ModelError(
            f"Cannot download {entry.name}: the hub at {endpoint} answered {status}. "
            "Try again later; the download resumes where it stopped."
        ) from error
    except httpx.HTTPError as error:
        raise ModelError(
            f"Cannot reach the model hub at {_shown_endpoint(endpoint)} to download "
            f"{entry.name}: {_network_reason(error, endpoint)}. Check the internet connection "
            "and try again; the download resumes where it stopped."
        ) from error


def _shown_endpoint(endpoint: str) -> str:
    """``endpoint``, said to come from ``HF_ENDPOINT`` when that variable chose it."""
    return f"{endpoint} (set by HF_ENDPOINT)" if os.environ.get("HF_ENDPOINT") else endpoint


def _network_reason(error: BaseException, endpoint: str) -> str:
    """Why ``endpoint`` could not be reached, in words rather than the socket's errno text
    ("[Errno -2] Name or service not known"), from the error's chain of causes."""
    url = httpx.URL(endpoint)
    host, where = url.host, url.netloc.decode("ascii")
    cause: BaseException | None = error
    for _ in range(10):  # a chain is a few links long; never follow a cycle for ever
        if cause is None:
            break
        if isinstance(cause, socket.gaierror):
            return f"the name {host} could not be looked up (no connection, or a misspelt name)"
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing at {where} accepts connections"
        if isinstance(cause, httpx.TimeoutException | TimeoutError):
            return f"{where} did not answer in time"
        if isinstance(cause, ssl.SSLError):
            return f"the secure connection to {where} failed (a proxy in between may stop it)"
        cause = cause.__cause__ or cause.__context__
    return f"the connection to {where} failed ({type(error).__name__})"


def _disk_error(entry: CatalogEntry, dest_dir: Path, error: OSError) -> ModelError:
    if error.errno == errno.ENOSPC:
        return ModelError(
            f"The disk is full: {entry.name} could not be written to {dest_dir}. Free some "
            "space and run the download again; it resumes where it stopped."
        )
    return ModelError(f"Cannot write {entry.name} to {dest_dir}: {error}.")
