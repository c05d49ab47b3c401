"""``omnibus replay handoffs`` against a running tracker on the real broker: the rebuilt state equals the table."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import HANDOFF_EVENTS
from bus.clock import SystemClock
from processors.handoffs.config import HandoffPolicy
from processors.replay.cli import replay
from tests.processors.handoffs.broker import running_worker
from tests.processors.handoffs.factories import acknowledged, created, resolved
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


async def test_replay_rebuilds_the_trackers_state(bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    now = datetime.now(UTC)
    lifecycle = [
        # Acknowledged after its check fell due (the alarm is wall-clock: 30 min): a tick the stream reads between
        # "created" and "acknowledged" (faust takes fetched records round-robin across topics) waits for the
        # records published before it (bus.tick_gate), so it fires no alarm the replay cannot rebuild (fb80d36).
        created("h-done", now - timedelta(hours=3)), acknowledged("h-done", now - timedelta(hours=2)),
        resolved("h-done", now - timedelta(hours=1)),
        created("h-late", now - timedelta(hours=30)),  # breached 10 h ago: escalated to tier 1 at the first tick
        created("h-open", now - timedelta(minutes=5)),
    ]
    async with running_worker(settings, HandoffPolicy(), SystemClock(), tick_interval_s=0.2) as worker:
        serializer, _ = build_serde(settings.registry)
        async with EventProducer(settings, serializer) as producer:
            await producer.publish_many([Outgoing(HANDOFF_EVENTS.name(settings.topics), e.value["handoff_id"], e)
                                         for e in lifecycle])
        deadline = asyncio.get_running_loop().time() + 60
        while not (len(worker.tracker.store) == 3 and (worker.tracker.store.get("h-late") or {}).get("tier") == 1):
            assert asyncio.get_running_loop().time() < deadline, "the tracker did not apply the lifecycle"
            await asyncio.sleep(0.2)
        # The table's changelog is flushed with the next commit (0.5 s, longer on a loaded machine): until then the
        # changelog lags the table and the replay differs; it must agree within a generous bound.
        while not await asyncio.to_thread(replay, "handoffs", settings):
            assert asyncio.get_running_loop().time() < deadline + 60, "the replay never agreed with the tracker"
            await asyncio.sleep(1)

    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", bootstrap_servers)
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", settings.topics.prefix)
    monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "false")
    result = await asyncio.to_thread(CliRunner().invoke, omnibus, ["replay", "handoffs", "--strict"])
    assert result.exit_code == 0, result.output
    assert "rebuilt 3 handoffs" in result.output and "differing: 0" in result.output
