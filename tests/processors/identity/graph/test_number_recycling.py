"""Tester24 F14: a mobile number billing gave a churned subscriber is recycled to a new one.

Billing's master export gives Claire Petit (``CT-900005``, ``C-770005``) the mobile ``06 33 44 55 66``; billing closes
her contract (the CDC outbox's ``AccountClosed``); the next master export gives the same number to Nina Roux (an active
contract ``CT-900010``, her own customer number ``C-770010`` and name); then Nina calls from it (a Connect CTR with
nothing from the IVR). The system of record's newer assignment to an active holder, after the earlier holder's account
was closed, is the better evidence of whose the number is: it is Nina's, her call lands on her, and Claire keeps her
account, customer number, e-mail and the contact of her own line (her history). Every arrival order of the four
records, each settled (``omnibus replay identity``'s way), and shuffled on 3 partitions with copies (the running
processor's way).
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from processors.identity.config import IdentitySettings
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Resolved
from processors.identity.graph.state import IdentifierState
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
MOBILE = "+33633445566"
DAY = datetime(2026, 12, 2, tzinfo=UTC)
PEOPLE = {  # each subscriber's line of the master export (tester24's accounts.csv / accounts2.csv)
    "claire": {"account_number": "CT-900005", "customer_id": "C-770005", "email": "claire.petit@example.fr",
               "given_name": "Claire", "family_name": "Petit", "birth_date": "1979-06-12"},
    "nina": {"account_number": "CT-900010", "customer_id": "C-770010", "email": "nina.roux@example.fr",
             "given_name": "Nina", "family_name": "Roux", "birth_date": "1996-02-03"},
}
Items = list[tuple[Event, str]]

SHARED_EMAIL = "c.petit@mail-recycled.fr"  # an e-mail provider's recycled address (the kind's other type)


def line(person: str, hour: int, shared: str = "phone") -> Items:
    """What ``import-batch`` publishes for ``person``'s master-export line (an ``AccountOpened``) at ``hour`` (UTC) of
    the day, with the recycled mobile (``shared="phone"``) or, beside the mobile, the recycled e-mail (``"email"``)."""
    fields = {**PEOPLE[person], "phone": "06 33 44 55 66", "account_type": "mobile", "service_tier": "standard"}
    if shared == "email":
        own = {"claire": "06 33 44 55 01", "nina": "06 33 44 55 02"}[person]
        fields = {**fields, "email": SHARED_EMAIL, "phone": own}
    key = f"batch:accounts:{fields['account_number']}"
    mapped = map_business(BusinessRecord("AccountOpened", fields, key, DAY.replace(hour=hour)),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def closed(account: str, hour: int) -> Items:
    """The CDC outbox's ``AccountClosed`` row of ``account`` (the account number alone) at ``hour``."""
    mapped = map_business(BusinessRecord("AccountClosed", {"account_number": account, "reason": "churn"},
                                         f"outbox:{account}", DAY.replace(hour=hour, minute=9)),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def call(contact_id: str, hour: int) -> Items:
    """A Connect CTR from the mobile at ``hour`` (UTC), nothing from the IVR."""
    record = ctr(ContactId=contact_id, CustomerEndpoint={"Address": MOBILE, "Type": "TELEPHONE_NUMBER"},
                 Attributes={})
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", f"2026-12-02T{hour:02d}:"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def run(items: Items, *, partitions: int = 1, seed: int | None = None,
        config: IdentitySettings | None = None, view: AssignmentView | None = None) -> Harness:
    """``items`` in this order, each settled (``seed`` None), or interleaved on ``partitions`` by ``seed`` with
    at-least-once copies; ``config``: the identity settings (default ``matcher_settings()``); ``view``: the fast
    path's (``Harness``)."""
    h = Harness(config or matcher_settings(), partitions=partitions, seed=seed,
                duplicates=0.1 if seed is not None else 0.0, view=view)
    steps = random.Random(seed)
    for event, topic in items:
        h.feed(event, topic, settle=seed is None)
        for _ in range(steps.randint(0, 6) if seed is not None else 0):
            h.local.step()
    h.local.run()
    h.local.check_consistent()
    return h


def holder(h: Harness, person: str) -> str:
    return root(h, h.customer("CUSTOMER_NUMBER", PEOPLE[person]["customer_id"]) or "")


def placed(h: Harness, items: Items) -> set[str]:
    """The customers (roots) the contact events of ``items`` are on now (each one's latest ``Resolved``)."""
    ids = {event.value["envelope"]["event_id"] for event, topic in items if topic != OBSERVED}
    return {root(h, r.customer_id) for r in {r.triggering_event_id: r for r in h.decisions(Resolved)
                                            if r.triggering_event_id in ids}.values()}


def on(h: Harness, items: Items) -> set[str]:
    """Where the contact events of ``items`` are now, by person."""
    people = {holder(h, person): person for person in PEOPLE}
    return {people.get(customer, customer) for customer in placed(h, items)}


