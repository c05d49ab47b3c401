"""An operator's split and the contacts on their way to the source, in every arrival order (#8 point 7).

The rule: after a split, a contact that carried only moved identifiers is the new customer's, and one that carried
a moved and a kept identifier follows its highest-priority one (``split_contacts.leaving``), whether it was applied
before the split (the split takes it along) or after. A contact whose saga read its identifiers' owner before the
split and whose ``apply`` reaches the source after it (Kafka orders nothing across partitions; a saga in flight while
the operator runs the command) was kept by the source: on its screen pop, never on the new customer's (the broker
test ``test_split_broker.py`` saw it once in CI). Products that came through moved identifiers only follow the same
way (``book.follows``).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import SerdeContext
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.outputs import Resolved, Send, Split
from processors.identity.intake import event_ref
from tests.processors.identity.graph.test_split_contacts import ACCOUNT, EMAIL, PHONE, contact_ids
from tests.processors.identity.support import SERIALIZER, Harness, account_opened, interaction, product_subscribed

TOKEN = "cmd-order"
CONTACTS = "contact.events.v1"


def visit(identifiers: list[tuple[str, str]], transaction: str, minutes: int) -> Any:
    return interaction(identifiers, channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id=transaction,
                       minutes=minutes)


def jonathan(h: Harness) -> str:
    """Jonathan's e-mail and phone, the phone seen with the mistyped account (the wrong link); his customer."""
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    source = h.customer(*ACCOUNT)
    assert source is not None and h.customer(*EMAIL) == source
    return source


def in_flight(h: Harness) -> dict[str, str]:
    """The events of the test, fed without delivering anything: transaction (or product) -> event id."""
    events = {"TX-ACC": visit([ACCOUNT], "TX-ACC", 2), "TX-MIXED": visit([ACCOUNT, PHONE], "TX-MIXED", 3),
              "TX-KEPT": visit([EMAIL, PHONE], "TX-KEPT", 4)}
    for event in events.values():
        h.feed(event, settle=False)
    product = h.feed(product_subscribed(ACCOUNT[1], product="FATHER-TV", minutes=5), topic="business.events.v1",
                     settle=False)
    ids = {name: str(event.value["envelope"]["event_id"]) for name, event in events.items()}
    return {**ids, "FATHER-TV": str(product.value["envelope"]["event_id"])}


def products(h: Harness, customer: str) -> list[str]:
    return [p["product_code"] for p in h.book.render(h.local.store.get_profile(customer))["products"]["products"]]


def split_after(h: Harness, source: str, steps: int) -> bool:
    """Deliver ``steps`` messages, then the operator's split of the account, then the rest; False when the events
    were all settled before ``steps``."""
    for _ in range(steps):
        if not h.local.step():
            return False
    h.local.submit([Send(source, SplitCustomer([h.key(*ACCOUNT)], "account belongs to his father", TOKEN, 10**15))])
    h.local.run()
    return True


def assert_the_split_rule(h: Harness, source: str, ids: dict[str, str], case: object) -> None:
    (decided,) = h.decisions(Split)
    new = decided.new_id
    assert h.customer(*ACCOUNT) == new and h.customer(*PHONE) == h.customer(*EMAIL) == source, case
    assert sorted(contact_ids(h, new)) == ["TX-ACC", "TX-MIXED"], case
    assert contact_ids(h, source) == ["TX-KEPT"], case
    assert products(h, new) == ["FATHER-TV"] and products(h, source) == [], case
    resolved = h.decisions(Resolved)
    for name in ("TX-ACC", "TX-MIXED"):  # each ends under the new customer on customer.contacts
        assert [d.customer_id for d in resolved if d.triggering_event_id == ids[name]][-1] == new, (case, name)
    assert {d.customer_id for d in resolved if d.triggering_event_id == ids["TX-KEPT"]} == {source}, case
    h.local.check_consistent()


