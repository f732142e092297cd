"""Folio's core: library, ingestion, store, retrieval, chat and models. Never imports Qt."""
