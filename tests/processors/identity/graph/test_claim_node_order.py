"""A claim and the contacts on their way to the giver, in every arrival order (issue #8 point 5, ``moved_off.py``).

Ann's record (minute 5) made her customer with the family phone; Bob's (minute 1, the earlier) claims it
(``claim_node.py``). A call from the phone without IVR traits was on its way: its saga read the phone's owner, Ann,
before Bob's claim moved it, and its ``apply`` reached Ann after the ``give``. Applied at Ann before the claim, the
claim takes such a contact to Bob (``split_contacts.hand_over``, untold); arriving after it, it went to Bob too; in
between it stayed on Ann's screen pop for good (splitflake's note). The rule, whatever the order: the phone and the
untold call are Bob's; a visit that carried Ann's account with the phone is Ann's (its highest-priority identifier
stayed); a contact that told its person (traits) stays where the matcher put it.
"""

from __future__ import annotations

import itertools
from collections import deque

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bus.serde import SerdeContext
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.outputs import Resolved, Send
from processors.identity.graph.state import CustomerState
from processors.identity.intake import event_ref
from tests.processors.identity.graph.test_claim_node import ANN, BOB, PHONE, observe
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import SERIALIZER, Harness, interaction, matcher_settings

CONTACTS = "contact.events.v1"
ANNS, BOBS = ("ACCOUNT", "1000001"), ("ACCOUNT", "2000002")


def ann(h: Harness) -> str:
    observe(h, ANNS[1], ANN, 5)
    customer = h.customer(*ANNS)
    assert customer is not None and h.customer(*PHONE) == customer
    return customer


def in_flight(h: Harness, bob_first: bool = True) -> dict[str, str]:
    """Bob's record and two contacts, fed without delivering anything: name -> event id."""
    from bus.serde import Event
    from tests.processors.identity.support import envelope, ident

    bob = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=1), "identifiers": [ident(*BOBS), ident(*PHONE)], "traits": BOB})
    contacts = {"CALL": interaction([PHONE], interaction_id="CALL", minutes=7),
                "VISIT": interaction([ANNS, PHONE], channel="BRANCH", kind="COUNTER_TRANSACTION",
                                     interaction_id="VISIT", minutes=8)}
    if bob_first:
        h.feed(bob, topic="identity.observed.v1", settle=False)
    for event in contacts.values():
        h.feed(event, settle=False)
    if not bob_first:
        h.feed(bob, topic="identity.observed.v1", settle=False)
    return {name: str(event.value["envelope"]["event_id"]) for name, event in contacts.items()}


def run_holding(h: Harness, event_id: str, held_for: int) -> list[str]:
    """Deliver everything, the ``apply`` of ``event_id`` (each copy) ``held_for`` deliveries after it was sent; the
    nodes the held ones were sent to."""
    held: deque[tuple[int, Send]] = deque()
    released: set[int] = set()  # a held message delivered once released (and its duplicates: the same object)

    def release() -> None:
        send = held.popleft()[1]
        released.add(id(send.message))
        h.local.submit([send])

    nodes: list[str] = []
    while True:
        while held and held[0][0] <= h.local.delivered:
            release()
        for queue in h.local.queues:  # hold the apply wherever it is next
            while held_for and queue and isinstance(message := queue[0][1], Apply) \
                    and message.event_id == event_id and id(message) not in released:
                held.append((h.local.delivered + held_for, Send(*queue.popleft())))
                nodes.append(held[-1][1].node)
        if not h.local.step():
            if not held:
                return nodes
            release()


def assert_the_claim_rule(h: Harness, anns: str, ids: dict[str, str], case: object) -> None:
    bobs = h.customer(*BOBS)
    assert bobs is not None and bobs != anns and h.customer(*PHONE) == bobs, case
    assert contact_ids(h, bobs) == ["CALL"], case
    assert contact_ids(h, anns) == ["VISIT"], case
    resolved = h.decisions(Resolved)
    assert [d.customer_id for d in resolved if d.triggering_event_id == ids["CALL"]][-1] == bobs, case
    assert {d.customer_id for d in resolved if d.triggering_event_id == ids["VISIT"]} == {anns}, case
    h.local.check_consistent()


def test_a_claim_at_every_point_of_the_calls_way_ends_by_the_claim_rule() -> None:
    """One partition, the untold call's ``apply`` delivered 0, 1, 2, ... messages after it was sent, so the claim's
    ``give`` reaches Ann before it at some point (the call stayed on Ann's screen pop then)."""
    stale = 0
    for held_for in range(60):
        h = Harness(matcher_settings())
        anns = ann(h)
        ids = in_flight(h)
        sent_to = run_holding(h, ids["CALL"], held_for)
        assert_the_claim_rule(h, anns, ids, held_for)
        # Sent to Ann, applied once, at Bob's: its apply reached Ann after the give (it stayed there before).
        resolved = [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == ids["CALL"]]
        stale += sent_to[:1] == [anns] and resolved == [h.customer(*BOBS)]
    assert stale > 0


def test_in_any_interleaving_and_with_duplicates_the_untold_call_follows_the_claim() -> None:
    for seed, partitions, bob_first, held_for in itertools.product(range(4), (3, 7), (True, False), (0, 12, 30)):
        h = Harness(matcher_settings(), partitions=partitions, seed=seed, duplicates=0.3)
        anns = ann(h)
        ids = in_flight(h, bob_first)
        run_holding(h, ids["CALL"], held_for)
        assert_the_claim_rule(h, anns, ids, (seed, partitions, bob_first, held_for))


@hypothesis_settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), partitions=st.sampled_from([1, 3, 7]), held_for=st.integers(0, 80),
       duplicates=st.sampled_from([0.0, 0.3]), bob_first=st.booleans())
def test_the_claim_rule_holds_for_any_delay_of_the_call(seed: int, partitions: int, held_for: int,
                                                         duplicates: float, bob_first: bool) -> None:
    h = Harness(matcher_settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    anns = ann(h)
    ids = in_flight(h, bob_first)
    run_holding(h, ids["CALL"], held_for)
    assert_the_claim_rule(h, anns, ids, (seed, partitions, held_for, duplicates, bob_first))


def test_a_late_contact_that_told_its_person_or_claims_the_phone_stays_with_the_giver() -> None:
    """After the claim, ``apply``s of calls from the phone whose sagas read Ann as its owner reach Ann: an untold
    one follows the phone to Bob; one with its caller's traits stays (the matcher placed it by them: a claim's
    hand-over leaves it too); one that ranks first on the phone stays (its own claim decides who keeps it)."""
    h = Harness(matcher_settings())
    anns = ann(h)
    in_flight(h)
    h.local.run()
    bobs = h.customer(*BOBS)
    phone = h.key(*PHONE)
    state = h.local.store.nodes[anns]
    assert isinstance(state, CustomerState) and phone in state.split_off
    lands = {}
    for name, traits, claims in (("UNTOLD", None, []), ("TOLD", state.traits, []),
                                 ("CLAIMS", None, [phone])):
        event = interaction([PHONE], interaction_id=name, minutes=9)
        ref = event_ref(CONTACTS, event, SERIALIZER(event, SerdeContext(topic=CONTACTS)))
        event_id = str(event.value["envelope"]["event_id"])
        h.local.submit([Send(anns, Apply(event_id, 0.0, traits, ref, claims=claims, channel="CALL_CENTER",
                                         carried=[phone]))])
        h.local.run()
        lands[name] = [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id]
    assert lands == {"UNTOLD": [bobs], "TOLD": [anns], "CLAIMS": [anns]}
