"""tester27 F2: a contact refused as another person never takes the holder's own mobile or e-mail from his master record.

A bank's core-banking export (``AccountOpened``: account, customer number ``C-880001``, mobile, e-mail, name and
birth date) registers Jean Moreau. A namesake (the same name, another birth date) is served at a branch counter with
Jean's mobile or e-mail on the clerk's form: the visit is refused as another person (the birth date's veto), and yet its
customer claimed the mobile by the ``earliest-claim`` rule, since a record's mobiles and e-mails rank after every other
channel's event (a family plan's lines, tester18 F4), so a screen pop of the mobile showed the namesake
(``graph/master.py``). The kind: every channel that carries a person's traits (counter, web, call center), every rule
that keeps the event apart (a veto, the weight, the one-login limit), the mobile and the e-mail, in every arrival order
(``itertools.permutations``), as the legacy, branch, web and call-center mappers publish them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.identifiers import IdentifierSettings
from bus.serde import Event
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed, landed
from tests.processors.identity.graph.test_keypad_customer_number import CALLED, EXPORTED, PLAIN
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

Items = list[tuple[Event, str]]
TOPICS = TopicSettings()
MOBILE, EMAIL = "+33612340001", "jean.moreau@example.fr"
HOLDER = {"account_number": "FR7630001007941234567890185", "account_type": "current", "customer_id": "C-880001",
          "email": EMAIL, "phone": "0612340001", "given_name": "Jean", "family_name": "Moreau",
          "birth_date": "1970-04-12"}
# The person each contact tells: the namesake (the birth date's veto), a relative (another given name: the weight).
NAMESAKE = {"given_name": "Jean", "family_name": "Moreau", "birth_date": "1995-09-14"}
RELATIVE = {"given_name": "Marc", "family_name": "Moreau", "birth_date": "1998-02-03"}
PEOPLE = {"namesake": NAMESAKE, "relative": RELATIVE}
IDENTIFIERS = {"mobile": ("PHONE", MOBILE), "email": ("EMAIL", EMAIL)}


def core_banking_line(fields: dict[str, str], region: str, identifiers: IdentifierSettings) -> Items:
    """What ``omnibus adapter legacy import-batch`` publishes for a holder's line (``fields``) of a core-banking
    export read in phone region ``region`` with ``identifiers``, exported at ``EXPORTED``."""
    mapped = map_business(BusinessRecord("AccountOpened", fields, "core.csv:2", EXPORTED),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region=region,
                                        identifiers=identifiers))
    return [(out.event, out.topic) for out in mapped.events]


def master_record() -> Items:
    """Jean's line of the core-banking export."""
    return core_banking_line(HOLDER, "FR", PLAIN)


def _topic(out: Any) -> str:
    return str(out.topic).removeprefix(f"{TOPICS.prefix}.")


def counter_visit(person: dict[str, str], carried: str, minutes: int = 10) -> Items:
    """A counter transaction whose clerk keyed the holder's mobile or e-mail (``carried``) and the visitor's name and
    birth date, ``minutes`` after the export's time."""
    at = CALLED + timedelta(minutes=minutes)
    kind, value = IDENTIFIERS[carried]
    event = {"event_id": f"tx-{carried}-{person['birth_date']}", "kind": "transaction", "occurred_at": at.isoformat(),
             "agent_id": "E-2231", "transaction": {"id": f"TX-{carried}", "type": "cash-withdrawal",
                                                   "status": "completed", "counter_id": "C3"},
             "identifiers": [{"type": kind.lower(), "value": value}],
             "customer": {"first_name": person["given_name"], "last_name": person["family_name"],
                          "date_of_birth": person["birth_date"]}}
    mapped = CounterMapper(branch_settings(), TOPICS, PLAIN)(event, terminal_id="CT-0142-03", branch_id="0142")
    return [(out.event, _topic(out)) for out in mapped.events]


def portal_identify(person: dict[str, str], carried: str, minutes: int = 10) -> Items:
    """A portal identify of the visitor's own login with the holder's mobile or e-mail and the visitor's traits."""
    at = CALLED + timedelta(minutes=minutes)
    traits = {"firstName": person["given_name"], "lastName": person["family_name"],
              "birthday": person["birth_date"], "phone" if carried == "mobile" else "email": IDENTIFIERS[carried][1]}
    message = {"type": "identify", "userId": f"web-{person['birth_date']}", "messageId": f"m-{carried}",
               "timestamp": at.isoformat(), "traits": traits}
    mapped = SegmentMapper(web_settings(), TOPICS, PLAIN)(message, source="portal-web", received_at=at)
    return [(out.event, _topic(out)) for out in mapped.events]


def ivr_call(person: dict[str, str], carried: str, minutes: int = 10) -> Items:
    """A Connect CTR from the holder's mobile whose IVR took the caller's first name and birth date."""
    assert carried == "mobile"  # a call carries its caller's number
    at = (CALLED + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
    record = ctr(ContactId=f"ctr-{person['birth_date']}", CustomerEndpoint={"Address": MOBILE, "Type": "TELEPHONE_NUMBER"},
                 Attributes={"firstName": person["given_name"], "dateOfBirth": person["birth_date"]})
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", f"{at[:-2]}"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else "contact.events.v1")
            for out in map_ctr(native, context()).events]


CHANNELS = {"counter": counter_visit, "web": portal_identify, "call": ivr_call}
CASES = [(channel, carried) for channel in CHANNELS for carried in IDENTIFIERS
         if not (channel == "call" and carried == "email")]


