"""Hybrid search: the BM25 side finds exact rare keywords that dense embeddings blur."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

SUBJECTS = ["VPN client", "printer driver", "mail server", "backup agent", "sync service"]
CAUSES = ["an expired certificate", "a full disk", "a wrong password", "a blocked port"]
FIXES = ["renew the certificate", "free some disk space", "reset the password", "clear the cache"]
FILLER = [
    "Check the logs in the admin console before escalating.",
    "Most users never see this message.",
    "Write down the time when the problem started.",
    "If several people are affected, tell the service desk.",
    "The message may appear in a pop-up or in the status bar.",
    "Restarting the computer alone rarely helps.",
    "Keep the ticket number for later reference.",
    "Screenshots make diagnosis much faster.",
]


@pytest.fixture
def knowledge_base(services, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Twenty look-alike articles whose error codes differ only in digit order."""
    rng = random.Random(7)
    codes = sorted({"E" + "".join(p) for p in itertools.permutations("4471")})
    codes += ["E4470", "E4472", "E4481", "E4371", "E4571", "E4461", "E4473", "E4474"]
    folder = tmp_path / "kb"
    folder.mkdir()
    by_code = {}
    for i, code in enumerate(codes):
        subject = rng.choice(SUBJECTS)
        text = (
            f"# Troubleshooting the {subject}\n\n{' '.join(rng.sample(FILLER, 6))} "
            f"When the {subject} shows error {code}, the cause is {rng.choice(CAUSES)}. "
            f"To fix it, {rng.choice(FIXES)}. {' '.join(rng.sample(FILLER, 5))}\n"
        )
        path = folder / f"kb-{i:02d}.md"
        path.write_text(text, encoding="utf-8")
        by_code[code] = str(path)
    services.ingestor.ingest([folder])
    return by_code


def _paths(services, query: str, mode: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.path for c in services.retriever.search(query, k=5, mode=mode)]


