"""A corrected version never takes an identifier from the customer that held it (``graph/vacate.py``).

The reported sample: a counter transaction uploaded with Juan's phone, then corrected with Luis's (his billing line,
account A-1002). The version moved to Juan's customer (``corrected-version``), but the customer the correction made
(no name, no account, no contact) kept Luis's phone, which its claim had taken from him, and Luis's own calls landed
on it. Now the phone goes back to Luis and that customer merges into him, in every arrival order of the two versions
and Luis's call once his billing line is known; and ``omnibus verify`` holds. The rest of the kind: the correction
to a web customer's e-mail, to another customer's national id, to a phone nobody held; on 3 partitions.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Linked, Merged
from tests.processors.identity.graph.test_corrected_versions import CORRECTION, OBSERVED, published, upload
from tests.processors.identity.graph.test_handoff_moves import stands_on
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import (
    Harness,
    account_opened,
    envelope,
    ident,
    interaction,
    national_id,
    replayed,
)
from tests.processors.identity.support import matcher_settings as settings

CONTACTS = "contact.events.v1"
JUAN_PHONE, LUIS_PHONE, NEW_PHONE = "+34 666 000 006", "+34 622 000 002", "+34 699 000 009"
LUIS_MAIL, JUAN_MAIL = "luis.vega@example.es", "juan.sanz@example.es"
LUIS_ID, JUAN_ID = national_id("11010519491231002"), national_id("11010519800101003")
JUAN = {"given_name": "Juan", "family_name": "Sanz"}
Items = dict[str, list[tuple[Event, str]]]


def counter(identifier: tuple[str, str], event_id: str | None = None) -> list[tuple[Event, str]]:
    """Juan at the counter, named, with one identifier (``(type, value)``), opening a card dispute: what the branch
    adapter publishes, with the topic identity reads each from (at an instant after the billing lines)."""
    sent = upload(LUIS_PHONE, event_id)
    event = sent["events"][0]
    nid = identifier[0] == "NATIONAL_ID"  # the adapter maps a national id only where its region is set: put after
    event["identifiers"] = [{"type": identifier[0].lower(), "value": identifier[1]}] if not nid else []
    event["occurred_at"] = "2025-03-05T03:14:00+01:00"
    event["customer"] = dict(JUAN)
    items = published(sent)
    return [(_with_identifier(e, identifier), topic) for e, topic in items] if nid else items


def _with_identifier(event: Event, identifier: tuple[str, str]) -> Event:
    field = "identifiers" if "identifiers" in event.value else "customer_identifiers"
    return Event(event.schema, {**event.value, field: [ident(*identifier)]})


def billing(identifiers: list[tuple[str, str]]) -> list[tuple[Event, str]]:
    """Luis's billing line (account A-1002) with ``identifiers``, and his name on it."""
    keys = [("ACCOUNT", "A-1002"), *identifiers]
    return [(account_opened("A-1002", keys), OBSERVED),
            (Event("omnibus.contact.IdentifiersObserved", {
                "envelope": envelope("BUSINESS_SYSTEM"), "identifiers": [ident(k, v) for k, v in keys],
                "traits": {"given_name": "Luis", "family_name": "Vega"}}), OBSERVED)]


def luis_calls(identifier: tuple[str, str]) -> list[tuple[Event, str]]:
    return [(interaction([identifier], minutes=60 * 24 * 10, interaction_id="c-luis-0001"), CONTACTS)]


def scene(first: tuple[str, str], corrected: tuple[str, str], holder: list[tuple[Event, str]]) -> Items:
    return {"holder": holder, "v1": counter(first), "v2": counter(corrected, CORRECTION), "call": luis_calls(corrected)}


def run(items: Items, order: tuple[str, ...], *, partitions: int = 1, seed: int | None = None) -> Harness:
    """``items`` fed in ``order``: on one partition each settles before the next; on several the holder's records
    first, then the rest with their messages interleaved (``seed``)."""
    if partitions == 1:
        return replayed(settings(), [pair for name in order for pair in items[name]])
    h = Harness(settings(), partitions=partitions, seed=seed)
    for event, topic in items["holder"]:
        h.feed(event, topic)
    for event, topic in (pair for name in order if name != "holder" for pair in items[name]):
        h.feed(event, topic, settle=False)
    h.local.run()
    h.local.check_consistent()
    return h


def holder_of(h: Harness, identifier: tuple[str, str]) -> str | None:
    customer = h.customer(*identifier)
    return root(h, customer) if customer else None


def assert_kept_by_its_holder(h: Harness, items: Items, identifier: tuple[str, str], holder: str,
                              first: tuple[str, str] = ("PHONE", JUAN_PHONE)) -> None:
    """``identifier`` is ``holder``'s; both versions' contact events stand on Juan's (the customer of the first
    upload's identifier ``first``), the holder's call on the holder's; no customer is left that exists only because
    of the correction."""
    juan = holder_of(h, first)
    assert juan is not None and juan != holder
    assert holder_of(h, identifier) == holder
    for event, topic in items["v1"] + items["v2"]:
        if topic != OBSERVED:
            assert stands_on(h, event, juan), event.schema
    for event, _ in items.get("call", []):
        assert stands_on(h, event, holder)
    roots = {root(h, c) for c in h.local.store.profiles}
    assert roots <= {juan, holder}, "a customer left that exists only because of the correction"


