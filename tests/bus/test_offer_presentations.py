"""What counts as an offer's presentation: one declaration, and the KPIs and the offer processor count by it alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bus.offer_presentations import (
    ASSISTED_CHANNELS,
    OFFER_PRESENTED,
    OFFER_RESPONDED,
    answer_of,
    offer_channel,
    presented_on,
)
from bus.serde import Event
from processors.kpis import rules
from processors.offers.answers import record
from processors.offers.config import OffersSettings
from processors.offers.outputs import Batch
from processors.offers.state import CustomerState

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ANSWERS = ("ACCEPTED", "DECLINED", "NOT_NOW", "OPTED_OUT")
CHANNELS = ("WEB", "CALL_CENTER", "BRANCH", "SMS", "EMAIL")


def offer_event(schema: str, channel: str, response: str | None = None, event_id: str = "e1") -> Event:
    value = {
        "envelope": {
            "event_id": event_id,
            "occurred_at": T0,
            "received_at": T0,
            "source_system": "test",
            "channel": channel,
            "site": None,
            "correlation_id": event_id,
            "causation_id": None,
            "source_event_id": None,
        },
        "offer_id": "o1",
        "offer_version": 1,
        "channel": channel,
        "customer_identifiers": [{"type": "PHONE", "value": "+33612000001"}],
        "agent_id": None,
        "presentation_id": "p1",
    }
    return Event(schema, value if response is None else {**value, "response": response})


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_offer_presented_is_a_presentation_on_every_channel(channel: str) -> None:
    assert presented_on(offer_event(OFFER_PRESENTED, channel)) == channel


@pytest.mark.parametrize("response", ANSWERS)
@pytest.mark.parametrize("channel", sorted(ASSISTED_CHANNELS))
def test_an_answer_a_clerk_or_an_agent_records_is_the_presentation_behind_it(channel: str, response: str) -> None:
    assert presented_on(offer_event(OFFER_RESPONDED, channel, response)) == channel


@pytest.mark.parametrize("response", ANSWERS)
@pytest.mark.parametrize("channel", ["WEB", "SMS", "EMAIL"])
def test_an_answer_where_the_presentation_is_reported_on_its_own_is_none(channel: str, response: str) -> None:
    """The web's ``Offer Accepted`` follows its ``Offer Viewed``; an SMS's YES reply follows the gateway's report."""
    assert presented_on(offer_event(OFFER_RESPONDED, channel, response)) is None


def test_other_events_are_no_presentation_and_the_envelope_names_the_channel_when_the_record_does_not() -> None:
    contact = Event("omnibus.contact.InteractionRecorded", {"envelope": {"channel": "BRANCH"}, "channel": "BRANCH"})
    assert presented_on(contact) is None
    bare = offer_event(OFFER_RESPONDED, "BRANCH", "DECLINED")
    assert offer_channel(Event(bare.schema, {**bare.value, "channel": None})) == "BRANCH"


def kpi_presented(event: Event) -> int:
    """``offers_presented`` of ``event`` in its day window (the KPI processor's count)."""
    shot = rules.one_shot(event)
    assert shot is not None
    return sum(n for key, n in shot.contributions.items() if key.startswith("DAY") and "offers_presented" in key)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("response", [None, *ANSWERS])
def test_the_kpis_and_the_offer_caps_count_the_same_presentations(channel: str, response: str | None) -> None:
    """One way of counting: the take rate's denominator, the ledger the contact caps count and
    ``omnibus_offers_presented_total`` see the same presentations, on the same channel."""
    event = offer_event(OFFER_PRESENTED if response is None else OFFER_RESPONDED, channel, response)
    state, batch = CustomerState(customer_id="cus_1"), Batch()
    record(state, event, None, OffersSettings(), batch)
    ledger = [row[1] for row in state.ledger]
    metric = [labels[0] for name, labels in batch.counts if name == "presented"]
    assert ledger == metric == [channel] * kpi_presented(event)


@pytest.mark.parametrize("response", [*ANSWERS, "UNKNOWN"])
def test_what_a_record_answers_is_one_declaration_the_kpis_and_the_offer_state_read_alike(response: str) -> None:
    """``answer_of``: the take rate counts an acceptance and a decline, the offer state applies every answer it
    names; an answer the reader does not know (``UNKNOWN``) is none for either."""
    event = offer_event(OFFER_RESPONDED, "WEB", response)
    answer = answer_of(event)
    assert answer == (None if response == "UNKNOWN" else response)
    assert answer_of(offer_event(OFFER_PRESENTED, "WEB")) is None
    counted = rules.one_shot(event)
    measures = {key.rpartition("#")[2] for key in (counted.contributions if counted else {})}
    assert measures == ({f"offers_{response.lower()}"} if response in ("ACCEPTED", "DECLINED") else set())
    state = CustomerState(customer_id="cus_1")
    record(state, event, None, OffersSettings(), Batch())
    assert state.offers["o1"].status.value == (response if answer else "ELIGIBLE")
    assert [a.status.value for a in state.offers["o1"].answers] == ([response] if answer else [])
