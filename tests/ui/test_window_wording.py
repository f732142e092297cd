"""The window speaks to the person in front of it: an error it shows says what to do there,
never which folio-cli command to run, while folio-cli keeps its own wording of the same
error."""

from __future__ import annotations

import pytest

from desktop.core.errors import ModelError
from desktop.core.finetune.local.runtime import TrainerRuntime
from desktop.ui.chat.pane import ChatPane, Choice
from desktop.ui.finetune.studio import FinetuneStudio
from tests.ui.studios import _studios

pytestmark = pytest.mark.slow


def test_a_model_whose_server_is_gone_is_refused_without_a_command(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    pane = ChatPane(services, lambda: Choice("gone:llama3.2", None, False))
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.error, timeout=60_000) as failed:
        pane.input.setPlainText("Hello?")
        pane.send()
    said = failed.args[0]
    assert "Unknown provider 'gone'" in said and "Add a server" in said
    assert "folio-cli" not in said

    with pytest.raises(ModelError) as refused:  # the same check, as folio-cli reports it
        services.check_model("gone:llama3.2")
    assert "`folio-cli models add-server" in str(refused.value)
    assert refused.value.message in said


def test_missing_training_support_points_to_the_button_beside_it(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    runtime = TrainerRuntime(services.home, own=False)  # as in the packaged app
    services.local_training.runtime = runtime
    studio = FinetuneStudio(services, poll_interval=0.2)
    _studios.append(studio)
    panel = studio.train_local
    assert not panel.support.isHidden() and panel.support.install_button.isEnabled()
    assert "install training support" in panel.missing.text()
    assert "folio-cli" not in panel.missing.text()
    assert "folio-cli finetune install-training" in str(runtime.missing_error())
