"""An operator's ``move-contact`` and the contact's events still on their way to the source, in every arrival order.

A call comes as two events (``CallCompleted`` and ``InteractionRecorded``, one contact id). The agent saw the call on
Ann's screen pop and moved it to Bob's; the call's second event was still on its way (its saga read the phone's
owner, Ann, before the move; Kafka orders nothing across partitions) and landed on Ann's screen pop for good, the
call split across two screen pops (splitflake's note). The rule, whatever the order: both events of the moved call
end on Bob's screen pop and last under Bob on ``customer.contacts``; the phone stays Ann's; another call from the
phone stays Ann's (``moved_off.py``).
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bus.serde import Event
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import ContactMoved, Resolved, Send
from tests.processors.identity.graph.test_move_contact import ANNS_ACCOUNT, BOBS_ACCOUNT, PHONE
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import Harness, envelope, ident, interaction, settings

TOKEN = "cmd-move-order"
SETTLES_WITHIN = 100_000  # messages: the test's graph settles within a few hundred; more is a loop


def call_completed(contact: str, minutes: int) -> Event:
    """The call center's ``CallCompleted`` of call ``contact`` from the family phone."""
    env = envelope("CALL_CENTER", minutes=minutes)
    at = env["occurred_at"]
    return Event("omnibus.contact.CallCompleted", {
        "envelope": env, "contact_id": contact, "site": "paris", "queue": "q", "initiation_method": "INBOUND",
        "initiated_at": at, "enqueued_at": at, "connected_at": at, "disconnected_at": at, "queue_wait_ms": 0,
        "talk_ms": 60_000, "answered_within_sla": True, "sla_threshold_ms": 20_000, "abandoned": False,
        "transferred": False, "previous_contact_id": None, "next_contact_id": None, "disposition": None,
        "agent_id": "agent-7", "caller_identifiers": [ident(*PHONE)], "traits_event_id": None,
    })


def ann_and_bob(h: Harness) -> tuple[str, str]:
    h.observe(ANNS_ACCOUNT, PHONE)
    h.observe(BOBS_ACCOUNT, minutes=1)
    anns, bobs = h.customer(*ANNS_ACCOUNT), h.customer(*BOBS_ACCOUNT)
    assert anns is not None and bobs is not None and anns != bobs
    return anns, bobs


def in_flight(h: Harness) -> dict[str, str]:
    """The moved call's two events and another call from the phone, fed without delivering anything: name -> id."""
    events = {"completed": call_completed("CALL-1", 2), "recorded": interaction([PHONE], interaction_id="CALL-1",
                                                                                 minutes=2),
              "other": interaction([PHONE], interaction_id="CALL-2", minutes=3)}
    for event in events.values():
        h.feed(event, settle=False)
    return {name: str(event.value["envelope"]["event_id"]) for name, event in events.items()}


def move_after(h: Harness, anns: str, bobs: str, steps: int, token: str = TOKEN) -> bool:
    """Deliver ``steps`` messages, then the operator's move of CALL-1 from Ann to Bob, then the rest; False when the
    events were all settled before ``steps``."""
    for _ in range(steps):
        if not h.local.step():
            return False
    h.local.submit([Send(anns, MoveContact("CALL-1", bobs, "ops-3", "the caller was Bob", token))])
    h.local.run(SETTLES_WITHIN)
    return True


def assert_the_move_rule(h: Harness, anns: str, bobs: str, ids: dict[str, str], case: object) -> None:
    assert h.customer(*PHONE) == anns, case  # the identifiers stay where they are
    assert contact_ids(h, bobs) == ["CALL-1"], case  # one entry for the call's two events
    assert contact_ids(h, anns) == ["CALL-2"], case
    resolved = h.decisions(Resolved)
    (moved,) = {d.event_id: d for d in h.decisions(ContactMoved)}.values()
    for name in ("completed", "recorded"):  # each is on customer.contacts under Bob (perhaps under Ann before)
        published = {(d.customer_id, d.moved_by, d.moved_from) for d in resolved if d.triggering_event_id == ids[name]}
        assert published in ({(bobs, "", "")}, {(anns, "", ""), (bobs, moved.event_id, anns)}), (case, name)
    assert {d.customer_id for d in resolved if d.triggering_event_id == ids["other"]} == {anns}, case
    h.local.check_consistent()


