"""A split gives the split-off customer back the shared identifiers its own events carried (tester22 F6).

The tester's case: a flat's landline on three tenants' billing lines (Bruno keeps it; Alice, the former tenant, and
Chloé, the new one, are kept apart through it). An operator merges Chloé into Alice by mistake, then splits her
account and e-mail off again. Her new customer must be placed as if the merge never happened: the landline's
``kept_apart`` names her (its screen pop counts her among ``customer_ids``, not "without a customer of their own")
and her ``elsewhere`` lists it (her pop's ``shared_identifiers``). The kind: the same after ``unmerge``, after an
accepted review, and for a couple's e-mail the husband keeps (a member of the merged customer, not ``elsewhere``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Merged, Send
from processors.identity.graph.saga import merge_saga, review_saga
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import REVIEW_ACCEPTED
from processors.identity.unmerge import MergeRecord, unmerge_plan
from tests.processors.identity.graph.test_alias import OBSERVED
from tests.processors.identity.graph.test_family_plan import feed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings
from tests.processors.identity.test_web_household import lookup

BUSINESS = "business.events.v1"
LANDLINE = ("PHONE", "+33478112233")  # "04 78 11 22 33" on the export lines
FLAT = {"phone": "04 78 11 22 33", "address_line": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"}
TENANTS = {  # account -> the export line's own fields, its opening date
    "EL-100001": ({"email": "alice.martin@example.net", "given_name": "Alice", "family_name": "Martin",
                   "birth_date": "1980-03-14"}, datetime(2021, 1, 4, tzinfo=UTC)),
    "EL-100020": ({"email": "bruno.leroy@example.net", "given_name": "Bruno", "family_name": "Leroy",
                   "birth_date": "1975-07-02"}, datetime(2020, 6, 1, tzinfo=UTC)),
    "EL-100030": ({"email": "chloe.girard@example.net", "given_name": "Chloé", "family_name": "Girard",
                   "birth_date": "1992-06-15"}, datetime(2024, 9, 1, tzinfo=UTC)),
}
ALICE, BRUNO, CHLOE = TENANTS
FAMILY_EMAIL = ("EMAIL", "petit.famille@example.net")
COUPLE = {  # one e-mail for the household: Luc's line first, he keeps it; Emma is kept apart through it
    "GA-200001": ({"email": FAMILY_EMAIL[1], "phone": "06 11 22 33 44", "given_name": "Luc", "family_name": "Petit",
                   "birth_date": "1982-02-11"}, datetime(2019, 3, 1, tzinfo=UTC)),
    "GA-200002": ({"email": FAMILY_EMAIL[1], "phone": "06 55 66 77 88", "given_name": "Emma", "family_name": "Petit",
                   "birth_date": "1984-10-23"}, datetime(2022, 5, 2, tzinfo=UTC)),
}
LUC, EMMA = COUPLE


def account_line(account: str, fields: dict[str, Any], opened: datetime) -> list[tuple[Event, str]]:
    """What the billing system publishes for one contract (``AccountOpened``)."""
    record = {"account_number": account, "account_type": "electricity", "service_tier": "standard", **fields}
    mapped = map_business(BusinessRecord("AccountOpened", record, f"accounts.csv:{account}", opened),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def tenants() -> Harness:
    """The flat's three tenants: Bruno's line first (he keeps the landline), then Alice's and Chloé's."""
    h = Harness(matcher_settings())
    for account in (BRUNO, ALICE, CHLOE):
        person, opened = TENANTS[account]
        feed(h, account_line(account, {**FLAT, **person}, opened))
    return h


def couple() -> Harness:
    h = Harness(matcher_settings())
    for account, (person, opened) in COUPLE.items():
        feed(h, account_line(account, {**FLAT, **person}, opened))
    return h


def customers(h: Harness, accounts: Any) -> dict[str, str]:
    return {account: root(h, h.customer("ACCOUNT", account) or "") for account in accounts}


def placement(h: Harness, shared: tuple[str, str], accounts: Any) -> tuple[str, set[str], dict[str, list[str]]]:
    """(who keeps ``shared``, the customers kept apart through it, each account's customer's ``elsewhere``), all as
    the roots the accounts' customers are now."""
    node = h.local.store.nodes[h.key(*shared)]
    assert isinstance(node, IdentifierState) and node.owner
    elsewhere = {}
    for account, customer in customers(h, accounts).items():
        state = h.local.store.nodes[customer]
        assert isinstance(state, CustomerState)
        elsewhere[account] = list(state.elsewhere)
    return root(h, node.owner), {root(h, c) for c in node.kept_apart}, elsewhere


