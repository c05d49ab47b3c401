"""An operator's merge of two customers (``omnibus identity merge``, ``saga.merge_saga``) in the graph.

Tester F7: after a split, or when the matcher left two records of one person apart, no command joined them. The
merge links the customers of one identifier each, overriding a split's or a rejected review's do-not-merge, and
records who and why; a limit of one (two national IDs) still refuses it; a later split is still possible.
"""

from __future__ import annotations

import itertools

import pytest

from processors.identity.graph.messages.commands import ReleaseIdentifier, SplitCustomer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Merged, Refused, Send, Split
from processors.identity.graph.saga import merge_saga, review_saga
from processors.identity.rules import (
    MANUAL_MERGE,
    MAX_PER_CUSTOMER,
    REVIEW_ACCEPTED,
    REVIEW_REJECTED,
    SPLIT_DO_NOT_MERGE,
)
from tests.processors.identity.support import Harness, national_id, settings

ACCOUNT, EMAIL, PHONE = ("ACCOUNT", "1000001"), ("EMAIL", "ann@x.org"), ("PHONE", "+33612345678")
OTHER_ACCOUNT = ("ACCOUNT", "2000002")


def merge(h: Harness, first: tuple[str, str], second: tuple[str, str], token: str = "cmd-merge",
          settle: bool = True) -> None:
    saga = merge_saga(token, sorted([h.key(*first), h.key(*second)]), "ops-3", "one person, two records")
    h.local.submit([Send(saga.ids[0], Visit(saga))])
    if settle:
        h.local.run()


def split_off(h: Harness, moved: tuple[str, str], token: str = "cmd-split") -> str:
    """Split ``moved`` off its customer; the new customer's id."""
    source = h.customer(*moved)
    assert source is not None
    h.local.submit([Send(source, SplitCustomer([h.key(*moved)], "wrong merge", token, 10**15, operator="ops-1"))])
    h.local.run()
    new = h.customer(*moved)
    assert new is not None and new != source
    return new


def test_a_merge_undoes_a_split_records_who_and_why_and_a_later_split_still_splits() -> None:
    h = Harness(settings())
    h.observe(ACCOUNT, EMAIL)
    split_off(h, EMAIL)
    h.observe(ACCOUNT, EMAIL, minutes=1)  # kept apart by the split
    assert h.customer(*ACCOUNT) != h.customer(*EMAIL)
    assert h.decisions(Refused)[-1].lineage.rule == SPLIT_DO_NOT_MERGE
    merge(h, ACCOUNT, EMAIL)
    assert h.customer(*ACCOUNT) == h.customer(*EMAIL)
    merged = h.decisions(Merged)[-1]
    assert (merged.lineage.rule, merged.lineage.triggering_event_id) == (MANUAL_MERGE, "cmd-merge")
    assert (merged.operator, merged.reason) == ("ops-3", "one person, two records")
    root = h.local.roots()[h.customer(*ACCOUNT)]  # type: ignore[index]
    assert not root.do_not_merge and not root.rejected  # the pair's do-not-merge ended with the merge
    h.observe(ACCOUNT, EMAIL, minutes=2)
    assert h.customer(*ACCOUNT) == h.customer(*EMAIL)
    split_off(h, EMAIL, token="cmd-split-again")
    h.observe(ACCOUNT, EMAIL, minutes=3)
    assert h.customer(*ACCOUNT) != h.customer(*EMAIL) and len(h.decisions(Split)) == 2
    h.local.check_consistent()


def test_a_merge_overrides_a_rejected_review() -> None:
    h = Harness(settings())
    h.observe(ACCOUNT, EMAIL)
    h.observe(OTHER_ACCOUNT, PHONE, minutes=1)
    saga = review_saga("cmd-reject", sorted([h.key(*ACCOUNT), h.key(*OTHER_ACCOUNT)]), accept=False,
                       rule=REVIEW_REJECTED)
    h.local.submit([Send(saga.ids[0], Visit(saga))])
    h.local.run()
    merge(h, EMAIL, PHONE)
    assert h.customer(*ACCOUNT) == h.customer(*OTHER_ACCOUNT)
    assert h.decisions(Merged)[-1].lineage.rule == MANUAL_MERGE
    h.local.check_consistent()


