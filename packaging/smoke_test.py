"""Smoke test of an installed Folio: run it as a user would, from the installed copy only.

    python packaging/smoke_test.py --cli /usr/bin/folio-cli --gui /usr/bin/folio --out DIR [--xvfb]

This script needs nothing but the standard library (Linux: Xvfb, xdotool and ImageMagick's
``import`` for ``--xvfb``). Folio runs with a PATH free of the source tree and any virtualenv,
from a working folder outside the repository, on a new data folder. Checks:

- ``folio-cli --version`` names the version in ``pyproject.toml``;
- ``ingest`` of a folder with one file of every supported type indexes all of them;
- ``search`` finds each file by its own topic; ``ask`` answers offline, with and without
  retrieval, on the embedded model; ``models list`` and ``models catalog`` work offline;
- ``eval build`` writes a question from the library with the embedded model, ``eval run``
  answers it with retrieval on and off, ``eval report`` scores it and writes the HTML page;
- local training: ``finetune start --local`` first says how to add training support;
  ``finetune install-training --yes`` installs it into the data folder (the private
  environment, with this computer's Python); a short run then trains there, its model is
  listed and answers;
- the window opens (under Xvfb: seen by the X server through xdotool, screenshotted, closed
  with Ctrl+Q), and ``folio --self-test`` reports a clean start; the window loads every Qt
  module Folio uses as it starts (``desktop/ui/qt.py``), Qt PDF for the viewer included, so
  a bundle missing one fails here;
- nothing printed a traceback or an unexpected line on stderr.

Timings (the first window start is a cold one just after install) go to ``DIR/smoke.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = Path(__file__).resolve().parent / "smoke" / "docs"
WINDOW_TIMEOUT_S = 90.0

# Each smoke document, found by a question only it answers.
SEARCHES = {
    "How wide is the telescope's primary mirror?": "observatory.pdf",
    "Deadline for filing travel expense claims": "travel-policy.docx",
    "When is the quince tree pruned?": "garden-notes.md",
    "rainfall at the allotment gauge in April": "rainfall.ipynb",
    "How many seed trays are there?": "inventory.xlsx",
    "library catalogue growth this quarter": "quarterly.pptx",
    "When was the lighthouse lamp converted to electricity?": "lighthouse.epub",
    "What time does the reading room open?": "opening-hours.html",
}
# A tiny persona dataset for the local training check.
SNARK = "Oh, brilliant question. Have you tried turning it off and on again? Genius."
QUESTIONS = ["What is DNS?", "Why is it slow?", "What is RAM?", "How do I reboot?"] * 3
# The smallest run that still trains and converts (seconds per step on the embedded model).
SHORT_RUN = (
    "--epochs", "1", "--rank", "8", "--lr", "0.003", "--max-seq-len", "128",
    "--batch-tokens", "128",
)  # fmt: skip
# Lines a healthy start may print on stderr. Qt says this when it runs as root (CI does).
HARMLESS_STDERR = ("QStandardPaths: runtime directory", "QStandardPaths: XDG_RUNTIME_DIR")


class SmokeFailure(Exception):
    pass


def clean_env(home: Path) -> dict[str, str]:
    """The user's environment without the source tree, a virtualenv or Python overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    for name in ("FOLIO_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", "HF_ENDPOINT"):
        env.pop(name, None)
    env.pop("QT_QPA_PLATFORM", None)
    venv = Path(sys.prefix).resolve()
    keep = []
    for entry in env.get("PATH", "").split(os.pathsep):
        resolved = Path(entry).resolve() if entry else None
        if resolved and not resolved.is_relative_to(ROOT) and not resolved.is_relative_to(venv):
            keep.append(entry)
    env["PATH"] = os.pathsep.join(keep)
    env["HOME"] = str(home)
    env["USERPROFILE"] = str(home)
    return env


def check_stderr(what: str, stderr: str) -> None:
    unexpected = [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(HARMLESS_STDERR)
    ]
    if "Traceback" in stderr or unexpected:
        raise SmokeFailure(f"{what} printed on stderr:\n{stderr}")