def check(h: Harness, blocks: dict[str, Items], context_: object) -> None:
    """The number Nina's alone, her call on her; Claire's customer keeps her account, number, e-mail and line."""
    claire, nina = holder(h, "claire"), holder(h, "nina")
    assert claire != nina, context_
    for person, customer in (("claire", claire), ("nina", nina)):
        assert root(h, h.customer("ACCOUNT", PEOPLE[person]["account_number"]) or "") == customer, context_
        assert root(h, h.customer("EMAIL", PEOPLE[person]["email"]) or "") == customer, context_
    node = h.local.store.nodes[h.key("PHONE", MOBILE)]
    assert isinstance(node, IdentifierState) and node.owner is not None, context_
    assert root(h, node.owner) == nina, context_
    assert on(h, blocks["nina-call"]) == {"nina"}, context_
    assert on(h, blocks["claire-line"]) == {"claire"}, context_


def blocks() -> dict[str, Items]:
    """Claire's line (08:00), her closure (12:09), Nina's line (13:00), Nina's call (14:00)."""
    return {"claire-line": line("claire", 8), "closure": closed("CT-900005", 12), "nina-line": line("nina", 13),
            "nina-call": call("ctr-0021", 14)}


def test_the_sample_closure_then_the_next_export_then_ninas_call() -> None:
    """F14 as reported: Claire's line, her closure, the next export's line for Nina, Nina's call."""
    parts = blocks()
    check(run([item for block in parts.values() for item in block]), parts, "sample")


ORDERS = list(itertools.permutations(["claire-line", "closure", "nina-line", "nina-call"]))


@pytest.mark.parametrize("order", ORDERS, ids=["/".join(name.split("-")[0][0] + name.split("-")[-1][0]
                                                            for name in order) for order in ORDERS])
def test_every_arrival_order_gives_the_number_to_the_later_active_holder(order: tuple[str, ...]) -> None:
    """The 24 arrival orders of the four records (the times stay: the closure between the two lines), each settled."""
    parts = blocks()
    check(run([item for name in order for item in parts[name]]), parts, order)


@pytest.mark.parametrize("seed", range(6))
def test_shuffled_on_partitions_with_copies_gives_the_same(seed: int) -> None:
    """The four records' events shuffled on 3 partitions with at-least-once copies: the running processor's way."""
    parts = blocks()
    items = [item for block in parts.values() for item in block]
    check(run(random.Random(seed).sample(items, len(items)), partitions=3, seed=seed), parts, seed)


def test_a_closure_before_any_other_line_keeps_the_number_with_its_holder() -> None:
    """No later record gives the number to anyone: Claire's closed contract keeps her history and her number (a
    closure alone is no recycling: her calls from it still pop her)."""
    parts = blocks()
    h = run([*parts["claire-line"], *parts["closure"], *call("ctr-0020", 14)])
    node = h.local.store.nodes[h.key("PHONE", MOBILE)]
    assert isinstance(node, IdentifierState) and node.owner is not None
    assert root(h, node.owner) == holder(h, "claire")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_kind_a_recycled_email_goes_to_the_later_active_holder_in_every_order(order: tuple[int, ...]) -> None:
    """The same with an e-mail address the record gives (a provider that recycles addresses): each keeps her mobile,
    the address goes to Nina once Claire's account is closed, whatever the order of the two lines and the closure."""
    parts = [line("claire", 8, "email"), closed("CT-900005", 12), line("nina", 13, "email")]
    h = run([item for index in order for item in parts[index]])
    claire, nina = holder(h, "claire"), holder(h, "nina")
    assert claire != nina, order
    assert root(h, h.customer("EMAIL", SHARED_EMAIL) or "") == nina, order
    assert root(h, h.customer("PHONE", "+33633445501") or "") == claire, order
    assert root(h, h.customer("ACCOUNT", "CT-900005") or "") == claire, order
    assert on(h, parts[0]) == {"claire"}, order


def family_line(account: str, given: str, birth: str, hour: int, tag: str) -> Items:
    """A billing line of ``account`` naming ``given`` Martin with Grace's mobile (her own contract, or the family
    plan her father Frank holds), at ``hour``."""
    fields = {"account_number": account, "customer_id": f"C-{account}", "given_name": given, "family_name": "Martin",
              "birth_date": birth, "phone": "06 33 44 55 77", "account_type": "mobile", "service_tier": "standard"}
    mapped = map_business(BusinessRecord("AccountOpened", fields, f"batch:{tag}:{account}", DAY.replace(hour=hour)),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_a_closed_contract_beside_a_family_plan_line_takes_nothing_in_every_order(order: tuple[int, ...]) -> None:
    """Grace's own contract gave her mobile (06:00), her father's family plan carried it too (07:00, re-exported at
    13:00), her own contract closes (12:09): the family plan held it alongside, before the closure, so it is no newer
    assignment and the mobile stays Grace's (the earliest record's), in every arrival order."""
    frank = ("Frank", "1969-01-02")
    parts = [family_line("CT-GRACE", "Grace", "2001-05-06", 6, "a"), family_line("CT-FAM", *frank, 7, "a"),
             closed("CT-GRACE", 12), family_line("CT-FAM", *frank, 13, "b")]
    h = run([item for index in order for item in parts[index]])
    grace, frank = (root(h, h.customer("ACCOUNT", account) or "") for account in ("CT-GRACE", "CT-FAM"))
    assert grace != frank, order
    assert root(h, h.customer("PHONE", "+33633445577") or "") == grace, order
