"""Who keeps an identifier two people share (#8 item 5): the customer of the earliest event that carried it."""

from __future__ import annotations

from typing import Any

import msgspec

from bus.serde import Event
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.claim_node import carried_with
from processors.identity.graph.fast_node import FAST_PATH
from processors.identity.graph.messages.claims import Adopt, Claim, Give
from processors.identity.graph.messages.steps import Block, Note, Release
from processors.identity.graph.outputs import Assigned, Linked, Refused, Resolved, Send
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.state_parts import Person, RecordGift
from processors.identity.matching.traits import GIVEN
from processors.identity.rules import EARLIEST_CLAIM, MATCH_WEIGHT
from tests.processors.identity.support import Harness, envelope, ident, interaction, matcher_settings

ANN = {"given_name": "Ann", "family_name": "Lee", "birth_date": "1980-01-01", "address_line": "1 Main Street",
       "postcode": "75001"}
BOB = {"given_name": "Bob", "family_name": "Lee", "birth_date": "1983-06-07", "address_line": "1 Main Street",
       "postcode": "75001"}
PHONE = ("PHONE", "+33612345678")


def observe(h: Harness, account: str, traits: dict[str, str], minutes: int) -> None:
    from bus.serde import Event
    from tests.processors.identity.support import envelope, ident

    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=minutes), "identifiers": [ident("ACCOUNT", account), ident(*PHONE)],
        "traits": traits,
    }), topic="identity.observed.v1")


def root(h: Harness, customer: str | None) -> CustomerState:
    state = h.local.store.nodes[customer or ""]
    assert isinstance(state, CustomerState)
    return state


def family(**overrides: Any) -> tuple[Harness, str, str]:
    """Ann's event (minute 5) arrives first, Bob's (minute 1, the earlier) second."""
    h = Harness(matcher_settings(**overrides), view=AssignmentView())
    observe(h, "1000001", ANN, 5)
    observe(h, "2000002", BOB, 1)
    ann, bob = h.customer("ACCOUNT", "1000001"), h.customer("ACCOUNT", "2000002")
    assert ann is not None and bob is not None and ann != bob
    return h, ann, bob


def test_the_phone_moves_to_the_person_whose_event_came_first_with_a_newer_assignment() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    assert h.customer(*PHONE) == bob
    assert [r.lineage.rule for r in h.decisions(Refused) if r.identifier == phone] == [MATCH_WEIGHT]
    (moved,) = [d for d in h.decisions(Linked) if d.identifier == phone]
    assert (moved.customer_id, moved.lineage.rule) == (bob, EARLIEST_CLAIM)
    rows = [(a.customer_id, a.version) for a in h.decisions(Assigned) if a.identifier == phone]
    assert rows == [(ann, 1), (bob, 2)]  # the compacted topic's row for Bob supersedes Ann's
    assert phone not in root(h, ann).members and phone in root(h, bob).members
    h.local.check_consistent()


def test_a_customer_that_gives_away_its_last_identifier_of_a_type_is_filed_without_that_type() -> None:
    """Blocking reads two customers' identifier types from their entries (a type both hold is a conflict, and
    the name slip does not count then). Ann's customer gave the phone to Bob's: her entries no longer name a
    phone, or a record of hers that made a customer with the phone would never be proposed to her (stress
    seed 614: "Box" claimed Bob's account and stayed apart from "Bob"'s customer, filed with an account)."""
    from processors.identity.graph.state import BlockState

    h, ann, _ = family()
    entries = [state.entries[ann] for state in h.local.store.nodes.values()
               if isinstance(state, BlockState) and ann in state.entries]
    assert entries and all(entry.kinds == ["ACCOUNT"] for entry in entries)


def test_the_old_owner_takes_no_repeat_contact_through_the_phone_on_the_fast_path() -> None:
    h, ann, bob = family()
    stale = AssignmentView()  # a worker that read Ann's rows only
    stale.learn(h.key("ACCOUNT", "1000001"), ann, 1)
    stale.learn(h.key(*PHONE), ann, 1)
    h.view, h.intake._view, h._learned = stale, stale, 10**9  # type: ignore[attr-defined]
    slow = FAST_PATH.labels(outcome="slow")._value.get()
    h.feed(interaction([("ACCOUNT", "1000001"), PHONE], minutes=9))
    assert FAST_PATH.labels(outcome="slow")._value.get() == slow + 1  # the claim on the phone no longer holds
    assert h.decisions(Resolved)[-1].customer_id == ann and h.customer(*PHONE) == bob
    h.local.check_consistent()


