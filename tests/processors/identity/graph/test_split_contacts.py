"""An operator's split and the contacts of the identifiers it moves (#8 point 7, new-user finding 2).

The new user's case: a counter transaction (TX-T7-1) carried only a mistyped account that the matcher linked to
Jonathan; an operator split the account off ("account belongs to his father"). The contact that carried only that
account follows it to the new customer: its screen pop, and ``customer.contacts`` under the new key
(``processors/identity/graph/split_contacts.py``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Resolved, Send, Split
from tests.processors.identity.support import Harness, interaction

ACCOUNT, PHONE, EMAIL = ("ACCOUNT", "ACC-7718"), ("PHONE", "+33622222222"), ("EMAIL", "jonathan@t7.example")


def split(h: Harness, source: str, *identifiers: tuple[str, str], token: str = "cmd-7") -> None:
    h.local.submit([Send(source, SplitCustomer([h.key(*i) for i in identifiers], "account belongs to his father",
                                               token, 10**15))])
    h.local.run()


def counter_visit(h: Harness, identifiers: list[tuple[str, str]], visit: str, minutes: int) -> str:
    """A counter transaction recorded with ``identifiers``; its event id."""
    event = h.feed(interaction(identifiers, channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id=visit,
                               minutes=minutes))
    return str(event.value["envelope"]["event_id"])


def split_after_a_contact(h: Harness | None = None) -> tuple[Harness, Split, str]:
    """Jonathan, his phone linked to the mistyped account, a contact carrying only the account, then the split;
    (harness, the split, the contact's event id)."""
    h = h or Harness()
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    event_id = counter_visit(h, [ACCOUNT], "TX-T7-1", 2)
    source = h.customer(*ACCOUNT)
    assert source is not None
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    return h, decided, event_id


def contact_ids(h: Harness, customer: str) -> list[Any]:
    return [entry["id"] for entry in h.book.render(h.local.store.get_profile(customer))["recent_contacts"]]


def resolved_to(h: Harness, event_id: str) -> list[str]:
    return [d.customer_id for d in h.decisions(Resolved) if d.triggering_event_id == event_id]


def test_the_split_moves_the_account_and_the_contact_was_on_the_source_before() -> None:
    h, decided, event_id = split_after_a_contact()
    assert h.customer(*ACCOUNT) == decided.new_id and h.customer(*PHONE) == h.customer(*EMAIL) == decided.source_id
    assert resolved_to(h, event_id) == [decided.source_id, decided.new_id]


def test_a_contact_whose_identifiers_all_moved_follows_them_to_the_new_customer() -> None:
    h, decided, event_id = split_after_a_contact()
    assert contact_ids(h, decided.new_id) == ["TX-T7-1"]
    assert "TX-T7-1" not in contact_ids(h, decided.source_id)
    resolved = [d for d in h.decisions(Resolved) if d.triggering_event_id == event_id]
    assert resolved[-1].customer_id == decided.new_id  # re-keyed on customer.contacts: the screen pop's stream
    assert resolved[-1].moved_by == decided.event_id  # published there under an id derived from the split
    assert resolved[-1].moved_from == decided.source_id  # and naming the customer it left (KPIs take it off there)


def test_a_repeat_contact_applied_by_the_fast_path_follows_too() -> None:
    """The second visit carrying only the account takes the fast path (``fast_node.py``): it is recorded as well."""
    h = Harness(view=AssignmentView())
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    first = counter_visit(h, [ACCOUNT], "TX-T7-1", 2)
    second = counter_visit(h, [ACCOUNT], "TX-T7-2", 3)
    source = h.customer(*ACCOUNT)
    assert source is not None
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert sorted(contact_ids(h, decided.new_id)) == ["TX-T7-1", "TX-T7-2"]
    assert contact_ids(h, decided.source_id) == []
    assert resolved_to(h, first)[-1] == resolved_to(h, second)[-1] == decided.new_id


def test_a_contact_that_carried_a_moved_and_a_kept_identifier_follows_its_highest_priority_one() -> None:
    """The account outranks the phone: the mixed contact follows the account, as the same contact arriving after the
    split would go to the account's customer (tester10 #1, ``test_kept_apart_contacts.py``); before, it stayed."""
    h = Harness()
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    mixed = counter_visit(h, [ACCOUNT, PHONE], "TX-MIXED", 2)
    only_account = counter_visit(h, [ACCOUNT], "TX-ACC", 3)
    source = h.customer(*ACCOUNT)
    assert source is not None
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert contact_ids(h, decided.source_id) == []
    assert contact_ids(h, decided.new_id) == ["TX-ACC", "TX-MIXED"]
    assert resolved_to(h, mixed) == [source, decided.new_id]
    assert resolved_to(h, only_account) == [source, decided.new_id]
    kept = counter_visit(h, [EMAIL, PHONE], "TX-KEPT", 4)  # after the split: neither moved, the source's
    assert resolved_to(h, kept) == [source]


def test_a_contact_after_the_split_joins_the_ones_that_followed() -> None:
    h, decided, event_id = split_after_a_contact()
    later = counter_visit(h, [ACCOUNT], "TX-T7-9", 30)
    assert contact_ids(h, decided.new_id) == ["TX-T7-9", "TX-T7-1"]
    assert contact_ids(h, decided.source_id) == []
    assert resolved_to(h, later) == [decided.new_id]
    assert resolved_to(h, event_id) == [decided.source_id, decided.new_id]


def test_the_contacts_of_a_customer_absorbed_by_a_merge_follow_a_later_split() -> None:
    """The account made a customer of its own with its contact; a later event merged it into Jonathan's; the
    record moved with the merge (``Offer.contacts``), so the split finds the contact."""
    h = Harness()
    h.observe(EMAIL, PHONE)
    visit = counter_visit(h, [ACCOUNT], "TX-OWN", 1)
    own = h.customer(*ACCOUNT)
    h.observe(PHONE, ACCOUNT, minutes=2)  # the wrong merge
    survivor = h.customer(*ACCOUNT)
    assert survivor == h.customer(*EMAIL) and survivor is not None and own is not None
    assert contact_ids(h, survivor) == ["TX-OWN"]
    split(h, survivor, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert contact_ids(h, decided.new_id) == ["TX-OWN"] and contact_ids(h, survivor) == []
    assert resolved_to(h, visit)[-1] == decided.new_id


def test_a_redelivered_split_moves_nothing_more() -> None:
    h, decided, event_id = split_after_a_contact()
    before = (len(h.local.decisions), copy.deepcopy(h.local.store.profiles), copy.deepcopy(h.local.store.nodes))
    split(h, decided.source_id, ACCOUNT)  # the same command again (its step token is remembered)
    assert (len(h.local.decisions), h.local.store.profiles, h.local.store.nodes) == before
    split(h, decided.source_id, ACCOUNT, token="cmd-8")  # another command: the account is no longer there
    assert h.decisions(Split) == [decided] and resolved_to(h, event_id) == [decided.source_id, decided.new_id]
    assert contact_ids(h, decided.new_id) == ["TX-T7-1"] and contact_ids(h, decided.source_id) == []


def test_a_split_replayed_on_the_old_state_publishes_the_same_ids() -> None:
    """A worker killed before its commit handles the split again on the state it had: the same decisions, so the
    moved contact is re-published under the same event id (subscribers drop the copy)."""
    h = Harness()
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    counter_visit(h, [ACCOUNT], "TX-T7-1", 2)
    source = h.customer(*ACCOUNT)
    assert source is not None
    old, seen = copy.deepcopy(h.local.store), len(h.local.decisions)
    split(h, source, ACCOUNT)
    first = h.local.decisions[seen:]
    h.local.store = old
    split(h, source, ACCOUNT)
    assert h.local.decisions[seen + len(first):] == first
    (moved,) = [d for d in first if isinstance(d, Resolved) and d.moved_by]
    (decided,) = [d for d in first if isinstance(d, Split)]
    assert moved.moved_by == decided.event_id


def test_with_duplicated_graph_messages_each_moved_contact_is_re_published_once() -> None:
    """Every graph message may come twice (at-least-once): the split (its step token) and the new customer's
    creation (``split_init``, once created) are each taken once."""
    for seed in range(12):
        h, decided, event_id = split_after_a_contact(Harness(seed=seed, duplicates=0.5))
        moved = [d for d in h.decisions(Resolved) if d.moved_by]
        assert [(d.customer_id, d.triggering_event_id) for d in moved] == [(decided.new_id, event_id)], seed
        assert contact_ids(h, decided.new_id) == ["TX-T7-1"] and contact_ids(h, decided.source_id) == [], seed


def test_the_node_view_between_workers_leaves_the_contact_records_out() -> None:
    """``/identity/nodes`` (the screen pop's fetch between workers) does not carry the contact events' records."""
    import json

    from processors.identity.graph.state import state_view

    h, decided, _ = split_after_a_contact()
    state = h.local.store.get_node(decided.new_id)
    assert state is not None and state.contact_index  # type: ignore[union-attr]
    view = state_view(state)
    assert view is not None and "contact_records" not in view and "contact_index" not in view and json.dumps(view)


# --- the other screen-pop sections follow the split the same way (products, open handoffs) -----------------------

def _father_handoff(identifiers: list[tuple[str, str]], handoff_id: str = "h-father") -> Any:
    from bus.serde import Event
    from tests.processors.handoffs.factories import created
    from tests.processors.handoffs.test_profile_section import status_events

    (event,) = status_events(created(handoff_id, identifiers=[{"type": k, "value": v} for k, v in identifiers]))
    return Event(event.schema, dict(event.value))


def _sections(h: Harness, customer: str) -> tuple[list[str], list[str]]:
    view = h.book.render(h.local.store.get_profile(customer))
    return [p["product_code"] for p in view["products"]["products"]], [o["handoff_id"] for o in view["open_handoffs"]]


def test_products_and_handoffs_that_came_through_the_moved_account_follow_it() -> None:
    """The father's product on the mistyped account and his open handoff left Jonathan's screen pop with the
    account; Jonathan's own product (through his phone) and a handoff through both stay with him."""
    from tests.processors.identity.support import product_subscribed

    h = Harness()
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    h.feed(product_subscribed(ACCOUNT[1], product="FATHER-TV", minutes=2), topic="business.events.v1")
    h.feed(product_subscribed("ACC-J", [PHONE], product="JONATHAN-FIBER", minutes=3), topic="business.events.v1")
    h.feed(_father_handoff([ACCOUNT]), topic="handoff.events.v1")
    h.feed(_father_handoff([ACCOUNT, PHONE], "h-both"), topic="handoff.events.v1")
    source = h.customer(*ACCOUNT)
    assert source is not None and _sections(h, source) == (["FATHER-TV", "JONATHAN-FIBER"], ["h-both", "h-father"])
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert _sections(h, decided.source_id) == (["JONATHAN-FIBER"], ["h-both"])
    assert _sections(h, decided.new_id) == (["FATHER-TV"], ["h-father"])
    before = copy.deepcopy(h.local.store.profiles)
    split(h, decided.source_id, ACCOUNT)  # redelivered: nothing more moves
    assert h.local.store.profiles == before
    h.feed(product_subscribed(ACCOUNT[1], product="FATHER-PHONE", minutes=40), topic="business.events.v1")
    assert _sections(h, decided.new_id) == (["FATHER-PHONE", "FATHER-TV"], ["h-father"])
    assert _sections(h, decided.source_id) == (["JONATHAN-FIBER"], ["h-both"])


@pytest.mark.parametrize("written", ["900001", "ca 900001", "CA-0900001"])
def test_a_product_another_producer_sent_under_its_own_spelling_of_the_account_follows_the_account(
        monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    """With ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT='{"prefix": "CA-"}'`` identity keys billing's contract
    ``ACCOUNT:CA-900001``; a billing system that is no Omnibus adapter sends its product with ``900001`` and the
    holder's phone. The product came through the account (``about`` compares in the format): it follows the account's
    split, as it does when billing spells it ``CA-900001``; the phone's own product stays."""
    from tests.processors.identity.support import product_subscribed

    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT", '{"prefix": "CA-"}')
    h = Harness()
    contract = ("ACCOUNT", "CA-900001")
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, contract, minutes=1)
    h.feed(product_subscribed(written, [PHONE], product="FATHER-TV", minutes=2), topic="business.events.v1")
    h.feed(product_subscribed("ACC-J", [PHONE], product="JONATHAN-FIBER", minutes=3), topic="business.events.v1")
    source = h.customer(*contract)
    assert source is not None and _sections(h, source)[0] == ["FATHER-TV", "JONATHAN-FIBER"]
    split(h, source, contract)
    (decided,) = h.decisions(Split)
    assert _sections(h, decided.source_id)[0] == ["JONATHAN-FIBER"]
    assert _sections(h, decided.new_id)[0] == ["FATHER-TV"]


def test_a_split_with_no_contact_to_move_still_moves_the_products() -> None:
    from tests.processors.identity.support import product_subscribed

    h = Harness()
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    h.feed(product_subscribed(ACCOUNT[1], product="FATHER-TV", minutes=2), topic="business.events.v1")
    source = h.customer(*ACCOUNT)
    assert source is not None
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert _sections(h, decided.source_id) == ([], []) and _sections(h, decided.new_id) == (["FATHER-TV"], [])


def test_the_moved_persons_name_follows_the_split_and_the_source_shows_its_own_again() -> None:
    """The screen pop's name (``profile/sections/name.py``): the father's name, last observed through the mistyped
    account only, leaves Jonathan's screen pop with it."""
    from tests.processors.profile.sections.test_name import named

    h = Harness()
    h.feed(named({"given_name": "Jonathan", "family_name": "Doe"}, identifiers=[EMAIL, PHONE], channel="BRANCH"),
           topic="observed")  # as trusted as the father's: the latest is shown
    h.observe(PHONE, ACCOUNT, minutes=1)
    h.feed(named({"given_name": "Robert", "family_name": "Doe"}, identifiers=[ACCOUNT], minutes=3, channel="BRANCH"),
           topic="observed")
    source = h.customer(*ACCOUNT)
    assert source is not None and h.customer(*EMAIL) == source

    def name(customer: str) -> dict[str, Any]:
        return dict(h.book.render(h.local.store.get_profile(customer))["name"])

    assert name(source)["given_name"] == "Robert"
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert (name(decided.source_id)["given_name"], name(decided.source_id)["channel"]) == ("Jonathan", "BRANCH")
    assert (name(decided.new_id)["given_name"], name(decided.new_id)["channel"]) == ("Robert", "BRANCH")
