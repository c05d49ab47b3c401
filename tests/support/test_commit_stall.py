"""The one commit-stall watch of the fault tests: how it measures, with offsets fed by hand."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.structs import TopicPartition

from tests.support import commit_stall
from tests.support.commit_stall import CommitStalls

TP = TopicPartition("t", 0)


async def test_a_stall_lasts_while_records_wait_and_the_commit_does_not_move(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = iter([(0, 10), (0, 10), (0, 12), (5, 12), (12, 12)])  # (committed, end)
    clock = iter([100.0, 103.0, 107.0, 108.0, 120.0])

    async def offsets(*_: object) -> dict[TopicPartition, tuple[int, int]]:
        return {TP: next(samples)}

    monkeypatch.setattr(commit_stall, "offsets", offsets)
    stalls = CommitStalls("unused:1", {"g": {"t"}}, clock=lambda: next(clock))
    for _ in range(5):
        await stalls.sample()
    assert stalls.max_stall_s == 7.0  # from 100 s to 107 s at offset 0; it moved at 108 s and caught up at 120 s


async def test_a_failed_sample_starts_the_watch_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [{TP: (0, 10)}, OSError("broker down"), {TP: (0, 10)}]
    clock = iter([0.0, 50.0, 60.0])
    third = asyncio.Event()

    async def offsets(*_: object) -> dict[TopicPartition, tuple[int, int]]:
        answer = answers.pop(0) if answers else {TP: (0, 10)}
        if not answers:
            third.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(commit_stall, "offsets", offsets)
    async with CommitStalls("unused:1", {"g": {"t"}}, interval_s=0.01, clock=lambda: next(clock, 60.0)) as stalls:
        await asyncio.wait_for(third.wait(), timeout=10)
    assert stalls.max_stall_s == 0.0  # 0 s, an outage, then 60 s at offset 0: the outage is not a 60 s stall
