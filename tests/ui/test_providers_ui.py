"""Models and providers in the window: remote models in the picker, consent, errors, the dialog.

Everything runs against real servers on loopback: llama.cpp's OpenAI-compatible server (behind
the fault proxy where a test needs it to misbehave) and the stand-in Hugging Face hub. Keys go
to a file-backed keyring, so a test can prove where they went.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from desktop.core.errors import SettingsError
from desktop.core.models.downloads import find_entry
from desktop.core.models.ids import provider_name_problem
from desktop.core.models.local_files import ModelInfo, embedded_llm_path
from desktop.core.secrets import Secrets
from desktop.core.settings import Settings, updated
from desktop.services import Services
from desktop.ui.chat.pane import ChatPane, Choice
from desktop.ui.chat.picker import REMOTE_MARK
from desktop.ui.main_window import MainWindow
from desktop.ui.providers import servers
from desktop.ui.providers.dialog import ProvidersDialog
from desktop.ui.providers.servers import ServersTab
from desktop.ui.qt import QApplication, QLineEdit, QMessageBox, Qt
from tests.fault_proxy import FaultProxy
from tests.hf_hub_server import running_hub
from tests.keyring_backend import FileKeyring
from tests.llama_server import MODEL_ALIAS, free_port
from tests.ui.confirm import Answer, confirmed

pytestmark = pytest.mark.slow

SECRET = "sk-folio-ui-test-0123456789abcdef"
QUESTION = "How many days of leave carry over?"
LAB_MODEL = f"lab:{MODEL_ALIAS}"


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("FOLIO_TEST_KEYRING", str(path))
    return path


@pytest.fixture
def make_remote(
    home: Path, embed_model, keyring_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Services]]:  # type: ignore[no-untyped-def]
    """Services with short answers, keys in the test keyring, and no OpenAI key around.

    Each gets its own model cache, so the servers a test adds do not outlive it.
    """
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    built: list[Services] = []

    def make(**settings: object) -> Services:
        chosen = Settings.model_validate(
            {"max_answer_tokens": 16, "request_timeout": 20, "threads": 2, **settings}
        )
        services = Services(home, chosen, embed_model=embed_model)
        services.__dict__["secrets"] = Secrets(FileKeyring())
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text(
        "# Leave policy\n\nUnused leave can be carried over to the next year, up to 5 days."
    )
    return folder


def open_window(qtbot, services: Services) -> MainWindow:  # type: ignore[no-untyped-def]
    """The window, once its first background look at the remote providers is done."""
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.picker.loading, timeout=30_000)
    return window


def entry(window: MainWindow, model: str) -> tuple[str, str] | None:
    """The picker's (text, tooltip) for ``model`` without a persona, if it lists it."""
    return window.picker.entry(model)


def all_items(window: MainWindow) -> list[str]:
    combo = window.picker.combo
    return [combo.itemText(i) for i in range(combo.count())]


def files_containing(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def active_message_box(qtbot) -> QMessageBox:  # type: ignore[no-untyped-def]
    """The window-modal question the window is showing now."""
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QMessageBox))
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    return box


