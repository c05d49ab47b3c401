"""An offer answer or presentation counts for the customer identity placed its contact on (tester19 F10).

Identity does not re-publish offer events, but it re-publishes their contact (the counter visit, the call, the web
track) on ``customer.contacts.v1`` keyed by the customer the screen pop shows it on; the offer event shares the
contact's ``correlation_id``. The identifier rule (the most specific identifier decides) is only the fallback for an
offer event with no contact of its own (``test_engine_placement``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bus.serde import Event
from processors.offers.answers import PRESENTED, RESPONDED
from processors.offers.campaigns import defined
from processors.offers.outputs import Batch
from processors.offers.store import Stores
from tests.processors.offers.factories import envelope, ident, offer
from tests.processors.offers.world import World, actions

# The Girard household: one landline and one e-mail, both kept by Paul; each their own contract.
PAUL, MARIE = "cus_paul", "cus_marie"
LANDLINE, FAMILY_EMAIL = "PHONE:+33476554433", "EMAIL:girard.famille@laposte.net"
PAUL_ACCOUNT, MARIE_ACCOUNT, MARIE_WEB = "ACCOUNT:EL-7700011", "ACCOUNT:EL-7700012", "USER_ID:web-marie-63"
OFFER = "green-tariff"


def household(*marie_keys: str) -> World:
    world = World()
    world.created(PAUL, PAUL_ACCOUNT, LANDLINE, FAMILY_EMAIL)
    world.created(MARIE, *marie_keys)
    world.feed(defined(offer(OFFER, channels=["WEB", "CALL_CENTER", "BRANCH"])))
    return world


def contact(world: World, channel: str, kind: str, *keys: str, correlation: str | None = None,
            received_after_s: int = 0) -> Event:
    """An InteractionRecorded; its correlation is its own id unless given (a call's versions share the call's)."""
    event_id = world.id()
    env = {**envelope(event_id, world.now, channel), "correlation_id": correlation or event_id,
           "received_at": world.now + timedelta(seconds=received_after_s)}
    return Event("omnibus.contact.InteractionRecorded", {
        "envelope": env, "interaction_id": event_id, "customer_identifiers": [ident(k) for k in keys], "kind": kind,
        "name": "bill-enquiry", "outcome": "RESOLVED", "agent_id": None, "duration_ms": None, "properties": {}})


def offer_event(world: World, of: Event, *keys: str, schema: str = RESPONDED, response: str = "DECLINED") -> Event:
    """The offer event mapped from the same source record as the contact ``of`` (same correlation id)."""
    channel = of.value["envelope"]["channel"]
    env = {**envelope(world.id(), world.now, channel), "correlation_id": of.value["envelope"]["correlation_id"]}
    value: dict[str, Any] = {"envelope": env, "offer_id": OFFER, "offer_version": 1, "channel": channel,
                             "customer_identifiers": [ident(k) for k in keys], "agent_id": None,
                             "presentation_id": "p-1"}
    return Event(schema, {**value, "response": response} if schema == RESPONDED else value)


def placed(world: World, event: Event, customer_id: str, moved_from: str | None = None) -> Batch:
    """Identity's copy of ``event`` on customer.contacts.v1 under ``customer_id``."""
    stores, batch = Stores(*world.tables), Batch()
    world.engine.handle(stores, event, customer_id, batch, from_contacts=True, moved_from=moved_from)
    stores.commit()
    return batch


def status(world: World, customer_id: str) -> str:
    return str(world.customer(customer_id)["offers"][OFFER]["status"])


def withdrawn_for(*batches: Batch) -> set[str]:
    return {customer for batch in batches for action, _, customer, _ in actions(batch) if action == "WITHDRAW"}


@pytest.mark.parametrize("answer_first", [True, False], ids=["answer-first", "visit-first"])
def test_the_tester_sample_a_decline_at_the_counter_goes_to_marie_where_identity_placed_her_visit(
        answer_first: bool) -> None:
    """Marie at the counter, found by the family landline (Paul's); identity placed the visit on her by her name and
    birth date. Her decline withdraws the offer for her on every push channel, never for Paul."""
    world = household(MARIE_ACCOUNT, MARIE_WEB)
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    decline = offer_event(world, visit, LANDLINE)
    batches = [world.feed(decline), placed(world, visit, MARIE)] if answer_first else [
        placed(world, visit, MARIE), world.feed(decline)]
    assert status(world, MARIE) == "DECLINED" and status(world, PAUL) != "DECLINED"
    assert withdrawn_for(*batches) == {MARIE}
    assert sorted(c for _, c, who, _ in actions(batches[-1]) if who == MARIE) == ["BRANCH", "CALL_CENTER"]


def test_a_pitch_at_the_counter_counts_for_maries_caps_not_pauls() -> None:
    world = household(MARIE_ACCOUNT)
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    placed(world, visit, MARIE)
    world.feed(offer_event(world, visit, LANDLINE, schema=PRESENTED))
    assert [row[2] for row in world.customer(MARIE)["ledger"]] == [OFFER] and not world.customer(PAUL)["ledger"]


def test_a_call_from_the_landline_with_maries_account_goes_to_her_whatever_the_order_of_the_calls_versions() -> None:
    """The offers processor has not heard of Marie's account yet (its link comes later), so the identifier rule
    gave the answer to the landline's keeper. Identity placed the call's first, untold version on Paul and its
    updated version (the IVR's account and name) on Marie: the newer version decides, in either arrival order, and
    the redelivered answer counts once."""
    world = household(MARIE_WEB)
    untold = contact(world, "CALL_CENTER", "CALL", LANDLINE, correlation="call-7")
    told = contact(world, "CALL_CENTER", "CALL", LANDLINE, MARIE_ACCOUNT, correlation="call-7", received_after_s=30)
    decline = offer_event(world, told, LANDLINE, MARIE_ACCOUNT)
    batches = [placed(world, told, MARIE), world.feed(decline), placed(world, untold, PAUL), world.feed(decline)]
    assert status(world, MARIE) == "DECLINED" and status(world, PAUL) != "DECLINED"
    assert withdrawn_for(*batches) == {MARIE}
    assert [labels for batch in batches for metric, labels in batch.counts if metric == "response"] == [
        ("DECLINED", "CALL_CENTER")]


def test_a_web_answer_with_the_shared_email_and_her_own_user_id_goes_to_marie_before_her_user_id_is_linked() -> None:
    world = household(MARIE_ACCOUNT)
    track = contact(world, "WEB", "WEB_EVENT", FAMILY_EMAIL, MARIE_WEB)
    decline = offer_event(world, track, FAMILY_EMAIL, MARIE_WEB)
    world.feed(decline)  # waits for the track's placement, not for the e-mail's keeper
    assert status(world, PAUL) != "DECLINED"
    placed(world, track, MARIE)
    assert status(world, MARIE) == "DECLINED" and status(world, PAUL) != "DECLINED"


def test_an_answer_follows_its_visit_an_operator_moved_and_a_late_original_copy_does_not_take_it_back() -> None:
    world = household(MARIE_ACCOUNT)
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    placed(world, visit, PAUL)
    moved = Event(visit.schema, {**visit.value, "envelope": {**visit.value["envelope"], "event_id": "moved-1",
                                                             "causation_id": visit.value["envelope"]["event_id"]}})
    placed(world, moved, MARIE, moved_from=PAUL)
    placed(world, visit, PAUL)  # the original redelivered after the move
    world.feed(offer_event(world, visit, LANDLINE))
    assert status(world, MARIE) == "DECLINED" and status(world, PAUL) != "DECLINED"
