"""Reference cycles are collected on the UI thread, never in background work."""

from __future__ import annotations

import gc
import threading

import pytest

from desktop.ui.collector import UiThreadCollector
from desktop.ui.qt import QObject


class _Cycle:
    """A cycle holding a Qt object, as a closed window or a finished job can be."""

    def __init__(self, collected_on: list[str]) -> None:
        self.qt = QObject()
        self.me = self
        self._collected_on = collected_on

    def __del__(self) -> None:
        self._collected_on.append(threading.current_thread().name)


def _allocate_containers_in_a_worker() -> list[list[int]]:
    """Allocate well past the youngest generation's threshold in a thread, as an ingest does.

    The containers are returned, so the count of allocations stays past the threshold.
    """
    kept: list[list[int]] = []

    def work() -> None:
        kept.extend([] for _ in range(50_000))

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    return kept


@pytest.fixture
def collector(ui_thread_collector: UiThreadCollector) -> UiThreadCollector:
    """The collector every window test runs under (tests/ui/conftest.py)."""
    return ui_thread_collector


def test_automatic_collection_in_a_worker_would_collect_the_cycle(collector) -> None:  # type: ignore[no-untyped-def]
    # Why the collector exists: left to Python, the worker collects the Qt object.
    collector.uninstall()
    assert gc.isenabled()
    collected_on: list[str] = []
    _Cycle(collected_on)
    _allocate_containers_in_a_worker()
    assert collected_on == ["worker"]


def test_the_collector_collects_only_on_the_ui_thread(qtbot, collector) -> None:  # type: ignore[no-untyped-def]
    assert not gc.isenabled()
    collected_on: list[str] = []
    _Cycle(collected_on)
    allocated = _allocate_containers_in_a_worker()
    assert gc.get_count()[0] > collector.thresholds[0]
    assert collected_on == []  # the worker allocated past every threshold and collected nothing
    qtbot.waitUntil(lambda: collected_on != [], timeout=5_000)
    assert collected_on == [threading.main_thread().name]
    del allocated


def test_nothing_is_collected_before_its_threshold(qtbot, collector) -> None:  # type: ignore[no-untyped-def]
    gc.collect()
    collected_on: list[str] = []
    _Cycle(collected_on)
    assert gc.get_count()[0] <= collector.thresholds[0]
    assert collector.collect_due() == 0
    assert collected_on == []


def test_uninstall_collects_what_is_left_and_restores_automatic_collection(collector) -> None:  # type: ignore[no-untyped-def]
    collected_on: list[str] = []
    _Cycle(collected_on)
    collector.uninstall()
    assert collected_on == [threading.main_thread().name]
    assert gc.isenabled()
