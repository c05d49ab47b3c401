"""``omnibus deadletters`` on the real broker and registry: dead letters written by a real adapter and a real processor
are listed, shown decoded (identifier values only with ``--reveal``) and re-driven, once (tester11 #4)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from adapters.web.config import MAX_BATCH_BYTES
from adapters.web.ingress import running_web_adapter
from bus.clock import ManualClock
from bus.dead_letter import MAX_KEPT_VALUE_BYTES
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS
from omnibus.cli import app as omnibus
from processors.deadletters import (
    DEAD_LETTER_ID_HEADER,
    REDRIVE_REASON_HEADER,
    REDRIVEN_BY_HEADER,
    REDRIVEN_FROM_HEADER,
    read_dead_letters,
    select,
)
from processors.deadletters.redrive import redrive
from processors.handoffs.config import HandoffPolicy
from processors.replay import read_topics
from tests.adapters.web.support import basic_auth, web_settings
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import T0, accepted, acknowledged, created
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.timeout(600)]
EMAIL, PHONE = "rita.duarte@example.org", "+351912345678"


def cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(omnibus, ["deadletters", *args], env=env)


def env_of(settings: Any) -> dict[str, str]:
    return {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "3",
            "OMNIBUS_REGISTRY__URL": settings.registry.url or "", "OMNIBUS_METRICS__ENABLED": "false"}


async def until_dead_letters(settings: Any, count: int, timeout_s: float = 60) -> list[Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        letters = await read_dead_letters(settings)
        if len(letters) >= count or asyncio.get_running_loop().time() > deadline:
            return letters
        await asyncio.sleep(0.2)


async def test_an_adapters_refusals_are_listed_shown_masked_or_revealed_and_never_re_driven(
    bootstrap_servers: str, schema_registry: Any, tmp_path: Any,
) -> None:
    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url},
                                          log={"level": "WARNING"})
    env = env_of(settings)
    bad = {"type": "track", "messageId": "m-1", "userId": "u-dl-1", "traits": {"email": EMAIL, "phone": PHONE}}
    huge = b'{"type": "track", "event": "x", "properties": {"pad": "' + b"x" * (MAX_BATCH_BYTES * 2) + b'"}}'
    async with running_web_adapter(settings, web_settings()) as server, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{server.port}/v1/track"
        async with http.post(url, json=bad, headers={"Authorization": basic_auth()}) as response:
            assert response.status == 400, await response.text()
        async with http.post(url, data=huge, headers={"Authorization": basic_auth(),
                                                      "Content-Type": "application/json"}) as response:
            assert response.status == 413, await response.text()
    letters = await until_dead_letters(settings, 2)
    assert len(letters) == 2

    listed = await asyncio.to_thread(cli, env, "list", "--json", "--component", "adapter.web")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["source"] for row in rows] == ["http", "http"]
    missing, too_large = sorted(rows, key=lambda row: row["error_type"] == "RejectedInput.too_large")
    assert missing["error_type"] == "RejectedInput.missing_event" and missing["truncated"] is False
    assert too_large["error_type"] == "RejectedInput.too_large" and too_large["truncated"] is True
    assert too_large["size"] == len(huge)  # the size sent (Content-Length), the first bytes kept
    assert EMAIL not in listed.stdout and PHONE not in listed.stdout
    table = await asyncio.to_thread(cli, env, "list", "--error-type", "too_large")
    assert table.exit_code == 0 and f"{len(huge)}+" in table.stdout and "1 dead letter" in table.stdout

    shown = await asyncio.to_thread(cli, env, "show", missing["id"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["format"] == "json" and body["value"]["messageId"] == "m-1" and body["value"]["userId"] != "u-dl-1"
    assert EMAIL not in shown.output and PHONE not in shown.output
    # no seal key: the dead letter holds the clear copy only, which --reveal shows, saying so
    revealed = await asyncio.to_thread(cli, env, "show", missing["id"], "--reveal")
    assert revealed.exit_code == 0 and "clear copy" in revealed.stderr, revealed.output
    assert EMAIL not in revealed.output and PHONE not in revealed.output  # the log says who looked, not what
    cut = json.loads((await asyncio.to_thread(cli, env, "show", too_large["id"], "--reveal")).stdout)
    assert cut["truncated"] is True and cut["format"] == "text" and len(cut["value"]) == MAX_KEPT_VALUE_BYTES  # UTF-8

    refused = await asyncio.to_thread(cli, env, "redrive", "--source-topic", "http")
    assert refused.exit_code == 1
    assert [line.split()[0] for line in refused.stdout.splitlines()] == ["refused", "refused"]
    assert "HTTP ingress" in refused.stdout and "2 refused" in refused.stderr
    assert (await asyncio.to_thread(cli, env, "show", "no-such-id")).exit_code == 1


async def test_a_re_driven_dead_letter_goes_back_once_and_the_processor_applies_it_once(
    bootstrap_servers: str, schema_registry: Any,
) -> None:
    """An acknowledgement that arrived before its handoff was dead-lettered (``unknown_handoff``); once the handoff
    exists, re-driving it is applied; a second re-drive sends nothing, and a copy sent anyway is dropped by event id."""
    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url},
                                          log={"level": "WARNING"})
    env, topic = env_of(settings), HANDOFF_EVENTS.name(settings.topics)
    watcher = Watcher(settings)
    await watcher.start()
    serializer, _ = build_serde(settings.registry)
    early_ack = acknowledged("H-1", T0)

    def acknowledged_changes() -> set[str]:  # the tracker's status changes caused by the acknowledgement, by id
        return {e.value["envelope"]["event_id"] for e in watcher.events("HandoffStatusChanged")
                if e.value["handoff_id"] == "H-1" and e.value["cause"].endswith("HandoffAcknowledged")}

    try:
        async with EventProducer(settings, serializer) as producer, \
                running_worker(settings, HandoffPolicy(), ManualClock(T0)):
            await producer.publish(Outgoing(topic, "H-1", early_ack))
            await watcher.until(lambda: bool(watcher.events("DeadLetter")), 60, "the early acknowledgement's dead letter")
            await producer.publish(Outgoing(topic, "H-1", created("H-1", T0)))
            await watcher.until(lambda: any(e.value["handoff_id"] == "H-1"
                                            for e in watcher.events("HandoffStatusChanged")), 60, "the handoff created")
            letters = select(await read_dead_letters(settings), error_type="unknown_handoff")
            assert len(letters) == 1
            (letter,) = letters

            dry = await asyncio.to_thread(cli, env, "redrive", "--error-type", "unknown_handoff", "--dry-run")
            assert dry.exit_code == 0, dry.output
            assert dry.stdout.startswith("would_redrive") and "nothing sent" in dry.stderr
            first = await asyncio.to_thread(cli, env, "redrive", letter.id)
            assert first.exit_code == 0 and first.stdout.startswith("redriven"), first.output
            await watcher.until(lambda: bool(acknowledged_changes()), 60, "the re-driven acknowledgement applied")

            again = await asyncio.to_thread(cli, env, "redrive", "--error-type", "unknown_handoff")
            assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output
            # the processors' own dedupe: a copy sent anyway (two operators at once) is dropped on its event id
            (forced,) = await redrive(settings, [letter], check_done=False)
            assert forced.action == "redriven"
            await producer.publish(Outgoing(topic, "H-1", accepted("H-1", T0, event_id="later-accept")))
            await watcher.until(lambda: any(e.value["handoff_id"] == "H-1" and e.value["envelope"]["causation_id"]
                                            == "later-accept" for e in watcher.events("HandoffStatusChanged")), 60,
                                "an event sent after the copies")  # same key and partition: the copies came first
    finally:
        await watcher.stop()
    assert len(acknowledged_changes()) == 1  # applied once: the copy changed nothing

    back = [r for r in (await read_topics(settings, [HANDOFF_EVENTS])).records if dict(r.headers).get(DEAD_LETTER_ID_HEADER)]
    assert len(back) == 2  # the command's one, and the copy sent past the look for earlier ones
    headers = dict(back[0].headers)
    assert headers[REDRIVEN_FROM_HEADER] == letter.position.encode() and back[0].key == b"H-1"
    assert back[0].partition == letter.fields["source_partition"] and back[0].value == letter.fields["value"]
    assert back[0].event is not None and back[0].event.value["envelope"]["event_id"] == early_ack.value["envelope"]["event_id"]


async def test_a_line_refused_by_import_batch_keeps_its_file_name_shows_as_text_and_says_how_to_import_it_again(
    bootstrap_servers: str, schema_registry: Any, tmp_path: Any,
) -> None:
    """tester13 S3, its sample: line 9 of ``accounts_2026-12-01.csv`` with the date 31/02/2022 was listed as
    ``accounts_.csv``, shown from ``http`` as hex even with ``--reveal``, and ``redrive`` told the sender to send it."""
    from adapters.legacy.cli import app as legacy
    from tests.adapters.legacy.support import SAMPLES

    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url},
                                          log={"level": "WARNING"})
    env = env_of(settings)
    export = tmp_path / "accounts_2026-12-01.csv"
    header, line = (SAMPLES / "accounts_bad_identifiers.csv").read_text().splitlines()
    bad = line.replace("28/02/2022", "31/02/2022").replace("not-a-phone", "06 55 44 33 22")
    export.write_text(f"{header}\n{bad}\n")
    imported = await asyncio.to_thread(CliRunner().invoke, legacy, [
        "import-batch", "--layout", str(SAMPLES / "accounts_layout.yaml"), str(export)],
        env={**env, "OMNIBUS_ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "state")})
    assert imported.exit_code == 3, imported.output
    (refused,) = await until_dead_letters(settings, 1)

    listed = await asyncio.to_thread(cli, env, "list", "--json", "--source-topic", "file")
    (row,) = [json.loads(text) for text in listed.stdout.splitlines()]
    assert row["source"] == "file accounts_2026-12-01.csv line 2", row
    assert row["reason"].startswith("accounts_2026-12-01.csv line 2: field opened_on is malformed"), row
    table = await asyncio.to_thread(cli, {**env, "COLUMNS": "250"}, "list")
    assert "accounts_2026-12-01.csv line 2" in table.stdout, table.stdout
    shown = json.loads((await asyncio.to_thread(cli, env, "show", refused.id)).stdout)
    assert shown["headers"]["file"] == "accounts_2026-12-01.csv" and shown["format"] == "text"
    assert "06 55 44 33 22" not in json.dumps(shown)
    # a file's line is never sealed: --reveal shows its clear copy, the phone scrubbed; the file has the line
    revealed = json.loads((await asyncio.to_thread(cli, env, "show", refused.id, "--reveal")).stdout)
    assert revealed["format"] == "text" and "06 55 44 33 22" not in revealed["value"] and revealed["value"] != bad
    dry = await asyncio.to_thread(cli, env, "redrive", refused.id, "--dry-run")
    assert dry.stdout.startswith("refused") and "import-batch --layout" in dry.stdout and "HTTP" not in dry.stdout


async def test_a_web_message_refused_for_its_id_is_published_under_a_new_id_once_with_who_and_why(
    bootstrap_servers: str, schema_registry: Any,
) -> None:
    """tester25 F3, its sample: "Payment Method Updated" under the messageId of an earlier "Invoice Viewed" was
    refused (400 id_conflict), and ``redrive`` answered "there is no topic to put it back on (the sender must send it
    again)", which a Segment SDK never does. ``--new-id`` publishes it once, saying who and why."""
    key = "a-deployment-seal-key-of-32-chars-or-more"  # the message as it came is kept only sealed
    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url},
                                          log={"level": "WARNING"}, dead_letters={"seal_key": key})
    env = {**env_of(settings), "OMNIBUS_DEAD_LETTERS__SEAL_KEY": key}
    first = {"type": "track", "messageId": "t25-dup-1", "userId": "t25-user-1", "event": "Invoice Viewed"}
    other = {**first, "event": "Payment Method Updated"}
    async with running_web_adapter(settings, web_settings()) as server, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{server.port}/v1/track"
        for body, status in ((first, 200), (other, 400)):
            async with http.post(url, json=body, headers={"Authorization": basic_auth()}) as response:
                assert response.status == status, await response.text()
    (refused,) = await until_dead_letters(settings, 1)
    assert refused.fields["error_type"] == "RejectedInput.id_conflict"

    plain = await asyncio.to_thread(cli, env, "redrive", refused.id, "--by", "ops-anna", "--why", "x")
    assert plain.exit_code == 1 and "redrive --new-id" in plain.stdout, plain.output
    new_id = ["redrive", refused.id, "--new-id", "--by", "ops-anna", "--why", "portal reused a messageId"]
    dry = await asyncio.to_thread(cli, env, *new_id, "--dry-run")
    assert dry.exit_code == 0 and dry.stdout.startswith("would_redrive"), dry.output
    assert "as messageId t25-dup-1:" in dry.stdout and "nothing sent" in dry.stderr
    done = await asyncio.to_thread(cli, env, *new_id)
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    again = await asyncio.to_thread(cli, env, *new_id)
    assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output

    contacts = (await read_topics(settings, [CONTACT_EVENTS])).records
    assert sorted(r.event.value["name"] for r in contacts if r.event) == ["Invoice Viewed", "Payment Method Updated"]
    (reissued,) = [r for r in contacts if dict(r.headers).get(DEAD_LETTER_ID_HEADER)]
    headers = dict(reissued.headers)
    assert headers[DEAD_LETTER_ID_HEADER] == refused.id.encode()
    assert headers[REDRIVEN_FROM_HEADER] == refused.position.encode()
    assert (headers[REDRIVEN_BY_HEADER], headers[REDRIVE_REASON_HEADER]) == (b"ops-anna", b"portal reused a messageId")


