"""Time estimates shared by every long task (ingest, re-embedding, evaluation builds and runs)."""

from __future__ import annotations

from desktop.core.tasks import duration_phrase, eta_phrase, eta_seconds


def test_eta_is_the_pace_of_this_run_times_what_is_left() -> None:
    # 3 items in 12 s here (whatever an earlier run did) with 5 to go: 4 s each, 20 s.
    assert eta_seconds(12.0, 3, 5) == 20.0
    assert eta_seconds(12.0, 3, 0) == 0.0
    assert eta_seconds(12.0, 3, -1) == 0.0  # more done than planned: nothing left, not negative


def test_no_eta_before_anything_is_done() -> None:
    assert eta_seconds(30.0, 0, 10) is None
    assert eta_phrase(None) == ""


def test_durations_are_worded_alike_everywhere() -> None:
    assert eta_phrase(40) == ", about 40 s left"
    assert duration_phrase(180) == "3 min"
    assert duration_phrase(7500) == "2 h 5 min"
    assert duration_phrase(7200) == "2 h"
