"""tester32 F2: a subscriber the next full snapshot no longer lists gives up the number, to the next subscriber.

Night 1's master lists Jorge with M1; night 2's full snapshot no longer lists him (ported out): the import closes his
account (``adapters.legacy.snapshot.GoneClosures``: an undated ``AccountClosed``, a revision of his line); night 3
lists Elena, the operator's next subscriber of the recycled M1; then a call from M1. Identity reads the closure as any
closure (``graph/recycle.py``): M1 is Elena's and so is the call. Without the closure (what the import published before:
nothing) the earliest line keeps M1 and the call pops Jorge (``test_a_line_unchanged_keeps_the_number_with_the_
earliest_line``); checked here in every arrival order.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from adapters.legacy.mapper import LegacyContext
from adapters.legacy.revisions import Revision
from adapters.legacy.snapshot import GoneClosures, GoneLine
from tests.processors.identity.graph.test_master_line_recycle import (
    BUSINESS,
    CALL_AT,
    NIGHTS,
    OBSERVED,
    PEOPLE,
    Export,
    Items,
    call,
    holder,
    on,
    owner,
)
from tests.processors.identity.graph.test_number_recycling import run

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it


class _Revisions:
    """The revision store's one read ``GoneClosures`` makes: the export's latest revision of each key."""

    def __init__(self, revisions: dict[str, Revision]) -> None:
        self._revisions = revisions

    def latest(self, key: str) -> Revision | None:
        return self._revisions.get(key)


def gone(export: Export, person: str, at: datetime) -> Items:
    """What the snapshot import publishes for ``person``'s line gone from the night's file."""
    ctx = LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="ES")
    line = GoneLine(f"batch:core:key-{person}", PEOPLE[person]["account_number"])
    closures: Any = GoneClosures("core", at, ctx, _Revisions(export.revisions), None, "n2.csv")  # type: ignore[arg-type]
    mapped = closures.to_record(0, line)
    return [(out.event, out.topic) for out in mapped.events]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_the_number_of_a_subscriber_gone_from_the_snapshot_goes_to_the_next_subscriber(order: tuple[int, ...]) -> None:
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 1, undated=True), gone(export, "jorge", NIGHTS[2]),
             export.line("elena", export.first, 3, undated=True), call(export.key, "ctr-elena-0001", CALL_AT)]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "elena"), order
    assert on(h, parts[3]) == {"elena"}, order


def test_without_the_closure_the_earliest_line_keeps_the_number() -> None:
    """What happened before: the import published nothing for Jorge's missing line."""
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 1, undated=True),
             export.line("elena", export.first, 3, undated=True), call(export.key, "ctr-elena-0001", CALL_AT)]
    h = run([item for part in parts for item in part])
    assert owner(h, export.key) == holder(h, "jorge")
