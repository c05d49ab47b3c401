"""Undoing a merge (``omnibus identity unmerge``, ``processors/identity/unmerge.py``) in the graph: tester20 F3.

The tester's case: Claire's web login (user id, e-mail, her name and birth date) and a counter customer (a phone,
"C. Petit-Durand") merged by hand, then undone one identifier at a time with ``identity split``: the e-mail landed
on a customer with no name and no contact, Claire's name stayed on the counter customer, and the user id split off
later made a third customer. The unmerge moves what the merged-away customer brought, in one split: both customers
come back with their identifiers, names and contacts, and stay apart afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Merged, Refused, ReviewRequested, Send, Split
from processors.identity.graph.saga import merge_saga
from processors.identity.rules import SPLIT_DO_NOT_MERGE
from processors.identity.unmerge import MergeRecord, unmerge_plan
from tests.processors.identity.support import Harness, interaction, matcher_settings, observed

USER, EMAIL = ("USER_ID", "u-t20-claire"), ("EMAIL", "claire.t20@example.net")
PHONE = ("PHONE", "+8613912345678")
CLAIRE = {"given_name": "Claire", "family_name": "Petit", "birth_date": "1990-05-05"}
COUNTER = {"full_name": "C. Petit-Durand"}


def told(identifiers: list[tuple[str, str]], traits: dict[str, str], channel: str, minutes: int) -> Event:
    """An ``IdentifiersObserved`` with its person's traits."""
    event = observed(identifiers, channel=channel, minutes=minutes)
    event.value["traits"] = traits
    return event


def shown(h: Harness, customer: str | None) -> tuple[str | None, list[Any]]:
    """(the family name on the screen pop, its recent contacts' ids)."""
    assert customer is not None
    pop = h.book.render(h.local.store.get_profile(customer))
    return pop["name"].get("family_name"), [entry["id"] for entry in pop["recent_contacts"]]


def web_person(h: Harness, minutes: int) -> None:
    h.feed(told([USER, EMAIL], CLAIRE, "WEB", minutes))
    h.feed(interaction([USER, EMAIL], channel="WEB", kind="WEB_EVENT", interaction_id="web-1", minutes=minutes + 1))


def counter_person(h: Harness, minutes: int) -> None:
    h.feed(told([PHONE], COUNTER, "BRANCH", minutes))
    h.feed(interaction([PHONE], channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id="tx-1",
                       minutes=minutes + 1))


def merged_by_hand(web_first: bool) -> tuple[Harness, dict[str, MergeRecord]]:
    """The two customers, the operator's merge, and the merge as ``customer.events.v1`` records it."""
    h = Harness(matcher_settings())
    first, second = (web_person, counter_person) if web_first else (counter_person, web_person)
    first(h, 0)
    second(h, 10)
    pair = {str(h.customer(*USER)), str(h.customer(*PHONE))}
    assert len(pair) == 2
    saga = merge_saga("cmd-merge", sorted([h.key(*USER), h.key(*PHONE)]), "tester20", "same person")
    h.local.submit([Send(saga.ids[0], Visit(saga))])
    h.local.run()
    (merged,) = h.decisions(Merged)
    assert h.customer(*USER) == h.customer(*PHONE) == merged.survivor_id
    assert merged.merged_id == max(pair)  # what `identity merge` prints to undo it
    return h, {merged.merged_id: MergeRecord(merged.survivor_id, merged.merged_id, merged.moved,
                                             merged.lineage.rule, merged.operator)}


def owners(h: Harness) -> dict[str, str]:
    return {h.key(*i): str(h.customer(*i)) for i in (USER, EMAIL, PHONE)}


def unmerge(h: Harness, merges: dict[str, MergeRecord], token: str = "cmd-unmerge") -> Split:
    """Send the split ``unmerge_plan`` plans for the one merge (as ``omnibus identity unmerge`` does)."""
    (merged,) = merges
    plan = unmerge_plan(merged, merges, owners(h))
    h.local.submit([Send(plan.source, SplitCustomer(list(plan.moving), "not one person", token, 10**15,
                                                    operator="tester20"))])
    h.local.run()
    return h.decisions(Split)[-1]


