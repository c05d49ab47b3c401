"""Re-driving a refused handoff request on the project's own broker, as the tester did it: a TaskRouter task whose
agent form asked for a handoff without its kind is published without it and the request dead-lettered; ``redrive`` as
it is refuses it again with the reason, ``redrive --set`` opens it, once; ``open-case`` opens another task's case by
hand, once; and whichever of the two comes second for a dead letter publishes nothing (one case per request)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from adapters.call_center.ingress_http import running
from bus.sealing import Sealer
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED
from omnibus.cli import app as omnibus
from processors.deadletters import REDRIVEN_BY_HEADER
from processors.deadletters.sealed import value_as_sent
from tests.adapters.call_center.support import LYON_KEY, LYON_TWILIO_TOKEN, LYON_WORKSPACE, call_center_settings, sample
from tests.processors.deadletters.test_cli import until_dead_letters
from tests.support.kafka_io import one_per_event_id, read_events, read_raw
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
KEY = "a-deployment-seal-key-of-32-chars-or-more"
SITES = {"lyon": {"access_keys": [LYON_KEY], "twilio_workspace_sids": [LYON_WORKSPACE],
                  "twilio_auth_token": LYON_TWILIO_TOKEN, "phone_region": "FR"}}


def omnibus_cli(bootstrap_servers: str, settings: Any, adapter: dict[str, str]) -> Callable[..., Awaitable[Any]]:
    """``omnibus`` run in a thread with the test's broker and topics, the seal key and the ``adapter``'s settings."""
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_REGISTRY__URL": "", "OMNIBUS_METRICS__ENABLED": "false",
           "OMNIBUS_DEAD_LETTERS__SEAL_KEY": KEY, **adapter}

    def run(*args: str) -> Awaitable[Any]:
        return asyncio.to_thread(CliRunner().invoke, omnibus, list(args), env=env)

    return run


def task(sid: str) -> dict[str, str]:
    """The recorded terminal callback of task ``sid``, its agent form with a team and a summary but no kind."""
    form = {**sample("taskrouter_answered.json")[-1], "TaskSid": sid, "ResourceSid": sid, "Sid": f"EV{sid[2:]}"}
    form["TaskAttributes"] = json.dumps(json.loads(form["TaskAttributes"]) | {
        "omnibus_handoff_team": "repair", "omnibus_handoff_summary": "Brak sygnału od burzy"})
    return form


async def test_redrive36_a_refused_taskrouter_handoff_is_re_driven_or_opened_by_hand_once(
        bootstrap_servers: str, tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, dead_letters={"seal_key": KEY}, log={"level": "WARNING"})
    adapter = call_center_settings(sites=SITES, state_path=str(tmp_path / "state.sqlite3"))
    first, second = "WT" + "1" * 32, "WT" + "2" * 32
    async with running(settings, adapter) as server, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{server.port}/v1/twilio/taskrouter"
        for form in (task(first), task(second)):
            headers = {"X-Twilio-Signature": RequestValidator(LYON_TWILIO_TOKEN).compute_signature(url, form),
                       "Content-Type": "application/x-www-form-urlencoded"}
            async with http.post(url, data=urlencode(form), headers=headers) as response:
                assert response.status < 300, await response.text()
    letters = await until_dead_letters(settings, 2)
    assert all(letter.fields["reason"].startswith("handoff refused") for letter in letters), letters
    # the clear copy scrubs a SID's long digit run: the letters are told apart by their sealed forms
    sent = {x.id: value_as_sent(x, Sealer(KEY)) for x in letters}
    (a,) = [x for x in letters if first.encode() in sent[x.id]]
    (b,) = [x for x in letters if second.encode() in sent[x.id]]

    run = omnibus_cli(bootstrap_servers, settings, {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps(SITES)})
    who = ("--by", "ops-kasia", "--why", "agent form left the kind out")
    as_is = await run("deadletters", "redrive", a.id, *who)
    assert as_is.exit_code == 1 and "refused" in as_is.stdout and "omnibus_handoff_kind" in as_is.stdout, as_is.output
    fix = ("--set", "TaskAttributes.omnibus_handoff_kind=line-repair")
    done = await run("deadletters", "redrive", a.id, *fix, *who)
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    again = await run("deadletters", "redrive", a.id, *fix, *who)
    assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output
    # the handoff alone was published (the call went out when its handoff was refused), and every ask names the
    # place the re-drive's record went: the same as the re-drive said (it named another topic at each ask)
    assert "(1 event: the handoff only" in done.stdout, done.output
    went = done.stdout.split()[4]
    assert went.startswith(HANDOFF_EVENTS.name(settings.topics) + "/") and again.stdout.split()[4] == went
    case = ("--kind", "line-repair", "--identifier", "PHONE=+33478000001")
    by_hand_after = await run("deadletters", "open-case", a.id, *case, *who)
    assert by_hand_after.exit_code == 0 and by_hand_after.stdout.startswith("already_redriven"), by_hand_after.output

    opened = await run("deadletters", "open-case", b.id, *case, "--summary", "Brak sygnału", *who)
    assert opened.exit_code == 0 and opened.stdout.startswith("redriven"), opened.output
    assert (await run("deadletters", "open-case", b.id, *case, *who)).stdout.startswith("already_redriven")
    redriven_after = await run("deadletters", "redrive", b.id, *fix, *who)
    assert redriven_after.stdout.startswith("already_redriven"), redriven_after.output
    # a sweep without the correction (the tester's `redrive --component ...` after a bad day): both were handled,
    # one re-driven corrected and one opened by hand, so neither is "refused ... correct it with --set" (exit 0)
    sweep = await run("deadletters", "redrive", a.id, b.id, *who)
    assert sweep.exit_code == 0, sweep.output
    assert [line.split()[0] for line in sweep.stdout.splitlines()] == ["already_redriven"] * 2, sweep.output
    assert [line.split()[4] for line in sweep.stdout.splitlines() if a.id in line] == [went], sweep.output

    created = [e for e in one_per_event_id(await read_events(settings, HANDOFF_EVENTS))
               if e.event.schema.endswith("HandoffCreated")]
    assert sorted(e.key for e in created) == sorted([f"call:twilio-taskrouter:{first}", f"deadletter:{b.id}"]), [
        e.key for e in created]
    (manual,) = [e.event.value for e in created if e.key == f"deadletter:{b.id}"]
    assert (manual["case_type"], manual["origin_channel"], manual["actor"]) == (
        "line-repair", "CALL_CENTER", {"kind": "EMPLOYEE", "id": "ops-kasia"})
    assert manual["intake_facts"]["dead_letter_id"] == b.id and manual["customer_identifiers"] == [
        {"type": "PHONE", "value": "+33478000001"}]
    records = await read_raw(bootstrap_servers, HANDOFF_EVENTS.name(settings.topics))
    assert len(records) == 2 and {dict(r.headers)[REDRIVEN_BY_HEADER] for r in records} == {b"ops-kasia"}
    for topic in (CONTACT_EVENTS, IDENTIFIERS_OBSERVED):  # the call and the caller were not published again
        again_sent = [r for r in await read_raw(bootstrap_servers, topic.name(settings.topics))
                      if REDRIVEN_BY_HEADER in dict(r.headers)]
        assert again_sent == [], topic