def test_a_split_at_every_point_of_the_contacts_way_ends_by_the_split_rule() -> None:
    """One partition, the split delivered after 0, 1, 2, ... messages of the events: before their sagas started,
    between a saga's read of the account's owner and its ``apply`` (the source kept them before), after."""
    cut, stale = 0, 0
    while True:
        h = Harness()
        source = jonathan(h)
        ids = in_flight(h)
        if not split_after(h, source, cut):
            break
        moved_by_split = [d for d in h.decisions(Resolved) if d.moved_by]
        stale += not moved_by_split  # the split found nothing to move: the events were all still on their way
        assert_the_split_rule(h, source, ids, cut)
        cut += 1
    assert cut > 4 and stale > 0  # the cuts covered sagas in flight


def test_in_any_interleaving_and_with_duplicates_the_contacts_follow_the_split() -> None:
    """Several partitions, random interleavings, every graph message possibly delivered twice."""
    for seed, partitions, steps in itertools.product(range(6), (3, 7), (0, 3, 8, 15)):
        h = Harness(partitions=partitions, seed=seed, duplicates=0.3)
        source = jonathan(h)
        ids = in_flight(h)
        if split_after(h, source, steps):
            assert_the_split_rule(h, source, ids, (seed, partitions, steps))


@pytest.mark.parametrize("kept_apart", [True, False], ids=["placed by the kept-apart rule", "stale read"])
def test_only_an_apply_that_read_the_owner_before_the_split_goes_on(kept_apart: bool) -> None:
    """An ``apply`` of a contact carrying the moved account and the kept e-mail reaches the source after the split.
    Placed there by the kept-apart rule (its traits fit the source only: ``apart_side.belongs``; the account is
    then in ``Apply.kept_apart``) it stays; sent by a saga that read the account as the source's, it goes on to the
    account's new customer, by its highest-priority identifier."""
    h = Harness()
    source = jonathan(h)
    h.local.submit([Send(source, SplitCustomer([h.key(*ACCOUNT)], "account belongs to his father", TOKEN, 10**15))])
    h.local.run()
    (decided,) = h.decisions(Split)
    event = visit([ACCOUNT, EMAIL], "TX-BOTH", 30)
    ref = event_ref(CONTACTS, event, SERIALIZER(event, SerdeContext(topic=CONTACTS)))
    event_id = str(event.value["envelope"]["event_id"])
    account = h.key(*ACCOUNT)
    h.local.submit([Send(source, Apply(event_id, 0.0, None, ref, channel="BRANCH",
                                       kept_apart=[account] if kept_apart else [],
                                       carried=sorted([account, h.key(*EMAIL)])))])
    h.local.run()
    lands = source if kept_apart else decided.new_id
    assert [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id] == [lands]
    assert contact_ids(h, lands) == ["TX-BOTH"]
    assert contact_ids(h, decided.new_id if kept_apart else source) == []


def accounts(h: Harness, customer: str) -> list[tuple[str, str]]:
    view = h.book.render(h.local.store.get_profile(customer))["products"]
    return [(a["account_number"], a["service_tier"]) for a in view["accounts"]]


def test_a_customer_master_line_follows_its_account_at_every_point_of_its_way() -> None:
    """tester17 M1: an AccountOpened that carried the account and the holder's e-mail and phone (a customer-master
    line) is about the account (``processors.profile.about``): its record ends with the account's new customer,
    whether applied before the split or reaching the source after it, never on the source's screen pop."""
    cut = 0
    while True:
        h = Harness()
        source = jonathan(h)
        h.feed(account_opened(ACCOUNT[1], [EMAIL, PHONE], minutes=5), topic="business.events.v1", settle=False)
        if not split_after(h, source, cut):
            break
        (decided,) = h.decisions(Split)
        assert accounts(h, decided.new_id) == [("****7718", "premium")] and accounts(h, source) == [], cut
        h.local.check_consistent()
        cut += 1
    assert cut > 2
