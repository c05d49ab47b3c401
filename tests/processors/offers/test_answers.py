"""``answers.record``: an answer a clerk or an agent records is the presentation behind it, in the ledger the caps
count (as the KPIs count it: ``bus.offer_presentations``), once per event id, whatever the order or the merge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers import state as customer_state
from processors.offers.answers import PRESENTED, RESPONDED, record
from processors.offers.caps import ContactPolicy, Suppression, suppression
from processors.offers.config import OffersSettings
from processors.offers.outputs import Batch
from processors.offers.state import CustomerState, OfferStatus
from tests.adapters.call_center.test_mapper_offer import published_answers
from tests.processors.offers.factories import T0, customer, envelope, ident, offer, us

PHONE = "PHONE:+33612000001"
SETTINGS = OffersSettings(policy=ContactPolicy(quiet_hours=None), default_timezone="UTC")
MINUTE = timedelta(minutes=1)


def offer_event(
    event_id: str,
    channel: str,
    response: str | None = None,
    at: datetime = T0,
    offer_id: str = "savings",
    via: str = PHONE,
) -> Event:
    value: dict[str, Any] = {
        "envelope": envelope(event_id, at, channel),
        "offer_id": offer_id,
        "offer_version": 1,
        "channel": channel,
        "customer_identifiers": [ident(via)],
        "agent_id": None,
        "presentation_id": f"p-{event_id}",
    }
    if response is None:
        return Event(PRESENTED, value)
    return Event(RESPONDED, {**value, "response": response})


def pitch(channel: str, event_id: str) -> str:
    """The ledger row id of ``offer_event(event_id, channel, ...)`` on an assisted channel: its pitch
    (``bus.offer_presentations.pitch_of``: channel, source system, presentation id)."""
    return f"{channel}|test|p-{event_id}"


def apply(state: CustomerState, *events: Event) -> Batch:
    batch = Batch()
    for event in events:
        record(state, event, offer(event.value["offer_id"]), SETTINGS, batch)
    return batch


def presented(batch: Batch) -> list[str]:
    return [labels[0] for name, labels in batch.counts if name == "presented"]


@pytest.mark.parametrize("response", ["ACCEPTED", "DECLINED", "NOT_NOW", "OPTED_OUT"])
@pytest.mark.parametrize("channel", ["BRANCH", "CALL_CENTER"])
def test_an_answer_at_the_counter_or_on_a_call_is_a_presentation_in_the_ledger(channel: str, response: str) -> None:
    person = customer()
    batch = apply(person, offer_event("e1", channel, response))
    assert [row[:4] for row in person.ledger] == [[us(T0), channel, "savings", pitch(channel, "e1")]]
    assert person.ledger[0][4] == [PHONE]  # through the identifier it came by: a split moves it with it
    assert presented(batch) == [channel]  # omnibus_offers_presented_total
    assert ("response", (response, channel)) in batch.counts
    state = person.offers["savings"]
    assert (state.presentations, state.last_channel, state.last_presented_us) == (1, channel, us(T0))
    assert state.status is OfferStatus(response)  # the answer stands over the pitch behind it


@pytest.mark.parametrize("channel", ["WEB", "SMS", "EMAIL"])
def test_an_answer_after_its_own_presentation_adds_no_second_one(channel: str) -> None:
    """The web's ``Offer Accepted`` after its ``Offer Viewed``, an SMS's YES after the gateway's report: one."""
    person = customer()
    batch = apply(person, offer_event("e1", channel), offer_event("e2", channel, "ACCEPTED", T0 + MINUTE))
    assert [row[3] for row in person.ledger] == ["e1"] and presented(batch) == [channel]
    assert person.offers["savings"].status is OfferStatus.ACCEPTED


def test_presented_then_the_answer_of_the_same_pitch_are_two_records_as_the_kpis_count_them() -> None:
    """docs/kpis.md: a representative records once per pitch; ``presented`` then the answer are two presentations,
    for the take rate and the caps alike."""
    person = customer()
    apply(person, offer_event("e1", "BRANCH"), offer_event("e2", "BRANCH", "DECLINED", T0 + MINUTE))
    assert [row[3] for row in person.ledger] == [pitch("BRANCH", "e1"), pitch("BRANCH", "e2")]
    assert person.offers["savings"].presentations == 2