# Every refused contact of the kind, in both arrival orders: a counter visit, a portal login or an IVR call (``CASES``)
# of the namesake or a relative, with Jean's mobile or e-mail, dated after the export or days before it.
REFUSED_CONTACTS = (
    pytest.mark.parametrize("order", list(itertools.permutations(range(2))), ids=["record-first", "contact-first"]),
    pytest.mark.parametrize("person", sorted(PEOPLE)),
    pytest.mark.parametrize(("channel", "carried"), CASES, ids=[f"{c}-{k}" for c, k in CASES]),
    pytest.mark.parametrize("minutes", [10, -3 * 24 * 60], ids=["after-export", "days-before-export"]),
)


def refused_contacts(test: Callable[..., None]) -> Callable[..., None]:
    """``test`` parametrized by ``REFUSED_CONTACTS``, stacked as decorators written in that order."""
    for mark in reversed(REFUSED_CONTACTS):
        test = mark(test)
    return test


def holder(h: Harness) -> str:
    return root(h, h.customer("CUSTOMER_NUMBER", "C-880001") or "")


def run(groups: list[Items], order: tuple[int, ...]) -> Harness:
    h = Harness(settings())
    feed(h, [item for index in order for item in groups[index]])
    h.local.check_consistent()
    return h


def assert_kept(h: Harness) -> None:
    """The holder's master record keeps its mobile and e-mail: a lookup of either shows Jean."""
    jean = holder(h)
    assert jean
    assert root(h, h.customer(*IDENTIFIERS["mobile"]) or "") == jean
    assert root(h, h.customer(*IDENTIFIERS["email"]) or "") == jean


@pytest.mark.parametrize("order", list(itertools.permutations(range(2))), ids=["record-first", "visit-first"])
@pytest.mark.parametrize("carried", sorted(IDENTIFIERS))
def test_f2_a_namesakes_counter_visit_leaves_the_holders_mobile_and_email_on_his_record(
        carried: str, order: tuple[int, ...]) -> None:
    """F2 as reported: the namesake's counter visit with Jean's mobile (or e-mail), in both arrival orders: refused on
    the birth date, it takes nothing; a lookup of the mobile and the e-mail shows Jean's record."""
    visit = counter_visit(NAMESAKE, carried)
    h = run([master_record(), visit], order)
    assert_kept(h)


def test_the_namesakes_visit_is_on_no_screen_pop_of_the_holder_in_either_order() -> None:
    """tester27 F2's sample: the namesake's visit with only Jean's e-mail, after his record or before it, stays off his
    customer (before the call's events ranked as one, ``graph/contact_rank.py``, and a lapsing master record let its
    visit wait for the claim it withheld, ``master.lapses``, the order after his record put it on him)."""
    visit = counter_visit(NAMESAKE, "email")
    for order in itertools.permutations(range(2)):
        h = run([master_record(), visit], order)
        for event, _ in visit:
            if event.schema.endswith("InteractionRecorded"):
                assert holder(h) not in {root(h, customer) for customer in landed(h, event)}, order


@refused_contacts
def test_no_refused_contacts_events_land_on_the_holders_screen_pop(
        channel: str, carried: str, person: str, minutes: int, order: tuple[int, ...]) -> None:
    """The kind of the sample: no event of a refused contact (counter visit, portal login, IVR call; the namesake or a
    relative; with Jean's mobile or e-mail; after the export or days before it) ends on Jean's customer, in both
    arrival orders."""
    contact = CHANNELS[channel](PEOPLE[person], carried, minutes)
    h = run([master_record(), contact], order)
    for event, _ in contact:
        assert holder(h) not in {root(h, customer) for customer in landed(h, event)}, event.schema


@refused_contacts
def test_no_refused_contact_takes_the_holders_own_identifiers_on_any_channel(
        channel: str, carried: str, person: str, minutes: int, order: tuple[int, ...]) -> None:
    """The kind: a counter visit, a portal login or an IVR call of the namesake (the veto) or of a relative (another
    given name: the weight), with Jean's mobile or e-mail, dated after the export or days before it, in both arrival
    orders: the master record keeps both."""
    contact = CHANNELS[channel](PEOPLE[person], carried, minutes)
    h = run([master_record(), contact], order)
    assert_kept(h)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_login_the_one_login_limit_keeps_apart_takes_nothing_from_the_record(order: tuple[int, ...]) -> None:
    """The limit's kind: Jean's own login joins his record; another login with Jean's mobile and e-mail and no traits
    (refused by the one-login limit, or left out as the weaker login: ``weaker_login.py``) never takes them, in every
    arrival order of the three."""
    def identify(user: str, minutes: int, **traits: str) -> Items:
        at = CALLED + timedelta(minutes=minutes)
        message = {"type": "identify", "userId": user, "messageId": f"m-{user}", "timestamp": at.isoformat(),
                   "traits": traits}
        mapped = SegmentMapper(web_settings(), TOPICS, PLAIN)(message, source="portal-web", received_at=at)
        return [(out.event, _topic(out)) for out in mapped.events]

    own = identify("web-jean", 30, email=EMAIL, phone=MOBILE, firstName="Jean", lastName="Moreau", birthday="1970-04-12")
    other = identify("web-other", 5, email=EMAIL, phone=MOBILE)
    h = run([master_record(), own, other], order)
    jean = holder(h)
    assert root(h, h.customer("USER_ID", "web-jean") or "") == jean
    assert root(h, h.customer("USER_ID", "web-other") or "") not in ("", jean)
    assert_kept(h)
