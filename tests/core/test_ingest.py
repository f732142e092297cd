"""Ingestion into the real store with the real embedder: types, metadata, sync, bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from desktop.core.errors import Cancelled, EmbeddingMismatchError, LibraryError
from desktop.core.library.catalog import EMBEDDING_MODEL_KEY, FileStatus, Library
from desktop.core.library.walk import MAX_PATTERN_CHARS, walk
from desktop.core.settings import Settings
from desktop.core.tasks import CancelToken, Progress
from tests.consistency import assert_consistent
from tests.corpus import MARKERS, every_type, write_image_only_pdf, write_pdf


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _chunks_of(services, path: Path) -> list:  # type: ignore[no-untyped-def]
    from desktop.core.library.ingest import _file_filter

    return services.store.get_nodes(filters=_file_filter([str(path)]))


def test_every_type_is_indexed_with_metadata(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = every_type(tmp_path / "docs")
    report = services.ingestor.ingest([tmp_path / "docs"])
    assert report.added == len(files) and report.failed == 0 and report.skipped == 0
    assert report.chunks_embedded >= len(files)
    for kind, path in files.items():
        nodes = _chunks_of(services, path)
        assert nodes, kind
        text = " ".join(n.get_content() for n in nodes).lower()
        assert MARKERS[kind] in text, kind
        meta = nodes[0].metadata
        assert meta["file_path"] == str(path)
        assert meta["file_name"] == path.name
        assert meta["title"]
        assert meta["modified"].startswith("20")
    pdf_pages = sorted(n.metadata["page"] for n in _chunks_of(services, files["pdf"]))
    assert pdf_pages == [1, 2]
    assert all(n.metadata["page"] is None for n in _chunks_of(services, files["md"]))
    assert_consistent(services)


def test_bad_inputs_get_reasons_and_the_run_goes_on(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = make_services(Settings(max_file_mb=0.01))
    docs = tmp_path / "docs"
    _write(docs / "good.md", "# Good\n\nThe heron nests by the lake.")
    write_pdf(docs / "secret.pdf", ["classified"], password="pw")
    write_image_only_pdf(docs / "scan.pdf")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "latin.txt").write_bytes("na\u00efve caf\u00e9".encode("latin-1"))
    (docs / "unknown.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    _write(docs / "huge.txt", "word " * 5000)
    (docs / "song.mp3").write_bytes(b"ID3\x00\x00")
    os.mkfifo(docs / "pipe.txt")  # would block a reader forever

    report = services.ingestor.ingest([docs])

    assert report.added == 2
    statuses = {Path(r.path).name: (r.status, r.reason) for r in services.library.all_files()}
    assert statuses["good.md"] == (FileStatus.INDEXED, None)
    assert (
        statuses["secret.pdf"][0] == FileStatus.FAILED and "password" in statuses["secret.pdf"][1]
    )
    assert statuses["scan.pdf"][0] == FileStatus.FAILED and "OCR" in statuses["scan.pdf"][1]
    assert statuses["empty.txt"] == (FileStatus.SKIPPED, "empty file (0 bytes)")
    assert statuses["blob.txt"][0] == FileStatus.FAILED and "binary" in statuses["blob.txt"][1]
    assert statuses["latin.txt"] == (FileStatus.INDEXED, None)
    assert statuses["unknown.txt"][0] == FileStatus.FAILED and "UTF-8" in statuses["unknown.txt"][1]
    assert (
        statuses["huge.txt"][0] == FileStatus.SKIPPED
        and "too large (0.0238 MB; the limit is 0.01 MB" in statuses["huge.txt"][1]
    )
    assert (
        statuses["song.mp3"][0] == FileStatus.SKIPPED and "unsupported" in statuses["song.mp3"][1]
    )
    assert "pipe.txt" not in statuses
    assert report.failed == 4 and report.skipped == 3
    assert_consistent(services)


def test_a_file_whose_text_cannot_be_split_in_time_fails_and_the_run_goes_on(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nltk.redos

    # Punkt, the sentence splitter's tokenizer, gives up on a text it cannot get through
    # within nltk's time limit (5 s). Folio hands it a long text 100,000 characters at a
    # time (desktop/core/library/sentences.py), which it reads in about 0.1 s; with the
    # limit at 1 ms, each block meets it. The short files are never sentence-split.
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 0.001)
    docs = tmp_path / "docs"
    _write(docs / "a.txt", "The first file mentions otters. They swim.")
    words = ["alpha", "beta", "gamma", "delta", "kappa", "omega"]
    prose = " ".join(words[i % 6] + ("." if i % 19 == 0 else "") for i in range(330_000))
    big = _write(docs / "big.txt", prose)
    _write(docs / "z.txt", "The last file mentions beavers. They build dams.")

    report = services.ingestor.ingest([docs])

    assert not report.cancelled
    assert (report.added, report.failed) == (2, 1)
    record = services.library.get(str(big))
    assert record is not None and record.status == FileStatus.FAILED
    assert record.reason and record.reason.startswith(
        "its text could not be split into sentences in time (the sentence splitter gives up "
        "after 0.001 s"
    )
    assert report.failures == [(str(big), record.reason)]
    for name in ("a.txt", "z.txt"):
        assert services.library.get(str(docs / name)).status == FileStatus.INDEXED  # type: ignore[union-attr]
    assert services.library.interrupted_folders() == []
    assert_consistent(services)
    # The next sync finds nothing changed, and fails on nothing.
    again = services.ingestor.sync()
    assert not again.cancelled
    assert (again.added, again.failed, again.unchanged) == (0, 0, 3)
    assert_consistent(services)


def test_a_long_text_punkt_cannot_read_whole_in_time_is_read_a_block_at_a_time(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nltk.redos

    from desktop.core.library import sentences

    # The limit at 20 ms and blocks of 1,000 characters: 100,000 characters of prose in
    # paragraphs is more than Punkt reads in that time whole (checked below), a block ~100
    # times less. (Scaled down from nltk's 5 s and Folio's 100,000-character blocks, so
    # that the file embeds in seconds.)
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 0.02)
    monkeypatch.setattr(sentences, "PUNKT_BLOCK_CHARS", 1_000)
    words = ["alpha", "beta", "gamma", "delta", "kappa", "omega"]
    paragraphs = [
        " ".join(words[(p + i) % 6] + ("." if i % 19 == 18 else "") for i in range(60))
        for p in range(300)
    ]
    paragraphs[234] = "The otters of Lake Ohrid sleep in holts dug under willow roots."
    prose = "\n\n".join(paragraphs)
    assert len(prose) > 100_000
    with pytest.raises(TimeoutError):
        sentences.punkt_splitter()(prose)
    pieces = sentences.split_sentences_bounded(prose)
    assert "".join(pieces) == prose and all(len(p) < 1_000 for p in pieces)
    big = _write(tmp_path / "docs" / "big.txt", prose)

    report = services.ingestor.ingest([big])

    assert (report.added, report.failed) == (1, 0)
    record = services.library.get(str(big))
    assert record is not None and record.status == FileStatus.INDEXED
    [hit] = services.retriever.search("Where do the otters of Lake Ohrid sleep?", k=1)
    assert "holts dug under willow roots" in hit.text
    assert_consistent(services)


def test_blocks_end_at_a_paragraph_then_a_line_then_a_space() -> None:
    from desktop.core.library.sentences import blocks

    text = "One two.\n\nThree four five.\nSix seven eight nine ten"
    cuts = blocks(text, 24)
    assert "".join(cuts) == text and all(len(c) <= 24 for c in cuts)
    assert cuts[0] == "One two.\n\n"  # the paragraph break before the limit
    assert cuts[1] == "Three four five.\n"  # no paragraph break: the line break
    assert cuts[2] == "Six seven eight nine ten"
    assert blocks("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # no whitespace at all
    assert blocks("a b c d e f g", 4) == ["a b ", "c d ", "e f ", "g"]


def test_file_vanishing_mid_run(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    first = _write(docs / "a.txt", "The first file mentions otters.")
    doomed = _write(docs / "b.txt", "The second file mentions beavers.")

    def delete_later_file(progress: Progress) -> None:
        if progress.current == str(first) and doomed.exists():
            doomed.unlink()

    report = services.ingestor.ingest([docs], on_progress=delete_later_file)
    assert report.added == 1 and report.failed == 1
    assert "disappeared" in services.library.get(str(doomed)).reason
    assert_consistent(services)
    # The next sync notices it is gone for good.
    assert services.ingestor.sync().removed == 1
    assert services.library.get(str(doomed)) is None


def test_incremental_sync(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    a = _write(docs / "a.md", "Alpha document about glaciers and ice cores.")
    b = _write(docs / "b.md", "Beta document about volcanoes and lava.")
    c = _write(docs / "sub" / "c.md", "Gamma document about coral reefs.")
    first = services.ingestor.ingest([docs])
    assert (first.added, first.chunks_embedded) == (3, 3)

    again = services.ingestor.sync()
    assert (again.unchanged, again.chunks_embedded, again.added, again.updated) == (3, 0, 0, 0)

    old_ids = set(services.library.get(str(a)).chunk_ids)
    a.write_text("Alpha document, revised: now about tundra and permafrost.", encoding="utf-8")
    b.unlink()
    changed = services.ingestor.sync()
    assert (changed.updated, changed.removed, changed.unchanged) == (1, 1, 1)
    assert changed.chunks_embedded == 1
    new_ids = set(services.library.get(str(a)).chunk_ids)
    assert new_ids and not (new_ids & old_ids)
    assert "permafrost" in _chunks_of(services, a)[0].get_content()
    assert _chunks_of(services, b) == []

    # Touching a file without changing it costs a hash, not an embedding.
    os.utime(c, ns=(1_000_000_000, 1_000_000_000))
    touched = services.ingestor.sync()
    assert (touched.unchanged, touched.chunks_embedded) == (3 - 1, 0)
    assert services.library.get(str(c)).mtime_ns == 1_000_000_000
    assert_consistent(services)


def test_rename_and_copy_reuse_embeddings(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    original = _write(docs / "report.md", "# Report\n\n" + "The lynx population grew. " * 80)
    first = services.ingestor.ingest([docs])
    chunks = first.chunks_embedded
    assert chunks > 1

    shutil.copy(original, docs / "copy.md")
    copied = services.ingestor.sync()
    assert (copied.added, copied.chunks_embedded, copied.chunks_reused) == (1, 0, chunks)

    renamed_to = docs / "renamed.md"
    original.rename(renamed_to)
    renamed = services.ingestor.sync()
    assert (renamed.added, renamed.removed, renamed.chunks_embedded) == (1, 1, 0)
    nodes = _chunks_of(services, renamed_to)
    assert len(nodes) == chunks
    assert all(n.metadata["file_name"] == "renamed.md" for n in nodes)
    assert _chunks_of(services, original) == []
    hits = services.retriever.search("lynx population", k=5)
    assert {h.file_name for h in hits} <= {"copy.md", "renamed.md"}
    assert_consistent(services)


def test_ignore_rules_hidden_files_and_symlink_loops(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = make_services(Settings(ignore_patterns=["*.tmp.md"]))
    docs = tmp_path / "docs"
    keep = [
        _write(docs / "keep.md", "Kept: the main notes."),
        _write(docs / "deep" / "er" / "keep2.md", "Kept: a nested note."),
    ]
    _write(docs / ".hidden.md", "hidden")
    _write(docs / ".git" / "HEAD.md", "git internals")
    _write(docs / "node_modules" / "pkg" / "README.md", "a dependency")
    _write(docs / "env" / "pyvenv.cfg", "home = /usr/bin")
    _write(docs / "env" / "lib" / "notes.md", "a virtualenv file")
    _write(docs / "drafts" / "draft.md", "a draft")
    _write(docs / "debug.log", "log noise")
    _write(docs / "scratch.tmp.md", "scratch")
    _write(docs / ".folioignore", "drafts/\n*.log\n")
    _write(docs / "deep" / ".folioignore", "secret-*.md\n")
    _write(docs / "deep" / "secret-plan.md", "a nested secret")
    _write(docs / "secret-plan.md", "not secret at the top: the rule is nested")
    keep.append(docs / "secret-plan.md")
    os.symlink(docs, docs / "deep" / "loop")  # a loop back to the top
    os.symlink(tmp_path / "nowhere.md", docs / "dangling.md")
    report = services.ingestor.ingest([docs])
    indexed = sorted(r.path for r in services.library.all_files())
    assert indexed == sorted(str(p) for p in keep)
    assert report.added == 3


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        # What `git status --ignored` keeps with these lines as a .gitignore.
        (["*", "!sub/", "!sub/b.txt"], ["sub/b.txt"]),
        (["*", "!*/", "!*.md"], ["a.md", "sub/inner/d.md"]),
        (["*", "!sub/", "sub/"], []),
        (["sub/", "!sub/b.txt"], ["a.md", "top.txt"]),  # inside a folder left out: stays out
    ],
)
def test_a_folder_taken_back_by_a_negated_pattern_is_walked_as_git_walks_it(
    tmp_path: Path, lines: list[str], kept: list[str]
) -> None:
    docs = tmp_path / "docs"
    for name in ("a.md", "top.txt", "sub/b.txt", "sub/c.txt", "sub/inner/d.md"):
        _write(docs / name, f"{name} text")
    _write(docs / ".folioignore", "\n".join(lines) + "\n")
    found = sorted(Path(f.path).relative_to(docs).as_posix() for f in walk(docs))
    assert [name for name in found if name != ".folioignore"] == kept


def test_an_ignore_pattern_gitignore_cannot_use_is_skipped_and_named(  # type: ignore[no-untyped-def]
    make_services, home: Path, tmp_path: Path
) -> None:
    # A settings file written by hand, or saved before patterns were checked, still opens.
    (home / "settings.json").write_text('{"ignore_patterns": ["!", "*.tmp.md"]}')
    services = make_services()
    docs, other = tmp_path / "docs", tmp_path / "other"
    keep = [
        _write(docs / "keep.md", "Kept: the main notes."),
        _write(other / "notes.md", "Another library folder, with no ignore file."),
    ]
    _write(docs / "debug.log", "log noise")
    _write(docs / "scratch.tmp.md", "scratch")
    _write(docs / "aside.md ", "a name ending in a space")
    _write(docs / "drafts" / "draft.md", "a draft")
    _write(docs / "notes.txt", "plain notes")
    # Lines 2 to 4 are refused by gitignore matching; the others still apply, line 5 as
    # ignore_pattern writes a name ending in a space.
    lines = ["*.log", "!", "notes\\", "[z-a].md", "/aside.md\\ ", "drafts/", "/notes.txt"]
    _write(docs / ".folioignore", "\n".join(lines) + "\n")

    report = services.ingestor.ingest([docs, other])

    indexed = sorted(r.path for r in services.library.all_files())
    assert indexed == sorted(str(p) for p in keep)
    assert not report.cancelled and report.added == 2
    ignore_file = str(docs / ".folioignore")
    # Warnings, not failures: every file was indexed or left out as the other lines say.
    assert (report.failed, report.failures) == (0, [])
    where = [path for path, _ in report.warnings]
    assert where == [str(home / "settings.json"), ignore_file, ignore_file, ignore_file]
    said = [reason for _, reason in report.warnings]
    assert said[0].startswith("the ignore pattern '!' (Settings, Ignore patterns) has nothing")
    assert said[1].startswith("line 2, '!', has nothing after its '!'")
    assert said[2].startswith("line 3, 'notes\\', ends with a '\\' that escapes nothing")
    assert said[3].startswith("line 4, '[z-a].md', holds a [...] set that cannot be read")
    assert all(reason.endswith("correct or delete it") for reason in said)
    assert report.to_json()["warnings"] == [
        {"path": path, "reason": reason} for path, reason in report.warnings
    ]
    assert_consistent(services)
    # Said again at each sync, until the lines are mended.
    assert services.ingestor.sync().warnings == report.warnings


def test_an_ignore_line_longer_than_any_path_is_skipped_and_quoted_short(  # type: ignore[no-untyped-def]
    make_services, tmp_path: Path
) -> None:
    # Compiling a pattern of millions of characters takes pathspec minutes: such a line
    # is skipped, named by its start, and the others still apply.
    services = make_services()
    docs = tmp_path / "docs"
    keep = _write(docs / "notes.md", "Notes on the survey of moraines.")
    _write(docs / "debug.log", "log noise")
    longest, too_long = "y" * MAX_PATTERN_CHARS, "x" * 90_000
    _write(docs / ".folioignore", f"{too_long}\n*.log\n{longest}\n")

    report = services.ingestor.ingest([docs])

    assert [r.path for r in services.library.all_files()] == [str(keep)]
    [(where, reason)] = report.warnings
    assert where == str(docs / ".folioignore") and len(reason) < 300
    assert reason.startswith(f"line 1, '{'x' * 80}'…, is 90,000 characters long, longer than")
    assert reason.endswith("the line is skipped until you correct or delete it")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"*.log\n\xff\xfe drafts/\n", "is not UTF-8 text"),
        (None, "cannot be read (Is a directory)"),
        ("fifo", "is not a file"),  # a pipe: reading it would wait for a writer for ever
        (b"*.log\n" * 20_000, "is 120,000 bytes, more than the 100,000 Folio reads"),
    ],
)
def test_an_ignore_file_folio_cannot_read_is_named_and_the_run_goes_on(  # type: ignore[no-untyped-def]
    make_services, tmp_path: Path, content: bytes | str | None, why: str
) -> None:
    services = make_services()
    docs = tmp_path / "docs"
    keep = _write(docs / "notes.md", "Notes on the survey of moraines.")
    ignored = _write(docs / "debug.log", "log noise the ignore file meant to leave out")
    ignore_file = docs / ".folioignore"
    if content is None:  # a folder by that name: open() fails, as for root's any file
        ignore_file.mkdir()
    elif content == "fifo":
        os.mkfifo(ignore_file)
    else:
        assert isinstance(content, bytes)
        ignore_file.write_bytes(content)

    report = services.ingestor.ingest([docs])

    # Its patterns cannot apply: the file it would leave out is indexed, and that is said.
    indexed = sorted(r.path for r in services.library.all_files())
    assert indexed == sorted([str(keep), str(ignored)])
    assert (report.added, report.failed) == (2, 0)
    [(where, reason)] = report.warnings
    assert where == str(ignore_file)
    assert reason.startswith(why), reason
    assert "the files it would leave out are indexed" in reason
    if ignore_file.is_dir():
        ignore_file.rmdir()
    else:
        ignore_file.unlink()
    ignore_file.write_text("*.log\n")
    # Once it can be read, it applies again, and nothing is said.
    again = services.ingestor.sync()
    assert (again.removed, again.warnings) == (1, [])
    assert [r.path for r in services.library.all_files()] == [str(keep)]


def test_folio_data_folders_inside_a_library_folder_are_not_indexed(  # type: ignore[no-untyped-def]
    make_services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    papers = tmp_path / "papers"
    keep = [
        _write(papers / "notes.md", "Field notes about alpine lakes."),
        _write(papers / "sub" / "plan.md", "A plan for the survey of moraines."),
    ]
    # Another Folio's data folder, with a library and a vector store of its own.
    (papers / "old folio").mkdir()
    other = make_services(at=papers / "old folio")
    assert other.ingestor.ingest([keep[0]]).added == 1
    # The data folder in use, inside the very folder it indexes.
    (papers / "folio data").mkdir()
    services = make_services(at=papers / "folio data")
    caplog.set_level("INFO", logger="desktop.core.library.walk")
    first = services.ingestor.ingest([papers])
    assert sorted(r.path for r in services.library.all_files()) == sorted(str(p) for p in keep)
    assert (first.added, first.failed) == (2, 0)
    said = caplog.text
    assert f"Not indexing {papers / 'folio data'}: it is a Folio data folder" in said
    assert f"Not indexing {papers / 'old folio'}: it is a Folio data folder" in said
    # Folio wrote its database and store meanwhile: a sync still finds nothing to do.
    again = services.ingestor.sync()
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 2)
    assert again.chunks_embedded == 0
    # A data folder given as a library folder, or what it holds, is refused by name: it
    # would be a library folder of no files.
    for given in (papers / "old folio", papers / "old folio" / "library.db"):
        with pytest.raises(LibraryError, match=r"old folio.* Folio's own library, settings"):
            services.ingestor.ingest([given])
    assert sorted(services.library.folders()) == [str(papers)]
    assert len(services.library.all_files()) == 2
    assert_consistent(services)


def test_progress_and_cancel_leave_a_consistent_library(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    for i in range(6):
        _write(docs / f"f{i}.md", f"File number {i} talks about topic {i}. " * 40)
    token = CancelToken()
    seen: list[Progress] = []

    marked_meanwhile: list[list[str]] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if p.files_done == 2 and not marked_meanwhile:
            token.cancel()
            # Another process sees the folder marked; this one knows it is still at work.
            other = Library(services.library.path)
            marked_meanwhile.extend(
                [other.interrupted_folders(), services.library.interrupted_folders()]
            )
            other.close()

    report = services.ingestor.ingest([docs], on_progress=on_progress, cancel=token)
    assert report.cancelled
    assert 2 <= report.added < 6
    assert marked_meanwhile == [[str(docs)], []]
    assert services.library.interrupted_folders() == [str(docs)]  # stopped: the rest is owed
    assert seen[0].files_total == 6 and seen[0].files_done == 0
    assert any(p.eta_seconds is not None and p.chunks_total >= p.chunks_done for p in seen)
    # No estimate from the first chunks alone: their time holds loading the embedding
    # model, which the rest of the run does not pay again. The pace starts there.
    first_embedded = next(p for p in seen if p.chunks_done > 0)
    assert first_embedded.eta_seconds is None
    assert any(p.current and p.current.endswith(".md") for p in seen)
    assert_consistent(services)

    rest = services.ingestor.sync()
    assert not rest.cancelled and rest.added == 6 - report.added
    assert_consistent(services)
    assert services.library.interrupted_folders() == []


def test_a_cancel_while_looking_through_folders_stops_there_and_changes_nothing(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    kept = [_write(docs / f"d{i:02}" / "notes.md", f"Notes on lake {i}.") for i in range(30)]
    assert services.ingestor.ingest([docs]).added == 30
    # Then every file is left out, and one folder's ignore file has a line to warn of: its
    # warning cancels the run while the walk is in the middle of the folders.
    _write(docs / ".folioignore", "*.md\n")
    _write(docs / "d15" / ".folioignore", "[z-a]\n")
    token = CancelToken()
    reached: list[str] = []

    def on_bad_pattern(where: str, reason: str) -> None:
        reached.append(where)
        token.cancel()

    with pytest.raises(Cancelled):
        list(walk(docs, on_bad_pattern=on_bad_pattern, cancel=token))
    assert reached == [str(docs / "d15" / ".folioignore")]

    # The same through a sync: stopped before it changed anything, so the files the
    # .folioignore now leaves out are still in the library, not taken for gone.
    token = CancelToken()
    token.cancel()
    report = services.ingestor.sync(cancel=token)
    assert report.cancelled and (report.removed, report.added) == (0, 0)
    assert sorted(r.path for r in services.library.all_files()) == [str(p) for p in kept]
    assert_consistent(services)
    assert services.ingestor.sync().removed == 30  # not cancelled: the ignore file applies


def test_a_file_swapped_for_a_pipe_after_the_scan_is_named_not_waited_on(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    first = _write(docs / "a.md", "The first note, about moraines.")
    later = _write(docs / "b.md", "The second note, about cirques.")
    swapped: list[bool] = []

    def on_progress(p: Progress) -> None:
        if not swapped:  # the scan is over, no file read yet: b.md becomes a pipe
            swapped.append(True)
            later.unlink()
            os.mkfifo(later)

    report = services.ingestor.ingest([docs], on_progress=on_progress)

    # Before, open() waited for a writer for ever, holding the library's lock.
    assert swapped and report.added == 1 and not report.cancelled
    assert report.failures == [(str(later), "cannot be read: not a regular file")]
    assert [r.path for r in services.library.all_files() if r.chunk_ids] == [str(first)]
    assert_consistent(services)


@pytest.mark.slow
def test_a_large_file_after_small_ones_says_how_far_it_has_got(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    _write(docs / "a.md", "A short note.")
    _write(docs / "b.md", "Another short note.")
    # One line of prose with no break, as a log or an export can be: many chunks.
    words = [f"word{i} about topic {i % 97} and its detail {i % 13}." for i in range(4000)]
    _write(docs / "z.txt", " ".join(words))
    seen: list[Progress] = []
    report = services.ingestor.ingest([docs], on_progress=seen.append)
    big = str(docs / "z.txt")
    chunks = len(services.library.get(big).chunk_ids)  # type: ignore[union-attr]
    assert report.added == 3 and chunks >= 100
    during = [p for p in seen if p.current == big and p.detail]
    shares = [int(p.detail.split("%")[0]) for p in during]  # type: ignore[union-attr]
    assert during and all(f"of its {chunks:,} chunks embedded" in p.detail for p in during)  # type: ignore[operator]
    assert shares == sorted(shares) and shares[-1] == 100 and len(set(shares)) > 3
    # The estimate follows the large file's own progress, not the small files' pace, which
    # put the total at hundreds of times what it is.
    assert all(p.chunks_total <= 2 * (chunks + 2) for p in during)


def test_remove_folder(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    one, two = tmp_path / "one", tmp_path / "two"
    _write(one / "a.md", "A note about herons.")
    _write(one / "b.md", "A note about egrets.")
    _write(two / "c.md", "A note about cranes.")
    services.ingestor.ingest([one, two])
    assert services.ingestor.remove(one) == 2
    assert [r.path for r in services.library.all_files()] == [str(two / "c.md")]
    assert services.library.folders() == [str(two)]
    assert_consistent(services)


def test_another_embedding_model_is_refused(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "docs" / "a.md", "Something to index.")
    services.ingestor.ingest([tmp_path / "docs"])
    services.library.set_meta(EMBEDDING_MODEL_KEY, "openai:text-embedding-3-small")
    with pytest.raises(EmbeddingMismatchError, match="text-embedding-3-small"):
        services.ingestor.sync()
    with pytest.raises(EmbeddingMismatchError, match="re-index"):
        services.retriever.search("something")


def test_library_survives_a_restart(make_services, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "docs" / "a.md", "The archive holds letters from 1920.")
    first = make_services()
    first.ingestor.ingest([tmp_path / "docs"])
    first.close()
    second = make_services()
    assert second.ingestor.sync().unchanged == 1
    assert second.retriever.search("letters archive", k=1)[0].file_name == "a.md"
    assert_consistent(second)


def _site_packages_python_files() -> list[Path]:
    import llama_index.core.node_parser.text.sentence as sentence
    import tokenizers

    return [Path(sentence.__file__), Path(tokenizers.__file__)]


def test_no_chunk_runs_past_what_the_embedder_reads(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from llama_index.core.schema import MetadataMode

    from desktop.core.models.embeddings import chunk_tokens

    folder = tmp_path / "mixed"
    folder.mkdir()
    for source in _site_packages_python_files():
        (folder / f"{source.parent.name}_{source.name}.txt").write_text(
            source.read_text(encoding="utf-8"), encoding="utf-8"
        )
    readme = Path(__file__).resolve().parents[2] / "README.md"
    (folder / "README.md").write_text(readme.read_text(encoding="utf-8"), encoding="utf-8")
    services.ingestor.ingest([folder])
    nodes = services.store.get_nodes()
    assert len(nodes) > 10
    tokens = chunk_tokens(services.embed_model)
    longest = max(
        len(tokens.tokenize(n.get_content(metadata_mode=MetadataMode.EMBED))) for n in nodes
    )
    assert longest + 2 <= 256
