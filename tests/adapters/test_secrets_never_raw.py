"""Issue #13 item 7 (part): raw national IDs and card numbers never reach a topic; adapters tokenise them.

Every adapter maps a native record carrying a national ID and a card number (valid ones, which become
tokens, and mistyped ones, which become masked rejections); each produced event is serialised to the
Avro bytes that would go to Kafka, and no spelling of either number may appear in them (or in the key).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.mapper import MappedRecord
from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_asterisk import map_cdr
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.legacy.cli import context as legacy_context
from adapters.legacy.config import LegacySettings
from adapters.legacy.ingress_outbox import outbox_record
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import BusinessRecord, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings, RegistrySettings, TopicSettings
from bus.serde import SerdeContext, build_serde
from tests.adapters.branch.support import branch_settings
from tests.adapters.branch.support import sample as branch_sample
from tests.adapters.call_center.support import call_center_settings, master_lines
from tests.adapters.call_center.support import sample as call_sample
from tests.adapters.legacy.support import outbox_rows
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings

NATIONAL_ID, BAD_NATIONAL_ID = "11010519491231002X", "110105194912310021"  # the second fails its check character
CARD, BAD_CARD = "4111111111111111", "4111111111111112"  # the second fails Luhn
SECRETS = (NATIONAL_ID, BAD_NATIONAL_ID, CARD, BAD_CARD)
AT = datetime(2024, 4, 1, tzinfo=UTC)
SERIALIZER, _ = build_serde(RegistrySettings())
IDENTIFIERS = identifier_settings()


def spellings(secret: str) -> list[str]:
    """How the number may sit in bytes: compact, grouped by 4 (cards), split 6/8/4 (resident IDs), lower case."""
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return [secret, secret.lower(), grouped, f"{secret[:6]} {secret[6:14]} {secret[14:]}", secret[:15]]


def web(valid: bool) -> MappedRecord:
    nid, card = (NATIONAL_ID, CARD) if valid else (BAD_NATIONAL_ID, BAD_CARD)
    mapper = SegmentMapper(web_settings(), TopicSettings(), IDENTIFIERS)
    identify = mapper({"type": "identify", "userId": "u-1", "traits": {"nationalId": nid, "cardNumber": card}})
    track = mapper({"type": "track", "userId": "u-1", "event": "Service Request Submitted",
                    "context": {"traits": {"national_id": nid, "card_number": card}}})
    return MappedRecord("web", identify.events + track.events)


def branch(valid: bool) -> MappedRecord:
    nid, card = (NATIONAL_ID, CARD) if valid else (BAD_NATIONAL_ID, BAD_CARD)
    upload = branch_sample("transaction_with_identifiers")
    event = {**upload["events"][0], "identifiers": [{"type": "national_id", "value": nid}, {"type": "card", "value": card}]}
    mapper = CounterMapper(branch_settings(), TopicSettings(), IDENTIFIERS)
    return mapper(event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])


def _call_context(site: str) -> MapContext:
    settings = call_center_settings()
    return MapContext(site, settings.sites[site], Topics.of(TopicSettings()), settings, IDENTIFIERS)


def connect(valid: bool) -> MappedRecord:
    nid, card = (NATIONAL_ID, CARD) if valid else (BAD_NATIONAL_ID, BAD_CARD)
    ctr = copy.deepcopy(call_sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "nationalId": nid, "cardNumber": card}
    return map_ctr(ctr, _call_context("paris"))


def taskrouter(valid: bool) -> MappedRecord:
    nid, card = (NATIONAL_ID, CARD) if valid else (BAD_NATIONAL_ID, BAD_CARD)
    terminal = call_sample("taskrouter_answered.json")[-1]
    attributes = json.loads(terminal["TaskAttributes"]) | {"national_id": nid, "card_number": card,
                                                           "customers": {"name": "Zoë Dupré", "national_id": nid}}
    return map_task({**terminal, "TaskAttributes": json.dumps(attributes)}, Timeline(), _call_context("lyon"))


def asterisk(valid: bool) -> MappedRecord:
    nid = NATIONAL_ID if valid else BAD_NATIONAL_ID
    line = master_lines()[0].replace('"",', f'"{nid}",', 1)  # accountcode
    return map_cdr(line, _call_context("lyon"))


def legacy(valid: bool, tmp: Path) -> MappedRecord:
    nid, card = (NATIONAL_ID, CARD) if valid else (BAD_NATIONAL_ID, BAD_CARD)
    ctx = legacy_context(OmnibusSettings(identifiers=IDENTIFIERS), LegacySettings(state_dir=tmp, phone_region="FR"))
    row = outbox_rows()[0]
    payload = row["payload"] | {"national_id": nid, "card_number": card, "first_name": "Marie"}
    outbox = map_business(outbox_record(row["id"], "account", row["aggregate_id"], row["event_type"], payload, AT), ctx)
    layout = Layout.model_validate({"name": "bills", "format": "csv", "event": "BillIssued", "header": False, "fields": {
        name: {"column": index} for index, name in enumerate((
            "account_number", "bill_id", "amount", "period_start_date", "period_end_date", "due_date", "national_id",
            "card_number"))}})
    fields = layout.parse(f"ACC-1,F-1,9.99,2024-03-01,2024-03-31,2024-04-15,{nid},{card}", {})
    batch = map_business(BusinessRecord("BillIssued", fields, "line-1", AT), ctx)
    poller_row = {"account_number": "ACC-2", "account_type": "pro", "national_id": nid, "card_number": card}
    poller = map_business(BusinessRecord("AccountOpened", poller_row, "poll:accounts:2@t", AT), ctx)
    return MappedRecord("legacy", outbox.events + batch.events + poller.events)


ADAPTERS: dict[str, Callable[..., MappedRecord]] = {
    "web": web, "branch": branch, "connect": connect, "taskrouter": taskrouter, "asterisk": asterisk,
}


def assert_nothing_raw(record: MappedRecord) -> None:
    assert record.events, "the sample must produce events"
    for outgoing in record.events:
        data = SERIALIZER(outgoing.event, SerdeContext(topic=outgoing.topic)) + (outgoing.key or "").encode()
        for secret in SECRETS:
            for spelling in spellings(secret):
                assert spelling.encode() not in data, f"{secret} in {outgoing.event.schema} on {outgoing.topic}"


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "mistyped"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_adapter_publishes_a_raw_national_id_or_card_number(adapter: str, valid: bool) -> None:
    assert_nothing_raw(ADAPTERS[adapter](valid))


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "mistyped"])
def test_the_legacy_adapter_publishes_no_raw_national_id_or_card_number(valid: bool, tmp_path: Path) -> None:
    record = legacy(valid, tmp_path)
    assert_nothing_raw(record)
    kinds = {i["type"] for o in record.events for i in o.event.value.get("customer_identifiers") or []}
    assert valid == ({"NATIONAL_ID", "CARD"} <= kinds)  # valid numbers still link, as tokens