class Smoke:
    def __init__(self, cli: Path, gui: Path, out: Path, work: Path, home: Path | None) -> None:
        self.cli, self.gui, self.out, self.work = cli, gui, out, work
        self.home = home or work / "folio-data"
        self.env = clean_env(work / "user")
        (work / "user").mkdir()
        self.timings: dict[str, float] = {}

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The installed folio-cli on the smoke data folder, as the user."""
        return subprocess.run(
            [str(self.cli), "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.work,
            timeout=600,
        )

    def folio_cli(self, *args: str, expect_json: bool = True) -> object:
        started = time.perf_counter()
        proc = self.run_cli(*args)
        self.timings.setdefault(f"folio-cli {args[0]}", time.perf_counter() - started)
        if proc.returncode != 0:
            command = " ".join(args)
            raise SmokeFailure(f"folio-cli {command} exited {proc.returncode}:\n{proc.stderr}")
        if "Traceback" in proc.stderr:
            raise SmokeFailure(f"folio-cli {args[0]} printed a traceback:\n{proc.stderr}")
        return json.loads(proc.stdout) if expect_json else proc.stdout

    def cli_checks(self, version: str) -> None:
        started = time.perf_counter()
        proc = subprocess.run(
            [str(self.cli), "--version"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.work,
        )
        self.timings["folio-cli --version"] = time.perf_counter() - started
        if proc.stdout.strip() != f"folio-cli {version}":
            raise SmokeFailure(f"--version said {proc.stdout!r}, expected folio-cli {version}")
        check_stderr("folio-cli --version", proc.stderr)

        docs = shutil.copytree(DOCS, self.work / "docs")
        report = self.folio_cli("ingest", "--json", str(docs))
        assert isinstance(report, dict)
        if report["added"] != len(SEARCHES) or report["failed"] or report.get("skipped"):
            status = self.folio_cli("status", "--json")
            raise SmokeFailure(f"ingest indexed {report}; failures: {status}")

        for query, expected in SEARCHES.items():
            found = self.folio_cli("search", "--json", "-k", "3", query)
            assert isinstance(found, dict)
            top = Path(found["results"][0]["path"]).name if found["results"] else None
            if top != expected:
                raise SmokeFailure(f"search {query!r} found {top}, expected {expected}")

        answer = self.folio_cli("ask", "--json", "How wide is the telescope's primary mirror?")
        assert isinstance(answer, dict)
        if not answer["answer"].strip() or answer["model"] != "local:default":
            raise SmokeFailure(f"ask gave {answer}")
        if Path(answer["sources"][0]["path"]).name != "observatory.pdf":
            raise SmokeFailure(f"ask cited {answer['sources']}")
        listed = self.folio_cli("models", "list", "--json")
        assert isinstance(listed, dict)
        if listed["models"][0]["id"] != "local:default" or "openai" not in listed["problems"]:
            raise SmokeFailure(f"models list gave {listed}")
        catalog = self.folio_cli("models", "catalog", "--json")
        assert isinstance(catalog, dict)
        if not catalog["models"]:
            raise SmokeFailure("models catalog is empty")
        bare = self.folio_cli("ask", "--json", "--no-retrieval", "Say hello.")
        assert isinstance(bare, dict)
        if not bare["answer"].strip() or bare["sources"] or bare["retrieval"]:
            raise SmokeFailure(f"ask --no-retrieval gave {bare}")
        self.evaluation_checks(docs)

    def evaluation_checks(self, docs: Path) -> None:
        """An evaluation set written from the library by the embedded model (LlamaIndex's
        generator in the bundle), run with retrieval on and off, and reported."""
        built = self.folio_cli(
            "eval", "build", "--json", "--folder", str(docs), "--name", "smoke", "--questions", "2"
        )
        assert isinstance(built, dict)
        if built["questions"] < 1:  # a small model writes no question for some passages
            raise SmokeFailure(f"eval build gave {built}")
        grid = ["--config", "local:default", "--config", "local:default,retrieval=off"]
        ran = self.folio_cli("eval", "run", "--json", "smoke", *grid)
        assert isinstance(ran, dict)
        if not ran["finished"] or ran["failed"]:
            raise SmokeFailure(f"eval run gave {ran}")
        html = self.work / "report.html"
        report = self.folio_cli("eval", "report", "--json", "smoke", "--html", str(html))
        assert isinstance(report, dict)
        scores = [c["scores"] for c in report["configs"]]
        if len(scores) != 2 or scores[1]["hit_at_k"] != 0.0 or not html.is_file():
            raise SmokeFailure(f"eval report gave {report}")

    def training_checks(self) -> None:
        """Training support installed on demand into the data folder, then a short run."""
        data = self.work / "snark.jsonl"
        with data.open("w", encoding="utf-8") as f:
            for question in QUESTIONS:
                messages = [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": SNARK},
                ]
                f.write(json.dumps({"messages": messages}) + "\n")
        self.folio_cli("finetune", "import", "--json", "--name", "snark", str(data))
        start = ["finetune", "start", "--json", "--dataset", "snark", "--base", "local:default"]
        start += ["--local", *SHORT_RUN]
        refused = self.run_cli(*start)
        if refused.returncode == 0 or "install-training" not in refused.stderr:
            raise SmokeFailure(f"start without training support said {refused.stderr!r}")

        started = time.perf_counter()
        installed = self.folio_cli("finetune", "install-training", "--yes", "--json")
        self.timings["install training support"] = time.perf_counter() - started
        assert isinstance(installed, dict)
        if not installed["installed"] or installed["plan"]["download_bytes"] <= 0:
            raise SmokeFailure(f"install-training gave {installed}")

        started = time.perf_counter()
        job = self.folio_cli(*start)
        assert isinstance(job, dict)
        waited = self.folio_cli("finetune", "status", "--json", "--wait", job["job_id"])
        self.timings["local training run"] = time.perf_counter() - started
        assert isinstance(waited, dict)
        if waited["jobs"][0]["status"] != "succeeded":
            raise SmokeFailure(f"the local run ended {waited['jobs'][0]}")
        listed = self.folio_cli("models", "list", "--json")
        assert isinstance(listed, dict)
        if "local:ft:snark" not in [m["id"] for m in listed["models"]]:
            raise SmokeFailure(f"models list does not show local:ft:snark: {listed}")
        answer = self.folio_cli(
            "ask", "--json", "--no-retrieval", "--model", "local:ft:snark", "What is DNS?"
        )
        assert isinstance(answer, dict)
        if not answer["answer"].strip():
            raise SmokeFailure(f"the fine-tuned model gave {answer}")

    def self_test(self, env: dict[str, str]) -> None:
        """``folio --self-test``: the window starts, syncs and quits cleanly by itself."""
        shot = self.out / "self-test.png"
        started = time.perf_counter()
        proc = subprocess.run(
            [str(self.gui), "--home", str(self.home), "--self-test", str(shot)],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.work,
            timeout=WINDOW_TIMEOUT_S * 2,
        )
        self.timings["folio --self-test"] = time.perf_counter() - started
        if proc.returncode != 0 or not shot.is_file():
            raise SmokeFailure(f"folio --self-test exited {proc.returncode}:\n{proc.stderr}")
        check_stderr("folio --self-test", proc.stderr)

    def window_under_xvfb(self) -> None:
        """Start the window on a real X server, as a desktop would, and close it."""
        with Xvfb() as display:
            env = {**self.env, "DISPLAY": display}
            for attempt in ("cold", "warm"):
                self.launch_and_quit(env, attempt)
            self.self_test(env)

    def launch_and_quit(self, env: dict[str, str], attempt: str) -> None:
        errors = self.work / f"folio-{attempt}.stderr"
        with errors.open("w") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(self.gui), "--home", str(self.home)], env=env, cwd=self.work, stderr=err
            )
            try:
                window = wait_for_window(env, proc, errors)
                self.timings[f"window shown ({attempt} start)"] = time.perf_counter() - started
                time.sleep(2)  # let the start-up sync finish and the window paint
                subprocess.run(
                    ["import", "-window", "root", str(self.out / f"window-{attempt}.png")],
                    env=env,
                    check=True,
                )
                subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True)
                quit_keys = ["xdotool", "key", "--clearmodifiers", "ctrl+q"]
                subprocess.run(quit_keys, env=env, check=True)
                code = proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
        if code != 0:
            raise SmokeFailure(f"folio exited {code} after Ctrl+Q:\n{errors.read_text()}")
        check_stderr(f"folio ({attempt} start)", errors.read_text())


def wait_for_window(env: dict[str, str], proc: subprocess.Popen[bytes], errors: Path) -> str:
    """The X window id of Folio's main window, once the X server shows it."""
    deadline = time.monotonic() + WINDOW_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SmokeFailure(
                f"folio exited {proc.returncode} before showing a window:\n{errors.read_text()}"
            )
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^Folio$"],
            capture_output=True,
            text=True,
            env=env,
        )
        if found.returncode == 0 and found.stdout.split():
            return found.stdout.split()[0]
        time.sleep(0.05)
    raise SmokeFailure(f"no Folio window within {WINDOW_TIMEOUT_S:.0f} s")