def test_a_server_added_in_the_dialog_lists_its_models_as_remote(
    qtbot, make_remote, llama_server: str, keyring_file: Path
) -> None:  # type: ignore[no-untyped-def]
    services = make_remote()
    with FaultProxy(llama_server) as proxy:
        window = open_window(qtbot, services)
        # Without a key OpenAI is a disabled entry saying what to do.
        assert any("OpenAI: No API key" in text for text in all_items(window))
        assert entry(window, LAB_MODEL) is None

        dialog = window.open_providers()
        servers = dialog.servers
        dialog.tabs.setCurrentWidget(servers)
        servers.name.setText("bad")
        servers.base_url.setText("localhost:11434")
        qtbot.mouseClick(servers.add_button, Qt.MouseButton.LeftButton)
        said = servers.message.text()  # named by the field's label, not a settings key
        assert said == 'Base URL "localhost:11434" must start with http:// or https://.'
        assert services.settings.servers == {}

        assert servers.key.echoMode() == QLineEdit.EchoMode.Password
        servers.name.setText("lab")
        servers.base_url.setText(proxy.base_url)
        servers.key.setText(SECRET)
        qtbot.mouseClick(servers.add_button, Qt.MouseButton.LeftButton)
        assert "Added lab" in servers.message.text()
        assert servers.key.text() == ""
        qtbot.waitUntil(lambda: entry(window, LAB_MODEL) is not None, timeout=30_000)
        text, tip = entry(window, LAB_MODEL)  # type: ignore[misc]
        assert REMOTE_MARK in text
        assert "passages of your documents" in tip and tip.endswith("to lab.")
        assert entry(window, "local:default") == ("  SmolLM2 135M · built in", "local:default")
        # The models were listed with the key, which is in the keyring and nowhere else.
        assert proxy.faults.authorizations[-1] == f"Bearer {SECRET}"
        assert SECRET in keyring_file.read_text()
        assert files_containing(services.home, SECRET) == []

        assert window.picker.select(LAB_MODEL, None)
        assert "sends to lab" in window.chat.header.text()
        with qtbot.waitSignal(window.picker.refreshed, timeout=30_000):
            window.picker.refresh()
        assert window.picker.choice().model == LAB_MODEL  # the choice survives a refresh

        servers.list.setCurrentRow(0)
        qtbot.mouseClick(servers.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "1 model" in servers.test_result.text(), timeout=30_000)
        assert MODEL_ALIAS in servers.test_result.text()

        services.allow_remote("lab")
        Answer(delete=True)  # the confirmation removing a server asks first
        qtbot.mouseClick(servers.remove_button, Qt.MouseButton.LeftButton)
        assert services.settings.servers == {} and services.settings.remote_consent == []
        assert SECRET not in keyring_file.read_text()
        assert entry(window, LAB_MODEL) is None
        assert window.picker.choice().model == "local:default"


def test_the_openai_key_goes_to_the_keyring_or_is_refused(
    qtbot, make_remote, keyring_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    services = make_remote()
    dialog = ProvidersDialog(services)
    qtbot.addWidget(dialog)
    tab = dialog.openai
    assert tab.key.echoMode() == QLineEdit.EchoMode.Password
    assert "No key yet" in tab.status.text()
    qtbot.keyClicks(tab.key, SECRET)
    with qtbot.waitSignal(dialog.providers_changed):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert "stored in the system keyring" in tab.status.text()
    assert tab.key.text() == ""
    assert services.secrets.get("openai") == SECRET
    assert files_containing(services.home, SECRET) == []
    qtbot.mouseClick(tab.forget_button, Qt.MouseButton.LeftButton)
    assert services.secrets.get("openai") is None and SECRET not in keyring_file.read_text()

    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    tab.show_status()
    assert "OPENAI_API_KEY environment variable" in tab.status.text()

    services.__dict__["secrets"] = Secrets(fail.Keyring())
    refused = ProvidersDialog(services)
    qtbot.addWidget(refused)
    assert "No system keyring" in refused.openai.message.text()
    assert not refused.openai.save_button.isEnabled() and not refused.openai.key.isEnabled()
    assert not refused.servers.key.isEnabled()


def test_consent_is_asked_once_per_provider(
    qtbot, make_remote, llama_server: str, docs: Path
) -> None:  # type: ignore[no-untyped-def]
    services = make_remote(servers={"lab": {"base_url": llama_server}}, top_k=1)
    services.ingestor.ingest([docs])
    window = open_window(qtbot, services)
    assert window.picker.select(LAB_MODEL, None)
    assert window.picker.retrieval.isChecked()
    chat = window.chat

    chat.input.setPlainText(QUESTION)
    chat.send()
    box = active_message_box(qtbot)
    assert "passages of your documents to lab" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chat.consent_box is None)
    assert chat.input.toPlainText() == QUESTION  # nothing sent, the question kept
    assert services.settings.remote_consent == [] and services.chats.all() == []
    assert chat.message_views() == []

    chat.send()
    box = active_message_box(qtbot)
    allow = next(b for b in box.buttons() if b.text() == "Allow")
    with qtbot.waitSignal(chat.answer_finished, timeout=60_000) as answered:
        qtbot.mouseClick(allow, Qt.MouseButton.LeftButton)
    answer = answered.args[0]
    assert answer.model == LAB_MODEL and answer.text
    assert Path(answer.citations[0].path).name == "leave.md"
    assert services.settings.remote_consent == ["lab"]
    assert "lab" in (services.home / "settings.json").read_text()
    assert chat.input.toPlainText() == ""
    view = chat.message_views()[-1]
    assert "tokens in" in view.usage.text() and view.usage.isVisibleTo(chat)

    # Allowed once, never asked again.
    with qtbot.waitSignal(chat.answer_finished, timeout=60_000):
        chat.input.setPlainText("And next year?")
        chat.send()
    assert chat.consent_box is None and not isinstance(
        QApplication.activeModalWidget(), QMessageBox
    )


