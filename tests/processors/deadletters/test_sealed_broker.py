"""tester29 F5 on the project's own broker: a CTR Firehose posted, refused for its ``DisconnectTimestamp``, is
re-driven from its sealed dead letter, corrected, once, with who did it; without the key, redrive says why not."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from adapters.call_center.ingress_http import running
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from omnibus.cli import app as omnibus
from processors.deadletters import DEAD_LETTER_ID_HEADER, REDRIVEN_BY_HEADER
from tests.adapters.call_center.support import call_center_settings, sample
from tests.processors.deadletters.test_cli import until_dead_letters
from tests.support.kafka_io import read_events, read_raw
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
KEY = "a-deployment-seal-key-of-32-chars-or-more"
SITE = {"madrid": {"access_keys": ["madrid-firehose-key-1"], "timezone": "Europe/Madrid", "phone_region": "ES"}}
CALLER = "+34612345678"
SUMMARY = "llamar al 677 123 456 o marta.ruiz@example.es"


def ctr(contact: str, disconnect: str) -> dict[str, Any]:
    record = copy.deepcopy(sample("ctr_inbound_answered.json"))
    record.update(ContactId=contact, DisconnectTimestamp=disconnect)
    record["CustomerEndpoint"]["Address"] = CALLER
    return record


async def test_tester29_f5_a_refused_ctr_is_re_driven_corrected_once_with_who_did_it(
        bootstrap_servers: str, tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, dead_letters={"seal_key": KEY}, log={"level": "WARNING"})
    adapter = call_center_settings(sites=SITE, state_path=str(tmp_path / "state.sqlite3"))
    body = [ctr("c-bad-0001", "2026-12-03 09:44"), ctr("c-good-0001", "2024-03-05T09:14:10Z")]
    body[0]["Attributes"] = {**body[0].get("Attributes", {}), "note": SUMMARY, "email": "marta.ruiz@example.es"}
    async with running(settings, adapter) as server, aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{server.port}/v1/connect/ctr", json=body,
                             headers={"X-Amz-Firehose-Access-Key": "madrid-firehose-key-1"}) as response:
            answer = await response.json()
    assert answer["accepted"] == 1 and answer["rejected"][0]["index"] == 0, answer
    (letter,) = await until_dead_letters(settings, 1)
    # the record on deadletter.v1 holds no identifier readable; its structure and field names stay
    kept = bytes(letter.fields["value"]).decode()
    for readable in (CALLER, "612345678", "677 123 456", "marta.ruiz"):
        assert readable not in kept, readable
    assert json.loads(kept)["Attributes"]["note"] == "llamar al [digits] o [email]" and "DisconnectTimestamp" in kept

    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_REGISTRY__URL": "", "OMNIBUS_METRICS__ENABLED": "false",
           "OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps(SITE)}
    args = ["deadletters", "redrive", letter.id, "--set", "DisconnectTimestamp=2026-12-03T09:44:00+01:00",
            "--by", "ops-ana", "--why", "Firehose never re-sends"]
    no_key = await asyncio.to_thread(CliRunner().invoke, omnibus, args, env=env)
    assert no_key.exit_code == 1 and "OMNIBUS_DEAD_LETTERS__SEAL_KEY is not set here" in no_key.stdout, no_key.output
    keyed = {**env, "OMNIBUS_DEAD_LETTERS__SEAL_KEY": KEY}
    show = ["deadletters", "show", letter.id, "--reveal"]
    masked = await asyncio.to_thread(CliRunner().invoke, omnibus, show, env=env)
    assert masked.exit_code == 0 and CALLER not in masked.stdout and "clear copy" in masked.stderr, masked.output
    revealed = await asyncio.to_thread(CliRunner().invoke, omnibus, show, env=keyed)
    assert revealed.exit_code == 0 and CALLER in revealed.stdout and SUMMARY in revealed.stdout, revealed.output
    done = await asyncio.to_thread(CliRunner().invoke, omnibus, args, env=keyed)
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    again = await asyncio.to_thread(CliRunner().invoke, omnibus, args, env=keyed)
    assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output

    calls = [e for e in await read_events(settings, CONTACT_EVENTS) if e.event.schema.endswith("CallCompleted")]
    assert sorted(e.event.value["contact_id"] for e in calls) == ["c-bad-0001", "c-good-0001"]
    seen = [e for e in await read_events(settings, IDENTIFIERS_OBSERVED)
            if any(i["value"] == CALLER for i in e.event.value["identifiers"])]
    assert len(seen) == 2  # the caller's number is back: the re-driven call is on the screen pop and the KPIs
    records = await read_raw(bootstrap_servers, CONTACT_EVENTS.name(settings.topics))
    redriven = [r for r in records if dict(r.headers or ()).get(DEAD_LETTER_ID_HEADER) == letter.id.encode()]
    # the re-driven CTR's contact events, once (the second run sent nothing), as many as the accepted CTR's
    assert 2 * len(redriven) == len(records) and {dict(r.headers)[REDRIVEN_BY_HEADER] for r in redriven} == {
        b"ops-ana"}
