"""A recycled number's previous holder's late contact that also carries an identifier nobody held goes to her.

Billing's full snapshot gives +34 611 000 001 to Maria (A-1001); a later snapshot no longer lists her account (its
closure stamped with the file's time) and gives the number to Pedro (A-2001). Maria's counter visit dated during her
tenancy, uploaded after the move, carries the number and an e-mail nobody held. The rule
(processors/identity/README.md, "Release an identifier"): a contact belongs to whoever held the number when it
occurred, also when it arrives after the move; so the visit is Maria's, and the e-mail it brings joins her. It was
placed on a new customer holding the e-mail alone (the number no longer links for an event older than the move, and
the new identifier made a customer of its own before the number's holder then was asked).

The kind: any late contact of hers carrying the number and identifiers nobody held (an e-mail, a second phone, a web
anonymous id), in every arrival order, through the slow path and the fast path, on 1 and 3 partitions. The mirror:
where the other identifier is already someone's, it decides (it links; the number, carried for its holder then,
does not): Maria's own e-mail keeps the visit on her; Pedro's e-mail or a third customer's puts it on that one.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Resolved
from processors.identity.graph.state import IdentifierState
from tests.adapters.branch.support import branch_settings
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_number_recycling import run
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
NUMBER = "+34611000001"
MARIA, PEDRO, ANA = "A-1001", "A-2001", "A-3001"
NEW_EMAIL, MARIA_EMAIL, PEDRO_EMAIL, ANA_EMAIL = ("maria.lopez@example.es", "maria@billing.example.es",
                                                  "pedro@billing.example.es", "ana@billing.example.es")
FIRST, SECOND = datetime(2026, 12, 1, 2, tzinfo=UTC), datetime(2026, 12, 3, 2, tzinfo=UTC)  # the snapshots' times
VISIT = datetime(2026, 12, 2, 15, tzinfo=UTC)  # during her tenancy
Item = tuple[Event, str]


def _legacy(event: str, fields: dict[str, str], key: str, at: datetime) -> list[Item]:
    mapped = map_business(BusinessRecord(event, fields, key, at),
                          LegacyContext("billing-es", BUSINESS, identity_topic=OBSERVED, phone_region="ES"))
    return [(out.event, out.topic) for out in mapped.events]


def line(account: str, given: str, family: str, phone: str, at: datetime, email: str = "") -> list[Item]:
    """A subscriber line of the snapshot (an ``AccountOpened`` stamped with the file's time)."""
    fields = {"account_number": account, "given_name": given, "family_name": family, "phone": phone,
              "account_type": "mobile"} | ({"email": email} if email else {})
    return _legacy("AccountOpened", fields, f"batch:subs:{account}", at)


def closure(account: str, at: datetime) -> list[Item]:
    """What a full snapshot that no longer lists ``account`` publishes: its ``AccountClosed`` at the file's time."""
    return _legacy("AccountClosed", {"account_number": account}, f"batch:subs:{account}:gone", at)


def _topic(event: Event) -> str:
    return OBSERVED if event.schema.endswith("IdentifiersObserved") else CONTACTS


def visit(*identifiers: tuple[str, str]) -> list[Item]:
    """Maria's counter visit (a complaint with a handoff) during her tenancy, with ``identifiers`` (type, value)."""
    native = {"event_id": "ev-maria-0002", "kind": "transaction", "occurred_at": VISIT.isoformat(),
              "agent_id": "clerk-17", "identifiers": [{"type": kind, "value": value} for kind, value in identifiers],
              "customer": {"given_name": "Maria", "family_name": "Lopez", "preferred_language": "es"},
              "transaction": {"id": "TX-0101-0006", "type": "complaint", "status": "completed",
                              "handoff": {"kind": "complaint", "summary": "Reclamacion por permanencia"}}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, _topic(o.event))
            for o in mapper(native, terminal_id="T-0101-01", branch_id="0101", received_at=VISIT).events]


def web_visit() -> list[Item]:
    """Maria's portal identify before any login: an anonymous id nobody had, the number as a trait."""
    message = {"type": "identify", "anonymousId": "anon-maria-77", "messageId": "m-maria",
               "timestamp": VISIT.isoformat().replace("+00:00", "Z"), "traits": {"phone": NUMBER}}
    web = SegmentMapper(web_settings(), TopicSettings())
    return [(o.event, _topic(o.event)) for o in web(message, source="portal-web", received_at=VISIT).events]


NEW_PHONE = "+34622000099"
CONTACT_KINDS = {  # a contact of hers, and the identifiers nobody held it carries
    "new-email": (lambda: visit(("phone", NUMBER), ("email", NEW_EMAIL)), [("EMAIL", NEW_EMAIL)]),  # the sample
    "new-phone": (lambda: visit(("phone", NUMBER), ("phone", NEW_PHONE)), [("PHONE", NEW_PHONE)]),
    "new-email-and-phone": (lambda: visit(("email", NEW_EMAIL), ("phone", NUMBER), ("phone", NEW_PHONE)),
                            [("EMAIL", NEW_EMAIL), ("PHONE", NEW_PHONE)]),
    "web-anonymous-id": (web_visit, [("ANONYMOUS_ID", "anon-maria-77")]),
}


