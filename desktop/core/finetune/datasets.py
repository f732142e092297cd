"""The dataset library: named training sets kept as the JSONL files that get uploaded.

Each dataset is a folder ``<root>/<name>/`` holding ``train.jsonl``, an optional
``validation.jsonl`` and ``dataset.json`` (where it came from). Files are replaced
atomically and appends are flushed line by line, so a crash loses at most the line being
written and never what was there before.

Saving replaces two files, which no single rename can do: both are first written whole
beside the old ones (``validation.jsonl.new``, then ``train.jsonl.new``, which commits the
save; an empty ``validation.jsonl.new`` means "no validation split"), then renamed into
place. Whoever next opens the dataset finishes a committed save a crash interrupted, or
drops one that had not committed, so an example is never in both files nor in neither.
New datasets are built in a hidden folder and renamed into place; deleted ones are renamed
away before they are removed. Names never start with a dot, so hidden folders are not
datasets.

Names are matched as personas' are (``desktop.core.names.name_key``): "PR" finds "pr", and a
new name that reads the same as another dataset's is refused. Two such datasets saved before
this rule still open, each by its exact name.

Where a command takes "a JSONL file or a dataset's name", ``DatasetStore.choose`` decides
which one the text names, for every command alike.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.errors import DatasetError
from desktop.core.files import sync_folder, write_atomically
from desktop.core.finetune.examples import (
    Example,
    LineProblem,
    json_line,
    named_problems,
    read_examples,
    write_examples,
)
from desktop.core.jsonl import NotJson, parse_line
from desktop.core.library.filenames import one_line
from desktop.core.names import is_blank, same_key

TRAIN = "train.jsonl"
VALIDATION = "validation.jsonl"
META = "dataset.json"
PENDING = ".new"  # suffix of a file written whole, waiting to replace its namesake
SOURCES = ("import", "chats", "generated", "manual")
MAX_NAME = 64
NAME_PUNCTUATION = " -_.()"
# Names Windows refuses for a folder, whatever the case.
RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10)}
NAME_RULE = (
    f"1 to {MAX_NAME} letters, digits, spaces and - _ . ( ), not starting or ending with "
    "a space or a dot"
)
# Written before a dataset's name to mean the dataset even when a file here has that name.
# A name holds no colon, so no dataset's name starts with it.
DATASET_PREFIX = "dataset:"


class NoSuchDataset(DatasetError):
    """No dataset has the name (as opposed to a name two datasets share, or one that is not
    usable at all)."""


@dataclass(frozen=True)
class TrainingData:
    """What a "JSONL file or a dataset's name" argument names: exactly one of ``path`` (a
    file, which may be missing or unreadable: reading it says why) and ``dataset`` (a
    dataset's name as stored). ``warning`` says when the text named both."""

    path: Path | None = None
    dataset: str | None = None
    warning: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What the dataset list shows."""

    name: str
    source: str  # "import", "chats", "generated" or "manual"
    persona: str | None  # the persona whose voice it teaches, if any
    created_at: float
    train_examples: int
    validation_examples: int
    train_path: Path
    validation_path: Path | None  # None when there is no validation split

    def to_json(self) -> dict[str, Any]:
        """The dataset as ``folio-cli finetune datasets`` lists it."""
        return {
            "name": self.name,
            "source": self.source,
            "persona": self.persona,
            "created_at": self.created_at,
            "train_examples": self.train_examples,
            "validation_examples": self.validation_examples,
            "train_path": str(self.train_path),
            "validation_path": str(self.validation_path) if self.validation_path else None,
        }


def check_name(name: str) -> str:
    """The dataset name, stripped and in composed Unicode form (NFC: "é" typed as "e" and an
    accent is one letter); DatasetError saying what names may be if it is not one."""
    name = unicodedata.normalize("NFC", name.strip())
    bad = next((c for c in name if not (c.isalnum() or c in NAME_PUNCTUATION)), None)
    problem = None
    if not name:
        problem = "it is empty"
    elif len(name) > MAX_NAME:
        problem = f"it has {len(name)} characters"
    elif bad is not None:
        # Written as a person can read it: a byte that is not UTF-8 as \xNN, a control
        # character as its escape, not as Python's repr of a surrogate.
        problem = f"'{one_line(bad)}' is not allowed"
    elif name[0] == "." or name[-1] == ".":
        problem = "it starts or ends with a dot"
    elif name.casefold() in RESERVED:
        problem = "Windows reserves that name"
    if problem:
        raise DatasetError(
            f'"{one_line(name)}" cannot name a dataset ({problem}): use {NAME_RULE}.'
        )
    return name


class DatasetStore:
    """Datasets under ``root`` (``<data folder>/finetune/datasets``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # One writer at a time: generation appends while the editor saves or splits.
        self._lock = threading.RLock()

    def all(self) -> list[DatasetInfo]:
        """Every dataset, newest first."""
        infos = []
        with self._lock:
            for folder in self._folders():
                self._settle(folder)
                if (folder / TRAIN).is_file():
                    infos.append(self._info(folder))
        return sorted(infos, key=lambda info: (-info.created_at, info.name.casefold()))

    def get(self, name: str) -> DatasetInfo:
        """The dataset called ``name`` (matched by ``name_key``, the one spelled exactly so
        first). NoSuchDataset naming it if there is none; DatasetError if the name is not
        usable, or if several datasets match it and none is spelled exactly so."""
        with self._lock:
            return self._info(self._existing(name))

    def taken(self, name: str) -> str | None:
        """The stored name of the dataset a new dataset called ``name`` would be taken for
        (the same ``name_key``: case and Unicode form aside), or None when it is free."""
        with self._lock:
            return next(iter(same_key(name, self._names())), None)

    def check_new_name(self, name: str, renaming: str | None = None) -> str:
        """``name`` as a new dataset would be stored (``check_name``: stripped, NFC), or as
        the dataset ``renaming`` would be once renamed: the one rule ``create``, ``rename``
        and a dialog asking for a name apply. DatasetError saying why when it cannot be: the
        name is not usable, or another dataset has it (matched by ``name_key``: changing only
        the case of its own name renames the same dataset)."""
        with self._lock:
            own = self._existing(renaming) if renaming is not None else None
            return self._free_name(name, own)

    def _free_name(self, name: str, own: Path | None) -> str:
        """``check_new_name`` for the dataset in folder ``own`` (None: a new one)."""
        name = check_name(name)
        others = [n for n in self._names() if own is None or n != own.name]
        taken = same_key(name, others)
        if taken:
            raise _taken(taken[0])
        return name

    def choose(self, text: str) -> TrainingData:
        """What ``text`` names where a JSONL file or a dataset's name is taken (``validate``,
        ``start``, local training): one rule for all of them.

        ``dataset:NAME`` is the dataset. Text with a path separator is a file: no dataset's
        name holds one. So is text naming something in the current folder other than a
        folder; if a dataset has that name too, the file is used (a path is what a person
        types) and ``warning`` says how to choose either. Anything else is a dataset's name;
        a folder here by that name is a path only when no dataset has it.

        Raises DatasetError for blank text or a name two datasets share; NoSuchDataset when
        the text is neither a file here nor a dataset's name.
        """
        if is_blank(text):
            raise DatasetError("No file or dataset given: give a JSONL file or a dataset's name.")
        if text.startswith(DATASET_PREFIX):
            return TrainingData(dataset=self.get(text.removeprefix(DATASET_PREFIX)).name)
        if any(sep in text for sep in (os.sep, os.altsep, "/") if sep):
            return TrainingData(path=Path(text))
        here = os.path.lexists(text)
        if here and not os.path.isdir(text):
            shown = one_line(text)
            with self._lock:
                also = same_key(text, self._names())
            warning = None
            if also:
                # With several (saved before names were matched), the exact one is chosen by
                # how it is spelled: the name as typed is the one to show.
                named = also[0] if len(also) == 1 else text
                as_file = one_line(shlex.quote(f"./{text}"))
                as_dataset = one_line(shlex.quote(f"{DATASET_PREFIX}{named}"))
                warning = (
                    f'"{shown}" is both a file in this folder and the dataset '
                    f'"{one_line(named)}": the file is used. Give {as_file} for the file, or '
                    f"{as_dataset} for the dataset."
                )
            return TrainingData(path=Path(text), warning=warning)
        with self._lock:
            folder = self._find(text)
        if folder is not None:
            return TrainingData(dataset=folder.name)
        if here:  # a folder, and no dataset by its name: reading it says why it cannot be used
            return TrainingData(path=Path(text))
        raise NoSuchDataset(
            f"No such file or dataset: {one_line(text)}. A file is given by its path."
        )

    def training_data(self, given: str | Path | TrainingData) -> TrainingData:
        """``given`` as what it names: a Path is a file, text is a dataset's name (as the
        window's lists give it: never a file that happens to share the name in the current
        folder), and a TrainingData (``choose``'s reading of what a person typed) is kept.
        NoSuchDataset or DatasetError as ``get`` raises for a name."""
        if isinstance(given, TrainingData):
            return given
        if isinstance(given, Path):
            return TrainingData(path=given)
        return TrainingData(dataset=self.get(given).name)

    def create(
        self,
        name: str,
        train: Iterable[Example],
        *,
        source: str,
        persona: str | None = None,
        validation: Iterable[Example] = (),
    ) -> DatasetInfo:
        """A new dataset; DatasetError if the name is taken or not a valid folder name."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        with self._lock:
            name = self.check_new_name(name)
            folder = self.root / name
            if folder.exists():
                raise DatasetError(f'There is already a dataset named "{name}": choose another.')
            self.root.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
            try:
                write_examples(building / TRAIN, train)
                held_out = list(validation)
                if held_out:
                    write_examples(building / VALIDATION, held_out)
                meta = {"source": source, "persona": persona, "created_at": time.time()}
                write_atomically(building / META, [json.dumps(meta, ensure_ascii=False)])
                os.rename(building, folder)
            except OSError as exc:
                shutil.rmtree(building, ignore_errors=True)
                if folder.exists():
                    raise DatasetError(
                        f'There is already a dataset named "{name}": choose another.'
                    ) from exc
                raise DatasetError(f'Cannot create dataset "{name}" in {self.root}: {exc}') from exc
            sync_folder(self.root)
            return self._info(folder)

    def import_file(
        self,
        path: Path,
        name: str | None = None,
        system_prompt: str | None = None,
        persona: str | None = None,
    ) -> tuple[DatasetInfo, list[LineProblem]]:
        """Copy a JSONL file in (converting prompt/response pairs); lines it could not read.
        ``persona`` names the voice its answers are in (a run trained on it is that
        persona's; Evaluate's style score learns that voice from it).

        The name defaults to the file's, made valid and unique ("data (2)"). DatasetError
        naming the file if it cannot be read, or if it holds no example at all (with its
        first unreadable lines and why, and how many more there are).
        """
        read = read_examples(path, system_prompt)
        if not read.examples:
            detail = f": {named_problems(read.problems)}" if read.problems else " (it is empty)"
            raise DatasetError(f"No training example could be read from {path}{detail}.")
        with self._lock:
            chosen = name if name is not None else self._unique_name(path.stem)
            info = self.create(chosen, read.examples, source="import", persona=persona)
            return info, read.problems

    def load(self, name: str) -> tuple[list[Example], list[Example]]:
        """(train, validation) examples.

        A last line without its newline that is not valid JSON is what an append cut short
        by a crash leaves: it is ignored. Any other unreadable line is a DatasetError naming
        the file and line, so that saving over it cannot lose it unnoticed.
        """
        with self._lock:
            folder = self._existing(name)
            validation = folder / VALIDATION
            held_out = _read(validation) if validation.exists() else []
            return _read(folder / TRAIN), held_out

    def save(self, name: str, train: list[Example], validation: list[Example]) -> DatasetInfo:
        """Replace a dataset's examples (the editor's Save), atomically."""
        with self._lock:
            folder = self._existing(name)
            # An empty pending validation file stands for "no validation split".
            write_examples(folder / (VALIDATION + PENDING), validation)
            write_examples(folder / (TRAIN + PENDING), train)  # the save is committed here
            self._settle(folder)
            return self._info(folder)

    def append(self, name: str, examples: Iterable[Example]) -> DatasetInfo:
        """Add examples to the training file, each line flushed as it is written.

        A last line left without its newline by a crash is first dropped (or, if it is a
        whole example, ended), so the new lines are not glued to it.
        """
        with self._lock:
            folder = self._existing(name)
            path = folder / TRAIN
            _end_last_line(path)
            with path.open("a", encoding="utf-8", newline="\n") as file:
                for example in examples:
                    file.write(json_line(example))
                    file.flush()
                os.fsync(file.fileno())
            return self._info(folder)

    def split(self, name: str, validation_fraction: float, seed: int = 0) -> DatasetInfo:
        """Re-split train+validation: a seeded shuffle, ``validation_fraction`` held out.

        The same examples and seed give the same split whatever the current one is. At
        least one example is held out when the fraction is above 0 and there are two or
        more, and at least one is kept for training.
        """
        if not 0 <= validation_fraction < 1:
            raise DatasetError(
                f"The validation share must be from 0 up to (not including) 1, e.g. 0.1 "
                f"for 10%; {validation_fraction} is not."
            )
        with self._lock:
            train, validation = self.load(name)
            examples = sorted(train + validation, key=_canonical)
            random.Random(seed).shuffle(examples)
            count = len(examples)
            held = round(validation_fraction * count)
            if validation_fraction > 0 and count >= 2:
                held = min(max(held, 1), count - 1)
            for example in examples:
                example.line = None  # lines of the old files mean nothing in the new ones
            return self.save(name, examples[held:], examples[:held])

    def rename(self, name: str, new_name: str) -> DatasetInfo:
        """DatasetError if ``new_name`` is not a valid name or another dataset's (matched by
        ``name_key``: changing only the case of a name is a rename of the same dataset)."""
        with self._lock:
            folder = self._existing(name)
            new_name = self._free_name(new_name, folder)
            target = self.root / new_name
            # On a case-insensitive disk "Tone" and "tone" are one folder: that is a rename.
            if target.exists() and not target.samefile(folder):
                raise DatasetError(
                    f'There is already a dataset named "{new_name}": choose another.'
                )
            os.rename(folder, target)
            sync_folder(self.root)
            return self._info(target)

    def delete(self, name: str) -> None:
        """Delete the dataset called ``name`` with its files; DatasetError if there is none."""
        with self._lock:
            folder = self._existing(name)
            # Renamed away first, so a crash mid-way leaves no half-deleted dataset behind.
            doomed = self.root / f".deleted-{uuid.uuid4().hex}"
            os.rename(folder, doomed)
            sync_folder(self.root)
            shutil.rmtree(doomed, ignore_errors=True)

    # -- helpers -----------------------------------------------------------------------------

    def _folders(self) -> list[Path]:
        """The datasets' folders (named as Folio names datasets, not hidden), whether or not
        a save is to be settled in them."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                check_name(folder.name)
            except DatasetError:
                continue  # not made by Folio: it could not be opened by its name either
            if (folder / TRAIN).is_file() or (folder / (TRAIN + PENDING)).is_file():
                found.append(folder)
        return found

    def _names(self) -> list[str]:
        """The datasets' names, as their folders are named."""
        return [folder.name for folder in self._folders()]

    def _find(self, name: str) -> Path | None:
        """The folder of the dataset ``name`` names, or None. The one spelled exactly so
        comes first; else the only one with its ``name_key``. DatasetError when several
        have that key and none is spelled so (saved before names were matched this way)."""
        typed = name.strip()
        folders = {f.name: f for f in self._folders()}
        matches = [folders[n] for n in same_key(name, folders)]
        exact = [f for f in matches if f.name in (typed, unicodedata.normalize("NFC", typed))]
        if exact:
            return exact[0]
        if len(matches) > 1:
            names = " and ".join(f'"{one_line(f.name)}"' for f in sorted(matches))
            raise DatasetError(
                f"Datasets {names} differ only in case or Unicode form: give one exactly as "
                "it is spelled."
            )
        return matches[0] if matches else None

    def _existing(self, name: str) -> Path:
        check_name(name)  # a name no dataset could have: say why, not merely that none has it
        folder = self._find(name)
        if folder is None:
            raise NoSuchDataset(f'There is no dataset named "{name}" (in {self.root}).')
        self._settle(folder)
        return folder

    def _settle(self, folder: Path) -> None:
        """Finish a committed save a crash interrupted; drop one that had not committed."""
        train_pending = folder / (TRAIN + PENDING)
        validation_pending = folder / (VALIDATION + PENDING)
        if not train_pending.exists():
            validation_pending.unlink(missing_ok=True)
            return
        if validation_pending.exists():
            if validation_pending.stat().st_size:
                os.replace(validation_pending, folder / VALIDATION)
            else:
                (folder / VALIDATION).unlink(missing_ok=True)
                validation_pending.unlink()
        os.replace(train_pending, folder / TRAIN)
        sync_folder(folder)

    def _info(self, folder: Path) -> DatasetInfo:
        meta = _read_meta(folder / META)
        validation = folder / VALIDATION
        has_validation = validation.is_file()
        source = meta.get("source")
        persona = meta.get("persona")
        created_at = meta.get("created_at")
        return DatasetInfo(
            name=folder.name,
            source=source if source in SOURCES else "manual",
            persona=persona if isinstance(persona, str) else None,
            created_at=(
                float(created_at)
                if isinstance(created_at, int | float)
                else (folder / TRAIN).stat().st_mtime
            ),
            train_examples=_count_examples(folder / TRAIN),
            validation_examples=_count_examples(validation) if has_validation else 0,
            train_path=folder / TRAIN,
            validation_path=validation if has_validation else None,
        )

    def _unique_name(self, stem: str) -> str:
        """A valid name like the file's, with " (2)", " (3)"... if it is taken."""
        cleaned = "".join(c if c.isalnum() or c in NAME_PUNCTUATION else "_" for c in stem)
        cleaned = cleaned.strip(" .")[: MAX_NAME - len(" (999)")].strip(" .")
        try:
            base = check_name(cleaned)
        except DatasetError:
            base = "dataset"
        name, number = base, 1
        while (self.root / name).exists() or self.taken(name) is not None:
            number += 1
            name = f"{base} ({number})"
        return name


