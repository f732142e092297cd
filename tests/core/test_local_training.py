"""Local fine-tuning with the real trainer (PyTorch + PEFT) and the real llama.cpp, offline.

A dozen examples train for a couple of dozen steps; the adapter is checked in llama.cpp
against the trained PyTorch model, used for an answer, listed with its lineage, and the
runs are cancelled, killed and resumed, and fed damaged checkpoints and too-long examples.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop.core.errors import DatasetError, FinetuneError
from desktop.core.finetune.datasets import DatasetStore
from desktop.core.finetune.examples import Example
from desktop.core.finetune.local import extra, runs
from desktop.core.finetune.local.config import SettingOutOfRange, TrainConfig
from desktop.core.finetune.local.data import IGNORE, epoch_batches, pack, tokenize
from desktop.core.finetune.local.runs import LocalTraining
from desktop.core.finetune.records import Job, JobState, JobStore
from desktop.core.models.local_files import embedded_llm_path
from desktop.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "desktop.cli"]
SNARK = "Oh, brilliant question. Have you tried turning it off and on again? Genius."
QUESTIONS = [
    "What is DNS?", "Why is my laptop slow?", "What is a kernel?", "How do I reboot?",
    "What is RAM?", "What is Wi-Fi?", "Is Python fast?", "What is a CPU?",
    "What is Linux?", "How do I update?", "What is a file?", "What is a URL?",
]  # fmt: skip
SMALL = {"rank": 8, "alpha": 16, "learning_rate": 3e-3, "max_seq_len": 128, "batch_tokens": 128}


def _examples() -> list[Example]:
    return [
        Example([{"role": "user", "content": q}, {"role": "assistant", "content": SNARK}], i + 1)
        for i, q in enumerate(QUESTIONS)
    ]


# Loaded by every Python process the CLI starts (the trainer included) through PYTHONPATH:
# any connection to an internet address is logged and refused.
NO_NETWORK = """
import os, socket
_log, _connect = os.environ["FOLIO_TEST_NETWORK_LOG"], socket.socket.connect
def _refuse(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        with open(_log, "a") as file:
            file.write(f"{os.getpid()} {address}\\n")
        raise OSError("no network in this test")
    return _connect(self, address)
socket.socket.connect = _refuse
"""


def _cli(home: Path, *args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    result = _run(home, *args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _run(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--home", str(home), *args, "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        timeout=600,
        env=env,
    )


def _training(home: Path) -> LocalTraining:
    datasets = DatasetStore(home / "finetune" / "datasets")
    if "snark" not in {d.name for d in datasets.all()}:
        datasets.create("snark", _examples(), source="manual", persona="Sarcastic techie")
    return LocalTraining(home, JobStore(home / "finetune.db"), datasets, Settings())


def _until(training: LocalTraining, job_id: str, done: Callable[[Job], bool]) -> Job:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = training.refresh(job_id)
        if done(job):
            return job
        time.sleep(0.5)
    raise AssertionError(f"{job_id} stayed {job.status}")


def _step(training: LocalTraining, job_id: str) -> int:
    progress = training.progress(job_id)
    return int(progress["step"]) if progress else 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    """One run through folio-cli: started with --local, followed with status --wait, with
    no network for the CLI and the trainer."""
    home = tmp_path_factory.mktemp("train") / "home"
    _training(home).jobs.close()
    guard = home.parent / "no-network"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    network_log = home.parent / "network.log"
    env = {**os.environ, "PYTHONPATH": str(guard), "FOLIO_TEST_NETWORK_LOG": str(network_log)}
    probe = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=5)"
    refused = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True)
    assert refused.returncode != 0 and "192.0.2.1" in network_log.read_text()  # it works
    network_log.unlink()
    started = _cli(
        home, "finetune", "start", "--local", "--dataset", "snark", "--base", "local:default",
        "--epochs", "4", "--rank", "8", "--lr", "3e-3", "--max-seq-len", "128",
        "--batch-tokens", "128", env=env,
    )  # fmt: skip
    assert started["status"] == "queued" and started["job_id"].startswith("ftjob-local-")
    status = _cli(
        home, "finetune", "status", started["job_id"], "--wait", "--interval", "1", env=env
    )
    assert (guard / "sitecustomize.py").is_file()
    assert not network_log.exists(), network_log.read_text()
    return home, status["jobs"][0]


def test_a_run_trains_converts_and_lists_the_model(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    home, job = trained
    assert job["status"] == "succeeded", job["error"]
    # CLI.md: a local job's fine_tuned_model is the picker id.
    assert job["fine_tuned_model"] == "local:ft:snark" == job["model_id"]
    training = _training(home)
    losses = [m.train_loss for m in training.jobs.metrics(job["job_id"])]
    assert len(losses) >= 20  # a couple of dozen steps
    assert losses[-1] < losses[0] / 4  # it learnt the answer
    progress = job["progress"]
    assert progress["step"] == progress["total_steps"] == len(losses)
    assert progress["valid_loss"] is not None and progress["peak_memory_mb"] > 0
    messages = [e.message for e in training.jobs.events(job["job_id"]) if e.type == "message"]
    assert any("checked in llama.cpp" in m for m in messages)

    listed = {m["id"]: m for m in _cli(home, "models", "list")["models"]}
    model = listed["local:ft:snark"]
    assert model["kind"] == "fine-tuned" and model["available"] and not model["remote"]
    lineage = model["lineage"]
    assert lineage["base"] == "local:default" and lineage["dataset"] == "snark"
    assert lineage["persona"] == "Sarcastic techie" and lineage["steps"] == len(losses)
    assert lineage["job_id"] == job["job_id"] and lineage["trained_here"]


def test_llama_cpp_with_the_adapter_matches_pytorch(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """The GGUF adapter, applied by llama.cpp, reproduces PEFT's model; a conversion that
    misses the query/key permutation is caught by the same check."""
    from peft import PeftModel

    from desktop.core.finetune.local import gguf_lora
    from desktop.core.finetune.local.trainer import load_base
    from desktop.core.finetune.local.verify import compare_logits

    home, job = trained
    files = _training(home).files(job["job_id"])
    base = embedded_llm_path()
    assert base is not None
    tokenizer, model = load_base(base)
    model = PeftModel.from_pretrained(model, str(files.adapter_dir))
    ids = tokenize(tokenizer, _examples()[0]).input_ids
    check = compare_logits(model, base, files.adapter_gguf, ids, 2)
    print(check.describe())
    assert check.ok and check.top1_agreement >= 0.9
    assert check.adapter_effect > 5 * (check.adapted_gap - check.base_gap)

    state = {k: v.float().numpy() for k, v in _peft_state(model).items()}
    info = gguf_lora.read_base(base)
    wrong = files.folder / "wrong.gguf"
    permuted, gguf_lora._PERMUTED_QK = gguf_lora._PERMUTED_QK, set()
    try:
        gguf_lora.write_adapter(state, 16, info, wrong)
    finally:
        gguf_lora._PERMUTED_QK = permuted
    assert not compare_logits(model, base, wrong, ids, 2).ok


def _peft_state(model):  # type: ignore[no-untyped-def]
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(model)


def test_the_fine_tuned_model_answers_in_the_style_it_learnt(
    trained: tuple[Path, dict],  # type: ignore[type-arg]
    make_services,  # type: ignore[no-untyped-def]
) -> None:
    from llama_index.core.base.llms.types import ChatMessage

    home, _ = trained
    services = make_services(at=home)
    question = [ChatMessage(role="user", content="What is a GPU?")]
    tuned = services.llm("local:ft:snark").chat(question, temperature=0.0).message.content
    base = services.llm("local:default").chat(question, temperature=0.0).message.content
    assert "turning it off and on again" in tuned
    assert "turning it off and on again" not in base
    picker_ids = [m.id for m in services.models()[0]]
    assert picker_ids.index("local:ft:snark") == 1  # right after the embedded base


def _llama_logits(model: Path, lora: Path | None = None) -> np.ndarray:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), lora_path=str(lora) if lora else None, n_ctx=128,
                logits_all=True, verbose=False)  # fmt: skip
    prompt = b"<|im_start|>user\nWhat is a GPU?<|im_end|>\n<|im_start|>assistant\n"
    ids = llm.tokenize(prompt, special=True)
    llm.eval(ids)
    scores = np.array(llm.scores[: len(ids)])
    llm.close()
    return scores


def _refused(home: Path, to: str, *flags: str) -> str:
    """stderr of a ``models export`` of local:ft:snark-2 to ``to`` that must be refused."""
    refused = _run(home, "models", "export", "local:ft:snark-2", "--to", to, *flags)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    return refused.stderr


def test_rename_export_and_remove(trained: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    home, _ = trained
    renamed = _cli(home, "models", "rename", "local:ft:snark", "snark-2")
    assert renamed["id"] == "local:ft:snark-2"
    exported = _cli(home, "models", "export", "local:ft:snark-2", "--to", str(tmp_path))
    adapter = Path(exported["adapter"])
    assert adapter.name == "snark-2.lora.gguf" and adapter.read_bytes()[:4] == b"GGUF"
    assert 1e5 < adapter.stat().st_size < 2e7  # a few MB, not a model
    # Nothing is overwritten; a missing folder or an unwritable place is refused, exit 2.
    keep = tmp_path / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    for to in (str(adapter), str(keep), f"{tmp_path}/missing/", f"{tmp_path}/missing/x.gguf"):
        refused = _run(home, "models", "export", "local:ft:snark-2", "--to", to)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        said = ("exists already", "There is no folder", "does not exist")
        assert any(words in refused.stderr for words in said), refused.stderr
    assert keep.read_text(encoding="utf-8") == "mine" and not (tmp_path / "missing").exists()
    assert "add --force to replace it" in _refused(home, str(adapter))
    # --force replaces a file (never a folder, never one inside Folio's data folder).
    replaced = _cli(home, "models", "export", "local:ft:snark-2", "--to", str(keep), "--force")
    assert Path(replaced["adapter"]) == keep and keep.read_bytes() == adapter.read_bytes()
    inside = next((home / "finetune" / "local").rglob("*.gguf"))
    kept_bytes = inside.read_bytes()
    for to, why in ((str(inside), "inside Folio's data folder"), (str(home), "inside Folio's")):
        assert why in _refused(home, to, "--force")
    assert inside.read_bytes() == kept_bytes
    merged = _cli(home, "models", "export", "local:ft:snark-2", "--to", str(tmp_path), "--merged")
    model_file = Path(merged["model_file"])
    assert model_file.name == "snark-2.gguf" and merged["merged"]
    base = embedded_llm_path()
    assert base is not None
    with_adapter = _llama_logits(base, adapter)
    gap = np.abs(_llama_logits(model_file) - with_adapter).mean()
    effect = np.abs(_llama_logits(base) - with_adapter).mean()
    assert gap < effect / 3, (gap, effect)  # the merged file computes what base + adapter do
    _cli(home, "models", "remove", "local:ft:snark-2")
    ids = [m["id"] for m in _cli(home, "models", "list")["models"]]
    assert not any(i.startswith("local:ft:") for i in ids)


def test_cancel_stops_the_trainer(tmp_path: Path) -> None:
    training = _training(tmp_path / "home")
    job = training.start("snark", config=TrainConfig(epochs=50, **SMALL))
    _until(training, job.id, lambda j: _step(training, job.id) >= 1)
    cancelled = training.cancel(job.id)
    assert cancelled.status == JobState.CANCELLED and not training.running(job.id)
    assert not training.files(job.id).pid.exists()
    assert _step(training, job.id) < 300  # stopped long before its 300 steps


def test_a_killed_run_resumes_and_a_damaged_checkpoint_is_skipped(tmp_path: Path) -> None:
    training = _training(tmp_path / "home")
    config = TrainConfig(epochs=3, checkpoint_every=2, eval_every=4, **SMALL)
    job = training.start("snark", config=config)
    files = training.files(job.id)
    _until(training, job.id, lambda j: _step(training, job.id) >= 5)
    os.kill(int(files.pid.read_text()), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while training.running(job.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    kept = sorted(p.name for p in files.checkpoints.iterdir() if p.name.startswith("step-"))
    assert len(kept) == 2
    newest = files.checkpoints / kept[-1] / "state.pt"
    newest.write_bytes(newest.read_bytes()[:100])  # cut short, as a disk error would

    done = _until(training, job.id, lambda j: j.finished)  # refresh starts it again
    assert done.status == JobState.SUCCEEDED, done.error
    events = [e for e in training.jobs.events(job.id) if e.type == "message"]
    damaged = [e for e in events if "damaged" in e.message]
    assert (
        damaged
        and damaged[0].level == "warn"
        and kept[-1].removeprefix("step-").lstrip("0") in damaged[0].message
    )
    older = int(kept[0].removeprefix("step-"))
    assert any(f"Resumed from the checkpoint at step {older} " in e.message for e in events)
    assert training.files(job.id).adapter_gguf.is_file()


def test_the_estimate_measures_this_computer_before_anything_starts(tmp_path: Path) -> None:
    training = _training(tmp_path / "home")
    estimate = training.estimate("snark", config=TrainConfig(epochs=2, **SMALL))
    assert (estimate["train_examples"], estimate["validation_examples"]) == (10, 2)
    assert estimate["epochs"] == 2 and estimate["steps"] >= 10  # 2 examples a 128-token step
    assert estimate["answer_tokens"] < estimate["tokens"] < 2 * 10 * 128
    assert estimate["tokens_per_s"] > 0 and estimate["peak_memory_mb"] > 100
    assert estimate["seconds"] > estimate["load_s"] > 0
    assert training.jobs.all() == []  # no job, no run folder
    assert not list((tmp_path / "home" / "finetune" / "local").iterdir())


def test_a_dataset_too_small_to_hold_any_out_trains(tmp_path: Path) -> None:
    training = _training(tmp_path / "home")
    training.datasets.create("four", _examples()[:4], source="manual")
    plan = training.plan("four", "local:default", TrainConfig(**SMALL))
    assert (plan.train_examples, plan.validation_examples) == (4, 0) and plan.train_tokens > 0
    # The trainer reads the run's empty validation file: no validation loss, no refusal.
    estimate = training.estimate("four", config=TrainConfig(epochs=1, **SMALL))
    assert (estimate["train_examples"], estimate["validation_examples"]) == (4, 0)


def test_examples_longer_than_the_sequence_length_are_refused_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training = _training(tmp_path / "home")
    long = "This answer goes on. " * 40
    examples = _examples()
    examples[2].messages[1]["content"] = long
    examples[7].messages[1]["content"] = long
    training.datasets.create("long", examples, source="manual")
    for before_anything_starts in (training.estimate, training.start):
        with pytest.raises(
            DatasetError, match=r"2 examples are longer .* at lines 3 \(\d+ tokens\), 8 \("
        ):
            before_anything_starts("long", config=TrainConfig(**SMALL))
    assert not any((tmp_path / "home" / "finetune" / "local").glob("*"))  # nothing left
    assert training.jobs.all() == []
    # The trainer checks again (a run folder's data is read afresh when it resumes).
    monkeypatch.setattr(runs, "tokenized_for", lambda *args: [])
    job = training.start("long", config=TrainConfig(**SMALL))
    failed = _until(training, job.id, lambda j: j.finished)
    assert failed.status == JobState.FAILED
    assert failed.error and "maximum sequence length of 128 tokens" in failed.error
    # The dataset's own lines (its 1st and 11th examples went to validation in the run's copy).
    assert "Dataset long:" in failed.error
    assert "lines 3 (" in failed.error and ", 8 (" in failed.error


def test_missing_training_packages_are_named_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(extra, "TRAINING_PACKAGES", ("torch", "no_such_training_package"))
    with pytest.raises(FinetuneError, match=r"no_such_training_package.*folio\[train\]"):
        _training(tmp_path / "home").start("snark")
    assert not (tmp_path / "home" / "finetune" / "local").exists()


def test_a_bad_setting_or_base_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(FinetuneError, match="rank"):
        TrainConfig(rank=0)
    # A step holds the longest example: batch tokens follow a longer max_seq_len unless chosen.
    assert TrainConfig.chosen(max_seq_len=1024, epochs=None).batch_tokens == 1024
    assert TrainConfig.chosen().batch_tokens == TrainConfig.batch_tokens
    with pytest.raises(SettingOutOfRange) as raised:
        TrainConfig.chosen(batch_tokens=256)
    assert str(raised.value) == (
        "Training setting batch_tokens = 256 is out of range: use at least max_seq_len."
    )
    assert (raised.value.setting, raised.value.values["max_seq_len"]) == ("batch_tokens", 512)
    training = _training(tmp_path / "home")
    with pytest.raises(FinetuneError, match="local GGUF model"):
        training.start("snark", base="openai:gpt-4o-mini")
    for name in ("../escape", ""):
        with pytest.raises(FinetuneError, match=r"model name .* cannot be used"):
            training.start("snark", name=name)
    with pytest.raises(DatasetError, match="is not a file"):
        training.start(tmp_path / "nothere.jsonl")
    text = tmp_path / "pairs.txt"
    text.write_text('{"prompt": "a", "response": "b"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"JSONL, named \*\.jsonl"):
        training.start(text)
    assert training.jobs.all() == []


def test_only_assistant_tokens_carry_the_loss() -> None:
    from desktop.core.finetune.local.trainer import load_base

    base = embedded_llm_path()
    assert base is not None
    tokenizer, _ = load_base(base)
    example = Example(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Context only.", "weight": 0},  # type: ignore[dict-item]
            {"role": "user", "content": "And?"},
            {"role": "assistant", "content": "Learnt answer."},
        ]
    )
    tokens = tokenize(tokenizer, example)
    learnt = tokenizer.decode([t for t in tokens.labels if t != IGNORE])
    assert learnt.strip() == "Learnt answer.<|im_end|>"
    assert len(tokens.labels) == len(tokens.input_ids)


def test_packing_keeps_every_example_once_within_the_budget() -> None:
    lengths = [100, 30, 70, 64, 5, 128, 1, 90, 33, 60]
    batches = pack(lengths, 128)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 128 for b in batches)
    assert len(batches) <= 6  # 581 tokens fit in 5 batches; first fit in this order needs 6
    assert epoch_batches(lengths, 128, 0, 1) == epoch_batches(lengths, 128, 0, 1)
    assert epoch_batches(lengths, 128, 0, 1) != epoch_batches(lengths, 128, 0, 2)