def test_a_shared_phone_moves_with_its_shared_mark() -> None:
    h, ann, bob = family(shared_after={"PHONE": 1})
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.shared
    assert h.customer(*PHONE) == bob
    assert root(h, ann).shared == [] and root(h, bob).shared == [phone]
    h.local.check_consistent()


def test_in_either_order_the_phone_ends_with_bob() -> None:
    h = Harness(matcher_settings())
    observe(h, "2000002", BOB, 1)
    observe(h, "1000001", ANN, 5)
    assert h.customer(*PHONE) == h.customer("ACCOUNT", "2000002")
    assert not [d for d in h.decisions(Linked) if d.lineage.rule == EARLIEST_CLAIM]  # nothing had to move
    h.local.check_consistent()


# --- the handlers, one message at a time ----------------------------------------------------------------

def handle(h: Harness, node: str, message: Any) -> list[Any]:
    return h.local.graph.handle(h.local.store, node, message)


def test_a_claim_that_no_longer_ranks_first_moves_nothing_from_an_owner_time_order_kept_apart() -> None:
    """An earlier event visited since: the owner is asked (``Give.later``, ``late_claim.py``); Bob holds his account
    beside the phone and tells another person than Ann, so he keeps it and the reservation ends."""
    h, ann, bob = family()
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.first_rank is not None
    (give,) = handle(h, phone, Claim(ann, node.first_rank + 1, "later", "WEB"))
    assert isinstance(give.message, Give) and give.message.later and give.node == bob
    (release,) = handle(h, bob, give.message)
    assert isinstance(release.message, Release) and release.node == phone
    assert handle(h, phone, release.message) == []
    after = h.local.store.nodes[phone]
    assert isinstance(after, IdentifierState) and (after.owner, after.version, after.reserved_by) == (
        node.owner, node.version, None)


def test_a_claim_that_no_longer_ranks_first_merges_an_owner_holding_only_it_whose_traits_agree() -> None:
    """A call made a customer of the phone alone; an earlier event applied to it since left traits that agree with
    Ann's: in time order Ann's later event joined that customer, so it merges into hers (``late_claim.merges``); with
    Bob's traits it keeps the phone."""
    h = Harness(matcher_settings(), view=AssignmentView())
    h.feed(interaction([PHONE]))
    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=5), "identifiers": [ident("ACCOUNT", "1000001")], "traits": ANN,
    }), topic="identity.observed.v1")
    owner, ann = h.customer(*PHONE), h.customer("ACCOUNT", "1000001")
    assert owner is not None and ann is not None and owner != ann
    state, claimant = h.local.store.nodes[owner], h.local.store.nodes[ann]
    assert isinstance(state, CustomerState) and isinstance(claimant, CustomerState) and claimant.traits
    give = Give(h.key(*PHONE), ann, 1, "later", "WEB", 0, "claim~t~late", claimant.traits, later=True)
    state.traits = {**claimant.traits, GIVEN: ["bob"]}  # another given name: two people
    (release,) = handle(h, owner, give)
    assert isinstance(release.message, Release)
    state.traits = dict(claimant.traits)
    (link,) = handle(h, owner, msgspec.structs.replace(give, token="claim~u~late"))
    assert link.node == ann and link.message.saga.rule == EARLIEST_CLAIM


def test_a_claim_reserves_the_identifier_until_the_move_ends_and_a_copy_of_give_does_nothing() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.first_rank is not None
    (give,) = handle(h, phone, Claim(ann, node.first_rank, "again", "WEB"))  # an event of Ann's tied with Bob's
    assert isinstance(give, Send) and isinstance(give.message, Give) and give.node == bob
    reserved = h.local.store.nodes[phone]
    assert isinstance(reserved, IdentifierState) and reserved.reserved_by == give.message.token
    # The phone's node names the giver too (screen pop); the giver, left without a phone, files itself again.
    sent = handle(h, bob, give.message)
    note, adopt = (o for o in sent if not isinstance(o.message, Block))
    filed = [o.message.kinds for o in sent if isinstance(o.message, Block)]
    assert filed and all(kinds == ["ACCOUNT"] for kinds in filed)
    assert isinstance(note.message, Note) and (note.node, note.message.refused_with) == (phone, bob)
    assert isinstance(adopt.message, Adopt) and adopt.node == ann and adopt.message.version == 3
    assert handle(h, bob, give.message) == []  # a copy: no second adopt, no early release
    h.local.submit([adopt])
    h.local.run()
    assert h.customer(*PHONE) == ann
    h.local.check_consistent()