PHONE_ORDERS = [("holder", *rest) for rest in itertools.permutations(("v1", "v2", "call"))]


@pytest.mark.parametrize("order", PHONE_ORDERS, ids="-".join)
def test_the_reported_sample_the_corrected_phone_stays_with_its_billing_holder_and_so_do_his_calls(
        order: tuple[str, ...]) -> None:
    items = scene(("PHONE", JUAN_PHONE), ("PHONE", LUIS_PHONE), billing([("PHONE", LUIS_PHONE)]))
    h = run(items, order)
    assert_kept_by_its_holder(h, items, ("PHONE", LUIS_PHONE), holder_of(h, ("ACCOUNT", "A-1002")))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", PHONE_ORDERS[::2], ids="-".join)
def test_on_three_partitions_too(order: tuple[str, ...], seed: int) -> None:
    items = scene(("PHONE", JUAN_PHONE), ("PHONE", LUIS_PHONE), billing([("PHONE", LUIS_PHONE)]))
    h = run(items, order, partitions=3, seed=seed)
    assert_kept_by_its_holder(h, items, ("PHONE", LUIS_PHONE), holder_of(h, ("ACCOUNT", "A-1002")))


def web_customer(identifiers: list[tuple[str, str]]) -> list[tuple[Event, str]]:
    """Luis's web sign-up with ``identifiers`` and his name."""
    return [(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB"), "identifiers": [ident(k, v) for k, v in identifiers],
        "traits": {"given_name": "Luis", "family_name": "Vega"}}), OBSERVED)]


KIND = {
    "email-of-a-web-customer": (("EMAIL", JUAN_MAIL), ("EMAIL", LUIS_MAIL),
                                web_customer([("EMAIL", LUIS_MAIL), ("PHONE", "+34 622 000 099")])),
    "national-id-of-a-billing-customer": (("NATIONAL_ID", JUAN_ID), ("NATIONAL_ID", LUIS_ID),
                                          billing([("NATIONAL_ID", LUIS_ID)])),
    "phone-of-a-web-customer": (("PHONE", JUAN_PHONE), ("PHONE", LUIS_PHONE),
                                web_customer([("PHONE", LUIS_PHONE), ("EMAIL", LUIS_MAIL)])),
}


@pytest.mark.parametrize("order", [("holder", "v1", "v2", "call"), ("holder", "v2", "call", "v1"),
                                   ("holder", "call", "v2", "v1")], ids="-".join)
@pytest.mark.parametrize("kind", sorted(KIND))
def test_every_kind_of_identifier_stays_with_its_holder(kind: str, order: tuple[str, ...]) -> None:
    first, corrected, holder = KIND[kind]
    items = scene(first, corrected, holder)
    h = run(items, order)
    luis = root(h, h.customer(*_own(holder)))
    assert holder_of(h, corrected) == luis
    assert_kept_by_its_holder(h, items, corrected, luis, first)


def _own(holder: list[tuple[Event, str]]) -> tuple[str, str]:
    """An identifier of the holder's own record other than the one corrected to: his account or his other contact."""
    value: Any = holder[-1][0].value
    own = [i for i in value["identifiers"] if i["type"] in ("ACCOUNT",)] or value["identifiers"][1:]
    return own[0]["type"], own[0]["value"]


@pytest.mark.parametrize("order", [("v1", "v2", "call"), ("v2", "v1", "call"), ("v2", "call", "v1")], ids="-".join)
def test_a_number_nobody_held_stays_off_the_first_customer_and_the_contact_stays_on_it(
        order: tuple[str, ...]) -> None:
    """Documented choice: nothing of Juan's confirms the number the clerk typed; it stays on the customer the
    correction made for it (as an unknown number's first contact makes one), where its holder's call finds it."""
    items = scene(("PHONE", JUAN_PHONE), ("PHONE", NEW_PHONE), [])
    h = run(items, order)
    juan, new = holder_of(h, ("PHONE", JUAN_PHONE)), holder_of(h, ("PHONE", NEW_PHONE))
    assert juan is not None and new is not None and new != juan
    for event, topic in items["v1"] + items["v2"]:
        if topic != OBSERVED:
            assert stands_on(h, event, juan), event.schema
    assert all(stands_on(h, event, new) for event, _ in items["call"])


def test_the_give_back_is_a_claim_to_the_holder_and_a_merge_of_what_the_correction_made() -> None:
    items = scene(("PHONE", JUAN_PHONE), ("PHONE", LUIS_PHONE), billing([("PHONE", LUIS_PHONE)]))
    h = run(items, ("holder", "v1", "v2"))
    luis = holder_of(h, ("ACCOUNT", "A-1002"))
    phone = h.key("PHONE", LUIS_PHONE)
    links = [d for d in h.decisions(Linked) if d.identifier == phone]
    assert links and root(h, links[-1].customer_id) == luis
    assert any(root(h, m.merged_id) == luis and m.merged_id != luis for m in h.decisions(Merged))
