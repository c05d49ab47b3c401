"""A web login and a later IVR-less call from its phone, both in flight: every interleaving (tester16 F3).

A = web ``identify`` at minute 0 ({user id, e-mail, phone}, traits ``firstName`` "P16", ``lastName`` "Load": the web
mapper keeps only ``family_name``), B = a Connect CTR from the phone 11 days later without IVR attributes
(``CallCompleted``, ``InteractionRecorded``, ``IdentifiersObserved`` of the phone). Time order gives one customer
holding the user id, the e-mail, the phone and the call. Here the graph messages of A and of B's three events are
interleaved: A runs ``n`` messages, then B's, then the rest (and B ``n`` then A).

It fails whenever a B saga visits the phone before A does, also fully sequentially (B settled, then A):
1. B's ``visit`` finds the phone new and reserves it; B's ``create`` makes a phone-only customer P (no traits).
2. A visits EMAIL (new), PHONE (owned by P: A lowers ``first_rank``, ``rekey``), USER_ID; it plans USER_ID, EMAIL
   pending, then PHONE brings P: ``join`` at P (``customer_join.on_join``), weighed: prior -12.0 + PHONE +13.6 =
   +1.6 bits, between refuse and ``MATCH_MERGE_AT`` 6: ``match-review``.
3. Whether A's side claims the phone is decided there on A's traits only (``contest.claims_on``): ``contests`` needs a
   given name or birth date (A has a family name only) and the "nothing tells them apart" arm needs no trait on any
   side (A has one). Neither: PHONE is not contested, A's ``create`` makes U {user id, e-mail}, no ``claim``, and P,
   whose only member is the phone and whose only contacts are untold, keeps it (the later event) with the call.
With a given name (``Ola``, the tester's one-at-a-time script) or no name at all the claim runs
(``claim_node.on_give`` dissolves P into U, call and all): every interleaving passes. So it is an order of arrival at
the phone (B's one visit beats A's second), not concurrency as such, made likely by 8 senders.

The fix: a review between an event and a customer whose side has no trait claims by rank whatever the event's
own traits (``contest.claims_on``): the earliest event's customer keeps the phone, and the dissolve merge gives the
time-order result. These cases failed before it (the 'family-only' variant once B reached the phone first).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from bus.serde import Event, SerdeContext
from processors.identity.graph.outputs import Resolved, Send
from processors.identity.graph.state import CustomerState
from processors.identity.intake import event_ref
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED, segment
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import SERIALIZER, Harness, matcher_settings

USER, EMAIL, PHONE = ("USER_ID", "u-ld02-16"), ("EMAIL", "ld02.16@example.fr"), ("PHONE", "+33670200016")
NAMES = {"family-only": {"firstName": "P16", "lastName": "Load"},  # the tester's load: given name dropped
         "given": {"firstName": "Ola", "lastName": "Order"}, "none": {}}
IDENTIFY, CALL = "identify", "call"


def events(names: dict[str, str]) -> dict[str, list[tuple[Event, str]]]:
    """A's identify (2025-03-01 09:00) and B's CTR events (2025-03-12), by flow."""
    [identify] = segment({"type": "identify", "userId": USER[1],
                          "traits": {"email": EMAIL[1], "phone": PHONE[1], **names}})
    record = ctr(CustomerEndpoint={"Address": PHONE[1], "Type": "TELEPHONE_NUMBER"}, Attributes={})
    native = json.loads(json.dumps(record).replace("2024-03-05T", "2025-03-12T"))
    call = [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in map_ctr(native, context()).events]
    return {IDENTIFY: [identify], CALL: call}


def contacts_of(flows: dict[str, list[tuple[Event, str]]]) -> list[str]:
    """The event ids of B's contact events (``CallCompleted``, ``InteractionRecorded``)."""
    return [str(event.value["envelope"]["event_id"]) for event, topic in flows[CALL] if topic == CONTACTS]