@pytest.mark.parametrize("web_first", [True, False], ids=["web-survives", "counter-survives"])
def test_an_unmerge_gives_both_customers_back_with_their_names_and_contacts(web_first: bool) -> None:
    h, merges = merged_by_hand(web_first)
    split = unmerge(h, merges)
    web, counter = h.customer(*USER), h.customer(*PHONE)
    assert web == h.customer(*EMAIL) != counter  # the login's two identifiers on one customer, not two
    assert {web, counter} == {split.source_id, split.new_id} and split.operator == "tester20"
    assert shown(h, web) == ("Petit", ["web-1"]) and shown(h, counter) == ("Petit-Durand", ["tx-1"])
    h.local.check_consistent()


@pytest.mark.parametrize("web_first", [True, False], ids=["web-survives", "counter-survives"])
def test_after_an_unmerge_the_matcher_keeps_the_two_apart(web_first: bool) -> None:
    """#8 point 7: a split is respected afterwards; an event carrying both sides' identifiers joins neither to the
    other (refused as the split's do-not-merge), and each side's next contact lands on its own customer."""
    h, merges = merged_by_hand(web_first)
    unmerge(h, merges)
    web, counter = h.customer(*USER), h.customer(*PHONE)
    h.feed(told([USER, EMAIL, PHONE], CLAIRE, "WEB", 30))
    assert h.customer(*USER) == web and h.customer(*PHONE) == counter
    assert h.decisions(Refused)[-1].lineage.rule == SPLIT_DO_NOT_MERGE
    h.feed(interaction([USER], channel="WEB", kind="WEB_EVENT", interaction_id="web-2", minutes=31))
    h.feed(interaction([PHONE], channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id="tx-2", minutes=32))
    assert "web-2" in shown(h, web)[1] and "tx-2" in shown(h, counter)[1]
    assert "web-2" not in shown(h, counter)[1]
    h.local.check_consistent()


def test_a_second_unmerge_of_the_same_merge_is_refused_before_anything_is_sent() -> None:
    from processors.identity.unmerge import UnmergeRefused

    h, merges = merged_by_hand(web_first=False)
    unmerge(h, merges)
    with pytest.raises(UnmergeRefused, match="holds none of the"):
        unmerge(h, merges, token="cmd-unmerge-2")
    assert len(h.decisions(Split)) == 1


def test_the_testers_split_of_one_identifier_leaves_the_login_in_two_and_its_name_behind() -> None:
    """The kind the note of ``split_lines`` warns about (the split's behaviour is unchanged): a web login's e-mail
    split off alone takes neither the name nor the contact it came with (they came through the user id too)."""
    h, _ = merged_by_hand(web_first=False)
    source = h.customer(*PHONE)
    assert source is not None
    h.local.submit([Send(source, SplitCustomer([h.key(*EMAIL)], "not the same", "cmd-split", 10**15))])
    h.local.run()
    assert h.customer(*EMAIL) != h.customer(*USER) == source
    assert shown(h, h.customer(*EMAIL)) == (None, [])


@pytest.mark.parametrize("web_first", [True, False], ids=["web-survives", "counter-survives"])
def test_after_an_unmerge_the_split_off_persons_next_record_is_matched_to_her_by_her_traits(web_first: bool) -> None:
    """Claire's new e-mail with her name and birth date (no identifier in common with either) is found by blocking:
    weighed against her customer, not glued to the counter person's. With the counter customer surviving the merge it
    was merged into the counter person (the split left the merge's trait summary whole on the source, none on the new
    customer: ``graph/split_traits.py``). A name and a birth date alone merge no identifier (tester21 F18): the pair
    waits for review."""
    h, merges = merged_by_hand(web_first)
    unmerge(h, merges)
    h.feed(told([("EMAIL", "claire.new@example.org")], CLAIRE, "WEB", 40))
    new = h.customer("EMAIL", "claire.new@example.org")
    assert new not in (None, h.customer(*PHONE), h.customer(*USER))
    (review,) = [r for r in h.decisions(ReviewRequested) if new in (r.customer_id, r.other_customer_id)]
    assert {review.customer_id, review.other_customer_id} == {new, h.customer(*USER)}
    h.local.check_consistent()