def test_a_copy_of_a_claim_that_moved_nothing_is_dropped_and_never_reserves_again() -> None:
    """A claim's reservation can end without a move (the owner's merge into the claimant refused: its version
    stands). A copy of that claim, waiting behind the reservation, must not reserve it again under the same token:
    the owner takes the second ``give`` for a copy and the identifier would stay reserved for good (draw 4871)."""
    h, ann, bob = family()
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.first_rank is not None
    claim = Claim(ann, node.first_rank, "again", "WEB")
    (give,) = handle(h, phone, claim)
    assert isinstance(give.message, Give)
    handle(h, phone, Release(give.message.token))  # ended with nothing moved
    assert handle(h, phone, claim) == []
    reserved = h.local.store.nodes[phone]
    assert isinstance(reserved, IdentifierState) and reserved.reserved_by is None


def test_a_give_to_a_customer_an_operator_split_off_is_released() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    state = root(h, bob)
    h.local.store.nodes[bob] = CustomerState(**{**{f: getattr(state, f) for f in state.__struct_fields__},
                                                "do_not_merge": [ann]})
    token = "claim~x~" + phone + "~0~2"
    assert handle(h, bob, Give(phone, ann, 0, "x", "WEB", 0, token)) == [Send(phone, Release(token))]
    assert phone in root(h, bob).members


def test_a_customer_holding_only_the_claimed_identifier_merges_into_the_claimant_with_its_contacts() -> None:
    """Ann's record and a call carry nothing but the family phone. Arriving first, they made a customer of their
    own, which held the phone when Bob's earlier event claimed it; in the other order they met Bob's customer
    through the phone: the call was applied there (on Bob's screen pop, the phone's keeper's), Ann's record
    (another person on a household identifier) nowhere. Giving the phone away used to leave a customer no
    lookup reaches, its call on no screen pop (the new user's demo, ``omnibus verify``); keeping it made the
    clusters depend on arrival (issue #8 build 5). Now that customer merges into Bob's: the same clusters in
    both orders, the call on the phone's screen pop, and Ann's traits not in Bob's summary."""
    from bus.serde import Event
    from processors.identity.graph.outputs import Merged
    from tests.processors.identity.graph.test_household_identifiers import _contact_ids
    from tests.processors.identity.support import envelope, ident

    def replay(ann_first: bool) -> Harness:
        h = Harness(matcher_settings())
        phone_only = [Event("omnibus.contact.IdentifiersObserved", {
            "envelope": envelope("WEB", minutes=5), "identifiers": [ident(*PHONE)], "traits": ANN,
        }), interaction([PHONE], minutes=6, interaction_id="call-1")]
        if ann_first:
            for event in phone_only:
                h.feed(event, *(["identity.observed.v1"] if "Identifiers" in event.schema else []))
        observe(h, "2000002", BOB, 1)  # earlier
        if not ann_first:
            for event in phone_only:
                h.feed(event, *(["identity.observed.v1"] if "Identifiers" in event.schema else []))
        h.local.check_consistent()
        return h

    clusters = []
    for ann_first in (True, False):
        h = replay(ann_first)
        bob = h.customer("ACCOUNT", "2000002")
        assert bob is not None and h.customer(*PHONE) == bob
        assert _contact_ids(h, bob) == {"call-1"}
        assert "'ann'" not in str(root(h, bob).traits) and "'bob'" in str(root(h, bob).traits)
        clusters.append({frozenset(state.members) for state in h.local.store.nodes.values()
                         if isinstance(state, CustomerState) and state.members})
        assert [m.survivor_id for m in h.decisions(Merged)] == ([bob] if ann_first else [])
        blocked = [state for key, state in h.local.store.nodes.items() if key.startswith("BLOCK:")]
        assert all(set(state.entries) <= {bob} for state in blocked)  # type: ignore[union-attr]
    assert clusters[0] == clusters[1]


