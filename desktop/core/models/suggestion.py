"""Which catalog model to suggest in place of the embedded one, for this computer's memory."""

from __future__ import annotations

from collections.abc import Collection

import psutil

from desktop.core.models.downloads import CATALOG, CatalogEntry

# The share of the computer's memory a local model may take while it answers; the rest stays
# for the system, Folio's embedder and store, and the person's other programs. From the
# catalog's own guidance: llama3.2-3b takes 3.5 GB and "wants 8 GB of RAM in the machine",
# 3.5 / 8 = 0.44; so an 8 GB computer gets llama3.2-3b and not phi3.5-mini (4 GB).
MEMORY_SHARE = 0.45
GB = 1e9  # the catalog's sizes are decimal gigabytes, as downloads.py prints them


def total_memory() -> int:
    """Bytes of memory in this computer (psutil's ``virtual_memory().total``)."""
    return int(psutil.virtual_memory().total)


def suggested_download(
    memory: int,
    downloaded: Collection[str] = (),
    catalog: Collection[CatalogEntry] = CATALOG,
) -> CatalogEntry | None:
    """The catalog model to suggest on a computer with ``memory`` bytes, or None.

    The rule: of the models whose ``ram_gb`` (what running them with a 4k context takes) is
    at most ``MEMORY_SHARE`` of the memory, the one that takes most, then the larger
    download: in the catalog's descriptions the bigger models answer better from long
    documents ("Solid answers from long documents", "Strongest reasoning here"), at the
    cost of speed. None when no model fits, and None when that model is among
    ``downloaded`` (catalog names, as ``Settings.local_models`` holds them): the person has
    it already, and a smaller one would be a worse suggestion.
    """
    budget = memory / GB * MEMORY_SHARE
    fitting = [entry for entry in catalog if entry.ram_gb <= budget]
    if not fitting:
        return None
    best = max(fitting, key=lambda entry: (entry.ram_gb, entry.size_gb))
    return None if best.name in downloaded else best
