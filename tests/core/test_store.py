"""The two vector stores behind LlamaIndex's interface: Qdrant Edge and a Qdrant server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from desktop.core.errors import ModelError, StoreLockedError
from desktop.core.settings import Settings, StoreSettings
from desktop.core.store.edge import EdgeVectorStore
from desktop.core.store.server import ServerVectorStore, connect
from tests.consistency import assert_consistent


def _node(text: str, vector: list[float], ref: str, **meta: object) -> TextNode:
    node = TextNode(id_=str(uuid.uuid4()), text=text, embedding=vector, metadata=meta)
    node.relationships = {}
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo

    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=ref)
    return node


NODES = [
    ("The quarterly report covers revenue.", [1.0, 0.0, 0.0, 0.0], "doc-a", 1),
    ("Error QX-9 means the fan failed.", [0.0, 1.0, 0.0, 0.0], "doc-a", 2),
    ("Holiday rules for the team.", [0.0, 0.0, 1.0, 0.0], "doc-b", 1),
    ("Server rack layout and cabling.", [0.0, 0.0, 0.0, 1.0], "doc-c", 7),
]


@pytest.fixture(params=["edge", "server"])
def store(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "edge":
        made = EdgeVectorStore(tmp_path / "edge", dim=4)
    else:
        made = connect(":memory:", None, "test")
    made.add([_node(t, v, ref, page=page, file_path=f"/{ref}") for t, v, ref, page in NODES])
    made.commit()
    yield made
    made.close()


def test_dense_query(store) -> None:  # type: ignore[no-untyped-def]
    result = store.query(VectorStoreQuery(query_embedding=[0.0, 0.9, 0.1, 0.0], similarity_top_k=2))
    assert result.nodes[0].get_content().startswith("Error QX-9")
    assert result.similarities[0] > result.similarities[1]


def test_hybrid_query_fuses_keyword_and_dense(store) -> None:  # type: ignore[no-untyped-def]
    # The vector points at the holiday text, the words at the error code: both come back.
    result = store.query(
        VectorStoreQuery(
            query_embedding=[0.0, 0.0, 1.0, 0.0],
            query_str="QX-9 fan",
            similarity_top_k=2,
            mode=VectorStoreQueryMode.HYBRID,
        )
    )
    texts = {n.get_content() for n in result.nodes}
    assert texts == {"Error QX-9 means the fan failed.", "Holiday rules for the team."}


def test_metadata_filters(store) -> None:  # type: ignore[no-untyped-def]
    only_a = MetadataFilters(filters=[MetadataFilter(key="file_path", value="/doc-a")])
    result = store.query(
        VectorStoreQuery(query_embedding=[0.0, 0.0, 1.0, 0.0], similarity_top_k=5, filters=only_a)
    )
    assert {n.metadata["file_path"] for n in result.nodes} == {"/doc-a"}
    pages = MetadataFilters(
        filters=[
            MetadataFilter(key="page", value=2, operator=FilterOperator.GTE),
            MetadataFilter(key="file_path", value=["/doc-b"], operator=FilterOperator.IN),
        ],
        condition=FilterCondition.OR,
    )
    result = store.query(
        VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0, 0.0], similarity_top_k=5, filters=pages)
    )
    assert sorted(n.metadata["page"] for n in result.nodes) == [1, 2, 7]


def test_delete_by_ref_doc_and_by_filter(store) -> None:  # type: ignore[no-untyped-def]
    store.delete("doc-a")
    assert store.count() == 2
    store.delete_nodes(
        filters=MetadataFilters(filters=[MetadataFilter(key="file_path", value="/doc-c")])
    )
    remaining = store.get_nodes()
    assert [n.get_content() for n in remaining] == ["Holiday rules for the team."]
    assert remaining[0].embedding == pytest.approx([0.0, 0.0, 1.0, 0.0])


def test_a_vector_of_another_size_is_named_as_the_embedding_model_s(tmp_path: Path) -> None:
    # A server that gives vectors of differing sizes: the model is named, not a damaged store.
    store = EdgeVectorStore(tmp_path / "edge", dim=4)
    store.add([_node("Four numbers.", [1.0, 0.0, 0.0, 0.0], "doc-a")])
    with pytest.raises(ModelError, match="a vector of 5 numbers where this library's vectors"):
        store.add([_node("Five numbers.", [1.0, 0.0, 0.0, 0.0, 0.0], "doc-b")])
    assert store.count() == 1
    store.close()


def test_edge_store_persists_and_locks(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    first = EdgeVectorStore(path, dim=4)
    first.add([_node(t, v, ref) for t, v, ref, _ in NODES])
    with pytest.raises(StoreLockedError, match="open in another Folio"):
        EdgeVectorStore(path, dim=4)
    first.close()
    again = EdgeVectorStore(path, dim=4)
    assert again.count() == len(NODES)
    again.close()


def test_folio_on_a_qdrant_server_end_to_end(make_services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # qdrant-client's in-memory mode speaks the same client API as a real server.
    settings = Settings(store=StoreSettings(backend="qdrant", url=":memory:"))
    services = make_services(settings)
    assert isinstance(services.store, ServerVectorStore)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("Badge E7-31 opens the server room.")
    (folder / "b.md").write_text("The kitchen is on the second floor.")
    report = services.ingestor.ingest([folder])
    assert report.added == 2
    top = services.retriever.search("which badge opens the server room", k=1)[0]
    assert top.file_name == "a.md"
    (folder / "b.md").unlink()
    assert services.ingestor.sync().removed == 1
    assert_consistent(services)