def test_two_national_ids_stay_two_people_even_on_an_operators_merge() -> None:
    h = Harness(settings())
    h.observe(("NATIONAL_ID", national_id("11010519491231002")), ACCOUNT)
    h.observe(("NATIONAL_ID", national_id("11010519500101003")), OTHER_ACCOUNT, minutes=1)
    merge(h, ACCOUNT, OTHER_ACCOUNT)
    assert h.customer(*ACCOUNT) != h.customer(*OTHER_ACCOUNT) and not h.decisions(Merged)
    assert h.decisions(Refused)[-1].lineage.rule == MAX_PER_CUSTOMER
    h.local.check_consistent()


@pytest.mark.parametrize("decision", ["merge", "accept"])
@pytest.mark.parametrize("kind", ["USER_ID", "CUSTOMER_NUMBER"])
def test_two_identifiers_of_any_type_limited_to_one_stay_two_people_on_an_operators_decision(kind: str,
                                                                                            decision: str) -> None:
    """tester26 F9: an operator's merge or review accept of two portal logins' customers merged them (the graph waived
    USER_ID's limit for operators' decisions); two user ids are two people as two national IDs are. A rejection of
    the two customers is still recorded, whatever type they hold two of (its saga waives every limit)."""
    h = Harness(settings())
    h.observe((kind, "t26-paul"), ACCOUNT)
    h.observe((kind, "t26-pauline"), OTHER_ACCOUNT, minutes=1)
    if decision == "merge":
        merge(h, ACCOUNT, OTHER_ACCOUNT)
    else:
        saga = review_saga("cmd-accept", sorted([h.key(*ACCOUNT), h.key(*OTHER_ACCOUNT)]), accept=True,
                           rule=REVIEW_ACCEPTED)
        h.local.submit([Send(saga.ids[0], Visit(saga))])
        h.local.run()
    assert h.customer(*ACCOUNT) != h.customer(*OTHER_ACCOUNT) and not h.decisions(Merged)
    assert h.decisions(Refused)[-1].lineage.rule == MAX_PER_CUSTOMER
    reject(h)
    assert h.customer(*OTHER_ACCOUNT) in h.local.roots()[h.customer(*ACCOUNT)].rejected  # type: ignore[index]
    h.local.check_consistent()


def reject(h: Harness, token: str = "cmd-reject") -> None:
    """An operator's ``review reject`` of the customers of ``ACCOUNT`` and ``OTHER_ACCOUNT``."""
    rejected = review_saga(token, sorted([h.key(*ACCOUNT), h.key(*OTHER_ACCOUNT)]), accept=False,
                           rule=REVIEW_REJECTED)
    h.local.submit([Send(rejected.ids[0], Visit(rejected))])
    h.local.run()


# Every type the shipped limits hold to one per customer (two values: two people), and a cap above one.
LIMITED = [("NATIONAL_ID", national_id("11010519800101001"), national_id("11010519800101002"), {}),
           ("CUSTOMER_NUMBER", "C-770002", "C-770003", {}), ("USER_ID", "u-ann", "u-anne", {}),
           ("EMAIL", "ann@x.org", "ann.lee@x.org", {"max_per_customer": {"EMAIL": 1}}),
           ("PHONE", "+8613912345678", "+8613912345679", {"max_per_customer": {"PHONE": 1}})]


