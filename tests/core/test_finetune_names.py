"""Names of training datasets and of local fine-tuned models: matched as personas' names are
(case and Unicode form aside), and one rule for whether text names a file or a dataset.

Everything runs on real folders, a real ``finetune.db`` and the real dataset library; the
local runs are the job records a finished run leaves, as ``finetune.db`` holds them.
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from pathlib import Path

import pytest

from desktop.core.errors import DatasetError, FinetuneError, ModelError
from desktop.core.finetune.datasets import DatasetStore, NoSuchDataset, TrainingData
from desktop.core.finetune.examples import Example
from desktop.core.finetune.local.runs import LocalTraining
from desktop.core.finetune.records import Job, JobState, JobStore
from desktop.core.models.ids import LOCAL
from desktop.core.settings import Settings

NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


def _examples(count: int) -> list[Example]:
    return [
        Example(
            [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": "Have you tried rebooting?"},
            ]
        )
        for i in range(count)
    ]


def _write_jsonl(path: Path, count: int) -> Path:
    path.write_text(
        "".join(json.dumps(e.to_json()) + "\n" for e in _examples(count)), encoding="utf-8"
    )
    return path


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    return DatasetStore(tmp_path / "home" / "finetune" / "datasets")


def test_a_dataset_name_that_differs_only_in_case_or_unicode_form_is_refused_naming_the_other(
    store: DatasetStore, tmp_path: Path
) -> None:
    store.create("pr", _examples(2), source="manual")
    store.create(NFC, _examples(2), source="manual")
    for name, existing in (("PR", "pr"), (" Pr ", "pr"), (NFD, NFC), (NFC.upper(), NFC)):
        with pytest.raises(DatasetError, match=f'already a dataset named "{existing}": choose'):
            store.create(name, _examples(1), source="manual")
    source = _write_jsonl(tmp_path / "PR.jsonl", 3)
    with pytest.raises(DatasetError, match='already a dataset named "pr"'):
        store.import_file(source, "PR")
    # Without a name, the file's own is made unique by name_key too, not only by spelling.
    info, _ = store.import_file(source)
    assert info.name == "PR (2)"
    other = store.create("other", _examples(1), source="manual")
    with pytest.raises(DatasetError, match='already a dataset named "pr"'):
        store.rename(other.name, "PR")
    # Changing only the case of its own name is a rename of the same dataset.
    assert store.rename("pr", "PR").name == "PR"
    assert sorted(d.name for d in store.all()) == sorted(["PR", NFC, "PR (2)", "other"])


def test_a_name_is_checked_before_anything_is_made_with_the_rule_create_and_rename_apply(
    store: DatasetStore,
) -> None:
    store.create("pr", _examples(2), source="manual")
    store.create("other", _examples(2), source="manual")
    assert store.check_new_name(f" {NFD} ") == NFC  # as it would be stored
    for name, why in (
        ("PR", 'already a dataset named "pr"'),
        ("<b>x</b>", "'<' is not allowed"),
        ("x" * 65, "it has 65 characters"),
        ("con", "Windows reserves that name"),
        ("a\u200fb", "'\\\\u200f' is not allowed"),
        ("", "it is empty"),
    ):
        with pytest.raises(DatasetError, match=why):
            store.check_new_name(name)
    # For a rename, its own name in another case is free; another dataset's is not.
    assert store.check_new_name("PR", renaming="pr") == "PR"
    with pytest.raises(DatasetError, match='already a dataset named "other"'):
        store.check_new_name("OTHER", renaming="pr")
    with pytest.raises(NoSuchDataset):
        store.check_new_name("fresh", renaming="gone")
    assert sorted(d.name for d in store.all()) == ["other", "pr"]  # nothing was made


def test_a_dataset_is_found_whatever_case_or_form_is_typed_and_the_exact_name_comes_first(
    store: DatasetStore,
) -> None:
    store.create("Zen calm", _examples(2), source="manual")
    store.create(NFC, _examples(3), source="manual")
    assert store.get("zen CALM").name == "Zen calm"
    assert store.get(NFD).name == NFC and store.get(NFD.upper()).train_examples == 3
    store.append("ZEN calm", _examples(1))
    assert store.get("Zen calm").train_examples == 3
    store.delete("zen calm")
    assert [d.name for d in store.all()] == [NFC]
    with pytest.raises(NoSuchDataset, match='There is no dataset named "zen calm"'):
        store.get("zen calm")


def test_datasets_saved_before_names_were_matched_still_open_by_their_exact_names(
    store: DatasetStore,
) -> None:
    store.create("pr", _examples(1), source="manual")
    # A library from before this rule may hold both: made here as that Folio left them.
    os.rename(store.create("other", _examples(2), source="manual").train_path.parent,
              store.root / "PR")  # fmt: skip
    assert sorted(d.name for d in store.all()) == ["PR", "pr"]
    assert store.get("pr").train_examples == 1 and store.get("PR").train_examples == 2
    assert store.load("PR")[0][0].prompt == "Question 0?"
    with pytest.raises(DatasetError, match='Datasets "PR" and "pr" differ only in case'):
        store.get("Pr")
    assert store.choose("pr") == TrainingData(dataset="pr")
    store.delete("PR")
    assert [d.name for d in store.all()] == ["pr"] and store.get("Pr").name == "pr"


def _choices(store: DatasetStore, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    """What each case's text names, with ``folder`` the current folder: a file only, a
    dataset only, both, neither, and a path with a slash that does not exist."""
    monkeypatch.chdir(folder)
    _write_jsonl(folder / "only-file.jsonl", 2)
    _write_jsonl(folder / "Makefile", 2)
    _write_jsonl(folder / "both.jsonl", 2)
    (folder / "docs").mkdir()
    store.create("only-dataset", _examples(3), source="manual")
    store.create("Makefile", _examples(3), source="manual")
    store.create("docs", _examples(3), source="manual")
    store.create("both.jsonl", _examples(3), source="manual")
    found: dict[str, object] = {}
    for text in (
        "only-file.jsonl", "only-dataset", "ONLY-DATASET", "Makefile", "docs", "neither",
        "sub/missing.jsonl", "dataset:Makefile", "./Makefile", "both.jsonl",
    ):  # fmt: skip
        try:
            found[text] = store.choose(text)
        except NoSuchDataset as exc:
            found[text] = exc
    return found


def test_one_rule_decides_whether_text_names_a_file_or_a_dataset(
    store: DatasetStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    found = _choices(store, here, monkeypatch)
    assert found["only-file.jsonl"] == TrainingData(path=Path("only-file.jsonl"))
    assert found["only-dataset"] == TrainingData(dataset="only-dataset")
    assert found["ONLY-DATASET"] == TrainingData(dataset="only-dataset")
    both = found["Makefile"]
    assert isinstance(both, TrainingData) and both.path == Path("Makefile")
    assert both.warning == (
        '"Makefile" is both a file in this folder and the dataset "Makefile": the file is '
        "used. Give ./Makefile for the file, or dataset:Makefile for the dataset."
    )
    # A folder is no training file: a dataset of its name is what was meant.
    assert found["docs"] == TrainingData(dataset="docs")
    assert str(found["neither"]) == (
        "No such file or dataset: neither. A file is given by its path."
    )
    assert found["sub/missing.jsonl"] == TrainingData(path=Path("sub/missing.jsonl"))
    assert found["dataset:Makefile"] == TrainingData(dataset="Makefile")
    assert found["./Makefile"] == TrainingData(path=Path("./Makefile"))
    with pytest.raises(DatasetError, match="No file or dataset given"):
        store.choose(" \u200b")


def test_openai_and_local_training_read_what_the_rule_chose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``FineTuning`` and ``LocalTraining`` open what ``choose`` read in a person's text,
    as ``validate`` and ``start`` do: the file here (2 examples) over the dataset (3). Text
    passed as is (the window's lists) is a dataset's name, never a file sharing it."""
    from desktop.core.finetune.jobs import FineTuning

    home, here = tmp_path / "home", tmp_path / "here"
    here.mkdir()
    store = DatasetStore(home / "finetune" / "datasets")
    _choices(store, here, monkeypatch)
    jobs = JobStore(home / "finetune.db")  # the store made the data folder
    local = LocalTraining(home, jobs, store, Settings())
    openai = FineTuning(jobs, store, client=lambda: None, local=local)  # type: ignore[arg-type,return-value]
    for text, label, count in (
        ("only-file.jsonl", "only-file.jsonl", 2),
        ("ONLY-DATASET", "only-dataset", 3),
        ("both.jsonl", "both.jsonl", 2),
        ("dataset:both.jsonl", "both.jsonl", 3),
        ("dataset:Makefile", "Makefile", 3),
        ("docs", "docs", 3),
    ):
        opened, _, files = openai._open(store.choose(text))
        assert (opened, len(files[0][1])) == (label, count), text
        opened, _, train, _ = local._examples(store.choose(text))
        assert (opened, len(train)) == (label, count), text
    # Local training takes *.jsonl files only: the file chosen is refused, not the dataset read.
    with pytest.raises(DatasetError, match="Makefile: a training file is JSONL"):
        local._examples(store.choose("Makefile"))
    file_chosen = openai._open(store.choose("Makefile"))
    assert file_chosen[0] == "Makefile" and len(file_chosen[2][0][1]) == 2
    # A name as the window gives it: the dataset, though a file here has its name.
    for name in ("both.jsonl", "Makefile"):
        opened, _, files = openai._open(name)
        assert (opened, len(files[0][1])) == (name, 3), name
        opened, _, train, _ = local._examples(name)
        assert (opened, len(train)) == (name, 3), name
    for text in ("neither", "sub/missing.jsonl"):
        with pytest.raises(DatasetError):
            openai._open(store.choose(text) if "/" in text else text)
        with pytest.raises(DatasetError):
            local._examples(store.choose(text) if "/" in text else text)
    jobs.close()