def steps(contact: list[Item], maria_email: str = "") -> dict[str, list[Item]]:
    """The tester's set-up: the first snapshot (Maria), the second's closure and Pedro's line (one file time), her
    contact; a third customer's line (Ana) in the first snapshot."""
    return {"first": [*line(MARIA, "Maria", "Lopez", NUMBER, FIRST, maria_email),
                      *line(ANA, "Ana", "Ruiz", "+34633000003", FIRST, ANA_EMAIL)],
            "closure": closure(MARIA, SECOND),
            "pedro": line(PEDRO, "Pedro", "Gil", NUMBER, SECOND, PEDRO_EMAIL),
            "contact": contact}


def holder(h: Harness, account: str) -> str:
    return root(h, h.customer("ACCOUNT", account) or "")


def placed(h: Harness, items: list[Item]) -> set[str]:
    """The customers (roots) the contact events of ``items`` are on (each one's latest ``Resolved``); a contact that is
    an ``IdentifiersObserved`` alone (a portal identify) by that one."""
    ids = {event.value["envelope"]["event_id"] for event, topic in items if topic != OBSERVED} or {
        event.value["envelope"]["event_id"] for event, _ in items}
    latest = {r.triggering_event_id: r for r in h.decisions(Resolved) if r.triggering_event_id in ids}
    return {root(h, r.customer_id) for r in latest.values()}


def named(h: Harness, contact: list[Item], others: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """Whose the contact is and whose each of ``others`` is: "maria", "pedro", "ana", or "own" (another customer,
    the contact's own); checks the three apart and the number Pedro's."""
    people = {holder(h, MARIA): "maria", holder(h, PEDRO): "pedro", holder(h, ANA): "ana"}
    assert len(set(people) - {""}) == 3
    node = h.local.store.nodes[h.key("PHONE", NUMBER)]
    assert isinstance(node, IdentifierState) and node.owner is not None
    assert root(h, node.owner) == holder(h, PEDRO)
    (placement,) = placed(h, contact)
    return people.get(placement, "own"), [people.get(root(h, h.customer(kind, value) or ""), "own")
                                           for kind, value in others]


IN_TIME = ("first", "contact", "closure", "pedro")  # her contact reached identity during her tenancy


def check(parts: dict[str, list[Item]], order: tuple[str, ...], others: list[tuple[str, str]],
          expected: tuple[str, list[str]], *, partitions: int = 1, seed: int | None = None) -> None:
    """In this arrival order the contact and ``others`` are placed as ``expected``, which is where they went when the
    contact came in time (``IN_TIME``)."""
    h = run([item for name in order for item in parts[name]], partitions=partitions, seed=seed)
    assert named(h, parts["contact"], others) == expected, (order, seed)
    reference = run([item for name in IN_TIME for item in parts[name]])
    assert named(reference, parts["contact"], others) == expected


STEPS = ("first", "closure", "pedro", "contact")
ORDERS = [pytest.param(order, id="/".join(order)) for order in itertools.permutations(STEPS)]
HERS = ("maria", ["maria"])


def test_the_sample_as_the_tester_ran_it() -> None:
    """Both snapshots, then her visit with the number and a new e-mail: hers, and the e-mail with her."""
    contact, others = CONTACT_KINDS["new-email"]
    check(steps(contact()), STEPS, others, HERS)


# Where each kind goes, as when it came in time: hers, its new identifiers with her; a portal identify with no name
# and an anonymous id meets her through the number alone, too little to join (a review): a customer of its own.
EXPECTED = {"new-email": HERS, "new-phone": HERS, "new-email-and-phone": ("maria", ["maria", "maria"]),
            "web-anonymous-id": ("own", ["own"])}


@pytest.mark.parametrize("kind", list(CONTACT_KINDS))
@pytest.mark.parametrize("order", ORDERS)
def test_every_arrival_order_and_kind_goes_where_it_went_in_time(order: tuple[str, ...], kind: str) -> None:
    contact, others = CONTACT_KINDS[kind]
    check(steps(contact()), order, others, EXPECTED[kind])


@pytest.mark.parametrize("kind", list(CONTACT_KINDS))
@pytest.mark.parametrize("seed", range(4))
def test_on_three_partitions_with_copies(seed: int, kind: str) -> None:
    contact, others = CONTACT_KINDS[kind]
    check(steps(contact()), STEPS, others, EXPECTED[kind], partitions=3, seed=seed)


@pytest.mark.parametrize("order", ORDERS)
def test_mirror_her_own_email_keeps_it_hers(order: tuple[str, ...]) -> None:
    """The e-mail is already Maria's (her line gave it): hers by both identifiers."""
    check(steps(visit(("phone", NUMBER), ("email", MARIA_EMAIL)), maria_email=MARIA_EMAIL), order,
          [("EMAIL", MARIA_EMAIL)], HERS)


@pytest.mark.parametrize("email", [PEDRO_EMAIL, ANA_EMAIL], ids=["new-holders", "third-customers"])
@pytest.mark.parametrize("order", ORDERS)
def test_mirror_someone_elses_email_goes_as_in_time(order: tuple[str, ...], email: str) -> None:
    """The e-mail is another customer's (Pedro's or a third one's, their billing lines gave it): the number leads the
    visit to Maria, who held it then, and she meets that customer through the e-mail weighed as when it occurred: the
    names differ, they stay apart; the visit is hers and, as a person's contact, it ranks before a billing line on the
    e-mail, which she claims (as she did when the visit came in time)."""
    check(steps(visit(("phone", NUMBER), ("email", email))), order, [("EMAIL", email)], HERS)
