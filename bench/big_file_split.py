"""Splitting one large text file into chunks: LlamaIndex's default sentence tokenizer
against Folio's block-at-a-time Punkt, side by side.

For each size (MB of English prose in ordinary paragraphs, two line breaks apart, made of
the installed packages' descriptions), the same ``SentenceSplitter`` Folio builds (the
embedded model's WordPiece counts, the default chunk size and overlap) splits the text
twice in one process, once with each sentence tokenizer, alternating which goes first.
Reported: seconds, chunks, whether it failed (nltk's 5 s regular-expression limit), and
how many chunks differ between the two where both finished. Embedding is not timed: it is
the same for both and bench/ingest_throughput.py measures it.

    .venv/bin/python bench/big_file_split.py [--json] [--sizes 1,3,30]
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from ingest_throughput import prose_paragraphs


def prose(megabytes: float, seed: int = 1) -> str:
    """About ``megabytes`` million characters of paragraphs, two line breaks apart."""
    paragraphs = prose_paragraphs()
    rnd = random.Random(seed)
    chosen: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        chosen.append(rnd.choice(paragraphs))
        size += len(chosen[-1]) + 2
    return "\n\n".join(chosen)


def split(text: str, bounded: bool, tokens: Any) -> dict[str, Any]:
    """Seconds and chunks of one split of ``text``; ``failed`` names the error, if any."""
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    from desktop.core.library.sentences import split_sentences_bounded
    from desktop.core.settings import Settings

    settings = Settings()
    splitter = SentenceSplitter(
        chunk_size=min(settings.chunk_size, tokens.limit),
        chunk_overlap=settings.chunk_overlap,
        tokenizer=tokens.tokenize,
        chunking_tokenizer_fn=split_sentences_bounded if bounded else None,
    )
    started = time.perf_counter()
    try:
        nodes = splitter.get_nodes_from_documents([Document(text=text)])
    except Exception as exc:  # nltk's TimeoutError: what the measurement is about
        return {"seconds": time.perf_counter() - started, "failed": type(exc).__name__}
    return {
        "seconds": time.perf_counter() - started,
        "chunks": len(nodes),
        "texts": [n.get_content() for n in nodes],
    }


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--sizes", default="1,3,30", help="MB of text, comma-separated")
    args = parser.parse_args()

    from desktop.core.models.embeddings import chunk_tokens
    from desktop.services import Services

    with tempfile.TemporaryDirectory() as home:
        services = Services(Path(home))
        tokens = chunk_tokens(services.embed_model)
        for bounded in (False, True):  # Punkt's model and the tokenizer loaded, untimed
            split(prose(0.2, seed=0), bounded, tokens)
        rows = []
        for turn, size in enumerate(float(s) for s in args.sizes.split(",")):
            text = prose(size)
            order = [False, True] if turn % 2 == 0 else [True, False]
            runs = {bounded: split(text, bounded, tokens) for bounded in order}
            row: dict[str, Any] = {"megabytes": size, "characters": len(text)}
            for bounded, run in runs.items():
                name = "folio" if bounded else "llamaindex_default"
                row[name] = {k: v for k, v in run.items() if k != "texts"}
            default, folio = runs[False], runs[True]
            if "texts" in default and "texts" in folio:
                row["chunks_differing"] = len(set(default["texts"]) ^ set(folio["texts"]))
            rows.append(row)
        services.close()
    benchlib.emit({"sizes": rows}, args.json, print_human)


def print_human(result: dict[str, Any]) -> None:
    print(f"{'MB':>5} {'default s':>10} {'chunks':>7} {'Folio s':>8} {'chunks':>7}  differ")
    for row in result["sizes"]:
        cells = []
        for name in ("llamaindex_default", "folio"):
            run = row[name]
            cells.append(f"{run['seconds']:>10.1f} {run.get('chunks', run.get('failed')):>7}")
        print(f"{row['megabytes']:>5g} {' '.join(cells)}  {row.get('chunks_differing', '-')}")


if __name__ == "__main__":
    main()
