"""Ingestion throughput: Folio's pipeline against the bare embedder, side by side.

Measures, in one run on a generated corpus (~40 markdown/txt/HTML files of English prose,
a few hundred chunks):

- pipeline: ``services.ingestor.ingest([corpus])`` into a fresh data folder (reading,
  splitting, embedding, storing, bookkeeping), in chunks/s;
- raw: ``embed_model.get_text_embedding_batch(texts)`` on exactly the texts Folio embedded
  for the chunks it stored (``get_content(MetadataMode.EMBED)``: the chunk text plus a
  title the document gives itself), with the same embedder object (same batch size);
- overhead = (t_pipeline - t_raw) / t_raw. Target: under 15%.

One embedder, loaded and warmed up first, serves every run. After a warm-up ingest, pipeline
and raw runs alternate (P R, R P, P R, ...) and medians are reported, so background load hits
both alike; the overhead is also given per round and on process CPU time. Peak memory is
the RSS high-water mark of a separate ``folio-cli ingest`` process (RUSAGE_CHILDREN).

The corpus generator here is shared by the other benchmarks.

    .venv/bin/python bench/ingest_throughput.py [--json] [--rounds 5] [--files 40]
"""

from __future__ import annotations

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

import benchlib

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

# Run a command and print its peak RSS (KiB on Linux). Through this small middleman because a
# child's ru_maxrss starts from its parent's at fork: measured from a large process, it would
# report the parent's high-water mark.
_PEAK_RSS = (
    "import resource, subprocess, sys;"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
    "sys.stderr.write(p.stderr); print(p.stdout.strip());"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)"
)


def maxrss_mb(kib_or_bytes: int) -> float:
    """An ru_maxrss value in MB (Linux reports KiB, macOS bytes)."""
    return kib_or_bytes / (1024 * 1024) if sys.platform == "darwin" else kib_or_bytes / 1024


def embedded_texts(nodes: list[Any]) -> list[str]:
    """What the embedder was given for each stored chunk (text plus any embedded metadata)."""
    from llama_index.core.schema import MetadataMode

    return [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]


