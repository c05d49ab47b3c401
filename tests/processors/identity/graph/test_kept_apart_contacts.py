"""A contact carrying identifiers of two customers kept apart (tester10's finding 1, #8 point 7).

Marc's e-mail and Sophie's phone were merged into one customer by mistake; an operator split the phone off. A later
counter visit carried both (the e-mail left with Marc, Sophie's phone): the link was refused (``split-do-not-merge``),
right, and the visit was shown on Marc's screen pop with neither pop listing anything as shared. The rule now, for
every pair kept apart (a split, a rejected review, a refusal by weight or by a limit): the contact goes to the side
its traits fit when they fit one side only, else to the customer of its highest-priority identifier (the one it
reached first: ``apart_side.belongs``), in every arrival order; the identifier through which the link was refused
is flagged on both screen pops (``customer_steps.noted``, as after a rejected review). A contact that came before the
split follows the same rule (``split_contacts.leaving``: its highest-priority identifier).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Refused, Resolved, Send, Split
from processors.identity.rules import MAX_PER_CUSTOMER, SPLIT_DO_NOT_MERGE
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import Harness, interaction, national_id, observed, settings
from tests.processors.identity.test_web_household import lookup

EMAIL, PHONE = ("EMAIL", "marc@t10.example"), ("PHONE", "+33644444444")
SOPHIES_ACCOUNT = ("ACCOUNT", "ACC-T10-2")


def visit(identifiers: list[tuple[str, str]], transaction: str, minutes: int) -> Event:
    return interaction(identifiers, channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id=transaction,
                       minutes=minutes)


def split(h: Harness, source: str, *identifiers: tuple[str, str], token: str = "cmd-t10") -> Split:
    h.local.submit([Send(source, SplitCustomer([h.key(*i) for i in identifiers], "Marc and Sophie are two people",
                                               token, 10**15))])
    h.local.run()
    return [d for d in h.decisions(Split) if d.lineage.triggering_event_id == token][-1]


def marc_and_sophie_split(h: Harness | None = None) -> tuple[Harness, Split]:
    """Marc's e-mail and Sophie's phone (with her account) merged by one event, then the phone and the account
    split off; (harness, the split: source Marc, new Sophie)."""
    h = h or Harness(settings())
    h.observe(EMAIL)
    h.observe(PHONE, SOPHIES_ACCOUNT, minutes=1)
    h.observe(EMAIL, PHONE, minutes=2)  # the wrong merge
    marc = h.customer(*EMAIL)
    assert marc is not None and h.customer(*PHONE) == marc
    return h, split(h, marc, PHONE, SOPHIES_ACCOUNT)


def shared_types(found: dict[str, Any]) -> dict[str, set[str]]:
    """A screen pop's shared identifiers: type -> the customers each names."""
    return {hint["type"]: set(hint["customer_ids"]) for hint in found["shared_identifiers"]}


def resolved_to(h: Harness, transaction: str) -> list[str]:
    return [d.customer_id for d in h.decisions(Resolved)
            if d.event is not None and transaction in contact_ids(h, d.customer_id)]


def test_tester10_a_visit_with_marcs_email_and_sophies_phone_after_the_split() -> None:
    h, decided = marc_and_sophie_split()
    marc, sophie = decided.source_id, decided.new_id
    h.feed(visit([EMAIL, PHONE], "TX-T10-1", 30))
    (refused,) = [d for d in h.decisions(Refused) if d.lineage.rule == SPLIT_DO_NOT_MERGE]
    assert refused.identifier == h.key(*PHONE)
    # No traits: the highest-priority identifier decides (EMAIL > PHONE): Marc's, on his screen pop only.
    assert contact_ids(h, marc) == ["TX-T10-1"] and contact_ids(h, sophie) == []
    # The refused phone is flagged on both screen pops, naming both customers.
    by_phone = lookup(h, *PHONE)
    assert by_phone["customer_id"] == sophie
    assert by_phone["shared_identifier"] is not None and set(by_phone["shared_identifier"]["customer_ids"]) == {
        marc, sophie}
    assert shared_types(lookup(h, *EMAIL)) == {"PHONE": {marc, sophie}}
    h.local.check_consistent()


def test_the_same_visit_by_sophies_account_goes_to_sophie() -> None:
    """Her account outranks Marc's e-mail: the visit is hers, and the e-mail is flagged on both screen pops."""
    h, decided = marc_and_sophie_split()
    marc, sophie = decided.source_id, decided.new_id
    h.feed(visit([EMAIL, SOPHIES_ACCOUNT], "TX-T10-2", 30))
    assert contact_ids(h, sophie) == ["TX-T10-2"] and contact_ids(h, marc) == []
    assert shared_types(lookup(h, *SOPHIES_ACCOUNT))["EMAIL"] == {marc, sophie}
    found = lookup(h, *EMAIL)
    assert found["customer_id"] == marc and set(found["shared_identifier"]["customer_ids"]) == {marc, sophie}
    h.local.check_consistent()


