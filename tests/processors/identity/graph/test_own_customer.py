"""A record of another person than the customer it reached unweighed makes its own customer
(``graph/own_customer.py``; issue #8 point 5, property draw 5443)."""

from __future__ import annotations

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Created, Linked, Resolved
from processors.identity.graph.state import CustomerState
from processors.identity.rules import EARLIEST_CLAIM
from tests.processors.identity.support import UNLIMITED, Harness, envelope, ident, matcher_settings

# One person's two spoilt records that the matcher refuses as one ("anx" born 1950, "ann" without a birth date):
# who is whose depends only on what each record ranks first on, not on which arrived first.
ANX = {"given_name": "Anx", "family_name": "Martin", "birth_date": "1950-01-10", "address_line": "0 rue de la Paix",
       "postcode": "75000"}
ANN = {"given_name": "Ann", "family_name": "Martin", "address_line": "0 rue de la Paix", "postcode": "75000"}
PERSONAL, HOME, LOGIN = ("EMAIL", "p0@example.org"), ("EMAIL", "home0@example.org"), ("USER_ID", "u-0")


def record(identifiers: list[tuple[str, str]], traits: dict[str, str], minutes: int, event_id: str) -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=minutes, event_id=event_id),
        "identifiers": [ident(k, v) for k, v in identifiers], "traits": traits,
    })


def replay(records: list[Event], *, reverse: bool) -> Harness:
    h = Harness(matcher_settings(shared_after=dict(UNLIMITED), max_per_customer=dict(UNLIMITED)))
    for item in reversed(records) if reverse else records:
        h.feed(item, topic="identity.observed.v1")
    h.local.check_consistent()
    return h


def clusters(h: Harness) -> set[frozenset[str]]:
    return {frozenset(state.members) for state in h.local.store.nodes.values()
            if isinstance(state, CustomerState) and state.created and not state.parent and state.members}


def resolved_to(h: Harness, event_id: str) -> list[str]:
    """The customers a record was applied to, each as its root now (a merged one's contacts moved along)."""
    def root(customer: str) -> str:
        while isinstance(state := h.local.store.nodes.get(customer), CustomerState) and state.parent:
            customer = state.parent
        return customer

    return [root(r.customer_id) for r in h.decisions(Resolved) if r.triggering_event_id == event_id]


@pytest.mark.parametrize("reverse", [False, True], ids=["earlier first", "later first"])
def test_a_record_that_ranks_first_on_identifiers_of_another_persons_customer_makes_its_own(reverse: bool) -> None:
    """"Anx" (minute 0: the personal and the home e-mail) and "Ann" (minute 22: her login and both e-mails). In
    time order Anx's record makes a customer with both e-mails and Ann's is refused against it: the login alone
    is hers. Arriving first, Ann's record took all three; Anx's then reached that customer through e-mails it
    already held, with no link decided, and was applied there feeding nothing: the e-mails stayed with Ann.
    Now the record is weighed at its ``apply``: refused, it makes the customer it would have made and claims the
    e-mails it ranks first on. The same customers in both orders, each record on its own."""
    anx, ann = record([PERSONAL, HOME], ANX, 0, "rec-anx"), record([LOGIN, PERSONAL, HOME], ANN, 22, "rec-ann")
    h = replay([anx, ann], reverse=reverse)
    key = h.key
    assert clusters(h) == {frozenset({key(*PERSONAL), key(*HOME)}), frozenset({key(*LOGIN)})}
    anx_customer, ann_customer = h.customer(*PERSONAL), h.customer(*LOGIN)
    assert anx_customer != ann_customer and h.customer(*HOME) == anx_customer
    assert resolved_to(h, "rec-anx") == [anx_customer] and resolved_to(h, "rec-ann") == [ann_customer]
    created = {c.customer_id: c.identifiers for c in h.decisions(Created)}
    moved = sorted(d.identifier for d in h.decisions(Linked) if d.lineage.rule == EARLIEST_CLAIM)
    if reverse:  # Anx's customer is made without identifiers and claims both e-mails
        assert created[anx_customer] == () and moved == sorted([key(*PERSONAL), key(*HOME)])
    else:
        assert moved == []
    state = h.local.store.nodes[anx_customer]
    assert isinstance(state, CustomerState) and "anx" in str(state.traits) and "ann" not in str(state.traits)


