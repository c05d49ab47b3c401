"""Issue #8, tester18 F1, as the screen pop shows it: a joint account exported one line per holder.

Luc's and Emma's ``ProductSubscribed`` lines of ``JNT-T18-1`` (same effective time, each with the holder's own name,
birth date, e-mail and phone), then a ``PaymentOverdue`` of the account that names no holder. Each holder's pop shows
her own subscription and only hers, in every arrival order of the two lines; the overdue bill is on the pop of the
customer who keeps the account, and the other holder's pop says where it is (the account's ``shared_identifiers``
note). A stranger whose web sign-up typed the account number is kept apart and never told about the account's facts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from tests.processors.identity.graph.test_joint_holder_lines import ACCOUNT, HOLDERS, SOURCES, holder_line
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, every_order, feed
from tests.processors.identity.support import Harness, envelope, ident
from tests.processors.identity.support import matcher_settings as settings
from tests.processors.identity.test_web_household import lookup

STRANGER_EMAIL = "paul.durand@t18.example"


def overdue() -> tuple[Event, str]:
    """``exports/overdue.csv``: bill B-T18-J-01 of the joint account, no holder identifier."""
    fields = {"account_number": ACCOUNT, "bill_id": "B-T18-J-01", "amount_due": "120.00", "currency": "EUR",
              "due_date": "2024-04-10"}
    mapped = map_business(BusinessRecord("PaymentOverdue", fields, "batch:t18-overdue:B-T18-J-01",
                                         datetime(2024, 4, 20, tzinfo=UTC)),
                          LegacyContext(SOURCES[0], BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return next((out.event, out.topic) for out in mapped.events)


def stranger() -> tuple[Event, str]:
    """A web sign-up of another person that typed the joint account's number."""
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=60 * 24 * 400),
        "identifiers": [ident("USER_ID", "web-paul"), ident("EMAIL", STRANGER_EMAIL), ident("ACCOUNT", ACCOUNT)],
        "traits": {"given_name": "Paul", "family_name": "Durand", "birth_date": "1961-11-30"}}), OBSERVED


@pytest.mark.parametrize("source", SOURCES)
def test_each_holder_sees_her_own_subscription_and_where_the_joint_accounts_overdue_bill_is(source: str) -> None:
    lines = [*holder_line("ProductSubscribed", "luc", source), *holder_line("ProductSubscribed", "emma", source)]
    for items in every_order(lines):
        h = Harness(settings())
        feed(h, [*items, overdue(), stranger()])
        pops = {holder: lookup(h, "EMAIL", person["email"]) for holder, person in HOLDERS.items()}
        assert {p["subscription_id"] for p in pops["luc"]["products"]["products"]} == {"S-luc"}
        assert {p["subscription_id"] for p in pops["emma"]["products"]["products"]} == {"S-emma"}
        keeper = h.customer("ACCOUNT", ACCOUNT)
        for pop in pops.values():
            bills = [bill["bill_id"] for bill in pop["products"]["overdue_bills"]]
            notes = [hint for hint in pop["shared_identifiers"] if hint["type"] == "ACCOUNT"]
            assert len(notes) == 1 and notes[0]["kept_by"] == keeper
            if pop["customer_id"] == keeper:
                assert bills == ["B-T18-J-01"]
            else:  # the other holder: told where the account's own facts are
                assert bills == []
                assert f"facts that name no holder (bills, arrears, its closure) are shown on customer {keeper}" \
                    in notes[0]["note"]
        paul = lookup(h, "EMAIL", STRANGER_EMAIL)
        assert paul["customer_id"] not in {pop["customer_id"] for pop in pops.values()}
        assert paul["products"]["overdue_bills"] == [] and paul["products"]["products"] == []
        strangers_note = [hint for hint in paul["shared_identifiers"] if hint["type"] == "ACCOUNT"]
        assert len(strangers_note) == 1 and "facts that name no holder" not in strangers_note[0]["note"]


def respelled(items: list[tuple[Event, str]], account: str) -> list[tuple[Event, str]]:
    """``items`` as a billing system that is no Omnibus adapter sends them: the business events' ``account_number``
    written ``account`` (its identifier records, which identity normalises, as they were)."""
    return [(Event(event.schema, {**event.value, "account_number": account}) if "account_number" in event.value
             else event, topic) for event, topic in items]


@pytest.mark.parametrize("written", ["jnt-t18-1", "JNT-T18-1 "])
def test_the_other_holder_is_told_where_the_accounts_facts_are_whatever_the_spelling_of_its_number(
        written: str) -> None:
    """The holder note compares the account numbers the customer's own lines named with the ACCOUNT identifier as
    identity keys it (``ProfileBook.account_number``, in the deployment's format): a producer's ``jnt-t18-1`` is the
    ``JNT-T18-1`` the pop looks up (before, compared as written, the other holder lost the note)."""
    lines = [item for holder in ("luc", "emma") for item in holder_line("ProductSubscribed", holder, SOURCES[0])]
    h = Harness(settings())
    feed(h, [*respelled(lines, written), overdue()])
    keeper = h.customer("ACCOUNT", ACCOUNT)
    other = next(pop for pop in (lookup(h, "EMAIL", person["email"]) for person in HOLDERS.values())
                 if pop["customer_id"] != keeper)
    (note,) = [hint for hint in other["shared_identifiers"] if hint["type"] == "ACCOUNT"]
    assert f"facts that name no holder (bills, arrears, its closure) are shown on customer {keeper}" in note["note"]
