from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.call_center.mapper_taskrouter import Timeline
from adapters.call_center.state import CallCenterState

T1, T2 = datetime(2024, 3, 5, 9, 15, tzinfo=UTC), datetime(2024, 3, 5, 9, 20, tzinfo=UTC)


def test_a_version_older_or_equal_to_the_published_one_is_stale(tmp_path: Path) -> None:
    state = CallCenterState(tmp_path / "state.sqlite")
    assert not state.is_stale("c", T1)
    state.published("c", T2)
    state.published("c", T1)  # a late ack of an older version never moves the mark back
    assert state.is_stale("c", T1) and state.is_stale("c", T2)
    assert not state.is_stale("c", datetime(2024, 3, 5, 9, 21, tzinfo=UTC))


def test_timelines_survive_a_restart_and_are_forgotten_once_published(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = CallCenterState(path)
    timeline = Timeline(enqueued_at=T1, queue="billing", connected_at=T2, agent_id="lbernard")
    state.save_timeline("WT1", timeline)
    state.close()
    reopened = CallCenterState(path)
    assert reopened.timeline("WT1") == timeline
    reopened.forget_timeline("WT1")
    assert reopened.timeline("WT1") == Timeline()
