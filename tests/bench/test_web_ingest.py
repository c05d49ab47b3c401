"""Smoke test: the web-ingest benchmark still runs end to end (tiny size, no timing assertions)."""

from __future__ import annotations

import pytest

from tests.bench import web_ingest

pytestmark = pytest.mark.kafka


async def test_the_benchmark_runs_and_reports_both_paths_and_the_ratio(bootstrap_servers: str) -> None:
    args = web_ingest.parse(["--events", "60", "--batch-size", "20", "--senders", "2", "--workers", "1,2",
                             "--single-events", "10"])
    text = await web_ingest.run(args, bootstrap_servers, "the test session's broker")
    assert "| web hall (1 worker): HTTP /v1/batch" in text and "| web hall (2 workers): HTTP /v1/batch" in text
    assert "- 2 workers: " in text and "events/s against 1 worker in the same round: " in text
    assert "| baseline: bare aiokafka producer loop" in text
    assert "Ratio (web hall / baseline): throughput" in text
    assert "| web hall, single calls: HTTP /v1/track, one event per request" in text
    assert "CPU per event (batch): the adapter's processes" in text and "(target ≤ 60 µs: " in text
    assert "A single `/v1/track` call costs" in text
    assert "ran in threads beside the event loop's" in text
    assert "| HTTP: aiohttp handler that reads the body and answers 200" in text
    assert "| **sum of the library floors**" in text and "The ≤ 60 µs target is " in text
