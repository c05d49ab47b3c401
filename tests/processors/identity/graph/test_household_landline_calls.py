"""Tester20 F2: the housemates' own calls and visits on a household's landline, in every arrival order.

The accounts export of ``test_household_landline`` (Alice GOLD and Bob STANDARD, one line each, both with the
landline +33144556677 and dated alike: the import's time), then (a) a CTR from the landline whose IVR took Bob's
own account number, (b) a CTR from it with Bob's name and birth date, (c) a counter visit by Alice with the landline
and her name and birth date. In every arrival order of the five: Bob's account is never refused between Alice and
Bob (nothing but his own records and his own call carried it), each call's or visit's events all land on its
person, and once both lines are in the landline stays with the customer the lines alone leave it on
(docs/subscribers.md: the customer of the earliest event that carried it), whoever identifies himself afterwards.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Refused, Resolved
from processors.identity.rules import MATCH_REVIEW
from tests.adapters.branch.support import branch_settings
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED
from tests.processors.identity.graph.test_family_plan import feed
from tests.processors.identity.graph.test_household_landline import (
    HOUSEHOLDS,
    account_line,
    landline_call,
    lines_alone,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

Item = tuple[Event, str]
VISITED = datetime(2025, 3, 2, 8, 30, tzinfo=UTC)  # after the import (08:00), before the calls (09:09)


def keeper_visit(household: str) -> list[Item]:
    """The keeper's counter transaction with the landline and her name and birth date, through the branch mapper."""
    landline, _, people = HOUSEHOLDS[household]
    person = next(iter(people.values()))
    native = {"event_id": f"{household}-visit", "kind": "transaction", "occurred_at": VISITED.isoformat(),
              "agent_id": "E-1", "identifiers": [{"type": "PHONE", "value": landline}],
              "customer": {name: person[name] for name in ("given_name", "family_name", "birth_date")},
              "transaction": {"id": f"TX-{household}", "type": "payment", "status": "completed", "counter_id": "C1"}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in mapper(native, terminal_id="CT-0142-01", branch_id="0142", received_at=VISITED).events]


def blocks(household: str) -> list[list[Item]]:
    """0, 1: the keeper's and the housemate's lines; 2: the account call; 3: the name call; 4: the keeper's visit."""
    _, _, people = HOUSEHOLDS[household]
    return [*(account_line(household, account) for account in people),
            landline_call(household, "account"), landline_call(household, "dob"), keeper_visit(household)]


def ended(h: Harness, items: list[Item]) -> set[str]:
    """Where the contact events ``items`` are now: each one's latest placement (a claim's correction re-publishes a
    contact under its new customer), followed through merges."""
    ids = {event.value["envelope"]["event_id"] for event, _ in items}
    last = {r.triggering_event_id: r.customer_id for r in h.decisions(Resolved) if r.triggering_event_id in ids}
    return {root(h, customer) for customer in last.values()}


def problems(household: str, order: tuple[int, ...]) -> list[str]:
    """What goes wrong when the blocks arrive in ``order``, each settled on arrival (empty: nothing)."""
    _, number, people = HOUSEHOLDS[household]
    housemate_account = list(people)[1]
    made = blocks(household)
    h = Harness(matcher_settings())
    kept: set[str] = set()
    found: list[str] = []
    for step, index in enumerate(order):
        feed(h, made[index])
        if {0, 1} <= set(order[:step + 1]):
            kept.add(root(h, h.customer("PHONE", number) or ""))
    h.local.check_consistent()
    alice, bob = (root(h, h.customer("ACCOUNT", account) or "") for account in people)
    def name(customer: str) -> str:
        return "alice" if customer == alice else "bob" if customer == bob else "other"

    if not alice or not bob or alice == bob:
        return ["the housemates are not two customers"]
    refused = [r for r in h.decisions(Refused) if r.identifier == h.key("ACCOUNT", housemate_account)]
    if refused:
        found.append(f"the housemate's account refused {len(refused)}x: {refused[0].reason}")
    for what, index, person in (("account call", 2, bob), ("name call", 3, bob), ("visit", 4, alice)):
        on = ended(h, [item for item in made[index] if item[1] == CONTACTS])
        if on != {person}:
            found.append(f"{what} on {sorted(name(c) for c in on)}")
    alone = lines_alone(order, made[:2])
    expected = {root(alone, alone.customer("PHONE", number) or "")}
    if {account for account in people if {root(alone, alone.customer("ACCOUNT", account) or "")} == expected} != {
            account for account in people if {root(h, h.customer("ACCOUNT", account) or "")} == kept}:
        found.append(f"landline kept by {sorted(name(c) for c in kept)}")
    return found


