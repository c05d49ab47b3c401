"""An operator moves one contact to another customer's screen pop (tester10 #14, ``graph/move_contact.py``).

A call from the family phone was shown on Ann's screen pop; the agent knows it was Bob. ``omnibus identity
move-contact CALL-1 --from <Ann> --to <Bob> --by ... --reason ...``: the call leaves Ann's screen pop, joins Bob's,
is re-published on ``customer.contacts`` under Bob with an id derived from the move, and ``ContactMoved`` records who
and why. The phone stays Ann's. A redelivered command moves nothing twice and publishes nothing new.
"""

from __future__ import annotations

import copy

from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import ContactMoved, Resolved, Send, moved_contact_id
from processors.identity.rules import MANUAL_MOVE
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import Harness, interaction, settings

PHONE, ANNS_ACCOUNT, BOBS_ACCOUNT = ("PHONE", "+33677777777"), ("ACCOUNT", "ACC-ANN"), ("ACCOUNT", "ACC-BOB")


def ann_and_bob(h: Harness | None = None) -> tuple[Harness, str, str, str]:
    """Ann (her account and the phone), Bob (his account), a call from the phone on Ann's screen pop; (harness, Ann,
    Bob, the call's event id)."""
    h = h or Harness(settings())
    h.observe(ANNS_ACCOUNT, PHONE)
    h.observe(BOBS_ACCOUNT, minutes=1)
    event = h.feed(interaction([PHONE], interaction_id="CALL-1", minutes=2))
    anns, bobs = h.customer(*ANNS_ACCOUNT), h.customer(*BOBS_ACCOUNT)
    assert anns is not None and bobs is not None and anns != bobs
    assert contact_ids(h, anns) == ["CALL-1"]
    return h, anns, bobs, str(event.value["envelope"]["event_id"])


def moves_name_their_source(h: Harness) -> int:
    """Assert that every copy a ``ContactMoved`` re-published names the customer the contact left (``moved_from``:
    the ``omnibus-moved-from`` header, as a split's and a claim's copies do); the number of such copies."""
    sources = {moved.event_id: moved.source_id for moved in h.decisions(ContactMoved)}
    copies = [d for d in h.decisions(Resolved) if d.moved_by in sources]
    assert [(d.triggering_event_id, d.moved_from) for d in copies] == [
        (d.triggering_event_id, sources[d.moved_by]) for d in copies]
    return len(copies)


def move(h: Harness, source: str, target: str, contact: str = "CALL-1", token: str = "cmd-move-1") -> None:
    h.local.submit([Send(source, MoveContact(contact, target, "ops-3", "the caller was Bob", token))])
    h.local.run()


def test_the_call_leaves_anns_screen_pop_for_bobs_and_is_re_published_under_bob() -> None:
    h, anns, bobs, event_id = ann_and_bob()
    move(h, anns, bobs)
    assert contact_ids(h, anns) == [] and contact_ids(h, bobs) == ["CALL-1"]
    (moved,) = h.decisions(ContactMoved)
    assert (moved.contact_id, moved.source_id, moved.target_id, moved.moved) == ("CALL-1", anns, bobs, (event_id,))
    assert (moved.operator, moved.reason, moved.lineage.rule) == ("ops-3", "the caller was Bob", MANUAL_MOVE)
    (republished,) = [d for d in h.decisions(Resolved) if d.moved_by]
    assert (republished.customer_id, republished.triggering_event_id, republished.moved_by,
            republished.moved_from) == (bobs, event_id, moved.event_id, anns)  # the header: off Ann's (KPIs)
    assert moved_contact_id(republished.moved_by, event_id) != event_id
    assert h.customer(*PHONE) == anns  # the identifiers stay where they are
    h.local.check_consistent()


def test_the_moved_call_follows_bobs_customer_through_a_later_merge_and_stays_at_a_split() -> None:
    """Its record moved with it: a later merge of Bob's customer takes it along (``Offer.contacts``); a split of Bob's
    account leaves it where it is (it carried only the phone, which no split of Bob's moves)."""
    from processors.identity.graph.messages.commands import SplitCustomer
    from processors.identity.graph.outputs import Split

    h, anns, bobs, _ = ann_and_bob()
    move(h, anns, bobs)
    h.observe(("EMAIL", "early@t10.example"), minutes=-5)  # an older customer Bob's merges into
    h.observe(("EMAIL", "early@t10.example"), BOBS_ACCOUNT, minutes=4)
    survivor = h.customer(*BOBS_ACCOUNT)
    assert survivor is not None and survivor != bobs and contact_ids(h, survivor) == ["CALL-1"]
    h.local.submit([Send(survivor, SplitCustomer([h.key(*BOBS_ACCOUNT)], "test", "cmd-split", 10**15))])
    h.local.run()
    (split,) = h.decisions(Split)
    assert contact_ids(h, survivor) == ["CALL-1"] and contact_ids(h, split.new_id) == []


def test_a_redelivered_or_replayed_command_publishes_nothing_new() -> None:
    h, anns, bobs, _ = ann_and_bob()
    old, seen = copy.deepcopy(h.local.store), len(h.local.decisions)
    move(h, anns, bobs)
    first = h.local.decisions[seen:]
    after = (len(h.local.decisions), copy.deepcopy(h.local.store.profiles), copy.deepcopy(h.local.store.nodes))
    move(h, anns, bobs)  # the same command redelivered: its step token is remembered
    assert (len(h.local.decisions), h.local.store.profiles, h.local.store.nodes) == after
    h.local.store = old  # a worker killed before its commit handles it again on the old state: the same ids
    move(h, anns, bobs)
    assert h.local.decisions[after[0]:] == first


def test_with_duplicated_graph_messages_the_call_is_re_published_once() -> None:
    for seed in range(8):
        h, anns, bobs, event_id = ann_and_bob(Harness(settings(), partitions=3, seed=seed, duplicates=0.5))
        move(h, anns, bobs)
        moved = [d for d in h.decisions(Resolved) if d.moved_by]
        assert {(d.customer_id, d.triggering_event_id, d.moved_by, d.moved_from) for d in moved} == {
            (bobs, event_id, h.decisions(ContactMoved)[0].event_id, anns)}, seed
        assert contact_ids(h, anns) == [] and contact_ids(h, bobs) == ["CALL-1"], seed


def test_an_unknown_contact_or_a_merged_away_source_moves_nothing_or_follows_the_merge() -> None:
    h, anns, bobs, _ = ann_and_bob()
    move(h, anns, bobs, contact="NO-SUCH-CALL")
    (moved,) = h.decisions(ContactMoved)
    assert moved.moved == () and contact_ids(h, anns) == ["CALL-1"] and contact_ids(h, bobs) == []
    assert not [d for d in h.decisions(Resolved) if d.moved_by]


def test_a_move_to_a_merged_away_customer_lands_on_its_survivor() -> None:
    h, anns, bobs, _ = ann_and_bob()
    h.observe(("EMAIL", "early@t10.example"), minutes=-5)  # an older customer Bob's merges into
    h.observe(("EMAIL", "early@t10.example"), BOBS_ACCOUNT, minutes=4)
    survivor = h.customer(*BOBS_ACCOUNT)
    assert survivor is not None and survivor != bobs
    move(h, anns, bobs)
    assert contact_ids(h, survivor) == ["CALL-1"] and contact_ids(h, anns) == []
