"""The invariant ingestion must keep: the library and the store agree exactly."""

from __future__ import annotations

from collections import Counter

from desktop.core.library.catalog import FINAL_STATES, FileStatus
from desktop.services import Services


def assert_consistent(services: Services) -> None:
    """Every indexed file's chunks are in the store, and the store holds nothing else."""
    records = services.library.all_files()
    assert all(r.status in FINAL_STATES for r in records), "a file was left half done"
    nodes = services.store.get_nodes()
    stored = {node.node_id: node.metadata["file_path"] for node in nodes}
    assert len(stored) == len(nodes), "duplicate chunk ids in the store"
    expected: dict[str, str] = {}
    for record in records:
        if record.status == FileStatus.INDEXED:
            assert record.chunk_ids, f"{record.path} is indexed with no chunks"
            for chunk_id in record.chunk_ids:
                expected[chunk_id] = record.path
        else:
            assert not record.chunk_ids
    assert stored == expected
    assert services.store.count() == len(expected)
    per_file = Counter(stored.values())
    for record in records:
        if record.status == FileStatus.INDEXED:
            assert per_file[record.path] == len(record.chunk_ids)