def _finished_run(jobs: JobStore, name: str, status: str = JobState.SUCCEEDED) -> Job:
    """The record a local run leaves in finetune.db once it has made ``local:ft:<name>``."""
    job = Job(
        id=f"ftjob-local-{name.lower()}{len(jobs.all())}",
        provider=LOCAL,
        base="local:default",
        status=status,
        created_at=time.time(),
        suffix=name,
        dataset="snark",
        fine_tuned_model=f"ft:{name}" if status == JobState.SUCCEEDED else None,
        finished_at=time.time() if status != JobState.RUNNING else None,
    )
    jobs.save(job)
    return job


def test_local_model_names_that_differ_only_in_case_are_one_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    jobs = JobStore(home / "finetune.db")
    training = LocalTraining(home, jobs, DatasetStore(home / "datasets"), Settings())
    made = _finished_run(jobs, "t1")
    assert training.taken("T1") == "t1" and training.taken("t2") is None
    assert training.find("local:ft:T1").id == made.id
    # A new model, a rename onto another's name, or one a run will give: all refused.
    other = _finished_run(jobs, "other")
    with pytest.raises(FinetuneError, match="already called 't1': choose another name"):
        training.rename("local:ft:other", "T1")
    _finished_run(jobs, "Next", JobState.RUNNING)
    with pytest.raises(FinetuneError, match="will make local:ft:Next when it ends"):
        training.rename("local:ft:other", "next")
    assert training.rename("local:ft:T1", "T1") == "local:ft:T1"  # its own name's case
    assert training.find("local:ft:t1").id == made.id and training.taken("t1") == "T1"
    assert training._free_name("t1") == "t1-2"
    # Two saved before names were matched so still open by their exact names.
    lower, upper = _finished_run(jobs, "pr"), _finished_run(jobs, "PR")
    assert training.find("local:ft:pr").id == lower.id
    assert training.find("local:ft:PR").id == upper.id
    with pytest.raises(ModelError, match="local:ft:PR and local:ft:pr differ only in case"):
        training.find("local:ft:Pr")
    assert training.find("local:ft:other").id == other.id
    jobs.close()