ORDERS = list(itertools.permutations(range(5)))
# The account call first, the keeper's visit next: the call made a customer of the account and the landline, which
# the visit (the landline and her name) joined unweighed; the housemate's line was then refused against it through his
# own account (two people: announced) and his record's earlier rank claimed the account back, the account's node
# keeping the keeper's customer as kept apart through it (his screen pop said "shared"); in gina-hugo the lines' claims
# of the landline also left the visit on him when his line came before hers.
CALL_THEN_VISIT = [order for order in ORDERS if order[:2] == (2, 4)]


def test_the_sample_the_lines_then_the_two_calls_then_the_visit() -> None:
    """F2 as reported: the export, the account call, the name call, then Alice's counter visit."""
    assert problems("alice-bob", (0, 1, 2, 3, 4)) == []


@pytest.mark.parametrize("household", HOUSEHOLDS)
def test_every_arrival_order_of_the_lines_the_calls_and_the_visit(household: str) -> None:
    """The 120 orders but ``CALL_THEN_VISIT``. Before ``deciding.past_the_line`` and ``split_contacts.held_at_claim``
    the account call stayed on the keeper in 15 (gina-hugo: the name call or the visit made the landline two
    people's before it, or it came first and the keeper's visit joined its customer). The landline never changed
    keeper once both lines were in, on the parent either (the tester's flips came from the record ranking after
    every call: tester20 F7)."""
    failed = {order: found for order in ORDERS if order not in CALL_THEN_VISIT and (found := problems(household, order))}
    assert not failed, f"{len(failed)}/{len(ORDERS)}: " + "; ".join(f"{o}: {f}" for o, f in list(failed.items())[:8])


@pytest.mark.parametrize("household", HOUSEHOLDS)
@pytest.mark.parametrize("order", CALL_THEN_VISIT, ids=str)
def test_the_account_call_first_and_the_keepers_visit_next(household: str, order: tuple[int, ...]) -> None:
    """The visit, which occurred before the call, leaves the call's customer (no traits, the account planned before
    the landline) for its own, which claims the landline, as when it came first and the call's account was weighed
    against it through the landline (``own_customer.before_the_call``); the housemate's line then joins the call's
    customer through his account (strict xfail before)."""
    assert problems(household, order) == []


@pytest.mark.parametrize("household", HOUSEHOLDS)
@pytest.mark.parametrize("calls", [(2,), (3,), (2, 3)], ids=["account", "dob", "both"])
@pytest.mark.parametrize("lines_first", [True, False], ids=["lines-first", "lines-last"])
def test_a_calls_events_one_by_one_in_every_order_end_on_its_caller(
        household: str, calls: tuple[int, ...], lines_first: bool) -> None:
    """F2's split call (its CallCompleted on the keeper, its InteractionRecorded on the housemate): each call's three
    events (two contact events and the IVR record) settled one by one in every order, before or after the two lines
    (both calls' six: 40 of the 720 orders, drawn). Each contact event ends on the housemate (all 720 held on the
    parent too)."""
    _, _, people = HOUSEHOLDS[household]
    made = blocks(household)
    events = [item for index in calls for item in made[index]]
    orders = list(itertools.permutations(events))
    for order in orders if len(orders) < 40 else random.Random(len(calls)).sample(orders, 40):
        h = Harness(matcher_settings())
        feed(h, [*made[0], *made[1], *order] if lines_first else [*order, *made[0], *made[1]])
        housemate = root(h, h.customer("ACCOUNT", list(people)[1]) or "")
        for index in calls:
            assert ended(h, [item for item in made[index] if item[1] == CONTACTS]) == {housemate}, index


@pytest.mark.parametrize("household", HOUSEHOLDS)
def test_the_keepers_own_account_call_and_visit_one_customer_once_her_line_is_in(household: str) -> None:
    """The kind of ``CALL_THEN_VISIT`` in a home of one: the keeper's call with her own account and her visit (which
    occurred before it) are two customers in both orders until her line comes (the visit joined the call's customer
    when it came second, and the call was kept apart from the visit's under review when it came first), and one in the
    6 orders once it is in, holding her account and the landline, every contact on it, nothing refused but the
    review."""
    _, number, people = HOUSEHOLDS[household]
    account = next(iter(people))
    made = [account_line(household, account), landline_call(household, "account", keeper=True), keeper_visit(household)]
    for order in [*itertools.permutations((1, 2)), *itertools.permutations(range(3))]:
        h = Harness(matcher_settings())
        for index in order:
            feed(h, made[index])
        h.local.check_consistent()
        keeper = {root(h, h.customer("PHONE", number) or ""), root(h, h.customer("ACCOUNT", account) or "")}
        assert len(keeper) == (1 if 0 in order else 2), order
        for index in order:
            assert ended(h, [item for item in made[index] if item[1] == CONTACTS]) <= keeper, (order, index)
        assert {r.lineage.rule for r in h.decisions(Refused)} <= {MATCH_REVIEW}, order