def test_the_reported_sample_the_calls_second_event_arrives_after_the_move() -> None:
    """The call's ``CallCompleted`` is on Ann's screen pop, the agent moves the call to Bob, then the call's
    ``InteractionRecorded`` arrives: it follows to Bob, where its call is (it stayed on Ann's before)."""
    h = Harness(settings())
    anns, bobs = ann_and_bob(h)
    h.feed(call_completed("CALL-1", 2))
    assert contact_ids(h, anns) == ["CALL-1"]
    h.local.submit([Send(anns, MoveContact("CALL-1", bobs, "ops-3", "the caller was Bob", TOKEN))])
    h.local.run()
    late = h.feed(interaction([PHONE], interaction_id="CALL-1", minutes=2))
    late_id = str(late.value["envelope"]["event_id"])
    # Applied at Ann's, then re-published under Bob with the id the move gives its events: as in the order where it
    # came before the move.
    (moved,) = h.decisions(ContactMoved)
    assert [(d.customer_id, d.moved_by, d.moved_from) for d in h.decisions(Resolved)
            if d.triggering_event_id == late_id] == [(anns, "", ""), (bobs, moved.event_id, anns)]
    assert contact_ids(h, anns) == [] and contact_ids(h, bobs) == ["CALL-1"]
    assert h.customer(*PHONE) == anns
    h.local.check_consistent()


def test_a_move_at_every_point_of_the_events_way_ends_by_the_move_rule() -> None:
    """One partition, the move delivered after 0, 1, 2, ... messages of the three events: before their sagas
    started, between a saga's read of the phone's owner and its ``apply`` (Ann kept them before), after."""
    cut = 0
    while True:
        h = Harness(settings())
        anns, bobs = ann_and_bob(h)
        ids = in_flight(h)
        if not move_after(h, anns, bobs, cut):
            break
        assert_the_move_rule(h, anns, bobs, ids, cut)
        cut += 1
    assert cut > 4


def test_in_any_interleaving_and_with_duplicates_the_calls_events_follow_the_move() -> None:
    for seed, partitions, steps in itertools.product(range(6), (3, 7), (0, 3, 8, 15)):
        h = Harness(settings(), partitions=partitions, seed=seed, duplicates=0.3)
        anns, bobs = ann_and_bob(h)
        ids = in_flight(h)
        if move_after(h, anns, bobs, steps):
            assert_the_move_rule(h, anns, bobs, ids, (seed, partitions, steps))


@hypothesis_settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), partitions=st.sampled_from([1, 3, 7]), steps=st.integers(0, 40),
       duplicates=st.sampled_from([0.0, 0.3]), back=st.booleans())
def test_a_move_and_a_move_back_never_pass_an_event_back_and_forth(seed: int, partitions: int, steps: int,
                                                                    duplicates: float, back: bool) -> None:
    """The agent moves the call to Bob, and perhaps back to Ann (two notes naming each other): every event is
    applied once it settles (no ping-pong between the two), and the call ends where the last move put it."""
    h = Harness(settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    anns, bobs = ann_and_bob(h)
    ids = in_flight(h)
    if not move_after(h, anns, bobs, steps):
        return
    if back:
        h.local.submit([Send(bobs, MoveContact("CALL-1", anns, "ops-3", "it was Ann after all", "cmd-back"))])
        h.local.run(SETTLES_WITHIN)
    assert h.local.step() is False  # settled: nothing circulates
    ends = anns if back else bobs
    for name in ("completed", "recorded"):
        assert ends in {d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == ids[name]}, name
    assert "CALL-1" in contact_ids(h, ends) and "CALL-1" not in contact_ids(h, bobs if back else anns)
    h.local.check_consistent()
