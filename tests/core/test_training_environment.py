"""Training support installed on demand, as the packaged app does it: a private virtual
environment made with this computer's Python and pip (PyTorch's CPU build, from the wheel
this machine keeps on disk), then a real training run in it, offline.

These tests build the private environment for real (about 250 MB of wheels, 1.2 GB
installed, half a minute here), once per module.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.errors import Cancelled, FinetuneError
from desktop.core.finetune.local import environment as environment_module
from desktop.core.finetune.local.config import TrainConfig
from desktop.core.finetune.local.environment import (
    MARKER,
    InstallProgress,
    TrainingEnvironment,
    child_env,
)
from desktop.core.finetune.local.runs import MAX_RESTARTS
from desktop.core.finetune.local.runtime import TrainerCommand, TrainerRuntime
from desktop.core.finetune.records import JobState
from tests.core.test_local_training import NO_NETWORK, SMALL, _training, _until

ROOT = Path(__file__).resolve().parents[2]


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyTorch's CPU index is out of reach here: pip takes the CPU build from this machine's
    # wheel folder (its own configuration), as it would from a mirror.
    monkeypatch.setenv("FOLIO_TORCH_INDEX", "")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list]]:  # type: ignore[type-arg]
    """A data folder whose private environment was installed, with the progress reported."""
    home = tmp_path_factory.mktemp("home")
    events: list[InstallProgress] = []
    with pytest.MonkeyPatch.context() as patch:
        _offline(patch)
        environment = TrainingEnvironment(home)
        environment.install(environment.plan(), events.append)
    yield home, events


def test_the_plan_shows_the_download_and_a_cancelled_install_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offline(monkeypatch)
    environment = TrainingEnvironment(tmp_path / "home")
    plan = environment.plan()
    torch = plan.packages[0]  # the largest first
    assert torch.name == "torch" and torch.version.endswith("+cpu")
    assert plan.build == "cpu"  # no NVIDIA driver here
    assert plan.download_bytes == sum(p.size for p in plan.packages) > 150_000_000
    assert plan.disk_bytes > plan.download_bytes
    assert {"transformers", "peft", "gguf"} <= {p.name for p in plan.packages}
    assert not environment.ready()

    events: list[InstallProgress] = []
    with pytest.raises(Cancelled):
        environment.install(plan, events.append, cancelled=lambda: bool(events))
    assert events and events[0].phase == "download"
    assert not environment.partial.exists() and not environment.env.exists()
    # Cancelled while planning (pip's dry run): nothing is left behind either.
    asked: list[int] = []

    def after_a_while() -> bool:
        asked.append(1)
        return len(asked) > 10  # two seconds in: the environment is being made

    with pytest.raises(Cancelled):
        environment.plan(after_a_while)
    assert not environment.partial.exists() and not environment.env.exists()
    assert not environment.ready()


def test_install_reports_progress_and_records_what_it_installed(installed) -> None:  # type: ignore[no-untyped-def]
    home, events = installed
    environment = TrainingEnvironment(home)
    assert environment.ready() and not environment.partial.exists()
    downloads = [e for e in events if e.phase == "download"]
    done = [e.done for e in downloads]
    assert done == sorted(done) and done[-1] > 0.9 * downloads[-1].total
    assert events[-1].phase == "install"
    marker = environment.env / MARKER
    record = json.loads(marker.read_text(encoding="utf-8"))
    assert record["build"] == "cpu" and "peft==0.21.2" in record["requirements"]
    assert not environment.outdated()

    # Installed by another version of Folio (other pins): not used until installed again.
    original = marker.read_text(encoding="utf-8")
    marker.write_text(json.dumps({**record, "requirements": ["peft==0.17.0"]}), "utf-8")
    try:
        runtime = TrainerRuntime(home, own=False)
        assert environment.outdated() and not environment.ready() and not runtime.available()
        assert "installed by another version of Folio" in runtime.missing_message()
    finally:
        marker.write_text(original, encoding="utf-8")
    assert environment.ready()


def test_a_run_trains_in_the_private_environment_offline(  # type: ignore[no-untyped-def]
    installed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = installed
    guard, log = tmp_path / "guard", tmp_path / "network.log"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(guard))
    monkeypatch.setenv("FOLIO_TEST_NETWORK_LOG", str(log))
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # as a user's computer
    training = _training(home)
    training.runtime = TrainerRuntime(home, own=False)  # as in the packaged app
    command = training.runtime.require()
    assert command.argv[0] == str(TrainingEnvironment(home).python())
    linked = TrainingEnvironment(home).src / "desktop"
    assert linked.resolve() == (ROOT / "desktop").resolve()

    job = training.start("snark", config=TrainConfig(epochs=1, **SMALL), name="private")
    done = _until(training, job.id, lambda j: j.finished)
    assert done.status == JobState.SUCCEEDED, done.error
    assert [m.id for m in training.models()] == ["local:ft:private"]
    # Compiled modules went to the data folder, not next to the app's own (the bundle's,
    # when packaged: read-only, and an uninstall would leave them behind).
    assert list((TrainingEnvironment(home).folder / "pycache").rglob("trainer.*.pyc"))
    assert not log.exists() or log.read_text() == ""


def test_a_cancelled_reinstall_keeps_the_installed_environment(  # type: ignore[no-untyped-def]
    installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = installed
    _offline(monkeypatch)
    environment = TrainingEnvironment(home)
    events: list[InstallProgress] = []
    with pytest.raises(Cancelled):
        environment.install(environment.plan(), events.append, cancelled=lambda: bool(events))
    assert environment.ready() and not environment.partial.exists()


def test_without_training_support_the_packaged_app_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training = _training(tmp_path / "home")
    training.runtime = TrainerRuntime(tmp_path / "home", own=False)
    assert training.runtime.offers_install and not training.runtime.available()
    with pytest.raises(FinetuneError, match="finetune install-training"):
        training.start("snark")
    assert not (tmp_path / "home" / "finetune" / "local").exists()

    monkeypatch.setenv("FOLIO_TRAINING_PYTHON", str(tmp_path / "no-python"))
    with pytest.raises(FinetuneError, match=r"no-python, which does not exist"):
        TrainingEnvironment(tmp_path / "home").plan()
    monkeypatch.setenv("FOLIO_TRAINING_PYTHON", "/bin/false")  # exists, is no Python
    with pytest.raises(FinetuneError, match=r"\(/bin/false\) is not a Python.*python3-venv"):
        TrainingEnvironment(tmp_path / "home").plan()
    assert not (tmp_path / "home" / "training" / "env.partial").exists()


def test_other_pythons_get_the_library_path_the_bundle_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PyInstaller's bootloader points LD_LIBRARY_PATH at the bundle and keeps the original.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/folio/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    assert environment_module.bundled()
    env = child_env()
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib" and "LD_LIBRARY_PATH_ORIG" not in env
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG")
    assert "LD_LIBRARY_PATH" not in child_env()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert TrainerRuntime(Path("/nonexistent")).offers_install  # the bundle trains privately


def test_a_trainer_that_dies_at_start_up_fails_the_run_after_three_tries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broken install: the trainer's Python cannot find its module, and dies at once.
    training = _training(tmp_path / "home")
    broken = TrainerCommand([sys.executable, "-m", "no_such_trainer_module"], child_env())
    monkeypatch.setattr(training.runtime, "command", lambda: broken)
    job = training.start("snark", config=TrainConfig(epochs=1, **SMALL))
    done = _until(training, job.id, lambda j: j.finished)
    assert done.status == JobState.FAILED
    assert done.error and f"stopped {MAX_RESTARTS} times in a row" in done.error
    assert "No module named no_such_trainer_module" in done.error
    assert str(training.files(job.id).log) in done.error
