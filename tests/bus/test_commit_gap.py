"""faust-streaming #606: a record at the head that was never acknowledged is not committed past."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from faust.transport.consumer import Consumer
from faust.types import TP
from intervaltree import IntervalTree

from bus.commit_gap import head_gap, install

TOPIC, COMPACTED = "p.identity.graph.v1", "p.customer.identifiers.v1"


class Offsets:
    """The parts of faust's Consumer that ``_new_offset`` reads."""

    def __init__(self, committed: int | None, acked: list[int]) -> None:
        self._acked = defaultdict(list, {TP(TOPIC, 0): list(acked), TP(COMPACTED, 0): list(acked)})
        self._acked_index = defaultdict(set, {tp: set(acked) for tp in self._acked})
        self._gap = defaultdict(IntervalTree)
        self._committed_offset = defaultdict(lambda: None, {tp: committed for tp in self._acked})


def test_a_gap_at_the_head_is_any_offset_between_the_committed_and_the_lowest_acknowledged() -> None:
    assert head_gap([11, 12], [], committed=10)
    assert not head_gap([10, 11], [], committed=10)
    assert not head_gap([12], [10], committed=10)  # faust recorded 10.. as a gap (records that do not exist)
    assert not head_gap([5], [], committed=None) and not head_gap([], [], committed=3)


def test_a_one_record_gap_at_the_head_is_not_committed_past_on_our_topics_only() -> None:
    install({TOPIC}.__contains__)
    held_back = Offsets(committed=10, acked=[11, 12, 13])  # record 10 held back: faust alone would commit 14
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    assert Consumer._new_offset(held_back, TP(COMPACTED, 0)) == 14  # compacted: 10 may be gone, faust's rule
    complete = Offsets(committed=10, acked=[10, 11, 12])
    assert Consumer._new_offset(complete, TP(TOPIC, 0)) == 13


async def test_a_head_gap_that_does_not_close_is_sought_back_to_the_committed_offset() -> None:
    now = [0.0]
    install({TOPIC}.__contains__, seek_after_s=10.0, clock=lambda: now[0])
    sought: list[tuple[TP, int]] = []

    class Seeking(Offsets):
        async def seek(self, tp: TP, offset: int) -> None:
            sought.append((tp, offset))

    held_back = Seeking(committed=10, acked=[11, 12])
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    now[0] = 5.0
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    await asyncio.sleep(0)
    assert sought == []
    now[0] = 10.5
    assert Consumer._new_offset(held_back, TP(TOPIC, 0)) is None
    await asyncio.sleep(0)
    assert sought == [(TP(TOPIC, 0), 10)]


async def test_a_jump_in_fetched_offsets_is_not_a_gap_to_commit_over_on_our_topics() -> None:
    install({TOPIC}.__contains__)
    offsets = Offsets(committed=10, acked=[])
    await Consumer._add_gap(offsets, TP(TOPIC, 0), 11, 14)
    assert not offsets._gap[TP(TOPIC, 0)]
    await Consumer._add_gap(offsets, TP(COMPACTED, 0), 11, 14)
    assert offsets._gap[TP(COMPACTED, 0)]
