"""The subscriber guide's consumer examples work against the test broker: the Python one, and the Java
one compiled and run with Maven (docs/subscribers.md). Both must print the public records and never read
the internal topics."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing, Tombstone
from bus.serde import Event, build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_IDENTIFIERS, IDENTIFIERS_OBSERVED, IDENTITY_GRAPH
from processors.identity.assignments import tombstone_headers
from tests.processors.identity.support import interaction
from tests.support.samples import identifier_assignment, identifiers_observed
from tests.support.settings import settings_with_topics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
pytestmark = pytest.mark.kafka


async def published(bootstrap_servers: str, registry_url: str = "") -> tuple[OmnibusSettings, Event]:
    """A contact and an IdentifiersObserved on public topics, and a JSON record on an internal one; through
    the registry at ``registry_url`` when given (Confluent wire format)."""
    config = await settings_with_topics(bootstrap_servers, partitions=1,
                                        **({"registry": {"url": registry_url}} if registry_url else {}))
    serializer, _ = build_serde(config.registry)
    call = interaction([("PHONE", "+8613912345678")])
    async with EventProducer(config, serializer) as producer:
        await producer.publish_many([
            Outgoing(CONTACT_EVENTS.name(config.topics), "call-1", call),
            Outgoing(IDENTIFIERS_OBSERVED.name(config.topics), "k", identifiers_observed("+8613912345678")),
        ])
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await raw.start()
    try:
        await raw.send_and_wait(IDENTITY_GRAPH.name(config.topics), b'{"internal": true}', key=b"n")
    finally:
        await raw.stop()
    return config, call


@pytest.mark.timeout(180)
async def test_the_python_example_prints_every_public_record_and_never_reads_internal_topics(
    bootstrap_servers: str,
) -> None:
    config, call = await published(bootstrap_servers)
    _assert_the_python_example_prints(bootstrap_servers, config, call)


@pytest.mark.registry
@pytest.mark.timeout(180)
async def test_the_python_example_reads_a_deployment_with_a_schema_registry(
    bootstrap_servers: str, schema_registry,  # type: ignore[no-untyped-def]
) -> None:
    """A new user's finding: ``omnibus demo`` runs with a registry, and the example skipped every record."""
    config, call = await published(bootstrap_servers, schema_registry.url)
    _assert_the_python_example_prints(bootstrap_servers, config, call, "--registry-url", schema_registry.url)


@pytest.mark.timeout(180)
async def test_the_python_example_deletes_from_its_view_the_identifier_a_tombstone_ends(bootstrap_servers: str) -> None:
    """A bank's CRM developer's finding (F8): the example skipped tombstones, so its copy of
    ``customer.identifiers.v1`` kept an identifier that belongs to nobody any more. The sample: an assignment,
    the tombstone that ends it, then the same assignment written late by a stale worker (it must stay deleted)."""
    config = await settings_with_topics(bootstrap_servers, partitions=1)
    topic, key = CUSTOMER_IDENTIFIERS.name(config.topics), "PHONE:+8613912345678"
    serializer, _ = build_serde(config.registry)
    async with EventProducer(config, serializer) as producer:
        await producer.publish_many([Outgoing(topic, key, identifier_assignment(key, "cus_a", version=1)),
                                     Tombstone(topic, key, tombstone_headers(1)),
                                     Outgoing(topic, key, identifier_assignment(key, "cus_a", version=1))])
    printed, stderr = _run_python_example(bootstrap_servers, config, 3)
    assert [(line["key"], line["view"]) for line in printed] == [(key, "kept"), (key, "deleted"), (key, "ignored")]
    assert "skipped" not in stderr


def _run_python_example(bootstrap_servers: str, config: OmnibusSettings, records: int,
                        *options: str) -> tuple[list[dict], str]:
    """(the JSON lines it printed, its stderr) once it has handled ``records`` records."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "python" / "consume.py"), "--bootstrap-servers", bootstrap_servers,
         "--asyncapi", str(ASYNCAPI), "--group", "crm-test", "--prefix", config.topics.prefix,
         "--max-records", str(records), *options],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def _assert_the_python_example_prints(bootstrap_servers: str, config: OmnibusSettings, call: Event,
                                      *options: str) -> None:
    printed, stderr = _run_python_example(bootstrap_servers, config, 2, *options)
    assert {line["type"] for line in printed} == {"omnibus.contact.InteractionRecorded",
                                                  "omnibus.contact.IdentifiersObserved"}
    (contact,) = [line for line in printed if line["topic"] == CONTACT_EVENTS.name(config.topics)]
    assert contact["key"] == "call-1"
    assert contact["record"]["envelope"]["event_id"] == call.value["envelope"]["event_id"]
    assert "skipped" not in stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_java_example_compiles_and_prints_every_public_record(bootstrap_servers: str, tmp_path: Path) -> None:
    mvn = shutil.which("mvn")
    assert mvn, "Maven is missing: scripts/bootstrap.sh installs it"
    project = shutil.copytree(EXAMPLES / "java", tmp_path / "java")
    build = subprocess.run([mvn, "-q", "-B", "compile", "dependency:build-classpath", "-Dmdep.outputFile=cp.txt"],
                           cwd=project, capture_output=True, text=True, timeout=480)
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    config, call = await published(bootstrap_servers)
    classpath = f"{project / 'target' / 'classes'}:{(project / 'cp.txt').read_text().strip()}"
    result = subprocess.run(
        ["java", "-cp", classpath, "example.OmnibusConsumer", bootstrap_servers, str(ASYNCAPI), "crm-java",
         config.topics.prefix, "2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith(config.topics.prefix)]
    assert len(lines) == 2, result.stdout[-3000:]
    assert {line.split()[2] for line in lines} == {"omnibus.contact.InteractionRecorded",
                                                   "omnibus.contact.IdentifiersObserved"}
    assert any(call.value["envelope"]["event_id"] in line for line in lines)