def merge(h: Harness, first: str, second: str, review: bool = False) -> MergeRecord:
    """The operator's ``omnibus identity merge`` of two accounts' customers (``review``: an accepted review's
    decision, ``review.decide``); the ``CustomerMerged`` as ``unmerge`` reads it."""
    ids = sorted([h.key("ACCOUNT", first), h.key("ACCOUNT", second)])
    saga = (review_saga("cmd-accept", ids, accept=True, rule=REVIEW_ACCEPTED) if review else
            merge_saga("cmd-merge", ids, "op-bob", "looked like one person (same address)"))
    h.local.submit([Send(saga.ids[0], Visit(saga))])
    h.local.run()
    (merged,) = h.decisions(Merged)
    assert h.customer("ACCOUNT", first) == h.customer("ACCOUNT", second) == merged.survivor_id
    return MergeRecord(merged.survivor_id, merged.merged_id, merged.moved, merged.lineage.rule, merged.operator)


def split(h: Harness, moving: list[tuple[str, str]]) -> None:
    """The operator's ``omnibus identity split`` of ``moving`` off their (merged) customer."""
    source = h.customer(*moving[0])
    assert source is not None
    keys = [h.key(*identifier) for identifier in moving]
    h.local.submit([Send(source, SplitCustomer(keys, "wrong merge", "cmd-split", 10**15, operator="op-bob"))])
    h.local.run()


def own(account: str) -> list[tuple[str, str]]:
    """A tenant's identifiers of her own: her account and e-mail (as the tester split them)."""
    return [("ACCOUNT", account), ("EMAIL", TENANTS[account][0]["email"])]


def check_as_before(h: Harness, shared: tuple[str, str], accounts: Any,
                    before: tuple[str, set[str], dict[str, list[str]]]) -> None:
    """Placed as if the merge never happened: one customer per account, the same keeper, every other account's
    customer kept apart through ``shared`` (none "without a customer of their own"), each ``elsewhere`` as before."""
    h.local.check_consistent()
    now = customers(h, accounts)
    keeper, kept_apart, elsewhere = placement(h, shared, accounts)
    assert len(set(now.values())) == len(now)
    keeping = [account for account, customer in now.items() if customer == keeper]
    assert [account for account in elsewhere if not elsewhere[account]] == keeping  # the keeper's, as before
    # (a merged-away id the identifier noted resolves to its survivor: the keeper's too, once; the pop names it once)
    assert kept_apart - {keeper} == set(now.values()) - {keeper}
    assert elsewhere == before[2]


@pytest.mark.parametrize("leaving", [CHLOE, ALICE])
def test_the_sample_after_a_wrong_merge_and_its_split_the_landline_names_the_split_off_tenant_again(
        leaving: str) -> None:
    """F6 as reported (Chloé split off), and the other side split off (the survivor differs)."""
    h = tenants()
    before = placement(h, LANDLINE, TENANTS)
    people = customers(h, TENANTS)
    assert before[0] == people[BRUNO] and before[1] == {people[ALICE], people[CHLOE]}
    assert before[2] == {BRUNO: [], ALICE: [h.key(*LANDLINE)], CHLOE: [h.key(*LANDLINE)]}
    merge(h, ALICE, CHLOE)
    split(h, own(leaving))
    check_as_before(h, LANDLINE, TENANTS, before)
    # What the tester read: the landline's lookup names the three customers, and each kept-apart tenant's pop shows it.
    hint = lookup(h, *LANDLINE)["shared_identifier"]
    assert set(hint["customer_ids"]) == set(customers(h, TENANTS).values())
    assert (hint["people"], hint["without_customer"]) == (3, 0)
    for account in (ALICE, CHLOE):
        assert [shared["type"] for shared in lookup(h, "ACCOUNT", account)["shared_identifiers"]] == ["PHONE"]


