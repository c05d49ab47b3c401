"""The contact flow or the agent records that the caller's verified card is blocked (``omnibus_card_status``):
a ``CardStatusChanged`` for that card (tester29 F3: the CTR's ``card-blocked`` disposition changed nothing, and the
stolen card stayed on the screen pop as any other)."""

from __future__ import annotations

import copy
import json
from io import BytesIO

import fastavro
import pytest

from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.mapper import MapContext
from adapters.call_center.state import Timeline
from schemas.catalog import default_catalog
from tests.adapters.call_center.support import context as site_context
from tests.adapters.call_center.support import sample
from tests.bus.identifiers.support import identifier_settings, normaliser

CARD_NUMBER = "4111111111111111"
VERIFIED = {"verified_record_attributes": {"CARD": ("cardNumber",)}}
CHANGED = "omnibus.business.CardStatusChanged"


def context(site: str = "paris", **overrides: object) -> MapContext:
    """The site's context with a token key: a card number is published only as its token."""
    ctx = site_context(site, **overrides)
    return MapContext(ctx.site_name, ctx.site, ctx.topics, ctx.settings, identifier_settings())


def ctr(**attributes: str) -> dict:
    record = copy.deepcopy(sample("ctr_inbound_answered.json"))
    record["Attributes"] = {**(record.get("Attributes") or {}), **attributes}
    return record


def changes(record) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema == CHANGED]


def test_a_blocked_card_the_flow_verified_is_published_once_per_contact() -> None:
    record = mapper_ctr.map_ctr(ctr(cardNumber=CARD_NUMBER, omnibus_card_status="card-blocked",
                                    omnibus_card_status_reason="stolen"), context(**VERIFIED))
    (out,) = changes(record)
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(CHANGED).parsed, out.event.value, strict=True)
    token = normaliser().token("CARD", CARD_NUMBER)
    value = out.event.value
    assert (out.topic, out.key) == ("omnibus.business.events.v1", token)
    assert (value["card"], value["status"], value["reason"], value["source_status"]) == (
        {"type": "CARD", "value": token}, "BLOCKED", "stolen", "card-blocked")
    assert value["envelope"]["channel"] == "CALL_CENTER" and not record.dropped_parts
    later = ctr(cardNumber=CARD_NUMBER, omnibus_card_status="card-blocked", omnibus_card_status_reason="stolen")
    later["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"  # an updated CTR states it under the same event id
    (again,) = changes(mapper_ctr.map_ctr(later, context(**VERIFIED)))
    assert again.event.value["envelope"]["event_id"] == value["envelope"]["event_id"]


@pytest.mark.parametrize(("attributes", "overrides", "reason"), [
    ({"cardNumber": CARD_NUMBER, "omnibus_card_status": "blocked"}, {}, "names no card: the contact flow verified"),
    ({"omnibus_card_status": "blocked"}, VERIFIED, "names no card"),
    ({"cardNumber": CARD_NUMBER, "omnibus_card_status": "maybe"}, VERIFIED, "not a card status"),
])
def test_a_status_for_no_verified_card_or_no_status_costs_only_itself(attributes: dict, overrides: dict,
                                                                       reason: str) -> None:
    record = mapper_ctr.map_ctr(ctr(**attributes), context(**overrides))
    assert not changes(record)
    assert any(o.event.schema == "omnibus.contact.CallCompleted" for o in record.events)
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    assert part == "card" and reason in refused.reason and CARD_NUMBER not in refused.reason


def test_a_taskrouter_task_records_it_the_same_way() -> None:
    form = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    attributes = {**json.loads(form["TaskAttributes"]), "cardNumber": CARD_NUMBER, "omnibus_card_status": "lost"}
    form["TaskAttributes"] = json.dumps(attributes)
    (out,) = changes(mapper_taskrouter.map_task(form, Timeline(), context("lyon", **VERIFIED)))
    assert out.event.value["status"] == "BLOCKED"


def test_the_adapter_checks_at_start_the_topic_card_statuses_go_to(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A missing business.events.v1 is named at start, as the channel topics are (``adapter_runtime``), not found
    at the first call that records a card status."""
    import asyncio
    import contextlib

    from adapters.call_center import ingress_http
    from bus.config import OmnibusSettings
    from bus.topics import BUSINESS_EVENTS
    from tests.adapters.call_center.support import call_center_settings

    checked: list = []

    @contextlib.asynccontextmanager
    async def serving(*args, publishes=(), **kwargs):  # type: ignore[no-untyped-def]
        checked.extend(publishes)
        yield None

    monkeypatch.setattr(ingress_http, "serving", serving)

    async def start() -> None:
        async with ingress_http.running(OmnibusSettings(), call_center_settings(state_path=tmp_path / "s.sqlite")):
            pass

    asyncio.run(start())
    assert BUSINESS_EVENTS in checked
