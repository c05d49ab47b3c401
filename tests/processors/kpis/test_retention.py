"""The rollup's windows table keeps ``windows_kept_days`` of event time: GET /kpis answers that far back, older
windows stay on kpi.aggregates.v1 for ``omnibus report kpis``; a stale partial never re-creates a pruned window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from processors.kpis.cli import report_rows
from processors.kpis.config import KpisSettings
from processors.kpis.ledger import KpiLedger
from processors.kpis.metrics import PRUNED
from processors.kpis.retention import WindowsKept
from processors.kpis.rollup import Rollup
from processors.kpis.web import select
from processors.kpis.windows import DAY_US, HOUR_US, Granularity, WindowKey, to_micros
from tests.processors.kpis.factories import T0, interaction

KEPT = KpisSettings().windows_kept_us
START = to_micros(T0) - to_micros(T0) % DAY_US


def key(day: int, hour: int = 9) -> str:
    return WindowKey(Granularity.HOUR, START + day * DAY_US + hour * HOUR_US, "CALL_CENTER", "paris").text()


def partial(day: int, seq: int, contacts: int = 1) -> dict:
    """Partition 0's counts, sent when stage one's clock had closed the hours through ``day`` 10:00."""
    return {"p": 0, "seq": seq, "counts": {"contacts": contacts}, "through": START + day * DAY_US + 10 * HOUR_US}


class Stage2:
    """The rollup agent's loop without faust: the retention check, then receive / publish / save."""

    def __init__(self, store: dict | None = None) -> None:
        self.rollup = Rollup(store if store is not None else {}, "omnibus-kpis", lambda: datetime.now(UTC))
        self.kept = WindowsKept(KEPT)
        self.published: list = []

    def feed(self, window_key: str, part: dict) -> None:
        if self.kept.expired(self.rollup.store, window_key, part, 0, lambda k: True):
            return
        rolled = self.rollup.receive(window_key, part)
        if rolled is not None:
            if rolled.aggregate is not None:
                self.published.append(SimpleNamespace(key=window_key.encode(), event=rolled.aggregate))
            self.rollup.save(window_key, rolled)


def feed_days(stage: Stage2, days: int) -> None:
    for day in range(days):
        stage.feed(key(day), partial(day, day + 1))


def test_windows_older_than_the_retention_leave_the_table() -> None:
    stage = Stage2()
    expired = PRUNED.labels(table="windows", reason="expired")._value.get()
    feed_days(stage, 60)
    kept_days = KEPT // DAY_US
    assert len(stage.rollup.store) == kept_days + 1  # the days since the cutoff, today's included
    assert min(WindowKey.parse(k).start_us for k in stage.rollup.store) == START + (59 - kept_days) * DAY_US + 9 * HOUR_US
    assert PRUNED.labels(table="windows", reason="expired")._value.get() == expired + 60 - (kept_days + 1)


def test_the_query_api_answers_kept_windows_and_the_report_still_has_the_pruned_ones() -> None:
    stage = Stage2()
    feed_days(stage, 60)
    day_zero = {"start": T0.replace(hour=0), "end": T0.replace(hour=0) + timedelta(days=1)}
    assert select(stage.rollup.current(), **day_zero) == []  # pruned: GET /kpis no longer answers for it
    last = {"start": T0.replace(hour=0) + timedelta(days=59), "end": T0.replace(hour=0) + timedelta(days=60)}
    assert [a["counts"]["contacts"] for a in select(stage.rollup.current(), **last)] == [1]
    reported = report_rows(stage.published, day_zero["start"], day_zero["end"], "HOUR")  # kpi.aggregates.v1
    assert [(r["window_start"], r["contacts"]) for r in reported] == [(T0, 1)]


def test_a_stale_partial_for_a_pruned_window_recreates_nothing() -> None:
    stage = Stage2()
    feed_days(stage, 60)
    published = len(stage.published)
    late = PRUNED.labels(table="windows", reason="late")._value.get()
    stage.feed(key(0), {"p": 1, "seq": 1, "counts": {"contacts": 5}})  # another partition's partial, replayed
    assert key(0) not in stage.rollup.store and len(stage.published) == published
    assert PRUNED.labels(table="windows", reason="late")._value.get() == late + 1


def test_a_restart_or_a_replay_gives_the_same_table() -> None:
    once = Stage2()
    feed_days(once, 60)
    store: dict = {}
    restarted = Stage2(store)
    for day in range(60):
        if day in (20, 45):  # a restart: the clock starts again from the next partial
            restarted = Stage2(store)
        restarted.feed(key(day), partial(day, day + 1))
    assert store == once.rollup.store


def test_the_wall_clock_never_prunes_and_partials_without_a_clock_keep_everything() -> None:
    stage = Stage2()
    for day in range(60):
        stage.feed(key(day), {"p": 0, "seq": day + 1, "counts": {"contacts": 1}})  # an older stage one: no through
    assert len(stage.rollup.store) == 60


def test_stage_one_partials_carry_its_closed_through_clock() -> None:
    ledger = KpiLedger(KpisSettings(), {})
    ledger.commit(ledger.tick(0, to_micros(T0)))
    change = ledger.apply(interaction(T0 + timedelta(minutes=5)), "contacts", 0)
    assert {p["through"] for _, p in change.partials()} == {to_micros(T0)}


def test_the_retention_must_outlast_a_replay_of_the_partials() -> None:
    with pytest.raises(ValidationError, match="windows_kept_days"):
        KpisSettings(windows_kept_days=10)
