"""Who keeps an identifier two people share (#8 item 5): the customer of the earliest event that carried it."""

from __future__ import annotations

from typing import Any

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.fast_node import FAST_PATH
from processors.identity.graph.messages import Adopt, Claim, Give, Release
from processors.identity.graph.outputs import Assigned, Linked, Refused, Resolved, Send
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import EARLIEST_CLAIM, MATCH_WEIGHT
from tests.processors.identity.support import Harness, interaction, matcher_settings

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


def test_a_claim_that_no_longer_ranks_first_is_dropped() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.first_rank is not None
    assert handle(h, phone, Claim(ann, node.first_rank + 1, "later", "WEB")) == []
    assert h.local.store.nodes[phone] == node


def test_a_claim_reserves_the_identifier_until_the_move_ends_and_a_copy_of_give_does_nothing() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    node = h.local.store.nodes[phone]
    assert isinstance(node, IdentifierState) and node.first_rank is not None
    (give,) = handle(h, phone, Claim(ann, node.first_rank, "again", "WEB"))  # an event of Ann's tied with Bob's
    assert isinstance(give, Send) and isinstance(give.message, Give) and give.node == bob
    reserved = h.local.store.nodes[phone]
    assert isinstance(reserved, IdentifierState) and reserved.reserved_by == give.message.token
    (adopt,) = handle(h, bob, give.message)
    assert isinstance(adopt.message, Adopt) and adopt.node == ann and adopt.message.version == 3
    assert handle(h, bob, give.message) == []  # a copy: no second adopt, no early release
    h.local.submit([adopt])
    h.local.run()
    assert h.customer(*PHONE) == ann
    h.local.check_consistent()


def test_a_give_to_a_customer_an_operator_split_off_is_released() -> None:
    h, ann, bob = family()
    phone = h.key(*PHONE)
    state = root(h, bob)
    h.local.store.nodes[bob] = CustomerState(**{**{f: getattr(state, f) for f in state.__struct_fields__},
                                                "do_not_merge": [ann]})
    token = "claim~x~" + phone + "~0~2"
    assert handle(h, bob, Give(phone, ann, 0, "x", "WEB", 0, token)) == [Send(phone, Release(token))]
    assert phone in root(h, bob).members


def test_a_customer_never_gives_away_its_only_identifier() -> None:
    """Ann's customer holds nothing but the phone: without it no contact could find her again."""
    from bus.serde import Event
    from tests.processors.identity.support import envelope, ident

    h = Harness(matcher_settings())
    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=5), "identifiers": [ident(*PHONE)], "traits": ANN,
    }), topic="identity.observed.v1")
    ann = h.customer(*PHONE)
    observe(h, "2000002", BOB, 1)  # earlier, refused: Bob's customer claims the phone
    bob = h.customer("ACCOUNT", "2000002")
    assert bob is not None and bob != ann and h.customer(*PHONE) == ann
    assert root(h, ann).members.keys() == {h.key(*PHONE)}
    h.local.check_consistent()
