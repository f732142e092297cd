"""A screenshot tour of the window in a real X session (Xvfb), for the README and the docs.

Starts Xvfb when no ``DISPLAY`` is set, opens Folio on a new data folder, indexes the
bundled sample folder and the Debian New Maintainers' Guide (a real PDF), asks the README's
question and one about the guide with the embedded model, and saves what the X server shows
into ``--out-dir``:

  folio-window.png     the window: an answer with its supporting sentence and sources
  passage.png          Show passage: the retrieved text with the question's words marked
  viewer-pdf.png       a PDF citation inside Folio, at its page, the passage highlighted
  viewer-text.png      a text citation in context, the passage highlighted
  keyboard-focus.png   an answer's action reached with Tab, framed
  settings.png         the settings dialog

Prints each answer and where each picture went. Look at every picture: the script cannot
judge them.

    .venv/bin/python bench/screenshot_tour.py [--out-dir docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

# The README shows an answer the embedded model gets right, with its sources: the first of
# these (question, the fact a right answer states) that it answers right. All are printed;
# how often it is right in general is measured by bench/answer_facts.py.
README_QUESTIONS = (
    ("How many days of leave can I carry over?", "5 days"),
    ("Which password manager do we use?", "Bitwarden"),
    ("What does VPN error code NW-4471 mean?", "certificate expired"),
    ("How many people does the meeting room Harbour seat?", "14"),
    ("How often are laptops replaced?", "four years"),
)
GUIDE_QUESTION = "Which command can generate a manual page from a program's --help output?"
SETTLE_S = 0.6  # layouts and paints after a change, before the grab


@contextmanager
def x_display() -> Iterator[None]:
    """An Xvfb display for this process when none is set (1280×800, 24-bit)."""
    if os.environ.get("DISPLAY"):
        yield
        return
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed: run `bash packaging/system_packages.sh test`.")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        os.environ["DISPLAY"] = f":{pipe.readline().strip()}"
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def tour(out: Path) -> None:
    """Drive the window and save the pictures (see the module docstring)."""
    # Imported once the display is chosen: Qt reads it when the application starts.
    from desktop.core.settings import Settings, save_settings
    from desktop.services import build_services
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, QEvent, Qt, QWidget
    from desktop.ui.viewer.open_file import show_in_folio
    from desktop.ui.workers import wait_for_jobs

    app = QApplication(sys.argv[:1])

    def wait(done: Callable[[], bool], timeout: float = 300.0) -> None:
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise SystemExit("Timed out waiting for the window.")
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            time.sleep(0.02)

    def shoot(widget: QWidget, name: str) -> None:
        settle()
        where = widget.frameGeometry()
        # What the X server shows there, not Qt's own rendering of the widget.
        picture = app.primaryScreen().grabWindow(
            0, where.x(), where.y(), where.width(), where.height()
        )
        if not picture.save(str(out / name)):
            raise SystemExit(f"Could not write {out / name}.")
        print(f"Wrote {out / name}")

    def settle(seconds: float = SETTLE_S) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    with tempfile.TemporaryDirectory(prefix="folio-tour-") as tmp:
        home, docs = Path(tmp) / "home", Path(tmp) / "Handbooks"
        home.mkdir()
        shutil.copytree(ROOT / "resources" / "sample", docs)
        guide = Path(tmp) / "Debian guide"
        guide.mkdir()
        shutil.copy(
            ROOT / "bench" / "eval" / "corpus" / "maint-guide" / "maint-guide.en.pdf", guide
        )
        save_settings(home, Settings(max_answer_tokens=160))
        services = build_services(home)
        window = MainWindow(services)
        window.resize(1240, 780)
        window.move(20, 10)
        window.show()
        try:
            finished: list[object] = []
            window.library.ingest_finished.connect(finished.append)
            window.library.add_paths([docs, guide])
            wait(lambda: bool(finished) and not window.library.busy)

            def ask(question: str) -> object:
                answers: list[object] = []
                window.chat.answer_finished.connect(answers.append)
                window.chat.input.setPlainText(question)
                window.chat.send()
                wait(lambda: bool(answers))
                window.chat.answer_finished.disconnect(answers.append)
                print(f"Q: {question}\nA: {answers[0].text}\n")  # type: ignore[attr-defined]
                return answers[0]

            ask(GUIDE_QUESTION)  # in a chat of its own, as a person would
            guide_view = window.chat.message_views()[-1]
            answer, readme_question = None, README_QUESTIONS[0][0]
            for readme_question, fact in README_QUESTIONS:
                window.chat.show_chat(None)
                answer = ask(readme_question)
                # Whole words: "25 days" is not "5 days".
                if re.search(rf"\b{re.escape(fact)}\b", answer.text, re.IGNORECASE):  # type: ignore[attr-defined]
                    break
            else:
                print("No README question was answered right: the last answer is shown.")
            window.chat.show_chat(answer.chat_id)  # type: ignore[attr-defined]
            view = window.chat.message_views()[-1]
            shoot(window, "folio-window.png")

            passage = view.show_passage()
            if passage is not None:
                passage.move(80, 60)
                shoot(passage, "passage.png")
                passage.close()

            pdf_row = next(
                (i for i, c in enumerate(guide_view.citations) if c.path.endswith(".pdf")), None
            )
            if pdf_row is not None:
                viewer = show_in_folio(guide_view.citations[pdf_row], GUIDE_QUESTION, window)
                viewer.move(40, 10)
                settle(4.0)  # the document loads and the page is searched off the event loop
                shoot(viewer, "viewer-pdf.png")
                viewer.close()

            text_row = next(
                (i for i, c in enumerate(view.citations) if not c.path.endswith(".pdf")), None
            )
            if text_row is not None:
                viewer = show_in_folio(view.citations[text_row], readme_question, window)
                viewer.move(40, 10)
                settle(2.0)  # the file is read on a worker thread
                shoot(viewer, "viewer-text.png")
                viewer.close()

            window.activateWindow()  # focus is drawn only in the active window
            settle()
            view.regenerate_button.setFocus(Qt.FocusReason.TabFocusReason)  # as Tab gives it
            shoot(window, "keyboard-focus.png")

            from desktop.ui.dialogs import SettingsDialog  # the dialog the menu opens

            dialog = SettingsDialog(services, window)
            dialog.move(120, 40)
            dialog.show()
            shoot(dialog, "settings.png")
            dialog.close()
        finally:
            window.close()
            wait_for_jobs()
            services.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with x_display():
        tour(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