def test_a_dropped_answer_is_kept_and_a_server_down_keeps_the_question(
    qtbot, make_remote, llama_server: str
) -> None:  # type: ignore[no-untyped-def]
    with FaultProxy(llama_server) as proxy:
        services = make_remote(servers={"lab": {"base_url": proxy.base_url}})
        window = open_window(qtbot, services)
        assert window.picker.select(LAB_MODEL, None)
        window.picker.retrieval.setChecked(False)
        chat = window.chat

        proxy.faults.cut_after_events = 3
        with qtbot.waitSignal(chat.answer_finished, timeout=60_000) as answered:
            chat.input.setPlainText("Say hello.")
            chat.send()
        answer = answered.args[0]
        assert answer.interrupted and answer.text
        view = chat.message_views()[-1]
        assert "(interrupted)" in view.text
        assert "broke mid-answer" in view.notice.text() and view.notice.isVisibleTo(chat)

    # The proxy is gone: lab is down.
    chat.input.setPlainText(QUESTION)
    chat.send()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60_000)
    message = window.last_error.text()  # type: ignore[union-attr]
    assert "Cannot reach lab" in message and "\n" not in message
    assert chat.input.toPlainText() == QUESTION
    assert [v.text for v in chat.message_views() if v.role == "user"][-1] == QUESTION

    with qtbot.waitSignal(window.picker.refreshed, timeout=30_000):
        window.picker.refresh()
    assert window.picker.choice().model == LAB_MODEL  # kept, and marked
    assert "(unreachable)" in window.picker.combo.currentText()
    assert any(text.startswith("  lab: Cannot reach lab") for text in all_items(window))


def test_a_server_name_that_cannot_start_a_model_id_is_refused(qtbot, make_remote) -> None:  # type: ignore[no-untyped-def]
    services = make_remote()
    tab = ServersTab(services)
    qtbot.addWidget(tab)
    url = f"http://127.0.0.1:{free_port()}/v1"
    for name, shown in (
        ("my server!", "my server!"),
        ("lab:2", "lab:2"),
        ("-lab", "-lab"),
        ("<b>x</b>", "<b>x</b>"),
        ("o\u200fl", "o\\u200fl"),  # an invisible mark, shown where it is
    ):
        tab.name.setText(name)
        tab.base_url.setText(url)
        assert not tab.add()
        said = tab.message.text()
        assert said.startswith(f'Name "{shown}" cannot name a server'), said
        assert "letters, digits" in said and repr(name) not in said
        # The one rule, wherever a server is added from (folio-cli models add-server too).
        assert provider_name_problem(name) is not None
    # Settings already saved load whatever the name, unless it would break a model id.
    with pytest.raises(SettingsError):
        updated(services.settings, servers={"lab:2": {"base_url": url}})
    assert services.settings.servers == {}

    tab.name.setText("my-server.2")
    tab.base_url.setText(url)
    assert tab.add()
    assert list(services.settings.servers) == ["my-server.2"]


