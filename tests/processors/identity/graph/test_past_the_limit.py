"""Tester22 F8: a contact whose identifiers no longer link (shared past ``shared_after``) is never lost.

A rented flat's landline was on three tenants' billing lines (Alice, Bruno, Chloé: ``shared_after`` 3 for PHONE). Hugo,
moving in, calls from it; the IVR takes his name and birth date and the call opens a move-in handoff; his own billing
line with the landline comes that night. The call's four events (CallCompleted, InteractionRecorded, its IVR record and
the HandoffCreated) went to no customer, and the tracker put the handoff on the phone's previous holder. In every
arrival order of the five they all land on one customer, Hugo's (a customer of their own that blocking merges with his
line's, ``saga.advance``), never on a previous tenant's. Also a counter visit, a web identify and an e-mail past its
limit: the same kind (the contact's traits place it; without traits it stays unresolved, as the pop's note says).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.messages.commands import ReleaseIdentifier
from processors.identity.graph.outputs import Resolved, Send, Unresolved
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED
from tests.processors.identity.graph.test_family_plan import feed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

Item = tuple[Event, str]
BUSINESS = "business.events.v1"
LANDLINE, NUMBER = "04 78 11 22 33", "+33478112233"
TENANTS = {  # account -> (given name, family name, birth date, the line's date)
    "EL-100001": ("Alice", "Durand", "1970-03-12", datetime(2019, 1, 5, tzinfo=UTC)),
    "EL-100002": ("Bruno", "Leroy", "1985-11-22", datetime(2021, 2, 1, tzinfo=UTC)),
    "EL-100003": ("Chloé", "Petit", "1990-06-30", datetime(2023, 4, 1, tzinfo=UTC)),
}
HUGO = ("EL-100040", ("Hugo", "Lambert", "1999-04-20", datetime(2025, 3, 2, 22, tzinfo=UTC)))
CALLED = "2025-03-02T"  # the CTR sample's day moved after the tenants' lines, before Hugo's (22:00)


def billing_line(account: str, person: tuple[str, str, str, datetime]) -> list[Item]:
    """What ``import-batch`` publishes for one line of the contracts export: the flat's landline, the tenant's e-mail."""
    given, family, born, opened = person
    fields = {"account_number": account, "account_type": "electricity", "service_tier": "standard",
              "phone": LANDLINE, "email": f"{given.lower()}.{account.lower()}@example.net",
              "given_name": given, "family_name": family, "birth_date": born,
              "address_line": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"}
    mapped = map_business(BusinessRecord("AccountOpened", fields, f"contracts.csv:{account}", opened),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def move_in_call() -> list[Item]:
    """Hugo's CTR from the landline: IVR name and birth date, a move-in handoff (4 events, as the tester saw)."""
    given, family, born, _ = HUGO[1]
    record = ctr(ContactId="t22-call-hugo", CustomerEndpoint={"Address": NUMBER, "Type": "TELEPHONE_NUMBER"},
                 Attributes={"firstName": given, "lastName": family, "dateOfBirth": born,
                             "omnibus_handoff_kind": "move-in", "omnibus_handoff_summary": "New tenant moving in"})
    native = json.loads(json.dumps(record).replace("2024-03-05T", CALLED))
    return [(o.event, o.topic if o.event.schema.startswith("omnibus.handoff.")
             else OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in map_ctr(native, context()).events]


def counter_visit(person: tuple[str, str, str, datetime], identifier: tuple[str, str]) -> list[Item]:
    """A counter transaction (uploaded late by an offline terminal) with ``identifier`` alone, the name and birth date
    the customer gave the clerk and a handoff to the back office, through the branch mapper."""
    given, family, born, _ = person
    at = datetime(2025, 3, 2, 15, tzinfo=UTC)
    native = {"event_id": f"visit-{given}", "kind": "transaction", "occurred_at": at.isoformat(), "agent_id": "clerk-3",
              "identifiers": [{"type": identifier[0], "value": identifier[1]}],
              "customer": {"given_name": given, "family_name": family, "birth_date": born},
              "transaction": {"id": f"TX-{given}", "type": "move-out", "status": "completed", "counter_id": "C1",
                              "handoff": {"kind": "move-out", "summary": "Final meter reading"}}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, o.topic if o.event.schema.startswith("omnibus.handoff.")
             else OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in mapper(native, terminal_id="CT-0001-01", branch_id="0001", received_at=at).events]


def web_identify(person: tuple[str, str, str, datetime], identifier: tuple[str, str] = ("phone", NUMBER),
                 *, hours: int = 12) -> list[Item]:
    """The tenant's login on the portal: his user id, ``identifier`` (the landline) and his name and birth date."""
    given, family, born, _ = person
    at = datetime(2025, 3, 2, hours, tzinfo=UTC)
    message = {"type": "identify", "userId": f"web-{given.lower()}", "messageId": f"m-{given}-{hours}",
               "timestamp": at.isoformat().replace("+00:00", "Z"),
               "traits": {"firstName": given, "lastName": family, "birthday": born, identifier[0]: identifier[1]}}
    web = SegmentMapper(web_settings(), TopicSettings())
    return [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in web(message, source="portal-web", received_at=at).events]


def placed(h: Harness, items: list[Item]) -> dict[str, set[str]]:
    """Each event of ``items``: the customers (as roots now) its latest placement is on; empty if unresolved."""
    ids = {event.value["envelope"]["event_id"]: event.schema for event, _ in items}
    latest: dict[str, str] = {}
    for decision in h.local.decisions:
        if isinstance(decision, Resolved | Unresolved) and decision.triggering_event_id in ids:
            latest[decision.triggering_event_id] = getattr(decision, "customer_id", "")
    return {ids[event_id]: {root(h, customer)} if customer else set() for event_id, customer in latest.items()}


def check(blocks: list[list[Item]], order: tuple[int, ...], contact: list[Item], person: str, kind: str) -> None:
    """``blocks`` in ``order``: every event of ``contact`` on the customer of ``person`` (an identifier of ``kind``),
    each tenant a customer of his own."""
    h = Harness(matcher_settings())
    for index in order:
        feed(h, blocks[index])
    h.local.check_consistent()
    tenants = [*TENANTS, HUGO[0]] if kind == "ACCOUNT" else [f"web-{p[0].lower()}" for p in [*TENANTS.values(), HUGO[1]]]
    customers = {value: root(h, h.customer(kind, value) or "") for value in tenants}
    assert len(set(customers.values())) == len(customers), (order, customers)  # each tenant his own customer
    where = placed(h, contact)
    assert set(where) == {event.schema for event, _ in contact}, order
    assert all(found == {customers[person]} for found in where.values()), (order, where, customers)


def blocks_with(contact: list[Item]) -> list[list[Item]]:
    """0-2: the previous tenants' lines; 3: the contact; 4: Hugo's line."""
    return [*(billing_line(account, person) for account, person in TENANTS.items()), contact, billing_line(*HUGO)]


def every_order(blocks: list[list[Item]], contact: list[Item], person: str, kind: str = "ACCOUNT") -> None:
    for order in itertools.permutations(range(len(blocks))):
        check(blocks, order, contact, person, kind)


def test_the_sample_the_move_in_call_and_its_handoff_land_on_the_new_tenant() -> None:
    """F8 as reported: the three tenants' lines, the call, then Hugo's line that night."""
    call = move_in_call()
    check(blocks_with(call), (0, 1, 2, 3, 4), call, HUGO[0], "ACCOUNT")


def test_every_arrival_order_of_the_lines_and_the_move_in_call() -> None:
    """The 120 orders: the call before, between and after the lines (past the limit or not yet when it comes)."""
    call = move_in_call()
    every_order(blocks_with(call), call, HUGO[0])


def test_a_call_after_an_operator_released_the_landline_from_its_holder_lands_on_the_caller() -> None:
    """F8 addendum 4: the landline released from the customer that kept it (``identity release``), then Hugo's call
    with his name and birth date (his line came first): on Hugo, not lost."""
    call = move_in_call()
    h = Harness(matcher_settings())
    for block in blocks_with([]):
        feed(h, block)
    keeper = h.customer("PHONE", NUMBER)
    assert keeper is not None
    released = int(datetime(2025, 3, 2, 1, tzinfo=UTC).timestamp() * 1e6)  # before the call
    h.local.submit([Send(keeper, ReleaseIdentifier(h.key("PHONE", NUMBER), "op-claire", "tenant moved out",
                                                   "cmd-release-1", released))])
    h.local.run()
    feed(h, call)
    hugo = root(h, h.customer("ACCOUNT", HUGO[0]) or "")
    where = placed(h, call)
    assert set(where) == {event.schema for event, _ in call}
    assert all(found == {hugo} for found in where.values()), where


def test_the_previous_tenants_counter_visit_with_the_landline_alone_lands_on_him_in_every_order() -> None:
    """F8 addendum 2: Bruno's offline move-out visit (the landline, his name and birth date, a handoff)."""
    bruno = "EL-100002"
    visit = counter_visit(TENANTS[bruno], ("PHONE", LANDLINE))
    every_order(blocks_with(visit), visit, bruno)


def test_the_new_tenants_web_login_with_the_landline_lands_on_him_in_every_order() -> None:
    web = web_identify(HUGO[1])
    every_order(blocks_with(web), web, HUGO[0])


def test_a_visit_with_an_email_past_its_limit_lands_on_its_person_in_every_order() -> None:
    """The letting agency's e-mail that each tenant gave at his portal login (EMAIL ``shared_after`` 3; a billing
    line's e-mail is the holder's and counts nobody, ``rules.holder_only``): Chloé's visit with it alone."""
    agency = "gestion@agence-lilas-lyon.fr"
    logins = [web_identify(person, ("email", agency), hours=8) for person in [*TENANTS.values(), HUGO[1]]]
    visit = counter_visit(TENANTS["EL-100003"], ("EMAIL", agency))
    every_order([*logins[:3], visit, logins[3]], visit, "web-chloé", "USER_ID")
