"""A handoff opened during a contact follows the contact wherever identity moves it (``graph/handoff_moves.py``).

Ann's phone called (CALL-1); the agent opened a card dispute during the call (``HandoffCreated`` naming CALL-1, with
the phone); the tracker's ``HandoffStatusChanged`` events feed the screen pop's ``open_handoffs``. The call was Bob's:
an operator moves it to Bob. The dispute must leave Ann's screen pop and ``customer.contacts`` stream for Bob's, in
any arrival order of the handoff's events and the move, and the handoff's later events go to Bob (it stayed on Ann's
screen pop before: movehoff's note).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from bus.serde import Event
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import ContactMoved, Resolved, Send
from tests.processors.handoffs.factories import T0, acknowledged, created, resolved
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_move_contact import PHONE, moves_name_their_source
from tests.processors.identity.graph.test_move_contact_order import ann_and_bob
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, ident, interaction, settings

HANDOFFS = "handoff.events.v1"
HANDOFF = "h-dispute"


def dispute(contact: str | None = "CALL-1", handoff: str = HANDOFF,
            identifiers: tuple[tuple[str, str], ...] = (PHONE,)) -> tuple[Event, list[Event]]:
    """The handoff opened during ``contact`` with ``identifiers``, and the tracker's status events of its creation,
    acknowledgement and resolution."""
    opened = created(handoff, identifiers=[ident(*i) for i in identifiers], case_type="card-dispute")
    opened.value["origin_interaction_id"] = contact
    return opened, status_events(opened, acknowledged(handoff, T0 + timedelta(minutes=5)),
                                 resolved(handoff, T0 + timedelta(minutes=9)))


def handoffs(h: Harness, customer: str) -> list[str]:
    return [o["handoff_id"] for o in h.book.render(h.local.store.get_profile(customer))["open_handoffs"]]


def placed(h: Harness, event: Event) -> list[tuple[str, str]]:
    """(customer, moved_from) of every ``customer.contacts`` record of ``event``, in order."""
    event_id = event.value["envelope"]["event_id"]
    return [(d.customer_id, d.moved_from) for d in h.decisions(Resolved) if d.triggering_event_id == event_id]


def ends_on(h: Harness, event: Event, customer: str, left: str) -> bool:
    """The event is under ``customer``, or was under ``left`` and a copy naming ``left`` is under ``customer`` (a
    moved copy beats the original for every reader: ``processors.handoffs.placements.Placement``); duplicates aside."""
    return set(placed(h, event)) in ({(customer, "")}, {(left, ""), (customer, left)})


def stands_on(h: Harness, event: Event, customer: str) -> bool:
    """Where every reader places the event is ``customer``, through merges: its moved copies if any (a copy beats the
    original), else its originals (``processors.handoffs.placements.Placement``), re-deliveries included."""
    where = placed(h, event)
    copies = {root(h, c) for c, moved_from in where if moved_from}
    return (copies or {root(h, c) for c, _ in where}) == {root(h, customer)}


def move(h: Harness, anns: str, bobs: str, token: str = "cmd-move-1") -> None:
    h.local.submit([Send(anns, MoveContact("CALL-1", bobs, "ops-3", "the caller was Bob", token))])
    h.local.run()


def call_with_dispute() -> tuple[Harness, str, str, Event, list[Event]]:
    """Ann and Bob, the call on Ann's screen pop and the dispute opened during it (created, routed) there too;
    (harness, Ann, Bob, the HandoffCreated, its acknowledged and resolved status events)."""
    h = Harness(settings())
    anns, bobs = ann_and_bob(h)
    h.feed(interaction([PHONE], interaction_id="CALL-1", minutes=2))
    opened, (routed, *later) = dispute()
    h.feed(opened, HANDOFFS)
    h.feed(routed, HANDOFFS)
    assert handoffs(h, anns) == [HANDOFF] and placed(h, opened) == [(anns, "")]
    return h, anns, bobs, opened, later


def test_the_reported_sample_the_dispute_leaves_anns_screen_pop_with_the_call() -> None:
    h, anns, bobs, opened, (acked, done) = call_with_dispute()
    move(h, anns, bobs)
    assert handoffs(h, anns) == [] and handoffs(h, bobs) == [HANDOFF]
    (moved,) = h.decisions(ContactMoved)
    assert opened.value["envelope"]["event_id"] in moved.moved
    assert placed(h, opened) == [(anns, ""), (bobs, anns)]  # re-published under Bob, off Ann's (the header)
    assert moves_name_their_source(h) == 3  # the call, the handoff and its routing (tester24 F6)
    h.feed(acked, HANDOFFS)  # its later events go to Bob
    assert placed(h, acked) == [(bobs, "")] and handoffs(h, bobs) == [HANDOFF] and handoffs(h, anns) == []
    h.feed(done, HANDOFFS)
    assert placed(h, done) == [(bobs, "")] and handoffs(h, bobs) == [] and handoffs(h, anns) == []
    move(h, anns, bobs)  # redelivered: nothing more
    assert placed(h, opened) == [(anns, ""), (bobs, anns)]
    h.local.check_consistent()


def test_a_handoff_of_another_call_or_of_none_stays() -> None:
    h = Harness(settings())
    anns, bobs = ann_and_bob(h)
    h.feed(interaction([PHONE], interaction_id="CALL-1", minutes=2))
    h.feed(interaction([PHONE], interaction_id="CALL-2", minutes=3))
    other, (other_routed, *_) = dispute("CALL-2", "h-other")
    none, (none_routed, *_) = dispute(None, "h-none")
    for event in (other, other_routed, none, none_routed):
        h.feed(event, HANDOFFS)
    move(h, anns, bobs)
    assert handoffs(h, anns) == ["h-none", "h-other"] and handoffs(h, bobs) == []
    assert placed(h, other) == [(anns, "")] and placed(h, none) == [(anns, "")]
    assert placed(h, other_routed) == [(anns, "")] and placed(h, none_routed) == [(anns, "")]  # nor their events


def in_any_order(h: Harness, anns: str, bobs: str, order: tuple[Any, ...]) -> None:
    for item in order:
        if item == "move":
            move(h, anns, bobs)
        else:
            event, topic = item
            h.feed(event, topic)


def test_in_every_order_of_the_call_the_handoff_and_the_move_the_handoff_ends_with_the_call() -> None:
    call = interaction([PHONE], interaction_id="CALL-1", minutes=2)
    opened, (routed, acked, done) = dispute()
    items = [(call, "contact.events.v1"), (opened, HANDOFFS), (routed, HANDOFFS), "move"]
    for order in itertools.permutations(items):
        case = [item if item == "move" else item[0].schema.rsplit(".", 1)[1] for item in order]
        h = Harness(settings())
        anns, bobs = ann_and_bob(h)
        in_any_order(h, anns, bobs, order)
        assert handoffs(h, anns) == [] and handoffs(h, bobs) == [HANDOFF], case
        assert ends_on(h, opened, bobs, anns) and ends_on(h, routed, bobs, anns), case
        h.feed(acked, HANDOFFS)
        assert placed(h, acked) == [(bobs, "")] and handoffs(h, bobs) == [HANDOFF], case
        h.feed(done, HANDOFFS)
        assert handoffs(h, bobs) == [] and handoffs(h, anns) == [], case
        h.local.check_consistent()


def test_in_any_interleaving_and_with_duplicates_the_handoff_follows_the_call() -> None:
    for seed, partitions, steps in itertools.product(range(5), (3, 7), (0, 3, 8, 15)):
        case = (seed, partitions, steps)
        h = Harness(settings(), partitions=partitions, seed=seed, duplicates=0.3)
        anns, bobs = ann_and_bob(h)
        opened, (routed, acked, _) = dispute()
        for event, topic in ((interaction([PHONE], interaction_id="CALL-1", minutes=2), "contact.events.v1"),
                             (opened, HANDOFFS), (routed, HANDOFFS)):
            h.feed(event, topic, settle=False)
        for _ in range(steps):
            if not h.local.step():
                break
        h.local.submit([Send(anns, MoveContact("CALL-1", bobs, "ops-3", "the caller was Bob", "cmd-move-1"))])
        h.local.run(100_000)
        assert handoffs(h, anns) == [] and handoffs(h, bobs) == [HANDOFF], case
        assert ends_on(h, opened, bobs, anns) and stands_on(h, routed, bobs), (case, placed(h, routed))
        h.feed(acked, HANDOFFS)
        assert {c for c, _ in placed(h, acked)} == {bobs}, case
        h.local.check_consistent()


def test_moved_back_the_handoff_comes_back_and_its_later_events_with_it() -> None:
    """The agent moves the call to Bob, then back to Ann: the dispute is Ann's again, and so are its later events
    (Ann's note that it went to Bob is stale once it is back)."""
    h, anns, bobs, opened, (acked, _) = call_with_dispute()
    move(h, anns, bobs)
    h.local.submit([Send(bobs, MoveContact("CALL-1", anns, "ops-3", "it was Ann after all", "cmd-back"))])
    h.local.run()
    assert handoffs(h, anns) == [HANDOFF] and handoffs(h, bobs) == []
    assert [c for c, _ in placed(h, opened)] == [anns, bobs, anns]
    h.feed(acked, HANDOFFS)
    assert placed(h, acked) == [(anns, "")] and handoffs(h, anns) == [HANDOFF]
    h.local.check_consistent()


def test_the_tracker_events_identity_placed_before_the_move_go_with_the_call() -> None:
    """tester24 F6: the dispute's ``HandoffRouted`` and two ``HandoffStatusChanged`` were on Ann's stream before the
    move; they are re-published under Bob with the call and its creation, and ``ContactMoved`` lists them all."""
    h, anns, bobs, opened, (acked, done) = call_with_dispute()
    _, (routed, *_) = dispute()
    h.feed(acked, HANDOFFS)
    h.feed(done, HANDOFFS)
    move(h, anns, bobs)
    for event in (opened, routed, acked, done):
        assert ends_on(h, event, bobs, anns), (event.schema, placed(h, event))
    (moved,) = h.decisions(ContactMoved)
    assert {e.value["envelope"]["event_id"] for e in (opened, routed, acked, done)} <= set(moved.moved)
    assert len(moved.moved) == 5  # the call and the handoff's four events
    move(h, anns, bobs)  # redelivered: nothing more
    assert placed(h, acked) == [(anns, ""), (bobs, anns)]
    h.local.check_consistent()


def test_in_every_order_of_the_handoff_events_and_the_move_each_ends_with_the_call() -> None:
    """Every order of the call, the dispute's creation, its routing, its acknowledgement and the move: every event of
    the dispute ends on Bob's stream, where the call is, and its later events go there too."""
    call = interaction([PHONE], interaction_id="CALL-1", minutes=2)
    opened, (routed, acked, done) = dispute()
    items = [(call, "contact.events.v1"), (opened, HANDOFFS), (routed, HANDOFFS), (acked, HANDOFFS), "move"]
    for order in itertools.permutations(items):
        case = [item if item == "move" else item[0].schema.rsplit(".", 1)[1] for item in order]
        h = Harness(settings())
        anns, bobs = ann_and_bob(h)
        in_any_order(h, anns, bobs, order)
        assert handoffs(h, anns) == [] and handoffs(h, bobs) == [HANDOFF], case
        for event in (call, opened, routed, acked):
            assert ends_on(h, event, bobs, anns), (case, event.schema, placed(h, event))
        h.feed(done, HANDOFFS)
        assert placed(h, done) == [(bobs, "")] and handoffs(h, bobs) == [] and handoffs(h, anns) == [], case
        h.local.check_consistent()