@pytest.mark.parametrize("moved", [[PHONE, SOPHIES_ACCOUNT], [EMAIL]], ids=["phone split off", "e-mail split off"])
def test_a_visit_before_or_after_the_split_ends_on_the_same_screen_pop(moved: list[tuple[str, str]]) -> None:
    """Before the split the visit is on the merged customer; the split moves it with its highest-priority identifier
    (the e-mail), as the visit after the split goes to the e-mail's customer: whichever side the operator moved."""
    ends = []
    for before in (True, False):
        h = Harness(settings())
        h.observe(EMAIL)
        h.observe(PHONE, SOPHIES_ACCOUNT, minutes=1)
        h.observe(EMAIL, PHONE, minutes=2)
        source = h.customer(*EMAIL)
        assert source is not None
        if before:
            h.feed(visit([EMAIL, PHONE], "TX-T10-3", 3))
        split(h, source, *moved)
        if not before:
            h.feed(visit([EMAIL, PHONE], "TX-T10-3", 3))
        emails = h.customer(*EMAIL)
        assert emails is not None
        ends.append((h.customer(*EMAIL) == source, contact_ids(h, emails)))
        other = h.customer(*PHONE)
        assert other is not None and other != emails and contact_ids(h, other) == [], before
    assert ends[0] == ends[1] and ends[0][1] == ["TX-T10-3"]


def test_in_any_arrival_order_and_with_duplicates_the_visit_lands_on_the_emails_customer() -> None:
    """The visit, and two later contacts of each side, shuffled on several partitions with duplicated messages."""
    for seed, partitions in itertools.product(range(4), (1, 5)):
        h, decided = marc_and_sophie_split(Harness(settings(), partitions=partitions, seed=seed, duplicates=0.3))
        marc, sophie = decided.source_id, decided.new_id
        for event in (visit([EMAIL, PHONE], "TX-MIX", 30), visit([PHONE], "TX-SOPHIE", 31),
                      visit([EMAIL], "TX-MARC", 32)):
            h.feed(event, settle=False)
        h.local.run()
        assert sorted(contact_ids(h, marc)) == ["TX-MARC", "TX-MIX"], seed
        assert contact_ids(h, sophie) == ["TX-SOPHIE"], seed
        assert shared_types(lookup(h, *EMAIL)) == {"PHONE": {marc, sophie}}, seed
        h.local.check_consistent()


def test_a_contact_between_two_customers_a_limit_keeps_apart_flags_the_refused_identifier_on_both() -> None:
    """The kind, by a limit: one national ID per customer, two customers each with one; a contact carrying one's
    e-mail and the other's phone is refused (``max-per-customer``) and the phone flagged on both."""
    h = Harness(settings())
    anne, paul = ("NATIONAL_ID", national_id("11010519491231002")), ("NATIONAL_ID", national_id("11010519491231003"))
    anne_mail, pauls_phone = ("EMAIL", "anne@t10.example"), ("PHONE", "+33655555555")
    h.observe(anne, anne_mail)
    h.observe(paul, pauls_phone, minutes=1)
    annes, pauls = h.customer(*anne_mail), h.customer(*pauls_phone)
    assert annes is not None and pauls is not None and annes != pauls
    h.feed(visit([anne_mail, pauls_phone], "TX-LIMIT", 5))
    assert any(d.lineage.rule == MAX_PER_CUSTOMER for d in h.decisions(Refused))
    assert contact_ids(h, annes) == ["TX-LIMIT"] and contact_ids(h, pauls) == []
    assert shared_types(lookup(h, *anne_mail))["PHONE"] == {annes, pauls}
    assert set(lookup(h, *pauls_phone)["shared_identifier"]["customer_ids"]) == {annes, pauls}


def test_a_repeat_of_the_visit_flags_nothing_twice() -> None:
    h, decided = marc_and_sophie_split()
    event = visit([EMAIL, PHONE], "TX-T10-1", 30)
    h.feed(event)
    nodes = {key: h.local.store.get_node(key) for key in (h.key(*EMAIL), h.key(*PHONE), decided.source_id)}
    h.feed(event)  # the same event redelivered
    assert {key: h.local.store.get_node(key) for key in nodes} == nodes
    assert contact_ids(h, decided.source_id) == ["TX-T10-1"]


def test_traits_that_fit_one_side_only_decide_over_the_priority() -> None:
    """The visit's traits are Sophie's (the clerk took her name and birth date) and contradict Marc's: hers, though
    Marc's e-mail outranks her phone; the e-mail is then the identifier flagged on both screen pops."""
    h = Harness(settings(match_vetoes=("given_name", "birth_date")))
    marcs = {"given_name": "Marc", "family_name": "Lenoir", "birth_date": "1971-04-02"}
    sophies = {"given_name": "Sophie", "family_name": "Lenoir", "birth_date": "1974-09-18"}
    h.feed(with_traits([EMAIL], marcs, 0))
    h.observe(PHONE, SOPHIES_ACCOUNT, minutes=1)
    h.observe(EMAIL, PHONE, minutes=2)  # the wrong merge, no traits
    marc = h.customer(*EMAIL)
    assert marc is not None
    decided = split(h, marc, PHONE, SOPHIES_ACCOUNT)
    hers = h.feed(with_traits([EMAIL, PHONE], sophies, 30))
    event_id = hers.value["envelope"]["event_id"]
    assert [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id] == [decided.new_id]
    assert shared_types(lookup(h, *PHONE))["EMAIL"] == {marc, decided.new_id}
    assert set(lookup(h, *EMAIL)["shared_identifier"]["customer_ids"]) == {marc, decided.new_id}


def with_traits(identifiers: list[tuple[str, str]], traits: dict[str, str], minutes: int) -> Event:
    event = observed(identifiers, channel="BRANCH", minutes=minutes)
    return Event(event.schema, {**event.value, "traits": traits})