@pytest.mark.parametrize("reverse", [False, True], ids=["earlier first", "later first"])
def test_a_record_of_another_person_that_ranks_first_on_nothing_stays_where_it_arrived(reverse: bool) -> None:
    """Ann's record (minute 0) holds the personal e-mail first; "Anx"'s later one (minute 5) reaches her customer
    through it and is refused as her person, but ranks first on nothing: in the order where it came first its
    customer gave the e-mail to Ann's earlier record and merged into hers. It stays (applied) on Ann's customer,
    feeding nothing, and no customer is made for it. Arriving first, it made one, which merges into Ann's when
    her earlier record claims the e-mail, its only identifier (``claim_node.on_give``)."""
    ann, anx = record([PERSONAL], ANN, 0, "rec-ann"), record([PERSONAL], ANX, 5, "rec-anx")
    h = replay([ann, anx], reverse=reverse)
    customer = h.customer(*PERSONAL)
    assert clusters(h) == {frozenset({h.key(*PERSONAL)})}
    assert resolved_to(h, "rec-anx") == [customer] and resolved_to(h, "rec-ann") == [customer]
    assert len([c for c in h.decisions(Created)]) == (1 if not reverse else 2)  # reversed: Ann's merges Anx's
    state = h.local.store.nodes[customer or ""]
    assert isinstance(state, CustomerState) and "anx" not in str(state.traits)


# A call whose IVR took an account and nothing else (no traits), and a record of the caller's phone with her name.
ACCOUNT, LANDLINE, MOBILE = ("ACCOUNT", "ACC-0"), ("PHONE", "+33144556677"), ("PHONE", "+33612345678")


@pytest.mark.parametrize("reverse", [False, True], ids=["call first", "record first"])
def test_a_record_through_the_landline_alone_leaves_an_untold_call_it_occurred_before(reverse: bool) -> None:
    """The record (minute 0: the landline, Ann) and the account call (minute 10: the account, the landline). In time
    order the record made a customer with the landline and the call's account, pending, met it through the line:
    weighed (a review: only the line in common, no traits on the call's side), the account on its own. Arriving after
    the call, the record reached the call's customer through the line alone, unweighed, and joined it. Now it leaves for
    a customer of its own (``own_customer.before_the_call``), which claims the line it ranks first on: the same
    customers in both orders, each event on its own (the review is requested in time order only)."""
    ann, call = record([LANDLINE], ANN, 0, "rec-ann"), record([ACCOUNT, LANDLINE], {}, 10, "call")
    h = replay([ann, call], reverse=not reverse)
    key = h.key
    assert clusters(h) == {frozenset({key(*ACCOUNT)}), frozenset({key(*LANDLINE)})}
    assert resolved_to(h, "rec-ann") == [h.customer(*LANDLINE)]
    assert resolved_to(h, "call") == [h.customer(*ACCOUNT)]


@pytest.mark.parametrize(("phone", "minutes"), [(MOBILE, 0), (LANDLINE, 20)], ids=["a mobile", "after the call"])
def test_a_record_through_a_mobile_or_after_the_call_joins_the_untold_call(phone: tuple[str, str], minutes: int) -> None:
    """Not through a mobile (one person's device, not the home's: a record of its owner's), nor when the record
    occurred after the call (time order: it met the call's customer through the line): it joins, as before. Left: a
    mobile's record arriving first keeps the call's account apart by a review, as the landline's does."""
    call, ann = record([ACCOUNT, phone], {}, 10, "call"), record([phone], ANN, minutes, "rec-ann")
    h = replay([call, ann], reverse=False)
    assert clusters(h) == {frozenset({h.key(*ACCOUNT), h.key(*phone)})}
    assert resolved_to(h, "rec-ann") == [h.customer(*ACCOUNT)]
