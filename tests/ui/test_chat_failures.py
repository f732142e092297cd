"""A failed answer says why in full, as written: the names in the error (a persona's, a
provider's) are read, never applied as HTML or Markdown. When the answer's persona no
longer exists, the chat names it and says where to choose another."""

from __future__ import annotations

import pytest

from desktop.core.chat.personas import Persona
from desktop.core.errors import ChatError
from desktop.services import Services
from desktop.ui.chat.pane import ChatPane, Choice
from tests.ui.test_window import plain

pytestmark = pytest.mark.slow

GONE = "<b>Bold</b> persona"
OTHERS = ("<img src=x>", "<script>", "Pirates, the")


def _pane(qtbot, services: Services) -> ChatPane:  # type: ignore[no-untyped-def]
    pane = ChatPane(services, lambda: Choice("local:default", None, False))
    qtbot.addWidget(pane)
    return pane


def test_a_failed_answer_shows_its_error_in_full_as_written(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    pane = _pane(qtbot, services)
    odd = "<b>gone</b>_odd_*name*"
    with qtbot.waitSignal(pane.error, timeout=60_000) as failed:
        pane.ask("Hello?", Choice(f"{odd}:llama3.2", None, False))
    qtbot.waitUntil(lambda: not pane.busy)
    said = failed.args[0]
    assert f"'{odd}'" in said  # the error names the provider as it was asked for
    view = pane.message_views()[-1]
    # Every word of it is in the answer's place, nothing bold, nothing turned into emphasis.
    assert plain(view.body.text()) == said
    assert view.text == said  # Copy gives the message
    assert view.regenerate_button.isEnabled() and not view.like_button.isEnabled()


def test_regenerating_an_answer_whose_persona_is_gone_names_it_and_says_what_to_do(  # type: ignore[no-untyped-def]
    qtbot, services: Services
) -> None:
    personas = services.chats.personas
    for name in (GONE, *OTHERS):
        personas.save(Persona(name, "Answer in one line."))
    chats = services.chats
    chat = chats.create("Tides")
    chats.add_message(chat.id, "user", "When is high tide?")
    chats.add_message(
        chat.id, "assistant", "At noon.", model="local:default", persona=GONE, retrieval=False
    )
    personas.remove(GONE)
    pane = _pane(qtbot, services)
    pane.show_chat(chat.id)

    with qtbot.waitSignal(pane.error, timeout=60_000) as failed:
        pane.message_views()[-1].regenerate_button.click()
    qtbot.waitUntil(lambda: not pane.busy)
    said = failed.args[0]
    assert said == (
        f'The persona "{GONE}" no longer exists. Choose another persona in the model '
        "picker, then press Regenerate or ask again."
    )
    assert plain(pane.message_views()[-1].body.text()) == said
    assert pane.input.toPlainText() == "When is high tide?"  # to ask again as it is

    # folio-cli's wording, for the same error, lists the personas it knows.
    with pytest.raises(ChatError) as refused:
        personas.get(GONE)
    assert str(refused.value) == (
        f"No persona named '{GONE}'. Known personas: <img src=x>, <script>, Pirates, the, "
        "Sarcastic techie."
    )