@pytest.mark.parametrize(
    ("url", "key_env", "said", "focused"),
    [
        ("http://lab:99999/v1", "", 'Base URL "http://lab:99999/v1" must have a port', "base_url"),
        ("http://[::1/v1", "", 'Base URL "http://[::1/v1" is not a valid address', "base_url"),
        (
            "http://127.0.0.1:9/v1\u202e",
            "",
            'Base URL "http://127.0.0.1:9/v1\\u202e" must not hold invisible control',
            "base_url",
        ),
        ("", "", "Base URL must start with http:// or https://", "base_url"),
        ("http://127.0.0.1:9/v1", "KEY=abc", 'Key variable "KEY=abc" must be', "key_env"),
        ("http://127.0.0.1:9/v1", "PATH", 'Key variable "PATH" is a variable the', "key_env"),
    ],
    ids=[
        "port too big",
        "an IPv6 bracket left open",
        "an invisible right-to-left override",
        "no address",
        "a key variable with '='",
        "PATH",
    ],
)
def test_a_server_that_cannot_work_is_refused_in_the_window_as_folio_cli_refuses_it(  # type: ignore[no-untyped-def]
    qtbot, make_remote, url: str, key_env: str, said: str, focused: str
) -> None:
    services = make_remote()
    tab = ServersTab(services)
    qtbot.addWidget(tab)
    tab.show()
    tab.name.setText("lab")
    tab.base_url.setText(url)
    tab.key_env.setText(key_env)
    assert not tab.add()
    assert tab.message.text().startswith(said), tab.message.text()
    assert tab.focusWidget() is getattr(tab, focused)  # the field to mend
    assert services.settings.servers == {}
    assert tab.name.text() == "lab"  # what was typed stays, to be mended


def test_a_first_question_that_fails_is_sent_again_into_the_same_chat(qtbot, make_remote) -> None:  # type: ignore[no-untyped-def]
    services = make_remote(servers={"lab": {"base_url": f"http://127.0.0.1:{free_port()}/v1"}})
    pane = ChatPane(services, lambda: Choice(LAB_MODEL, None, False))
    qtbot.addWidget(pane)
    errors: list[str] = []
    pane.error.connect(errors.append)
    new_chats: list[str] = []
    pane.chat_changed.connect(new_chats.append)

    for attempt in (1, 2):
        pane.input.setPlainText(QUESTION)
        pane.send()
        qtbot.waitUntil(lambda n=attempt: len(errors) == n and not pane.busy, timeout=60_000)
        assert "Cannot reach lab" in errors[-1]
        assert pane.input.toPlainText() == QUESTION  # back in the box, to send again

    chats = services.chats.all()
    assert len(chats) == 1 and new_chats == [chats[0].id] and pane.chat_id == chats[0].id
    stored = services.chats.messages(chats[0].id)
    assert [(m.role, m.content) for m in stored] == [("user", QUESTION)] * 2


def test_a_catalog_download_resumes_and_appears_in_the_picker(
    qtbot, make_remote, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    catalog = find_entry("qwen2.5-0.5b")
    gguf = embedded_llm_path()
    assert gguf is not None
    services = make_remote()
    window = open_window(qtbot, services)
    dialog = window.open_providers()
    dialog.tabs.setCurrentWidget(dialog.downloads)
    row = dialog.downloads.rows[catalog.name]
    assert row.button.text() == "Download"
    # The stand-in hub serves a real GGUF under the catalog entry's repository and name.
    with running_hub({catalog.repo_id: {catalog.filename: gguf}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        hub.faults.bytes_per_second = 20e6
        qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
        assert row.button.text() == "Cancel"
        qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=30_000)
        qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not row.busy, timeout=30_000)
        assert row.button.text() == "Resume" and "resumes" in row.bar.text()
        assert catalog.name not in services.settings.local_models

        hub.faults.bytes_per_second = None
        values: list[int] = []
        row.bar.valueChanged.connect(values.append)
        qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: entry(window, f"local:{catalog.name}") is not None, timeout=60_000)
        assert hub.file_gets()[-1].range is not None  # resumed, not started again
    assert len(set(values)) > 3 and values == sorted(values) and values[-1] == 1000
    path = Path(services.settings.local_models[catalog.name])
    assert path.parent == services.home / "models" / "gguf" and path.read_bytes()[:4] == b"GGUF"
    qtbot.waitUntil(lambda: not row.busy)
    assert row.button.text() == "Downloaded" and not row.button.isEnabled()
    assert "Downloaded qwen2.5-0.5b" in dialog.downloads.message.text()
    assert dialog.local.list.count() == 1