def test_hybrid_finds_a_rare_code_dense_search_misses(services, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    question = "What does error E4471 mean?"
    expected = knowledge_base["E4471"]
    assert expected not in _paths(services, question, "dense")
    assert _paths(services, question, "keyword")[0] == expected
    assert expected in _paths(services, question, "hybrid")


@pytest.mark.parametrize("code", ["E1447", "E7144", "E4473"])
def test_hybrid_keeps_exact_codes_in_the_top_five(services, knowledge_base, code) -> None:  # type: ignore[no-untyped-def]
    assert knowledge_base[code] in _paths(services, f"What does error {code} mean?", "hybrid")


def test_dense_search_understands_paraphrase(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.md").write_text("Unused holiday can be moved to next year, at most 5 days.")
    (folder / "parking.md").write_text(
        "Staff parking is behind the building, gate code on request."
    )
    (folder / "lunch.md").write_text("The canteen serves lunch from noon until two o'clock.")
    services.ingestor.ingest([folder])
    top = services.retriever.search("How many vacation days carry over?", k=1, mode="dense")[0]
    assert top.file_name == "leave.md"
    assert top.page is None and top.text.startswith("Unused holiday")


def test_citations_carry_pdf_pages(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.corpus import write_pdf

    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(
        folder / "manual.pdf",
        ["Installation: plug in the device.", "Calibration: hold the red button for 8 seconds."],
    )
    services.ingestor.ingest([folder])
    top = services.retriever.search("how long to hold the button for calibration", k=1)[0]
    assert (top.file_name, top.page) == ("manual.pdf", 2)
    assert top.score > 0


def test_empty_library_and_blank_query(services) -> None:  # type: ignore[no-untyped-def]
    assert services.retriever.search("anything at all") == []
    assert services.retriever.search("   ") == []


def _library(services, folder: Path, files: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    services.ingestor.ingest([folder])
    return {name: str(folder / name) for name in files}


# In each tiny library a short file of near-miss codes looks more like the bare code to the
# embedder than the prose that holds the exact one.
TINY_LIBRARIES = {
    "KQ-5502": {
        "codes.txt": "Error codes: KQ-5501 KQ-5501.",
        "scanner.txt": "When the scanner stops halfway through a page and the status light "
        "blinks amber, the service log records KQ-5502; clean the glass and restart the scan.",
        "holidays.txt": "Holiday rules: staff get twenty-five days of annual leave a year.",
    },
    "DU-7001": {
        "codes.txt": "DU-7002 DU-7002",
        "router.txt": "After a power cut the router may come back with fault DU-7001 in its "
        "event list, which means the uplink cable is loose.",
        "kitchen.txt": "The kitchen is cleaned every Friday afternoon.",
    },
    "ZX-310": {
        "list.txt": "ZX-311, ZX-312, ZX-313.",
        "pump.txt": "The pump controller shows ZX-310 when the inlet pressure stays low for "
        "more than a minute; open the valve fully.",
        "notes.txt": "Meeting notes from the spring planning session.",
    },
}
TINY_EXPECTED = {"KQ-5502": "scanner.txt", "DU-7001": "router.txt", "ZX-310": "pump.txt"}


@pytest.mark.parametrize("code", sorted(TINY_LIBRARIES))
def test_hybrid_puts_the_exact_code_first_in_a_three_file_library(  # type: ignore[no-untyped-def]
    services, tmp_path: Path, code: str
) -> None:
    paths = _library(services, tmp_path / "lib", TINY_LIBRARIES[code])
    expected = paths[TINY_EXPECTED[code]]
    assert _paths(services, code, "keyword")[0] == expected
    assert _paths(services, code, "hybrid")[0] == expected
    assert _paths(services, f"What does {code} mean?", "hybrid")[0] == expected


def test_hybrid_puts_the_exact_code_first_among_hundreds_of_near_misses(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    rng = random.Random(11)
    files = {}
    for number in range(5500, 5800):
        subject = rng.choice(SUBJECTS)
        files[f"kq-{number}.md"] = (
            f"# {subject}\n\nWhen the {subject} reports KQ-{number}, the cause is "
            f"{rng.choice(CAUSES)}. To fix it, {rng.choice(FIXES)}. {rng.choice(FILLER)}"
        )
    paths = _library(services, tmp_path / "lib", files)
    assert services.store.count() == 300
    for number in (5502, 5601, 5799):
        expected = paths[f"kq-{number}.md"]
        assert _paths(services, f"KQ-{number}", "hybrid")[0] == expected
        assert _paths(services, f"What does KQ-{number} mean?", "hybrid")[0] == expected


# Staff handbooks in Chinese, Japanese and Korean, and an English file, in one library. The
# keyword branch must find a word written without spaces around it, in any of the scripts.
CJK_LIBRARY = {
    "病假.txt": "病假工资按照本人基本工资的百分之八十计算，需提供医院证明。",
    "考勤.txt": "考勤制度：每月迟到三次以上扣除全勤奖，旷工一天扣三天工资。",
    "会議.txt": "東京本社の定例会議は毎週月曜日の午後三時から始まります。",
    "休暇.txt": "有給休暇は入社半年後に十日付与されます。",
    "급여.txt": "병가 급여는 기본급의 80%로 지급되며 진단서가 필요합니다.",
    "leave.txt": "Annual leave: staff get twenty-five days a year; KQ-5502 is the form code.",
}
CJK_QUERIES = {
    "病假工资": "病假.txt",
    "迟到": "考勤.txt",
    "旷工": "考勤.txt",
    "会議": "会議.txt",
    "有給休暇": "休暇.txt",
    "급여": "급여.txt",
    "진단서": "급여.txt",
}


def test_keyword_search_finds_chinese_japanese_and_korean_words(  # type: ignore[no-untyped-def]
    services, tmp_path: Path
) -> None:
    paths = _library(services, tmp_path / "lib", CJK_LIBRARY)
    for query, name in CJK_QUERIES.items():
        assert _paths(services, query, "keyword")[0] == paths[name], query
        assert _paths(services, query, "hybrid")[0] == paths[name], query
    # A word that none of the files holds finds nothing by keyword.
    assert _paths(services, "年终奖", "keyword") == []
    # Text in other scripts is tokenized as before: codes and English words still match.
    assert _paths(services, "KQ-5502", "keyword")[0] == paths["leave.txt"]


def test_cjk_runs_become_overlapping_bigrams_and_other_text_is_unchanged() -> None:
    from desktop.core.store.keywords import cjk_bigrams

    assert cjk_bigrams("迟到三次").split() == ["迟到", "到三", "三次"]
    assert cjk_bigrams("考勤：迟到").split() == ["考勤", "：", "迟到"]
    assert cjk_bigrams("급여는 기본급").split() == ["급여", "여는", "기본", "본급"]
    assert cjk_bigrams("会").split() == ["会"]
    assert cjk_bigrams("KQ-5502 valve, café") == "KQ-5502 valve, café"