# --- when the decision between the two was a review, and what the operator's decision does -----------------

ANN_ACCOUNT, BOB_ACCOUNT = "1000001", "2000002"


def plain(h: Harness, account: str, minutes: int) -> None:
    """A counter record: an account and the family phone, no traits (against anyone: a review, never a veto)."""
    h.observe(("ACCOUNT", account), PHONE, minutes=minutes)


def decide(h: Harness, *, accept: bool) -> None:
    from bus.config import TopicSettings
    from processors.identity.announcements import Announcer
    from processors.identity.graph.outputs import ReviewRequested
    from processors.identity.review import decision, open_reviews

    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    queued = [item.event for output in h.local.decisions if isinstance(output, ReviewRequested)
              for item in announcer.outgoing(output)]
    (review,) = open_reviews(queued)
    send, _ = decision(review, accept=accept, operator="ops-7", reason="checked", command_id=f"c-{accept}")
    h.local.submit([send])
    h.local.run()


def test_under_review_the_phone_ends_with_the_person_whose_event_came_first_in_either_order() -> None:
    """#8 leftover: with a review (not a refusal) between the two, whoever had the phone first kept it.
    Ann's record has no traits (a review, not a veto); Bob's, earlier, tells his person apart."""
    from processors.identity.graph.outputs import ReviewRequested

    for bob_first in (False, True):
        h = Harness(matcher_settings(), view=AssignmentView())
        if bob_first:
            observe(h, BOB_ACCOUNT, BOB, 1)
        plain(h, ANN_ACCOUNT, 5)
        if not bob_first:
            observe(h, BOB_ACCOUNT, BOB, 1)
        ann, bob = h.customer("ACCOUNT", ANN_ACCOUNT), h.customer("ACCOUNT", BOB_ACCOUNT)
        assert h.decisions(ReviewRequested) and ann != bob  # kept apart until an operator decides
        assert h.customer(*PHONE) == bob  # Bob's event (minute 1) is the earliest that carried it
        h.local.check_consistent()


def test_an_event_that_cannot_tell_its_person_apart_does_not_claim_under_review() -> None:
    """The bound of the rule: a record without given name or birth date would take the family phone to a
    customer no housemate's event can be refused against (each of their contacts another review: the quality
    bench's queue went 33 -> 78 on seed 42). Under review it does not claim: the first owner keeps it."""
    h = Harness(matcher_settings(), view=AssignmentView())
    observe(h, ANN_ACCOUNT, ANN, 5)
    plain(h, BOB_ACCOUNT, 1)
    assert h.customer(*PHONE) == h.customer("ACCOUNT", ANN_ACCOUNT) != h.customer("ACCOUNT", BOB_ACCOUNT)
    assert not [d for d in h.decisions(Linked) if d.lineage.rule == EARLIEST_CLAIM]


def test_after_a_rejected_review_the_earliest_event_still_decides_who_keeps_the_phone() -> None:
    """Bob (minute 3) has the phone, his review with Ann's record is rejected; Ann's event of minute 1 arrives
    before or after the decision: in both, Ann's customer keeps the phone (a rejection's do-not-merge, unlike
    a split's, does not stop the claim)."""
    owners = []
    for late in (False, True):
        h = Harness(matcher_settings(), view=AssignmentView())
        observe(h, BOB_ACCOUNT, BOB, 3)
        plain(h, ANN_ACCOUNT, 5)
        if late:
            decide(h, accept=False)
        observe(h, ANN_ACCOUNT, ANN, 1)
        if not late:
            decide(h, accept=False)
        ann, bob = h.customer("ACCOUNT", ANN_ACCOUNT), h.customer("ACCOUNT", BOB_ACCOUNT)
        assert ann != bob and bob in root(h, ann).do_not_merge and bob in root(h, ann).rejected
        owners.append((h.customer(*PHONE) == ann, h.local.clusters()))
        h.local.check_consistent()
    assert owners[0] == owners[1] and owners[0][0] is True