def test_local_files_are_added_checked_and_removed(qtbot, make_remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gguf = embedded_llm_path()
    assert gguf is not None
    services = make_remote()
    window = open_window(qtbot, services)
    local = window.open_providers().local
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("just text")
    assert not local.add(not_a_model, "notes")
    assert "not a GGUF model file" in local.message.text()
    assert local.add(gguf, "smol")
    assert entry(window, "local:smol") is not None
    assert not local.add(gguf, "smol") and "exists" in local.message.text()
    assert not local.add(gguf, "Smol")
    assert local.message.text() == (
        'Not added: local:smol exists, and "Smol" differs from it only in capitals: choose '
        "another name."
    )

    window.picker.select("local:smol", None)
    local.list.setCurrentRow(0)
    qtbot.mouseClick(local.remove_button, Qt.MouseButton.LeftButton)
    assert services.settings.local_models == {} and gguf.is_file()
    assert entry(window, "local:smol") is None
    assert window.picker.choice().model == "local:default"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "Not added: the name is empty: give the model a name of letters, digits"),
        ("default", 'Not added: the name "default" is taken by the embedded model that comes'),
        ("custom", 'Not added: the name "custom" is taken by the model file chosen in Settings'),
        ("ft:x", "Not added: the name \"ft:x\" starts with 'ft:', which marks models fine-tuned"),
        ("a b", "Not added: the name \"a b\" cannot name a model: it follows 'local:'"),
        ("<b>x</b>", 'Not added: the name "<b>x</b>" cannot name a model'),
        ("x\u200f", 'Not added: the name "x\\u200f" cannot name a model'),
    ],
    ids=["empty", "default", "custom", "ft: prefix", "a space", "markup", "an invisible mark"],
)
def test_a_local_model_name_is_refused_in_plain_words_naming_it_as_written(  # type: ignore[no-untyped-def]
    qtbot, make_remote, tmp_path: Path, name: str, said: str
) -> None:
    services = make_remote()
    dialog = ProvidersDialog(services)
    qtbot.addWidget(dialog)
    local = dialog.local
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    assert not local.add(model, name)
    assert local.message.text().startswith(said), local.message.text()
    assert "local_models" not in local.message.text()
    assert services.settings.local_models == {}


def test_a_settings_file_that_cannot_be_written_is_said_where_a_tab_saves(  # type: ignore[no-untyped-def]
    qtbot, make_remote, tmp_path: Path, keyring_file: Path
) -> None:
    services = make_remote()
    dialog = ProvidersDialog(services)
    qtbot.addWidget(dialog)
    settings_file = services.home / "settings.json"
    settings_file.mkdir()
    said = f"Cannot save the settings: {settings_file} is a folder. Move or rename that folder"
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    assert not dialog.local.add(model, "mine")
    assert dialog.local.message.text().startswith(said)
    assert services.settings.local_models == {}

    servers = dialog.servers
    servers.name.setText("lab")
    servers.base_url.setText(f"http://127.0.0.1:{free_port()}/v1")
    servers.key.setText(SECRET)
    assert not servers.add()
    assert servers.message.text().startswith(said)
    assert services.settings.servers == {}
    assert services.secrets.get("lab") is None  # no key left behind for a server not added
    assert servers.name.text() == "lab"  # what was typed stays, to add once mended