def test_a_resent_answer_is_one_presentation() -> None:
    """The engine applies an event id once (``CustomerState.seen``); past the ids it remembers, the ledger still
    holds one row per event id."""
    person = customer()
    apply(person, offer_event("e1", "CALL_CENTER", "ACCEPTED"), offer_event("e1", "CALL_CENTER", "ACCEPTED"))
    assert [row[3] for row in person.ledger] == [pitch("CALL_CENTER", "e1")]


def test_answers_read_in_any_order_give_the_same_ledger_and_answer() -> None:
    events = [
        offer_event("e1", "WEB", at=T0),
        offer_event("e2", "BRANCH", "DECLINED", T0 + MINUTE),
        offer_event("e3", "CALL_CENTER", "ACCEPTED", T0 + 2 * MINUTE),
    ]
    forward, backward = customer(), customer()
    apply(forward, *events)
    apply(backward, *reversed(events))
    assert forward.ledger == backward.ledger and [row[1] for row in forward.ledger] == ["WEB", "BRANCH", "CALL_CENTER"]
    assert forward.offers["savings"].status is backward.offers["savings"].status is OfferStatus.ACCEPTED


def test_a_merge_counts_each_answer_once() -> None:
    """Two customers identity merges: each one's answers count for the survivor, one a copy of both counts once."""
    survivor, merged = customer("cus_1"), customer("cus_2")
    apply(survivor, offer_event("e1", "BRANCH", "DECLINED"))
    apply(merged, offer_event("e1", "BRANCH", "DECLINED"), offer_event("e2", "CALL_CENTER", "ACCEPTED", T0 + MINUTE))
    one = customer_state.merge(survivor, merged)
    assert [row[3] for row in one.ledger] == [pitch("BRANCH", "e1"), pitch("CALL_CENTER", "e2")]


def test_three_answers_on_three_channels_fill_the_default_caps() -> None:
    """The reported case: an Offer Viewed on the web, a decline at the counter, an acceptance on a call in one day:
    nothing more this week on any channel (3 contacts in 7 days across channels, 1 a day per channel)."""
    person = customer()
    apply(
        person,
        offer_event("e1", "WEB", at=T0),
        offer_event("e2", "BRANCH", "DECLINED", T0 + MINUTE),
        offer_event("e3", "CALL_CENTER", "ACCEPTED", T0 + 2 * MINUTE),
    )
    insurance, now = offer("insurance"), T0 + 3 * MINUTE
    for channel in ("WEB", "BRANCH", "CALL_CENTER"):
        assert suppression(person, insurance, channel, now, "UTC", SETTINGS.policy) is Suppression.CONTACT_CAP
    # one answer is enough for its channel's cap of a day
    alone = customer()
    apply(alone, offer_event("e4", "BRANCH", "DECLINED"))
    assert suppression(alone, insurance, "BRANCH", now, "UTC", SETTINGS.policy) is Suppression.CHANNEL_CAP
    assert suppression(alone, insurance, "CALL_CENTER", now, "UTC", SETTINGS.policy) is None


def test_an_answer_pitched_after_the_customers_answer_or_of_an_old_version_is_counted_like_a_presentation() -> None:
    """Declined at the counter, then pitched and accepted on a call: a pitch after the answer (the acceptance stands,
    ``machine``); an answer to version 1 of an offer at version 2 is version drift."""
    person = customer()
    batch = apply(
        person,
        offer_event("e1", "BRANCH", "DECLINED"),
        offer_event("e2", "CALL_CENTER", "ACCEPTED", T0 + MINUTE),
    )
    assert [c for c in batch.counts if c[0] == "presented_after_answer"] == [
        ("presented_after_answer", ("CALL_CENTER",))
    ]
    assert person.offers["savings"].status is OfferStatus.ACCEPTED
    drifted = Batch()
    record(customer(), offer_event("e3", "BRANCH", "NOT_NOW"), offer("savings", version=2), SETTINGS, drifted)
    assert ("version_drift", ("BRANCH",)) in drifted.counts


# --- a representative's record in later versions: one pitch, its newer answer (bus.offer_presentations.pitch_of) ---


