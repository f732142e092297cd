"""Training locally from the window: the studio's Train locally tab checks the model's name
as it is typed, measures first, asks, trains with the real trainer, and the model shows in
the picker, ready to chat with."""

from __future__ import annotations

import pytest

from desktop.core.chat.personas import Persona
from desktop.core.finetune.examples import Example
from desktop.core.finetune.local import extra
from desktop.core.finetune.local.runtime import TrainerRuntime
from desktop.core.settings import updated
from desktop.ui.finetune.studio import FinetuneStudio
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import Qt
from tests.core.test_finetune_names import _finished_run
from tests.ui.studios import _studios
from tests.ui.test_finetune_ui import answer_box, picker_entry

SNARK = "Oh, brilliant question. Have you tried turning it off and on again? Genius."
QUESTIONS = ["What is DNS?", "Why is it slow?", "What is RAM?", "How do I reboot?"] * 3


@pytest.mark.slow
def test_train_locally_from_the_studio_to_the_picker(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    services = make_services()
    services.apply_settings(updated(services.settings, max_answer_tokens=24))
    examples = [
        Example([{"role": "user", "content": q}, {"role": "assistant", "content": SNARK}])
        for q in QUESTIONS
    ]
    # A persona with right-to-left letters: listed set apart, trained under its own name.
    persona = "Sarcastic טכנאי"
    services.chats.personas.save(Persona(persona, "Answer with sarcasm."))
    services.datasets.create("snark", examples, source="manual", persona=persona)
    window = MainWindow(services, finetune_poll_seconds=0.2)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
    studio: FinetuneStudio = window.open_finetuning()
    _studios.append(studio)

    panel = studio.train_local
    studio.tabs.setCurrentWidget(panel)
    assert panel.start_button.isEnabled() and "nothing leaves it" in panel.missing.text()
    panel.dataset.setCurrentText("snark")
    assert panel.persona_name() == persona  # the dataset's own
    assert panel.persona.currentText() != persona  # shown isolated, not as stored
    panel.epochs.setValue(6)
    panel.rank.setValue(8)
    panel.learning_rate.setValue(0.003)
    panel.max_seq_len.setValue(128)
    seen: list[str] = []
    answer_box(qtbot, "Train", seen)
    with qtbot.waitSignal(studio.job_started, timeout=300_000) as started:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    job = started.args[0]
    assert services.local_training.jobs.get(job.id).persona == persona
    text = seen[0]
    assert "Train local:default on snark?" in text
    assert "10 training examples (2 held out for validation loss)" in text
    assert "tokens/s" in text and "Peak memory about" in text and "on this computer" in text

    jobs = studio.jobs
    qtbot.waitUntil(lambda: jobs.statuses().get(job.id) == "succeeded", timeout=300_000)
    assert jobs.plot.train_points[-1][1] < jobs.plot.train_points[0][1]
    model_id = "local:ft:snark"
    qtbot.waitUntil(lambda: picker_entry(window, model_id) is not None, timeout=30_000)
    entry, tooltip = picker_entry(window, model_id)  # type: ignore[misc]
    assert f"(from {persona}" in entry.replace("\u2068", "").replace("\u2069", "")
    assert "Fine-tuned from local:default" in tooltip
    qtbot.mouseClick(jobs.use_button, Qt.MouseButton.LeftButton)
    assert window.picker.choice().model == model_id

    window.picker.retrieval.setChecked(False)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=120_000) as answered:
        window.chat.input.setPlainText("What is a GPU?")
        window.chat.send()
    assert answered.args[0].model == model_id
    assert "turning it off" in answered.args[0].text
    window.close()


def test_the_tab_names_missing_training_packages(  # type: ignore[no-untyped-def]
    qtbot, make_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extra, "TRAINING_PACKAGES", ("torch", "no_such_training_package"))
    studio = FinetuneStudio(make_services(), poll_interval=0.2)
    _studios.append(studio)
    panel = studio.train_local
    assert not panel.start_button.isEnabled()
    assert "no_such_training_package" in panel.missing.text()
    assert "pip install 'folio[train]'" in panel.missing.text()
    assert "2027-01-06" in studio.train.closing.text()


def test_the_packaged_app_installs_training_support_size_first_with_cancel(  # type: ignore[no-untyped-def]
    qtbot, make_services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyTorch's CPU index is out of reach here: pip takes the CPU build from this machine's
    # wheel folder (its own configuration).
    monkeypatch.setenv("FOLIO_TORCH_INDEX", "")
    services = make_services()
    runtime = TrainerRuntime(services.home, own=False)  # as in the packaged app
    services.local_training.runtime = runtime
    studio = FinetuneStudio(services, poll_interval=0.2)
    _studios.append(studio)
    panel, support = studio.train_local, studio.train_local.support
    assert not panel.start_button.isEnabled() and not support.isHidden()
    assert "install training support" in panel.missing.text()

    seen: list[str] = []
    answer_box(qtbot, "Install", seen)
    qtbot.mouseClick(support.install_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Downloading torch" in support.message.text(), timeout=120_000)
    assert "Downloads" in seen[0] and "MB: PyTorch's CPU build" in seen[0]
    assert "GB on disk" in seen[0] and str(runtime.environment.env) in seen[0]
    assert not support.bar.isHidden() and support.bar.maximum() > 150  # MB
    qtbot.mouseClick(support.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: support.job is None, timeout=60_000)
    assert support.message.text() == "Cancelled: nothing was installed."
    assert not runtime.available() and not runtime.environment.partial.exists()
    assert not panel.start_button.isEnabled() and support.install_button.isEnabled()


def test_an_unusable_model_name_is_said_as_typed_and_refused_before_measuring(  # type: ignore[no-untyped-def]
    qtbot, make_services
) -> None:
    services = make_services()
    examples = [
        Example([{"role": "user", "content": q}, {"role": "assistant", "content": SNARK}])
        for q in QUESTIONS
    ]
    services.datasets.create("snark", examples, source="manual")
    _finished_run(services.local_training.jobs, "sarcasm")
    studio = FinetuneStudio(services, poll_interval=0.2)
    _studios.append(studio)
    panel = studio.train_local
    studio.tabs.setCurrentWidget(panel)
    studio.show()
    qtbot.waitExposed(studio)
    assert panel.start_button.isEnabled()

    # Said while typing, the name as written (its right-to-left mark escaped, no quotes
    # around it), with what a name may hold.
    qtbot.keyClicks(panel.name, "my model! ")
    panel.name.insert("\u200f")  # pasted: QTest types only ASCII
    said = panel.message.text()
    assert said.startswith('The model name "my model! \\u200f" cannot be used: use 1 to 64 ')
    assert "'" not in said and "no spaces" in said

    # Start refuses at once: nothing is measured, nothing is asked.
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.job is None and panel.confirm_box is None
    assert panel.message.text() == f"Not started: {said}"
    assert services.local_training.jobs.all()[0].suffix == "sarcasm"  # no run was recorded

    # Another model's name, whatever its case, is refused the same way.
    panel.name.clear()
    qtbot.keyClicks(panel.name, "Sarcasm")
    assert panel.message.text() == (
        "A local fine-tuned model is already called local:ft:sarcasm: choose another name, "
        "or remove that one first."
    )
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.job is None and panel.message.text().startswith("Not started: A local")

    # A usable name clears the message; no name at all is the dataset's.
    panel.name.clear()
    assert panel.message.text() == "" and panel.name_problem() is None
    qtbot.keyClicks(panel.name, "snark-2.v1")
    assert panel.message.text() == "" and panel.name_problem() is None
