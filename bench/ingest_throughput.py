"""Ingestion throughput: Folio's pipeline against the bare embedder, side by side.

Measures, in one run on a generated corpus (~40 markdown/txt/HTML files of English prose,
a few hundred chunks):

- pipeline: ``services.ingestor.ingest([corpus])`` into a fresh data folder (reading,
  splitting, embedding, storing, bookkeeping), in chunks/s;
- raw: ``services.embed_model.get_text_embedding_batch(texts)`` on exactly the chunk texts
  Folio stored, with the same embedder object (same batch size), in chunks/s;
- overhead = (t_pipeline - t_raw) / t_raw. Target: under 15%.

Pipeline and raw runs alternate (P R P R ...) and medians are reported, so background load
hits both alike. Peak memory is the RSS high-water mark of a separate ``folio-cli ingest``
subprocess (RUSAGE_CHILDREN), plus this process's own.

The corpus generator here is shared by the other benchmarks.

    .venv/bin/python bench/ingest_throughput.py [--json] [--rounds 3] [--files 40]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

OVERHEAD_TARGET = 0.15
REPO = Path(__file__).resolve().parents[1]
FOLIO_CLI = Path(sys.executable).with_name("folio-cli")

_SKIP_PREFIXES = ("```", ">>>", "$", "|", "<", "[", "!", "#", "*", "-", "..", ":", "+", "=")
_FALLBACK_TEXT = (
    "the report describes how teams plan budgets review contracts and share results with "
    "customers each quarter while the office keeps records of travel leave and training so "
    "that new staff can find policies quickly and managers can approve requests on time"
)


# -- corpus ---------------------------------------------------------------------------------


def prose_paragraphs() -> list[str]:
    """Paragraphs of real English prose: the long descriptions of the installed packages."""
    site = Path(sysconfig.get_paths()["purelib"])
    paragraphs: list[str] = []
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        text = meta.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        for block in re.split(r"\n\s*\n", body):
            lines = block.strip().splitlines()
            if not lines or lines[0].lstrip().startswith(_SKIP_PREFIXES):
                continue
            if any(line.startswith(("    ", "\t")) for line in lines):
                continue
            para = " ".join(line.strip() for line in lines)
            para = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", para)
            para = re.sub(r"`+|\*\*|__", "", para)
            if not 160 <= len(para) <= 1500 or ". " not in para:
                continue
            if sum(c.isalpha() or c in " ,.'" for c in para) / len(para) < 0.9:
                continue
            paragraphs.append(para)
    if len(paragraphs) < 50:  # a stripped environment: fall back to generated sentences
        rng = random.Random(0)
        words = re.findall(r"\w+", _FALLBACK_TEXT)
        paragraphs = [
            " ".join(
                " ".join(rng.choice(words) for _ in range(rng.randint(8, 18))).capitalize() + "."
                for _ in range(rng.randint(3, 7))
            )
            for _ in range(400)
        ]
    return paragraphs


def prose_sentences(paragraphs: list[str]) -> list[str]:
    """The sentences of ``paragraphs`` that read as sentences."""
    sentences = []
    for para in paragraphs:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para):
            if 40 <= len(sentence) <= 300 and sentence[-1] in ".!?":
                sentences.append(sentence)
    return sentences


def _title(rng: random.Random, sentences: list[str]) -> str:
    words = [w.strip(",.;:()'\"") for w in rng.choice(sentences).split()]
    words = [w for w in words if w.isalpha()]
    return " ".join(words[:5]).title() or "Notes"


def make_corpus(folder: Path, files: int = 40, paragraphs_per_file: int = 12, seed: int = 7) -> int:
    """Write ``files`` documents (markdown, text, HTML in turn); returns their total bytes."""
    rng = random.Random(seed)
    paragraphs = prose_paragraphs()
    sentences = prose_sentences(paragraphs)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for index in range(files):
        title = _title(rng, sentences)
        body = [
            rng.choice(paragraphs)
            for _ in range(rng.randint(paragraphs_per_file - 3, paragraphs_per_file + 3))
        ]
        sub = folder / f"section-{index % 5}"
        sub.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "doc"
        kind = index % 3
        if kind == 0:
            parts = [f"# {title}", ""]
            for number, para in enumerate(body):
                if number and number % 3 == 0:
                    parts += [f"## {_title(rng, sentences)}", ""]
                parts += [para, ""]
                if number % 4 == 1:
                    parts += [f"- {s}" for s in rng.sample(sentences, 3)] + [""]
            text, path = "\n".join(parts), sub / f"{index:03d}-{slug}.md"
        elif kind == 1:
            text = f"{title}\n{'=' * len(title)}\n\n" + "\n\n".join(body) + "\n"
            path = sub / f"{index:03d}-{slug}.txt"
        else:
            paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
            text = (
                f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title></head>\n"
                f"<body>\n<h1>{html.escape(title)}</h1>\n{paras}\n</body></html>\n"
            )
            path = sub / f"{index:03d}-{slug}.html"
        path.write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


# -- measurement ----------------------------------------------------------------------------


def maxrss_mb(who: int) -> float:
    """RSS high-water mark in MB (Linux reports KiB, macOS bytes)."""
    value = resource.getrusage(who).ru_maxrss
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def warm_up(embed_model: Any) -> None:
    """Load the ONNX session and run it once, so neither side pays for it."""
    embed_model.get_text_embedding_batch(["warm up the embedding model"] * 8)


def pipeline_round(corpus: Path, scratch: Path) -> dict[str, Any]:
    """One fresh-library ingest, then the raw embedder on the same chunk texts."""
    from desktop.app import Services
    from desktop.core.paths import data_home

    home = data_home(scratch)
    services = Services(home)
    try:
        started = time.perf_counter()
        ingestor = services.ingestor  # opens the store, loads the embedder
        setup = time.perf_counter() - started
        warm_up(services.embed_model)
        started = time.perf_counter()
        report = ingestor.ingest([corpus])
        t_pipeline = time.perf_counter() - started
        texts = [node.get_content() for node in services.store.get_nodes()]
        started = time.perf_counter()
        vectors = services.embed_model.get_text_embedding_batch(texts)
        t_raw = time.perf_counter() - started
        assert len(vectors) == len(texts)
        return {
            "setup_s": setup,
            "pipeline_s": t_pipeline,
            "raw_s": t_raw,
            "chunks": len(texts),
            "chunk_chars": sum(len(t) for t in texts),
            "report": report.to_json(),
        }
    finally:
        services.close()


def cli_ingest(corpus: Path, scratch: Path) -> dict[str, Any]:
    """``folio-cli ingest`` in a subprocess: wall time and its peak RSS."""
    started = time.perf_counter()
    proc = subprocess.run(
        [str(FOLIO_CLI), "--home", str(scratch), "ingest", str(corpus), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "maxrss_mb": maxrss_mb(resource.RUSAGE_CHILDREN),
        "report": json.loads(proc.stdout),
    }


def run(rounds: int = 3, files: int = 40) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="folio-bench-ingest-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus_bytes = make_corpus(corpus, files=files)
        results = []
        for number in range(rounds):
            results.append(pipeline_round(corpus, root / f"home-{number}"))
            shutil.rmtree(root / f"home-{number}", ignore_errors=True)
        cli = cli_ingest(corpus, root / "home-cli")
    chunks = results[0]["chunks"]
    t_pipeline = statistics.median(r["pipeline_s"] for r in results)
    t_raw = statistics.median(r["raw_s"] for r in results)
    overhead = (t_pipeline - t_raw) / t_raw
    return {
        "benchmark": "ingest_throughput",
        "files": files,
        "corpus_bytes": corpus_bytes,
        "chunks": chunks,
        "rounds": rounds,
        "pipeline_s": [round(r["pipeline_s"], 3) for r in results],
        "raw_s": [round(r["raw_s"], 3) for r in results],
        "pipeline_chunks_per_s": round(chunks / t_pipeline, 2),
        "raw_chunks_per_s": round(chunks / t_raw, 2),
        "overhead": round(overhead, 4),
        "overhead_target": OVERHEAD_TARGET,
        "overhead_met": overhead < OVERHEAD_TARGET,
        "setup_s": round(statistics.median(r["setup_s"] for r in results), 3),
        "cli_wall_s": round(cli["wall_s"], 3),
        "cli_peak_rss_mb": round(cli["maxrss_mb"], 1),
        "self_peak_rss_mb": round(maxrss_mb(resource.RUSAGE_SELF), 1),
        "report": results[0]["report"],
    }


def print_human(r: dict[str, Any]) -> None:
    verdict = "met" if r["overhead_met"] else "NOT met"
    print(
        f"Ingest throughput: {r['files']} files, {r['corpus_bytes'] / 1024:.0f} KiB, "
        f"{r['chunks']} chunks, {r['rounds']} alternating rounds (medians)"
    )
    print(f"  pipeline  {r['pipeline_chunks_per_s']:7.2f} chunks/s   runs {r['pipeline_s']} s")
    print(f"  raw embed {r['raw_chunks_per_s']:7.2f} chunks/s   runs {r['raw_s']} s")
    print(f"  overhead  {r['overhead'] * 100:6.1f} %  (target < {OVERHEAD_TARGET:.0%}: {verdict})")
    print(f"  open store + load embedder: {r['setup_s']} s (not counted)")
    print(
        f"  folio-cli ingest subprocess: {r['cli_wall_s']} s wall, "
        f"peak RSS {r['cli_peak_rss_mb']} MB; this process peak RSS {r['self_peak_rss_mb']} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    result = run(args.rounds, args.files)
    if args.json:
        print(json.dumps(result))
    else:
        print_human(result)


if __name__ == "__main__":
    main()