class Clock:
    """Wall and process CPU time of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def ingest_once(corpus: Path, home: Path, embed_model: Any) -> tuple[Clock, list[str], Any]:
    """A fresh-library ingest with the shared embedder; its clock, chunk texts and report."""
    from desktop.core.paths import data_home
    from desktop.services import Services

    services = Services(data_home(home), embed_model=embed_model)
    try:
        ingestor = services.ingestor  # opens the store and library: not timed
        with Clock() as clock:
            report = ingestor.ingest([corpus])
        texts = embedded_texts(services.store.get_nodes())
    finally:
        services.close()
    shutil.rmtree(home, ignore_errors=True)
    return clock, texts, report


def raw_once(embed_model: Any, texts: list[str]) -> Clock:
    with Clock() as clock:
        vectors = embed_model.get_text_embedding_batch(texts)
    assert len(vectors) == len(texts)
    return clock


def cli_ingest(corpus: Path, home: Path) -> dict[str, Any]:
    """``folio-cli ingest`` in a fresh process: wall time (with start-up) and peak RSS."""
    command = [str(FOLIO_CLI), "--home", str(home), "ingest", str(corpus), "--json"]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *command], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    *out, rss = proc.stdout.strip().splitlines()
    return {"wall_s": wall, "maxrss_mb": maxrss_mb(int(rss)), "report": json.loads(out[-1])}


def run(rounds: int = 5, files: int = 40) -> dict[str, Any]:
    from desktop.core.paths import data_home
    from desktop.services import Services

    with tempfile.TemporaryDirectory(prefix="folio-bench-ingest-") as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus_bytes = make_corpus(corpus, files=files)
        cli = cli_ingest(corpus, root / "home-cli")
        # One embedder for every run, loaded and warmed up before any timing.
        loader = Services(data_home(root / "loader"))
        started = time.perf_counter()
        embed_model = loader.embed_model
        embed_model.get_text_embedding_batch(["warm up the embedding model"] * 8)
        load_s = time.perf_counter() - started
        _, texts, report = ingest_once(corpus, root / "home-warm", embed_model)  # warm-up
        pipeline: list[Clock] = []
        raw: list[Clock] = []
        for number in range(rounds):  # P R, R P, P R, ...: drift hits both sides alike
            home = root / f"home-{number}"
            if number % 2:
                raw.append(raw_once(embed_model, texts))
            clock, stored, report = ingest_once(corpus, home, embed_model)
            pipeline.append(clock)
            if stored != texts:
                raise RuntimeError("the same corpus produced different chunks between runs")
            if not number % 2:
                raw.append(raw_once(embed_model, texts))
        loader.close()
    chunks = len(texts)
    t_pipeline = statistics.median(c.wall for c in pipeline)
    t_raw = statistics.median(c.wall for c in raw)
    overhead = (t_pipeline - t_raw) / t_raw
    pair_overheads = [(p.wall - r.wall) / r.wall for p, r in zip(pipeline, raw, strict=True)]
    cpu_overhead = (
        statistics.median(c.cpu for c in pipeline) - statistics.median(c.cpu for c in raw)
    ) / statistics.median(c.cpu for c in raw)
    return {
        "benchmark": "ingest_throughput",
        "files": files,
        "corpus_bytes": corpus_bytes,
        "chunks": chunks,
        "chunk_chars_mean": round(sum(map(len, texts)) / chunks),
        "rounds": rounds,
        "pipeline_s": [round(c.wall, 3) for c in pipeline],
        "raw_s": [round(c.wall, 3) for c in raw],
        "pipeline_chunks_per_s": round(chunks / t_pipeline, 2),
        "raw_chunks_per_s": round(chunks / t_raw, 2),
        "overhead": round(overhead, 4),
        "overhead_per_pair": [round(o, 4) for o in pair_overheads],
        "overhead_cpu": round(cpu_overhead, 4),
        "overhead_target": OVERHEAD_TARGET,
        "overhead_met": overhead < OVERHEAD_TARGET,
        "embedder_load_s": round(load_s, 3),
        "cli_wall_s": round(cli["wall_s"], 3),
        "cli_peak_rss_mb": round(cli["maxrss_mb"], 1),
        "self_peak_rss_mb": round(maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1),
        "report": report.to_json(),
    }


def print_human(r: dict[str, Any]) -> None:
    verdict = "met" if r["overhead_met"] else "NOT met"
    print(
        f"Ingest throughput: {r['files']} files, {r['corpus_bytes'] / 1024:.0f} KiB, "
        f"{r['chunks']} chunks of ~{r['chunk_chars_mean']} chars, "
        f"{r['rounds']} alternating rounds (medians)"
    )
    print(f"  pipeline  {r['pipeline_chunks_per_s']:7.2f} chunks/s   runs {r['pipeline_s']} s")
    print(f"  raw embed {r['raw_chunks_per_s']:7.2f} chunks/s   runs {r['raw_s']} s")
    pairs = ", ".join(f"{o:.1%}" for o in r["overhead_per_pair"])
    print(f"  overhead  {r['overhead']:7.1%}  (target < {OVERHEAD_TARGET:.0%}: {verdict})")
    print(f"            per round {pairs}; on CPU time {r['overhead_cpu']:.1%}")
    print(
        f"  folio-cli ingest (fresh process, model load included): {r['cli_wall_s']} s, "
        f"peak RSS {r['cli_peak_rss_mb']} MB; this process peak RSS {r['self_peak_rss_mb']} MB"
    )


def main() -> None:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    result = run(args.rounds, args.files)
    benchlib.emit(result, args.json, print_human)


if __name__ == "__main__":
    main()
