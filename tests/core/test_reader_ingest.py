"""What readers find reaches the library: table rows by keyword, sheet and front matter kept."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters


def _stored_metadata(services, path: Path) -> list[dict]:  # type: ignore[no-untyped-def]
    filters = MetadataFilters(
        filters=[MetadataFilter(key="file_path", value=[str(path)], operator=FilterOperator.IN)]
    )
    return [node.metadata for node in services.store.get_nodes(filters=filters)]


def test_csv_row_is_found_by_its_code_with_its_column_names(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "lager"
    folder.mkdir()
    (folder / "lager.csv").write_bytes(b"Artikelnummer;Lagerort;Preis\nCS-1201;Hamburg;12,50\n")
    (folder / "other.txt").write_text("Notes about the canteen menu.", encoding="utf-8")
    services.ingestor.ingest([folder])
    top = services.retriever.search("CS-1201", k=1, mode="keyword")[0]
    assert top.file_name == "lager.csv"
    assert top.text == "Artikelnummer: CS-1201, Lagerort: Hamburg, Preis: 12,50"


def test_sheet_and_front_matter_reach_the_stored_chunks(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    folder = tmp_path / "docs"
    folder.mkdir()
    book = Workbook()
    book.active.title = "Lead times"
    book.active.append(["Total lead time (days)", 42, "XT-4242"])
    book.save(folder / "plan.xlsx")
    (folder / "guide.md").write_text(
        "---\ntitle: Backup guide\nowner: ops\n---\n\nRun the backup nightly.\n", encoding="utf-8"
    )
    services.ingestor.ingest([folder])
    top = services.retriever.search("XT-4242", k=1, mode="keyword")[0]
    assert top.text == "Total lead time (days), 42, XT-4242"
    assert [m["sheet"] for m in _stored_metadata(services, folder / "plan.xlsx")] == ["Lead times"]
    guide = _stored_metadata(services, folder / "guide.md")
    assert [(m["title"], m["front_matter"]) for m in guide] == [("Backup guide", {"owner": "ops"})]