def test_removing_a_server_asks_first_naming_what_goes_with_it(qtbot, make_remote) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}/v1"
    services = make_remote(servers={"lab": {"base_url": url}}, remote_consent=["lab"])
    services.secrets.set("lab", SECRET, "LAB_KEY")
    tab = ServersTab(services)
    qtbot.addWidget(tab)
    tab.list.setCurrentRow(0)
    removed, asked = confirmed(False, tab.remove)
    assert removed is False
    assert asked == (
        'Remove the server "lab"?\nIts models (lab:<model>) leave the model picker. Its key is '
        "deleted from the system keyring. Its permission to receive passages of your documents "
        "is withdrawn. Chats that used it keep their answers."
    )
    assert "lab" in services.settings.servers and services.settings.remote_consent == ["lab"]
    assert services.secrets.get("lab") == SECRET and tab.list.count() == 1

    removed, _ = confirmed(True, tab.remove)
    assert removed is True
    assert services.settings.servers == {} and services.settings.remote_consent == []
    assert services.secrets.get("lab") is None and tab.list.count() == 0


def test_a_server_the_default_model_is_on_is_not_removed_and_says_why(  # type: ignore[no-untyped-def]
    qtbot, make_remote, monkeypatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    services = make_remote(servers={"lab": {"base_url": url}}, default_model="lab:chat")
    tab = ServersTab(services)
    qtbot.addWidget(tab)
    tab.list.setCurrentRow(0)
    asked: list[str] = []
    monkeypatch.setattr(servers, "confirm_deletion", lambda _parent, q, _c: asked.append(q))
    assert tab.remove() is False
    assert asked == []  # refused before asking: nothing would be removed
    assert tab.message.text() == (
        "The server lab is still in use, so it was not removed: lab:chat is the default model "
        '(set "default_model" in settings.json in the data folder to another model first).'
    )
    assert list(services.settings.servers) == ["lab"]


def test_a_server_name_differing_only_in_case_is_refused_naming_the_one_saved(  # type: ignore[no-untyped-def]
    qtbot, make_remote
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    services = make_remote(servers={"ollama": {"base_url": url}})
    tab = ServersTab(services)
    qtbot.addWidget(tab)
    for name, said in (
        ("Ollama", 'Name "Ollama": a server called "ollama" exists, and model ids that differ'),
        ("ollama", 'A server called "ollama" exists: remove it first, or choose another name.'),
        ("OpenAI", 'Name "OpenAI": openai names Folio\'s own models (openai:<model>)'),
        ("LOCAL", 'Name "LOCAL": local names Folio\'s own models (local:<model>)'),
    ):
        tab.name.setText(name)
        tab.base_url.setText(url)
        assert not tab.add()
        assert tab.message.text().startswith(said), tab.message.text()
    assert list(services.settings.servers) == ["ollama"]


def test_fine_tuned_remote_models_have_their_own_group(qtbot, make_remote) -> None:  # type: ignore[no-untyped-def]
    services = make_remote()
    window = open_window(qtbot, services)
    tuned = "openai:ft:gpt-4o-mini:acme::abc123"
    # As a refresh leaves them: what OpenAI listed for an account with a fine-tuned model.
    window.picker.remote = [
        ModelInfo("openai:gpt-4o-mini", "base", "OpenAI", True, remote=True),
        ModelInfo(tuned, "fine-tuned", "OpenAI", True, remote=True),
    ]
    window.picker.reload()
    items = all_items(window)
    group = items.index("Fine-tuned models")
    assert items[group + 1] == f"  abc123 · fine-tuned from GPT-4o mini · OpenAI  {REMOTE_MARK}"
    assert items.index("  GPT-4o mini · OpenAI  ↗ remote") < items.index("Persona models")
    assert window.picker.select(tuned, None)
    assert "sends to OpenAI" in window.chat.header.text()
