"""Plain text and source code, decoded by Folio (strictly) so bad bytes are reported."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from desktop.core.library.readers.encoding import decode_text

# Plain text and source code, read whole.
TEXT_TYPES = frozenset(
    [
        ".txt",
        ".text",
        ".md",
        ".markdown",
        ".rst",
        ".adoc",
        ".org",
        ".tex",
        ".log",
        ".json",
        ".jsonl",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".xml",
        ".py",
        ".pyi",
        ".js",
        ".jsx",
        ".ts",
        ".tsx",
        ".java",
        ".kt",
        ".kts",
        ".scala",
        ".go",
        ".rs",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cxx",
        ".cs",
        ".swift",
        ".m",
        ".mm",
        ".rb",
        ".php",
        ".pl",
        ".pm",
        ".lua",
        ".r",
        ".jl",
        ".sh",
        ".bash",
        ".zsh",
        ".fish",
        ".ps1",
        ".bat",
        ".sql",
        ".css",
        ".scss",
        ".less",
        ".vue",
        ".svelte",
        ".dart",
        ".ex",
        ".exs",
        ".erl",
        ".hs",
        ".ml",
        ".clj",
        ".groovy",
        ".gradle",
        ".cmake",
        ".mk",
        ".dockerfile",
        ".proto",
        ".graphql",
        ".tf",
        ".nix",
    ]
)
TEXT_NAMES = frozenset({"makefile", "dockerfile", "readme", "license", "changelog"})


class TextReader(BaseReader):
    """The whole file as one document."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        """One document: the decoded text; Unreadable for binary data or an unknown encoding."""
        return [Document(text=decode_text(file, file.read_bytes()))]
