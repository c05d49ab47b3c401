"""Smoke test: the web-ingest benchmark still runs end to end (tiny size, no timing assertions)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bus.stack.registry import SchemaRegistryServer
from tests.bench import web_ingest
from tests.fixtures.stack import ExternalServer


@pytest.mark.kafka
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


@pytest.mark.kafka
@pytest.mark.registry
async def test_the_benchmark_runs_with_a_schema_registry_as_deployed(
    bootstrap_servers: str, schema_registry: SchemaRegistryServer | ExternalServer,
) -> None:
    args = web_ingest.parse(["--events", "40", "--batch-size", "20", "--senders", "2", "--single-events", "0",
                             "--registry", schema_registry.url])
    text = await web_ingest.run(args, bootstrap_servers, "the test session's broker", schema_registry.url)
    assert ("Records: Confluent framing (magic byte and schema id), schemas registered in the registry at "
            f"{schema_registry.url}") in text
    assert f"--registry {schema_registry.url}`" in text
    # the contact events were registered there (subject ``<topic>-<record>``, bus.serde.confluent.subject_for)
    with urllib.request.urlopen(schema_registry.url + "/subjects", timeout=10) as response:
        subjects = json.loads(response.read())
    assert any(subject.endswith("-omnibus.contact.InteractionRecorded") for subject in subjects)


def test_without_a_registry_the_report_names_the_single_object_framing() -> None:
    assert web_ingest.parse([]).registry is None
    assert web_ingest.wire_format(None).startswith("Avro single-object framing (registry-free mode")
    assert web_ingest.wire_format("http://r:1/apis/ccompat/v7").startswith("Confluent framing")
