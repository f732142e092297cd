"""The real app in a real X session (Xvfb): drop a folder, ask, keep a screenshot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The picture goes to the test's own folder: the README's screenshots come from
# bench/screenshot_tour.py (`make screenshot`), so a test run leaves the tree as it found it.
SCREENSHOT_NAME = "folio-window.png"

pytestmark = pytest.mark.slow


@pytest.fixture
def display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `bash packaging/system_packages.sh test`")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_real_window_drop_ask_and_screenshot(display: str, home: Path, tmp_path: Path) -> None:
    docs = tmp_path / "Handbooks"
    shutil.copytree(REPO / "resources" / "sample", docs)
    (home / "settings.json").write_text(json.dumps({"max_answer_tokens": 64}))
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    shot = tmp_path / SCREENSHOT_NAME
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.xvfb_app", str(home), str(docs), str(shot)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["drop_accepted"] and outcome["ingest"]["added"] == 3
    assert outcome["answer"]["answer"] and outcome["answer"]["sources"]
    assert outcome["saved"] and shot.stat().st_size > 20_000
    assert outcome["title"] == "Folio"