def run(names: dict[str, str], first: str, steps: int) -> tuple[Harness, list[str]]:
    """Both flows in flight; ``first`` delivers ``steps`` of its messages, the other all of its own, then the rest.
    A message's outputs join the queue of the flow that delivered it. Returns the harness and B's contact ids."""
    h = Harness(matcher_settings())
    flows = events(names)
    queues: dict[str, deque[Send]] = {}
    for flow, items in flows.items():
        queues[flow] = deque()
        for event, topic in items:
            raw = SERIALIZER(event, SerdeContext(topic=topic))
            for output in h.intake.start(event, event_ref(topic, event, raw)):
                queues[flow].append(output) if isinstance(output, Send) else h.local.decisions.append(output)

    def deliver(flow: str, limit: int) -> None:
        queue = queues[flow]
        for _ in range(limit):
            if not queue:
                return
            send = queue.popleft()
            for output in h.local.graph.handle(h.local.store, send.node, send.message):
                queue.append(output) if isinstance(output, Send) else h.local.decisions.append(output)

    second = CALL if first == IDENTIFY else IDENTIFY
    deliver(first, steps)
    while any(queues.values()):
        deliver(second, 10_000)
        deliver(first, 10_000)
    return h, contacts_of(flows)


def root(h: Harness, customer: str) -> str:
    while isinstance(state := h.local.store.nodes.get(customer), CustomerState) and state.parent:
        customer = state.parent
    return customer


def assert_time_order(h: Harness, contacts: list[str], case: Any) -> None:
    """One customer holds the user id, the e-mail, the phone and the call (both contact events resolved there)."""
    h.local.check_consistent()
    customer = h.customer(*USER)
    assert customer is not None and h.customer(*EMAIL) == customer == h.customer(*PHONE), case
    assert len(h.local.roots()) == 1, case
    # Resolved where it was applied; a customer merged later carries it along (``CustomerMerged`` re-keys it).
    applied = {d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id in contacts}
    assert {root(h, c) for c in applied} <= {customer}, case
    assert len(contact_ids(h, customer)) == 1, case


# Each flow alone delivers 7-8 messages: A's first two visit EMAIL and PHONE (key order); once A has visited the
# phone, B's visits find it reserved or owned and every order passes. B's first message visits the phone.
IDENTIFY_STEPS, CALL_STEPS = 8, 8


def cases() -> list[Any]:
    out = []
    for variant in NAMES:
        for first, count in ((IDENTIFY, IDENTIFY_STEPS), (CALL, CALL_STEPS)):
            for steps in range(count + 1):
                out.append(pytest.param(variant, first, steps, id=f"{variant}-{first}-{steps}"))
    return out


@pytest.mark.parametrize(("variant", "first", "steps"), cases())
def test_a_login_and_its_later_call_in_flight_end_as_in_time_order(variant: str, first: str, steps: int) -> None:
    h, contacts = run(NAMES[variant], first, steps)
    assert_time_order(h, contacts, (variant, first, steps))


@pytest.mark.parametrize("variant", list(NAMES))
@pytest.mark.parametrize(("partitions", "seed"), [(3, 0), (3, 1), (7, 2), (7, 3)])
def test_all_four_events_shuffled_on_partitions_end_as_in_time_order(variant: str, partitions: int, seed: int) -> None:
    """The harness's own scheduler (a FIFO per partition, a seeded pick): B's visit of the phone is first on its
    partition, A's comes after its visit of EMAIL, so B reaches the phone first in every seed tried (0-15)."""
    h = Harness(matcher_settings(), partitions=partitions, seed=seed)
    flows = events(NAMES[variant])
    for event, topic in [*flows[IDENTIFY], *flows[CALL]]:
        h.feed(event, topic, settle=False)
    h.local.run()
    assert_time_order(h, contacts_of(flows), (variant, partitions, seed))


def test_time_order_settled_one_by_one_is_one_customer_without_review() -> None:
    """The reference: A settled (``steps`` beyond its length), then B."""
    from processors.identity.graph.outputs import ReviewRequested

    h, contacts = run(NAMES["family-only"], IDENTIFY, 10_000)
    assert_time_order(h, contacts, "time order")
    assert h.decisions(ReviewRequested) == []