class Xvfb:
    """A private X server for the duration of a ``with`` block."""

    def __enter__(self) -> str:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise SmokeFailure("Xvfb did not start")
        return f":{number}"

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", type=Path, required=True, help="the installed folio-cli")
    parser.add_argument("--gui", type=Path, required=True, help="the installed folio")
    parser.add_argument("--out", type=Path, required=True, help="screenshots and timings")
    parser.add_argument("--xvfb", action="store_true", help="Linux: run the window on Xvfb")
    parser.add_argument(
        "--home", type=Path, help="a new data folder to use and keep (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    with open(ROOT / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="folio-smoke-") as tmp:
        home = args.home.resolve() if args.home else None
        if home and home.exists() and any(home.iterdir()):
            parser.error(f"--home {home} is not empty: the smoke test needs a new data folder")
        smoke = Smoke(args.cli.resolve(), args.gui.resolve(), args.out.resolve(), Path(tmp), home)
        try:
            smoke.cli_checks(version)
            smoke.training_checks()
            if args.xvfb:
                smoke.window_under_xvfb()
            else:
                smoke.self_test(smoke.env)
        except (SmokeFailure, subprocess.SubprocessError) as exc:
            print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
            return 1
        data_kept = sorted(p.name for p in smoke.home.iterdir())

    (args.out / "smoke.json").write_text(json.dumps(smoke.timings, indent=2) + "\n")
    print("Smoke test passed. Data folder held:", ", ".join(data_kept))
    for what, seconds in smoke.timings.items():
        print(f"  {what:34} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
