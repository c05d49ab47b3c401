"""Tester26 F1, F3, F7: every event of a handoff stands where its creation does, not on its identifiers' keeper.

A call or a counter visit opens a back-office handoff; identity places the visit and its ``HandoffCreated`` on the
caller (by the caller's traits, or because a link to a typed account was refused), while the tracker's later events
(``HandoffRouted``, ``HandoffStatusChanged``) name only the identifiers, whose keeper is another person: the shared
landline's (a new tenant's move-in call, F1; a housemate's Twilio call, F7), or the typed account's holder (a
clerk's typo at the counter, F3). Each reproduction, through the real mappers (billing lines, Connect CTR,
TaskRouter, counter upload) and the tracker, in every arrival order of the visit's events and the handoff's: every
event of the handoff stands on the caller, and the handoff is on the caller's screen pop, not the keeper's
(``graph/handoff_moves.placed``).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center import mapper_taskrouter
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.state import Timeline
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.config import TopicSettings
from bus.serde import Event
from processors.handoffs.outputs import CREATED
from processors.handoffs.transitions import apply as track
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import ContactMoved, Send
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.support import context as call_center
from tests.adapters.call_center.support import sample
from tests.adapters.call_center.test_mapper_identifiers import ctr
from tests.processors.handoffs.factories import acknowledged
from tests.processors.handoffs.factories import context as tracker
from tests.processors.identity.graph.test_handoff_moves import handoffs, placed, stands_on
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

Item = tuple[Event, str]
OBSERVED, CONTACTS, HANDOFFS, BUSINESS = ("identity.observed.v1", "contact.events.v1", "handoff.events.v1",
                                          "business.events.v1")
MOVE_IN, PETIT = "04 78 12 34 77", "04 78 12 34 99"
PEOPLE = {  # account -> the billing export line's fields (the landline as written) and its date
    "CA-900001": {"given_name": "Alice", "family_name": "Moreau", "birth_date": "1985-02-11", "phone": "06 12 44 55 01",
                  "email": "alice.t26@example.fr", "at": datetime(2019, 5, 2, tzinfo=UTC)},
    "CA-900002": {"given_name": "Bernard", "family_name": "Petit", "birth_date": "1970-06-05", "phone": PETIT,
                  "email": "bernard.t26@example.fr", "at": datetime(2019, 6, 1, tzinfo=UTC)},
    "CA-900003": {"given_name": "Carla", "family_name": "Petit", "birth_date": "1972-01-20", "phone": PETIT,
                  "email": "carla.t26@example.fr", "at": datetime(2020, 6, 1, tzinfo=UTC)},
    "CA-900004": {"given_name": "Denis", "family_name": "Garnier", "birth_date": "1960-11-30", "phone": MOVE_IN,
                  "email": "denis.t26@example.fr", "at": datetime(2018, 3, 1, tzinfo=UTC)},
    "CA-900005": {"given_name": "Emma", "family_name": "Leroy", "birth_date": "1990-07-14", "phone": MOVE_IN,
                  "email": "emma.t26@example.fr", "at": datetime(2024, 3, 1, tzinfo=UTC)},
}


def line(account: str) -> list[Item]:
    """What ``import-batch`` publishes for one contract line of the billing export."""
    person = PEOPLE[account]
    fields = {"account_number": account, "account_type": "residential", "address_line": "5 avenue Jean Jaures",
              "postcode": "69007", "city": "Lyon", **{k: v for k, v in person.items() if k != "at"}}
    mapped = map_business(BusinessRecord("AccountOpened", fields, f"contracts.csv:{account}", person["at"]),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def _topic(event: Event) -> str:
    if event.schema.startswith("omnibus.handoff."):
        return HANDOFFS
    return OBSERVED if event.schema.endswith("IdentifiersObserved") else CONTACTS


def move_in_call() -> list[Item]:
    """F1: Emma's Connect CTR from the flat's landline, her name and birth date taken by the IVR, a move-in case."""
    record = ctr(ContactId="call-emma-movein", CustomerEndpoint={"Address": "+33478123477", "Type": "TELEPHONE_NUMBER"},
                 Attributes={"firstName": "Emma", "lastName": "Leroy", "dateOfBirth": "1990-07-14",
                             "omnibus_handoff_kind": "move-in", "omnibus_handoff_summary": "New tenant moving in"})
    return [(o.event, _topic(o.event)) for o in map_ctr(record, call_center()).events]


def counter_typo() -> list[Item]:
    """F3: Bernard at the counter with his landline; the clerk typed Alice's contract number; a meter dispute."""
    native = {"event_id": "t26-tx-1", "kind": "transaction", "occurred_at": "2024-03-05T09:00:00+00:00",
              "agent_id": "E-1", "identifiers": [{"type": "PHONE", "value": PETIT},
                                                 {"type": "ACCOUNT", "value": "CA-900001"}],
              "customer": {"full_name": "Bernard Petit", "birth_date": "1970-06-05"},
              "transaction": {"id": "TX-T26-1", "type": "meter-dispute", "status": "completed", "counter_id": "C2",
                              "handoff": {"kind": "meter-dispute", "summary": "Customer disputes index",
                                          "team": "metering"}}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    visited = datetime(2024, 3, 5, 9, tzinfo=UTC)
    return [(o.event, _topic(o.event))
            for o in mapper(native, terminal_id="CT-0001-01", branch_id="0001", received_at=visited).events]


def housemate_task() -> list[Item]:
    """F7: Carla's Twilio task from the family landline, her name in Flex Insights' ``customers``, an outage."""
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    terminal["TaskAttributes"] = json.dumps(
        json.loads(terminal["TaskAttributes"]) | {
            "from": "+33478123499", "caller": "+33478123499", "customers": {"name": "Carla Petit"},
            "omnibus_handoff_kind": "outage", "omnibus_handoff_summary": "No gas since this morning"})
    mapped = mapper_taskrouter.map_task(terminal, Timeline(), call_center("lyon"))
    return [(o.event, _topic(o.event)) for o in mapped.events]


def tracked(opened: Event) -> list[Item]:
    """The tracker's events of the handoff: its routing and status at the creation, then the acknowledgement's."""
    state, found, ctx = None, [], tracker()
    occurred = datetime.fromisoformat(opened.value["envelope"]["occurred_at"]) if isinstance(
        opened.value["envelope"]["occurred_at"], str) else opened.value["envelope"]["occurred_at"]
    for event in (opened, acknowledged(opened.value["handoff_id"], occurred)):
        transition = track(state, event, ctx)
        state = transition.state
        found += [o.event for o in transition.outputs
                  if o.event.schema.rsplit(".", 1)[1] in ("HandoffRouted", "HandoffStatusChanged")]
    return [(event, HANDOFFS) for event in found]


# (the visit, the lines fed first, the caller's account, the keeper's)
CASES: dict[str, tuple[Callable[[], list[Item]], list[str], str, str]] = {
    "F1-move-in-call": (move_in_call, ["CA-900004", "CA-900005"], "CA-900005", "CA-900004"),
    "F3-counter-typo": (counter_typo, ["CA-900001", "CA-900002", "CA-900003"], "CA-900002", "CA-900001"),
    "F7-housemate-task": (housemate_task, ["CA-900002", "CA-900003"], "CA-900003", "CA-900002"),
}


def blocks(case: str) -> list[list[Item]]:
    """The visit's items, one block each but the contact events (one block), then the tracker's, one block each."""
    visit, *_ = CASES[case]
    items = visit()
    (opened,) = [event for event, _ in items if event.schema == CREATED]
    contact = [item for item in items if item[1] == CONTACTS]
    others = [[item] for item in items if item[1] != CONTACTS]
    return [contact, *others, *([item] for item in tracked(opened))]


def problems(case: str, order: tuple[int, ...]) -> list[str]:
    _, lines, caller_account, keeper_account = CASES[case]
    made = blocks(case)
    h = Harness(matcher_settings())
    for account in lines:
        for event, topic in line(account):
            h.feed(event, topic)
    for index in order:
        for event, topic in made[index]:
            h.feed(event, topic)
    h.local.check_consistent()
    caller = root(h, h.customer("ACCOUNT", caller_account) or "")
    keeper = root(h, h.customer("ACCOUNT", keeper_account) or "")
    if not caller or caller == keeper:
        return ["the caller and the keeper are not two customers"]
    found = []
    events = [event for block in made for event, topic in block if topic in (CONTACTS, HANDOFFS)]
    opened = next(event for event in events if event.schema == CREATED)
    for event in events:
        if not stands_on(h, event, caller):
            found.append(f"{event.schema.rsplit('.', 1)[1]} not on the caller")
    key = opened.value["handoff_id"]
    if key not in handoffs(h, caller) or key in handoffs(h, keeper):
        found.append(f"open_handoffs: caller {handoffs(h, caller)}, keeper {handoffs(h, keeper)}")
    return found


@pytest.mark.parametrize("case", CASES)
def test_the_sample_as_reported_every_handoff_event_stands_on_the_caller(case: str) -> None:
    assert problems(case, tuple(range(len(blocks(case))))) == []


@pytest.mark.parametrize("case", CASES)
def test_in_every_arrival_order_of_the_visit_and_the_handoffs_events_they_stand_on_the_caller(case: str) -> None:
    orders = list(itertools.permutations(range(len(blocks(case)))))
    failed = {order: found for order in orders if (found := problems(case, order))}
    assert not failed, f"{len(failed)}/{len(orders)}: " + "; ".join(f"{o}: {f}" for o, f in list(failed.items())[:6])


def test_an_operators_move_of_the_opening_call_takes_every_event_of_its_handoff() -> None:
    """``identity move-contact`` of the call that opened the handoff (F1's repair attempt): after the placement, the
    case and all its events go with the call, wherever they first stood (the tracker's on the keeper, then here)."""
    _, lines, caller_account, keeper_account = CASES["F1-move-in-call"]
    h = Harness(matcher_settings())
    for account in lines:
        for event, topic in line(account):
            h.feed(event, topic)
    made = blocks("F1-move-in-call")
    for index in (3, 4, 0, 1, 2, 5):  # the tracker's first events before the call is placed
        for event, topic in made[index]:
            h.feed(event, topic)
    caller = root(h, h.customer("ACCOUNT", caller_account) or "")
    keeper = root(h, h.customer("ACCOUNT", keeper_account) or "")
    h.local.submit([Send(caller, MoveContact("call-emma-movein", keeper, "ops-1", "test move", "cmd-move-t26"))])
    h.local.run(100_000)
    events = [event for block in made for event, topic in block if topic in (CONTACTS, HANDOFFS)]
    # The latest copy of each (a handoff event applied on the keeper before the placement was copied twice: to the
    # caller, then back with the call).
    assert [placed(h, event) for event in events if root(h, placed(h, event)[-1][0]) != keeper] == []
    key = next(event for event in events if event.schema == CREATED).value["handoff_id"]
    assert handoffs(h, keeper) == [key] and handoffs(h, caller) == []
    (moved,) = h.decisions(ContactMoved)  # the move took every event of the case, the tracker's too, from the caller
    assert {event.value["envelope"]["event_id"] for event in events} <= set(moved.moved)
    h.local.check_consistent()