def test_an_accepted_review_merges_the_two_with_the_phone_in_either_order() -> None:
    results = []
    for first, second in (((ANN_ACCOUNT, 5), (BOB_ACCOUNT, 1)), ((BOB_ACCOUNT, 1), (ANN_ACCOUNT, 5))):
        h = Harness(matcher_settings(), view=AssignmentView())
        plain(h, *first)
        plain(h, *second)
        decide(h, accept=True)
        one = h.customer("ACCOUNT", ANN_ACCOUNT)
        assert one == h.customer("ACCOUNT", BOB_ACCOUNT) == h.customer(*PHONE)
        results.append(h.local.clusters())
        h.local.check_consistent()
    assert results[0] == results[1]


def test_a_give_to_a_customer_whose_merge_an_operator_rejected_is_performed_a_split_one_is_released() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    state = root(h, bob)
    fields = {f: getattr(state, f) for f in state.__struct_fields__}
    token = "claim~x~" + phone + "~0~2"
    h.local.store.nodes[bob] = CustomerState(**{**fields, "do_not_merge": [ann], "rejected": [ann]})
    *_, adopt = (o for o in handle(h, bob, Give(phone, ann, 0, "x", "WEB", 0, token)) if not isinstance(o.message, Block))
    assert isinstance(adopt.message, Adopt) and adopt.node == ann and phone not in root(h, bob).members
    h.local.store.nodes[bob] = CustomerState(**{**fields, "do_not_merge": [ann]})  # split apart: it stays
    assert handle(h, bob, Give(phone, ann, 0, "y", "WEB", 0, "claim~y~" + phone + "~0~2")) == [
        Send(phone, Release("claim~y~" + phone + "~0~2"))]


def test_a_giver_older_than_the_claimant_survives_the_merge_with_the_claimants_traits() -> None:
    """Merges keep the older customer id: when the customer holding nothing but the phone is older than the claimant
    (Ann's phone-only record at minute 5, Bob's customer made by his minute-9 record, his minute-1 record claiming
    the phone), the claimant merges into it. Its summary then gives way to Bob's: Ann's record is another person's,
    which in the order where Bob's records came first was left unresolved and fed nobody's summary."""
    from bus.serde import Event
    from tests.processors.identity.support import envelope, ident

    def record(identifiers: list[tuple[str, str]], traits: dict[str, str], minutes: int) -> Event:
        return Event("omnibus.contact.IdentifiersObserved", {
            "envelope": envelope("WEB", minutes=minutes), "identifiers": [ident(*key) for key in identifiers],
            "traits": traits})

    email = ("EMAIL", "bob@example.org")
    ann = record([PHONE], ANN, 5)
    late = record([("ACCOUNT", "2000002"), email], BOB, 9)
    early = record([email, PHONE], BOB, 1)
    clusters = []
    for order in ([ann, late, early], [late, early, ann]):
        h = Harness(matcher_settings())
        for event in order:
            h.feed(event, "identity.observed.v1")
        h.local.check_consistent()
        bob = h.customer("ACCOUNT", "2000002")
        assert bob is not None and h.customer(*PHONE) == bob == h.customer(*email)
        assert "'ann'" not in str(root(h, bob).traits) and "'bob'" in str(root(h, bob).traits)
        blocked = [state for key, state in h.local.store.nodes.items() if key.startswith("BLOCK:")]
        assert all(set(state.entries) <= {bob} for state in blocked)  # type: ignore[union-attr]
        clusters.append({frozenset(state.members) for state in h.local.store.nodes.values()
                         if isinstance(state, CustomerState) and state.members})
    assert clusters[0] == clusters[1]


def test_a_give_tells_the_giver_what_the_identifiers_events_carried_with_it() -> None:
    """``Give.carried_with``: the identifiers limited to one of the node's evidence and the accounts of the records that
    gave it, sorted, once each (the giver records the members among them: ``elsewhere.given_up``)."""
    state = IdentifierState(people=[Person(None, ["CUSTOMER_NUMBER:C-1"]), Person({"gn": ["ann"]}, ["USER_ID:u-1"]),
                                    Person({"gn": ["bob"]})],
                            records=[RecordGift(5, ["ACCOUNT:A-1"], "line-1"),
                                     RecordGift(9, ["ACCOUNT:A-1"], "line-2")])
    assert carried_with(state) == ["ACCOUNT:A-1", "CUSTOMER_NUMBER:C-1", "USER_ID:u-1"]
    assert carried_with(IdentifierState()) == []
