"""tester26 F5 on every channel: with ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT='{"prefix": "CA-"}'`` a utility's
contract number is billing's ``CA-900001`` however a channel writes it (a counter clerk's ``900001``, an IVR's
``CA900001``, a portal's ``ca 900001``), in the ACCOUNT identifier identity links and in the billing adapter's record
key (the business event's ``account_number`` and Kafka key), so no nameless customer is made beside the holder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.normalize import IdentifierNormalizer
from tests.adapters.branch.support import branch_settings, sample
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr, task
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.support import settings as identity_settings

IDENTIFIERS = identifier_settings(default_region="FR", account_number_format={"prefix": "CA-"})
WITHOUT = identifier_settings(default_region="FR")
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CONTRACT = "CA-900001"
TYPED = ["900001", "CA900001", "ca 900001"]


def accounts(events: list[Event]) -> list[str]:
    """The ACCOUNT values of the events' ``IdentifiersObserved``."""
    return [identifier["value"] for event in events if event.schema.endswith("IdentifiersObserved")
            for identifier in event.value["identifiers"] if identifier["type"] == "ACCOUNT"]


def billing(written: str, identifiers: Any = IDENTIFIERS) -> tuple[list[Event], list[str | None]]:
    """A billing export's AccountOpened line for the contract as ``written``: its events and their Kafka keys."""
    line = {"account_number": written, "account_type": "ELECTRICITY", "status": "ACTIVE", "opened_at": "2026-11-01",
            "given_name": "Nadia", "family_name": "Roux", "phone": "+33612349001"}
    mapped = map_business(BusinessRecord("AccountOpened", line, "contracts.csv:2", AT),
                          LegacyContext("billing", "omnibus.business.v1", identity_topic="identity.observed.v1",
                                        phone_region="FR", identifiers=identifiers))
    return [out.event for out in mapped.events], [out.key for out in mapped.events]


@pytest.mark.parametrize("written", [CONTRACT, *TYPED])
def test_the_billing_adapters_record_key_and_identifier_are_billings_spelling(written: str) -> None:
    events, keys = billing(written)
    (business,) = [event for event in events if event.schema.startswith("omnibus.business.")]
    assert business.value["account_number"] == CONTRACT and accounts(events) == [CONTRACT]
    assert keys[events.index(business)] == CONTRACT


@pytest.mark.parametrize("written", TYPED)
def test_a_counter_clerks_contract_number_is_billings(written: str) -> None:
    upload = sample("transaction_with_identifiers")
    event = {**upload["events"][0], "identifiers": [{"type": "account", "value": written}]}
    for identifiers, expected in ((IDENTIFIERS, CONTRACT), (WITHOUT, written.replace(" ", "").upper())):
        mapper = CounterMapper(branch_settings(), TopicSettings(), identifiers)
        record = mapper(event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])
        assert accounts([out.event for out in record.events]) == [expected]


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
@pytest.mark.parametrize("written", TYPED)
def test_a_contract_number_the_contact_flow_verified_is_billings(written: str, source: str) -> None:
    settings_ = call_center_settings(verified_record_attributes={"ACCOUNT": ["accountNumber", "account_number"]})
    site = "paris" if source == "connect" else "lyon"
    context = MapContext(site, settings_.sites[site], Topics.of(TopicSettings()), settings_, IDENTIFIERS)
    if source == "connect":
        events = map_ctr(ctr(Attributes={"accountNumber": written}), context).events
    else:
        events = map_task(task(account_number=written), Timeline(), context).events
    assert accounts([out.event for out in events]) == [CONTRACT]


@pytest.mark.parametrize("written", TYPED)
def test_a_contract_number_the_portal_verified_is_billings(written: str) -> None:
    mapper = SegmentMapper(web_settings(identifier_traits={"EMAIL": ["email"], "ACCOUNT": ["verifiedAccount"]}),
                           TopicSettings(), IDENTIFIERS)
    message = {"type": "identify", "messageId": f"t26-f5-{written}", "userId": "t26-nadia", "timestamp": AT.isoformat(),
               "traits": {"verifiedAccount": written}}
    assert accounts([out.event for out in mapper(message, source="portal-web", received_at=AT).events]) == [CONTRACT]


@pytest.mark.parametrize("written", [CONTRACT, *TYPED])
def test_identity_normalises_a_contract_number_another_producer_wrote_as_billing_does(written: str) -> None:
    normalizer = IdentifierNormalizer(identity_settings(), shared=IDENTIFIERS)
    assert normalizer.normalize({"type": "ACCOUNT", "value": written}).value == CONTRACT  # type: ignore[union-attr]


@pytest.mark.parametrize(("written", "contract"), [
    ("123456", "EA-00123456"), ("EA-123456", "EA-00123456"),
    ("1234567", "EA-01234567"), ("EA-1234567", "EA-01234567"),  # mends 1: the padding zero made it read as a count
])
def test_tester28_f4_a_counter_clerks_short_contract_number_reaches_the_holder(written: str, contract: str) -> None:
    """tester28 F4: under ``{"prefix": "EA-", "width": 8}`` the clerk's ``123456`` was dropped as a placeholder
    (``dropped_identifiers [{"kind": "ACCOUNT", "code": "placeholder"}]``): it is billing's ``EA-00123456``; so was
    ``1234567``, billing's ``EA-01234567``, after F4's fix (``01234567`` reads as a count)."""
    utility = identifier_settings(default_region="FR", account_number_format={"prefix": "EA-", "width": 8})
    upload = sample("transaction_with_identifiers")
    event = {**upload["events"][0], "identifiers": [{"type": "ACCOUNT", "value": written}]}
    record = CounterMapper(branch_settings(), TopicSettings(), utility)(
        event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])
    events = [out.event for out in record.events]
    assert accounts(events) == [contract]
    observed = [event for event in events if event.schema.endswith("IdentifiersObserved")]
    assert all(not item["type"] == "ACCOUNT" for event in observed for item in event.value["rejected_identifiers"])
