"""Settings…: fields that offer only what the settings accept and show what they hold,
refusals worded by the labels the dialog shows, a model file checked as it is chosen and
kept by its absolute path, a settings file that cannot be written, and where the dialog is
found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.errors import SettingsError
from desktop.core.models.local_files import embedded_llm_path
from desktop.core.settings import InvalidSettings, updated
from desktop.services import Services
from desktop.ui.dialogs import SettingsDialog, refusal_text
from desktop.ui.main_window import MainWindow
from desktop.ui.qt import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QKeySequence,
    QLabel,
    QSpinBox,
    QWidget,
)


def open_dialog(qtbot, services: Services) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    return dialog


def label_of(dialog: SettingsDialog, field: QWidget) -> str:
    """The text the form shows beside ``field`` (alone in its row, or in a row of several)."""
    form = dialog.findChild(QFormLayout)
    assert form is not None
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        inner = item.layout() if item is not None else None
        if item is not None and (item.widget() is field or (inner and inner.indexOf(field) >= 0)):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            assert label is not None and isinstance(label.widget(), QLabel)
            return label.widget().text()
    raise AssertionError("not in the form")


def spins(dialog: SettingsDialog) -> dict[str, QSpinBox | QDoubleSpinBox]:
    return {
        "chunk_size": dialog.chunk_size,
        "chunk_overlap": dialog.chunk_overlap,
        "top_k": dialog.top_k,
        "max_file_mb": dialog.max_file_mb,
        "threads": dialog.threads,
    }


def test_number_fields_offer_exactly_the_values_the_settings_accept(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = open_dialog(qtbot, services)
    settings = services.settings
    dialog.chunk_size.setValue(dialog.chunk_size.maximum())  # room for the largest overlap
    for field, spin in spins(dialog).items():
        step = 1 if isinstance(spin, QSpinBox) else 10 ** -spin.decimals()
        lowest, highest = spin.minimum(), spin.maximum()
        changes = {"chunk_size": dialog.chunk_size.value()} if field == "chunk_overlap" else {}
        # Both ends are accepted by the settings; a step past either end is refused, and the
        # field itself will not go there.
        for value in (lowest, highest):
            updated(settings, **changes, **{field: value})
        for value in (lowest - step, highest + step):
            with pytest.raises(SettingsError):
                updated(settings, **changes, **{field: value})
        spin.setValue(highest + 1000)
        assert spin.value() == highest
        spin.setValue(lowest - 1000)
        assert spin.value() == lowest

    # The overlap stays below the chunk size as the size changes.
    dialog.chunk_overlap.setValue(dialog.chunk_overlap.maximum())
    dialog.chunk_size.setValue(dialog.chunk_size.minimum())
    assert dialog.chunk_overlap.value() < dialog.chunk_size.value()
    assert dialog.save() is True
    saved = json.loads((services.home / "settings.json").read_text())
    assert saved["chunk_size"] == dialog.chunk_size.value()
    assert saved["chunk_overlap"] == dialog.chunk_overlap.value()


def test_a_refusal_names_each_field_by_its_label_in_readable_words(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = open_dialog(qtbot, services)
    with pytest.raises(InvalidSettings) as refused:
        updated(services.settings, chunk_size=1000, top_k=0)
    said = refusal_text(refused.value.problems)
    assert label_of(dialog, dialog.chunk_size) in said and "at most 256" in said
    assert label_of(dialog, dialog.top_k) in said and "at least 1" in said
    assert "chunk_size" not in said and "top_k" not in said and "Input should" not in said
    assert "chunk_size" in str(refused.value)  # folio-cli and settings.json name the key


def test_an_ignore_pattern_gitignore_cannot_use_is_refused_by_its_label(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    dialog = open_dialog(qtbot, services)
    label = label_of(dialog, dialog.ignore)
    dialog.ignore.setPlainText("*.log\n!\ndrafts/\n")
    assert dialog.save() is False
    said = dialog.error.text()
    assert said.startswith(f"{label}: '!' has nothing after its '!'"), said
    assert "ignore_patterns" not in said
    assert not (services.home / "settings.json").exists()
    assert services.settings.ignore_patterns == []
    # Mended, it is saved.
    dialog.ignore.setPlainText("*.log\n!keep.log\ndrafts/\n")
    assert dialog.save() is True
    saved = json.loads((services.home / "settings.json").read_text())
    assert saved["ignore_patterns"] == ["*.log", "!keep.log", "drafts/"]


def test_a_model_file_is_checked_as_it_is_chosen(qtbot, services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = open_dialog(qtbot, services)
    label = label_of(dialog, dialog.model_path)
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("Just some notes.")
    for path, wrong in (
        (tmp_path / "missing.gguf", "no file is at"),
        (tmp_path, "is a folder"),
        (not_gguf, "is not a GGUF model file"),
    ):
        dialog.model_path.setText(str(path))
        dialog.model_path.editingFinished.emit()  # typed, then the field left
        said = dialog.error.text()
        assert said.startswith(f"{label}:") and wrong in said, said
        assert "b00020" in dialog.error.styleSheet()  # the error colour, not a pale one
        assert dialog.save() is False
        assert not (services.home / "settings.json").exists()

    model = embedded_llm_path()
    assert model is not None
    dialog.model_path.setText(str(model))
    dialog.model_path.editingFinished.emit()
    assert dialog.error.text() == ""
    assert dialog.save() is True
    assert services.settings.local_models["custom"] == str(model)


def type_into(qtbot, spin: QSpinBox | QDoubleSpinBox, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``text`` over what ``spin`` shows, as a person would, staying in the field."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, text)


def test_a_number_typed_outside_a_field_s_range_is_refused_not_saved_unseen(
    qtbot, services
) -> None:  # type: ignore[no-untyped-def]
    dialog = open_dialog(qtbot, services)
    dialog.show()
    label = label_of(dialog, dialog.max_file_mb)
    type_into(qtbot, dialog.max_file_mb, "0")
    assert dialog.max_file_mb.text() == "0"  # what the person sees, below the least, 0.01
    assert dialog.save() is False
    said = dialog.error.text()
    assert said == f'{label}: "0" is not a value it takes: enter a number from 0.01 to 4096.'
    assert dialog.isVisible() and not (services.home / "settings.json").exists()
    assert services.settings.max_file_mb == 50

    type_into(qtbot, dialog.chunk_size, "3")  # on the way to 32 or more
    type_into(qtbot, dialog.max_file_mb, "0.5")
    assert dialog.save() is False
    said = dialog.error.text()
    assert said.startswith(f'{label_of(dialog, dialog.chunk_size)}: "3" is not a value'), said
    assert "from 32 to 256" in said

    # Once each field shows a value it takes, that value is what is saved.
    type_into(qtbot, dialog.chunk_size, "120")
    assert dialog.save() is True
    saved = json.loads((services.home / "settings.json").read_text())
    assert saved["max_file_mb"] == 0.5 and saved["chunk_size"] == 120


def test_a_model_file_typed_relative_is_saved_by_its_absolute_path(  # type: ignore[no-untyped-def]
    qtbot, services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.gguf").write_bytes(b"GGUF" + bytes(100))
    monkeypatch.chdir(tmp_path)
    dialog = open_dialog(qtbot, services)
    dialog.model_path.setText("mine.gguf")
    assert dialog.save() is True
    expected = str(Path.cwd() / "mine.gguf")
    assert services.settings.local_models["custom"] == expected
    saved = json.loads((services.home / "settings.json").read_text())
    assert saved["local_models"]["custom"] == expected
    # Folio started in another folder still finds it.
    monkeypatch.chdir(services.home)
    assert Path(services.settings.local_models["custom"]).is_file()


def test_settings_that_cannot_be_written_are_said_in_the_dialog_which_stays_open(  # type: ignore[no-untyped-def]
    qtbot, services
) -> None:
    dialog = open_dialog(qtbot, services)
    dialog.show()
    settings_file = services.home / "settings.json"
    settings_file.mkdir()  # a folder where the file should be
    dialog.top_k.setValue(7)
    assert dialog.save() is False
    said = dialog.error.text()
    assert said == (
        f"Cannot save the settings: {settings_file} is a folder. Move or rename that folder, "
        "then save again."
    )
    assert "b00020" in dialog.error.styleSheet()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert services.settings.top_k == 5  # not in use either, as it was not saved
    assert dialog.top_k.value() == 7  # what the person chose is kept, to save again

    settings_file.rmdir()
    assert dialog.save() is True
    assert json.loads(settings_file.read_text())["top_k"] == 7 and services.settings.top_k == 7


def test_settings_is_in_the_settings_menu_with_its_shortcut(qtbot, services) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(services)
    qtbot.addWidget(window)
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    items = {name: [a.text() for a in menu.actions()] for name, menu in menus.items()}
    assert "Settings…" in items["&Settings"] and "Settings…" not in items["&File"]
    action = next(a for a in menus["&Settings"].actions() if a.text() == "Settings…")
    assert action.shortcut() == QKeySequence("Ctrl+,")
