"""Jupyter notebooks."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document


class NotebookReader(BaseReader):
    """Jupyter notebooks as a script, via nbconvert.

    LlamaIndex's ``IPYNBReader`` splits the export on ``In[n]:`` markers and drops
    everything before the first one, so a notebook that was never run comes back empty.
    """

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document: the notebook's cells as text, run or not."""
        # Imported on first use: it loads nbconvert, which takes a while.
        import nbconvert

        script, _ = nbconvert.exporters.ScriptExporter().from_filename(str(file))
        return [Document(text=script, metadata=extra_info or {})]
