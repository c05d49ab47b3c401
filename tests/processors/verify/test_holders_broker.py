"""New-user finding F12 on a real broker: ``omnibus verify`` after a release that followed a claim.

Claire's billing line gives the landline, Claire calls, billing closes her account, Daniel's line gives the same
landline (recycled: Daniel's customer claims it, ``CustomerLinked`` of rule ``earliest-claim``), Daniel calls; then an
operator releases the landline from Daniel (``omnibus identity release``). Each call stays with its tenant, and
verify agrees (before the fix it expected Claire's call under Daniel, whom the release took the number from).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import BUSINESS_EVENTS, CONTACT_EVENTS, CUSTOMER_CONTACTS, IDENTIFIERS_OBSERVED
from omnibus.cli import app as omnibus
from processors.verify.run import averify
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.graph.test_split_broker import QUIET_WITHIN_S
from tests.processors.identity.support import HMAC_KEY, matcher_settings
from tests.processors.verify.support import BUSINESS_IN, CONTACTS_IN, INPUT
from tests.processors.verify.test_holders import DAY0, NUMBER, TENANTS, call, closure, line
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(600)  # a worker's start, two quiet waits and verify on a loaded 2-core machine
async def test_verify_passes_after_a_release_that_followed_a_claim(bootstrap_servers: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    topics = {INPUT: IDENTIFIERS_OBSERVED.name(config.topics), BUSINESS_IN: BUSINESS_EVENTS.name(config.topics),
              CONTACTS_IN: CONTACT_EVENTS.name(config.topics)}
    day = DAY0.replace  # each step a day after the previous one
    claire_call, daniel_call = call("ctr-claire", day(day=3)), call("ctr-daniel", day(day=6))
    steps = [line("claire", day(day=2)), claire_call, closure("claire", day(day=4)), line("daniel", day(day=5)),
             daniel_call]
    serializer, _ = build_serde(config.registry)
    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "TOPICS__PREFIX": config.topics.prefix,
                        "TOPICS__PARTITIONS": "2", "PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)
    identity = matcher_settings(default_region="FR")
    async with running_workers(config, identity, tmp_path, 1) as workers:
        group = workers[0].app.conf.id
        async with EventProducer(config, serializer) as producer:
            for step in steps:  # each taken before the next: the three input topics keep no order between them
                await producer.publish_many([Outgoing(topics[topic], "landline", event) for event, topic in step])
                await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        owners = await assignments(config)
        claire, daniel = (owners[f"ACCOUNT:{TENANTS[tenant][0]}"] for tenant in ("claire", "daniel"))
        assert claire != daniel and owners[f"PHONE:{NUMBER}"] == daniel
        released = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "release", "phone", NUMBER, "--customer", daniel, "--by", "ops-7", "--reason", "line ceased"])
        assert released.exit_code == 0, released.output
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)

    assert f"PHONE:{NUMBER}" not in await assignments(config)
    under = {r.event.value["envelope"]["event_id"]: r.key for r in await read_events(config, CUSTOMER_CONTACTS)
             if r.event is not None and r.key is not None}
    for items, tenant in ((claire_call, claire), (daniel_call, daniel)):
        contacts = [event.value["envelope"]["event_id"] for event, topic in items if topic == CONTACTS_IN]
        assert contacts and {under[contact] for contact in contacts} == {tenant}
    report = await averify(config, processors=("identity",), identity=identity)
    assert report.ok, "\n".join(report.lines())