@pytest.mark.parametrize(("kind", "first", "second", "limits"), LIMITED, ids=[case[0] for case in LIMITED])
def test_a_rejected_review_is_recorded_and_respected_whatever_limited_type_the_two_hold(
        kind: str, first: str, second: str, limits: dict[str, dict[str, int]]) -> None:
    """Issue #8 point 7 (a review decision is respected): a reject of two customers that each hold a CUSTOMER_NUMBER
    (or a NATIONAL_ID) was refused as ``max-per-customer``, with a ``LinkRefused`` for the operator's decision and no
    do-not-merge; only USER_ID's limit was waived. The matcher then merged the two once the limit no longer told them
    apart (one of the two numbers released as mistyped). Now every limited type is recorded the same way."""
    h = Harness(settings(**limits))
    h.observe((kind, first), ACCOUNT)
    h.observe((kind, second), OTHER_ACCOUNT, minutes=1)
    ann, other = h.customer(*ACCOUNT), h.customer(*OTHER_ACCOUNT)
    assert ann != other
    refused_before = len(h.decisions(Refused))
    reject(h)
    roots = h.local.roots()
    assert other in roots[ann].rejected and ann in roots[other].rejected  # type: ignore[index]
    assert other in roots[ann].do_not_merge and ann in roots[other].do_not_merge  # type: ignore[index]
    assert len(h.decisions(Refused)) == refused_before  # the operator's decision is no refused link
    h.local.submit([Send(other, ReleaseIdentifier(h.key(kind, second), "ops-1", "mistyped", "cmd-release",
                                                 10**15))])
    h.local.run()
    assert h.customer(kind, second) is None
    h.observe(ACCOUNT, OTHER_ACCOUNT, minutes=2)  # nothing but the rejection tells them apart now
    assert h.customer(*ACCOUNT) != h.customer(*OTHER_ACCOUNT) and not h.decisions(Merged)
    assert h.decisions(Refused)[-1].lineage.rule == SPLIT_DO_NOT_MERGE
    h.local.check_consistent()


def test_a_redelivered_or_repeated_merge_merges_once() -> None:
    h = Harness(settings())
    h.observe(ACCOUNT, EMAIL)
    split_off(h, EMAIL)
    merge(h, ACCOUNT, EMAIL)
    merge(h, ACCOUNT, EMAIL)  # the same command again (a redelivery)
    merge(h, EMAIL, ACCOUNT, token="cmd-merge-2")  # a second operator's, once they are one
    assert len(h.decisions(Merged)) == 1 and h.customer(*ACCOUNT) == h.customer(*EMAIL)
    h.local.check_consistent()


def scenario(h: Harness, cut: int) -> bool:
    """Two records of one person kept apart by a split, three events in flight (one carrying both, one each), and
    the merge delivered after ``cut`` messages; False when everything was settled before ``cut``."""
    h.observe(ACCOUNT, EMAIL)
    split_off(h, EMAIL)
    for minutes, identifiers in enumerate(((ACCOUNT, EMAIL), (EMAIL, PHONE), (ACCOUNT,)), start=1):
        h.observe(*identifiers, minutes=minutes, settle=False)
    for _ in range(cut):
        if not h.local.step():
            return False
    merge(h, ACCOUNT, EMAIL)
    return True


@pytest.mark.parametrize(("partitions", "duplicates"), [(1, 0.0), (3, 0.0), (3, 0.3)])
def test_a_merge_at_every_point_of_concurrent_events_ends_in_one_customer(partitions: int, duplicates: float) -> None:
    """Whatever the merge overtakes (a refused link through the split, a new phone joining the split-off side), on
    one partition or several (delivered in a seeded random order), with duplicated messages or not, the person ends
    as one customer holding all three identifiers, merged once by the operator."""
    for cut in itertools.count():
        h = Harness(settings(), partitions=partitions, seed=cut, duplicates=duplicates)
        if not scenario(h, cut):
            break
        assert h.customer(*ACCOUNT) == h.customer(*EMAIL) == h.customer(*PHONE), (partitions, cut)
        assert [d.lineage.rule for d in h.decisions(Merged)].count(MANUAL_MERGE) == 1, (partitions, cut)
        h.local.check_consistent()
    assert cut > 4


def test_an_identifier_is_attached_to_another_customer_by_a_split_then_a_merge() -> None:
    """No attach command yet (README, "Merge two customers"): split the identifier off, then merge the new customer
    into the one it belongs to; the source stays apart from both."""
    h = Harness(settings())
    h.observe(ACCOUNT, EMAIL)
    h.observe(OTHER_ACCOUNT, minutes=1)
    split_off(h, EMAIL)
    merge(h, EMAIL, OTHER_ACCOUNT)
    assert h.customer(*EMAIL) == h.customer(*OTHER_ACCOUNT) != h.customer(*ACCOUNT)
    h.observe(ACCOUNT, EMAIL, minutes=2)  # the split's do-not-merge holds for the customer the e-mail joined
    assert h.customer(*EMAIL) == h.customer(*OTHER_ACCOUNT) != h.customer(*ACCOUNT)
    h.local.check_consistent()