async def test_a_second_request_under_a_used_request_id_on_the_other_web_replica_is_opened_once_under_a_new_id(
    bootstrap_servers: str, schema_registry: Any,
) -> None:
    """Two web adapter processes on one broker (``deploy/k8s`` runs two pods): "attempt 1" under REQ-42 reaches one,
    "attempt 2" under REQ-42 the other, which never saw the id and answers 200; the tracker dead-letters it
    (``duplicate_creation``). ``--new-id`` opens it as ``REQ-42:<8 hex>``, once, and the tracker applies it."""
    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url},
                                          log={"level": "WARNING"})
    env = env_of(settings)
    watcher = Watcher(settings)
    await watcher.start()
    requests = [{"type": "track", "userId": "web-claire", "messageId": f"m-req-{n}", "event": "Service Request "
                 "Submitted", "properties": {"category": "billing-dispute", "request_id": "REQ-42",
                                             "summary": f"attempt {n}"}} for n in (1, 2)]
    try:
        async with running_worker(settings, HandoffPolicy(), ManualClock(T0)), aiohttp.ClientSession() as http:
            for request in requests:  # one process each: the second never saw REQ-42
                async with running_web_adapter(settings, web_settings()) as server:
                    async with http.post(f"http://127.0.0.1:{server.port}/v1/track", json=request,
                                         headers={"Authorization": basic_auth()}) as response:
                        assert response.status == 200, await response.text()
            await watcher.until(lambda: bool(watcher.events("DeadLetter")), 90, "the second creation's dead letter")
            (refused,) = select(await read_dead_letters(settings), error_type="duplicate_creation")

            new_id = ["redrive", refused.id, "--new-id", "--by", "ops-anna", "--why", "request id reused"]
            done = await asyncio.to_thread(cli, env, *new_id)
            assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
            assert "as handoff_id REQ-42:" in done.stdout
            case_id = done.stdout.split("as handoff_id ", 1)[1].split()[0]
            again = await asyncio.to_thread(cli, env, *new_id)
            assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output
            await watcher.until(lambda: any(e.value["handoff_id"] == case_id
                                            for e in watcher.events("HandoffStatusChanged")), 60,
                                "the new case applied")
    finally:
        await watcher.stop()
    assert len(select(await read_dead_letters(settings), error_type="duplicate_creation")) == 1
    created_events = [r.event.value for r in (await read_topics(settings, [HANDOFF_EVENTS])).records
                      if r.event is not None and r.event.schema.endswith("HandoffCreated")]
    assert sorted((v["handoff_id"], v["summary"]) for v in created_events) == [
        ("REQ-42", "attempt 1"), ("REQ-42", "attempt 2"), (case_id, "attempt 2")]