def _taken(existing: str) -> DatasetError:
    """The refusal of a new name that reads as ``existing``, a dataset's stored name."""
    return DatasetError(
        f'There is already a dataset named "{one_line(existing)}": choose another name.'
    )


def _read(path: Path) -> list[Example]:
    read = read_examples(path, allow_partial_last_line=True)
    if read.problems:
        those = "that line" if len(read.problems) == 1 else "those lines"
        raise DatasetError(
            f"{path}, {named_problems(read.problems)}. Fix or remove {those} in a text "
            "editor; Folio leaves the file as it is until then."
        )
    return read.examples


def _read_meta(path: Path) -> dict[str, Any]:
    """dataset.json; a missing or damaged one only loses labels, so defaults stand in."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _count_examples(path: Path) -> int:
    """Non-blank lines, counted as ``load`` reads them (a torn last line does not count)."""
    data = path.read_bytes()
    *whole, last = data.split(b"\n")
    count = sum(1 for line in whole if line.strip())
    return count + (1 if last.strip() and _is_json(last) else 0)


def _is_json(data: bytes) -> bool:
    try:
        parse_line(data)
    except NotJson:
        return False
    return True


def _end_last_line(path: Path) -> None:
    """Make the file end with a newline, dropping a torn last line (see ``append``)."""
    with path.open("rb+") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return
        file.seek(-1, os.SEEK_END)
        if file.read(1) == b"\n":
            return
        file.seek(0)
        data = file.read()
        start = data.rfind(b"\n") + 1
        if _is_json(data[start:]):
            file.write(b"\n")
        else:
            file.truncate(start)
        file.flush()
        os.fsync(file.fileno())


def _canonical(example: Example) -> str:
    return json.dumps(example.to_json(), sort_keys=True, ensure_ascii=False)