def test_an_unmerge_places_the_landline_as_before_the_merge() -> None:
    h = tenants()
    before = placement(h, LANDLINE, TENANTS)
    record = merge(h, ALICE, CHLOE)
    owners = {h.key(*identifier): str(h.customer(*identifier)) for account in (ALICE, CHLOE) for identifier in own(account)}
    plan = unmerge_plan(record.merged, {record.merged: record}, owners)
    h.local.submit([Send(plan.source, SplitCustomer(list(plan.moving), "not one person", "cmd-unmerge", 10**15,
                                                    operator="op-bob"))])
    h.local.run()
    check_as_before(h, LANDLINE, TENANTS, before)


def test_after_an_accepted_review_and_its_split_the_landline_names_both_again() -> None:
    h = tenants()
    before = placement(h, LANDLINE, TENANTS)
    merge(h, ALICE, CHLOE, review=True)
    split(h, own(CHLOE))
    check_as_before(h, LANDLINE, TENANTS, before)


@pytest.mark.parametrize("leaving", [LUC, EMMA])
def test_a_couples_email_the_merged_customer_holds_names_the_split_off_spouse_again(leaving: str) -> None:
    """The shared identifier is a member of the merged customer (Luc keeps the family e-mail), not one it was kept
    apart through: the split-off spouse is kept apart through it again, whichever side leaves."""
    h = couple()
    before = placement(h, FAMILY_EMAIL, COUPLE)
    people = customers(h, COUPLE)
    assert before[0] == people[LUC] and before[1] == {people[EMMA]}
    assert before[2] == {LUC: [], EMMA: [h.key(*FAMILY_EMAIL)]}
    merge(h, LUC, EMMA)
    person = COUPLE[leaving][0]
    moving = [("ACCOUNT", leaving), ("PHONE", str(person["phone"]).replace(" ", "").replace("0", "+33", 1))]
    if leaving == LUC:  # the keeper leaves: he takes the e-mail with him, as before the merge
        moving.append(FAMILY_EMAIL)
    split(h, moving)
    check_as_before(h, FAMILY_EMAIL, COUPLE, before)


ARRIVALS = list(itertools.permutations(TENANTS))


@pytest.mark.parametrize("leaving", [ALICE, CHLOE])
@pytest.mark.parametrize("arrival", ARRIVALS, ids=["-".join(order) for order in ARRIVALS])
def test_a_tenant_whose_line_gave_the_landline_up_at_a_claim_is_named_by_it_after_a_wrong_merge_and_its_split(
        arrival: tuple[str, ...], leaving: str) -> None:
    """The tenants' lines in every arrival order: where Alice's or Chloé's line came before Bruno's (the earliest
    opened), it held the landline until his claimed it and gave it up there (``claim_node.on_give``). The giver records
    which of its members its events carried with it (``elsewhere.given_up``), so the wrong merge's split places her
    as if the merge never happened, as in the order where Bruno's line came first."""
    h = Harness(matcher_settings())
    for account in arrival:
        person, opened = TENANTS[account]
        feed(h, account_line(account, {**FLAT, **person}, opened))
    before = placement(h, LANDLINE, TENANTS)
    people = customers(h, TENANTS)
    assert before[0] == people[BRUNO] and before[1] >= {people[ALICE], people[CHLOE]}
    merge(h, ALICE, CHLOE)
    split(h, own(leaving))
    check_as_before(h, LANDLINE, TENANTS, before)