def versions(state: CustomerState, *events: Event) -> Batch:
    batch = Batch()
    for event in events:
        if not state.seen(event.value["envelope"]["event_id"]):  # as the engine does (``CustomerState.seen``)
            state.mark(event.value["envelope"]["event_id"])
            record(state, event, offer(event.value["offer_id"]), SETTINGS, batch)
    return batch


def pitch_versions(batch: Batch) -> list[str]:
    return [labels[1] for name, labels in batch.counts if name == "pitch_version"]


def test_a_later_ctr_version_recording_the_acceptance_applies_it_to_the_same_presentation() -> None:
    """The offers49 finding: the first version of the call's CTR said ``presented``, the later one ``accepted``; the
    acceptance had the first one's event id and was dropped (the offer not withdrawn). It is applied now, and the
    pitch stays one presentation in the ledger and the metric."""
    presented_first, accepted = published_answers("presented", "accepted")
    person = customer()
    batch = versions(person, presented_first, accepted)
    (row,) = person.ledger
    assert row[1:3] == ["CALL_CENTER", "fibre-upgrade"] and row[3].startswith("CALL_CENTER|amazon-connect|call:")
    state = person.offers["fibre-upgrade"]
    assert state.status is OfferStatus.ACCEPTED and state.presentations == 1
    assert presented(batch) == ["CALL_CENTER"] and pitch_versions(batch) == ["revised"]
    assert ("response", ("ACCEPTED", "CALL_CENTER")) in batch.counts


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1), (0, 2, 1), (1, 0, 2)], ids=str)
def test_any_order_of_the_versions_gives_one_presentation_and_the_newest_answer(order: tuple[int, ...]) -> None:
    """An older version read after a newer one (another partition, a re-driven dead letter) is not applied."""
    published = published_answers("presented", "declined", "accepted")
    person = customer()
    batch = versions(person, *(published[index] for index in order))
    assert len(person.ledger) == 1 and person.offers["fibre-upgrade"].status is OfferStatus.ACCEPTED
    assert person.offers["fibre-upgrade"].presentations == 1 and presented(batch) == ["CALL_CENTER"]
    stale = sum(1 for n, index in enumerate(order) if any(index < earlier for earlier in order[:n]))
    assert pitch_versions(batch).count("stale") == stale


def test_a_version_with_the_same_answer_is_a_copy() -> None:
    first, same = published_answers("declined", "declined")
    person = customer()
    batch = versions(person, first, same, first)
    assert len(person.ledger) == 1 and presented(batch) == ["CALL_CENTER"] and pitch_versions(batch) == []
    assert [name for name, _ in batch.counts].count("response") == 1


def test_a_copy_past_the_remembered_ids_changes_nothing() -> None:
    presented_first, accepted = published_answers("presented", "accepted")
    person = customer()
    batch = apply(person, presented_first, accepted, accepted, presented_first)
    assert len(person.ledger) == 1 and pitch_versions(batch) == ["revised", "stale"]


def test_a_merge_keeps_the_newest_version_of_a_pitch() -> None:
    """Two versions applied on two customers identity merges later: one row, the newer version's."""
    presented_first, accepted = published_answers("presented", "accepted")
    survivor, merged = customer("cus_1"), customer("cus_2")
    versions(survivor, accepted)
    versions(merged, presented_first)
    for one in (customer_state.merge(survivor, merged), customer_state.merge(merged, survivor)):
        (row,) = one.ledger
        assert row == survivor.ledger[0]


def test_two_pitches_of_one_offer_at_the_counter_stay_two_presentations() -> None:
    """docs/kpis.md, "One record per pitch": two records (two presentation ids) are two presentations; only versions
    of one record (one presentation id) are one."""
    person = customer()
    first, second = offer_event("e1", "BRANCH"), offer_event("e2", "BRANCH", "ACCEPTED", T0 + MINUTE)
    corrected = Event(second.schema, {**second.value, "response": "DECLINED",
                                      "envelope": {**second.value["envelope"], "event_id": "e3",
                                                   "received_at": T0 + 2 * MINUTE}})
    batch = versions(person, first, second, corrected)
    assert len(person.ledger) == 2 and person.offers["savings"].presentations == 2
    assert pitch_versions(batch) == ["revised"]
