"""The fast path for repeat contacts: same outcome as the slow path, whatever the view believes."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.fast_node import FAST_PATH
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Merged, Refused, Resolved, Send, Split, Unresolved
from processors.identity.rules import MAX_PER_CUSTOMER, SHARED_IDENTIFIER
from tests.processors.identity.graph.test_local import components, events
from tests.processors.identity.support import Harness, interaction, matcher_settings, national_id, unlimited_settings
from tests.processors.identity.support import settings as config


def _fast(outcome: str) -> float:
    return FAST_PATH.labels(outcome=outcome)._value.get()


def resolved_to(h: Harness) -> str | None:
    last = [d for d in h.local.decisions if isinstance(d, Resolved | Unresolved)][-1]
    return last.customer_id if isinstance(last, Resolved) else None


def test_a_repeat_contact_goes_straight_to_its_customer_in_one_message() -> None:
    slow, fast = Harness(), Harness(view=AssignmentView())
    for h in (slow, fast):
        h.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=0))
        h.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=1))  # the view learned now
    applied = _fast("applied")
    before = fast.local.delivered
    fast.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=2))
    # One message to the customer, no ``placed``: the contact names no version, so it has no other
    # (graph/versions.py ``one_version``).
    assert fast.local.delivered - before == 1 and _fast("applied") == applied + 1
    slow.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=2))
    assert resolved_to(slow) == slow.customer("PHONE", "13912345678")
    customer = fast.customer("PHONE", "13912345678")
    assert resolved_to(fast) == customer is not None
    assert len(fast.local.store.profiles[customer]["recent_contacts"]["CALL_CENTER"]) == 3  # type: ignore[index]
    fast.local.check_consistent()


def test_a_repeat_contact_delivered_twice_on_the_fast_path_is_resolved_and_counted_once() -> None:
    h = Harness(view=AssignmentView())
    h.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=0))
    h.feed(interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=1))  # the view learned now
    customer = h.customer("PHONE", "13912345678")
    repeat = interaction([("PHONE", "13912345678"), ("EMAIL", "a@x.org")], minutes=2)
    applied, duplicates = _fast("applied"), _fast("duplicate")
    before = len(h.decisions(Resolved))
    h.feed(repeat)
    h.feed(repeat)  # re-delivered (a batch taken again after a crash)
    assert _fast("applied") == applied + 1 and _fast("duplicate") == duplicates + 1
    assert len(h.decisions(Resolved)) == before + 1
    assert len(h.local.store.profiles[customer]["recent_contacts"]["CALL_CENTER"]) == 3  # type: ignore[index]
    h.local.check_consistent()


def test_a_view_stale_after_a_merge_never_attaches_the_contact_to_the_merged_away_customer() -> None:
    view = AssignmentView()
    h = Harness(view=view)
    h.observe(("ACCOUNT", "OLD"), minutes=0)
    h.observe(("EMAIL", "b@x.org"), minutes=5)
    loser = h.customer("EMAIL", "b@x.org")
    h.observe(("EMAIL", "b@x.org"), ("ACCOUNT", "OLD"), minutes=6)  # the view learns loser's row before this
    (merged,) = h.decisions(Merged)
    assert merged.merged_id == loser
    stale = AssignmentView()
    stale.learn(h.key("EMAIL", "b@x.org"), loser, 1)  # the row from before the merge
    h.view, h.intake._view, h._learned = stale, stale, 10**9  # type: ignore[attr-defined]
    slow = _fast("slow")
    h.feed(interaction([("EMAIL", "b@x.org")], minutes=7))
    assert _fast("slow") == slow + 1
    assert resolved_to(h) == merged.survivor_id != loser
    h.local.check_consistent()


def test_a_view_stale_after_a_split_sends_the_contact_to_where_the_identifier_went() -> None:
    h = Harness(view=AssignmentView())
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "a@x.org"), minutes=0)
    h.observe(("ACCOUNT", "A1"), ("EMAIL", "b@x.org"), minutes=1)
    source = h.customer("ACCOUNT", "A1")
    h.observe(("EMAIL", "b@x.org"), minutes=2)  # the view knows b@ -> source now
    h._learned = 10**9  # the view learns nothing more: it goes stale
    h.local.submit([Send(source, SplitCustomer(["EMAIL:b@x.org"], "two people", "cmd-1", 1_000))])
    h.local.run()
    (split,) = h.decisions(Split)
    h.feed(interaction([("EMAIL", "b@x.org")], minutes=3))
    assert resolved_to(h) == split.new_id != source
    h.local.check_consistent()


def test_a_view_stale_after_an_eviction_does_not_link_the_evicted_identifier() -> None:
    h = Harness(config(max_per_customer={"EMAIL": 2}), view=AssignmentView())
    h.observe(("USER_ID", "u-1"), ("EMAIL", "five@x.org"), minutes=5, event_id="ev-5")
    h.observe(("USER_ID", "u-1"), ("EMAIL", "six@x.org"), minutes=6, event_id="ev-6")
    customer = h.customer("USER_ID", "u-1")
    h.observe(("EMAIL", "six@x.org"), minutes=7)  # the view holds six@ -> customer
    h._learned = 10**9  # from here on the view learns nothing
    h.observe(("USER_ID", "u-1"), ("EMAIL", "one@x.org"), minutes=1, event_id="ev-1")  # six@ is evicted
    assert h.customer("EMAIL", "six@x.org") is None
    h.observe(("EMAIL", "six@x.org"), minutes=8)  # the stale view claims six@ for the customer
    assert resolved_to(h) not in (None, customer)  # six@ alone: a customer of its own, as the slow path does
    h.local.check_consistent()


def test_an_older_event_takes_the_slow_path_so_the_identifier_rank_falls() -> None:
    h = Harness(config(max_per_customer={"EMAIL": 2}), view=AssignmentView())
    h.observe(("USER_ID", "u-1"), ("EMAIL", "five@x.org"), minutes=5, event_id="ev-5")
    h.observe(("USER_ID", "u-1"), ("EMAIL", "six@x.org"), minutes=6, event_id="ev-6")
    slow = _fast("slow")
    # older than any event that carried six@, and with the user id: an e-mail alone tells nobody's, ranks nothing
    h.observe(("USER_ID", "u-1"), ("EMAIL", "six@x.org"), minutes=0, event_id="ev-0")
    assert _fast("slow") == slow + 1
    h.observe(("USER_ID", "u-1"), ("EMAIL", "one@x.org"), minutes=1, event_id="ev-1")
    assert h.customer("EMAIL", "six@x.org") == h.customer("USER_ID", "u-1")  # six@ ranks first now: five@ goes
    assert h.customer("EMAIL", "five@x.org") is None
    assert [r.lineage.rule for r in h.decisions(Refused)] == [MAX_PER_CUSTOMER]


def test_a_shared_phone_is_refused_on_the_fast_path_as_on_the_slow_one() -> None:
    outcomes = []
    for view in (None, AssignmentView()):
        h = Harness(matcher_settings(shared_after={"PHONE": 2}), view=view)
        family = [national_id(f"1101051980010100{i}") for i in range(1, 4)]
        for minute, number in enumerate(family):
            h.observe(("NATIONAL_ID", number), ("PHONE", "13900000009"), minutes=minute)
        h.observe(("PHONE", "13900000009"), minutes=10)  # the phone alone: its first owner by the view
        refused = [r.lineage.rule for r in h.decisions(Refused)]
        outcomes.append((resolved_to(h), refused.count(SHARED_IDENTIFIER)))
        h.local.check_consistent()
    assert outcomes[0] == outcomes[1] and outcomes[0][0] is None


def test_in_order_the_fast_path_decides_exactly_what_the_slow_path_does() -> None:
    rng = random.Random(7)
    people = [[("PHONE", f"+86139{p:08d}"), ("EMAIL", f"p{p}@x.org"), ("ACCOUNT", f"AC-{p // 2}")]
              for p in range(12)]
    plan = [rng.sample(rng.choice(people), rng.randint(1, 3)) for _ in range(150)]
    results = []
    for view in (None, AssignmentView()):
        h = Harness(view=view)
        for index, identifiers in enumerate(plan):
            h.observe(*identifiers, minutes=index, event_id=f"ev-{index}")
        h.local.check_consistent()
        decisions = [d for d in h.local.decisions if not isinstance(d, Resolved)]
        resolved = [d.customer_id for d in h.local.decisions if isinstance(d, Resolved)]
        results.append((h.local.clusters(), decisions, resolved, h.local.store.profiles, h.local.delivered))
    (clusters, decisions, resolved, profiles, slow_messages), fast = results[0], results[1]
    assert (clusters, decisions, resolved, profiles) == fast[:4]
    assert fast[4] < slow_messages * 0.7  # most of them were repeats


@settings(max_examples=60, deadline=None)
@given(observed=events, seed=st.integers(0, 10_000))
def test_with_a_view_the_clusters_still_do_not_depend_on_partitions_order_or_duplicates(observed, seed) -> None:  # type: ignore[no-untyped-def]
    harness = Harness(unlimited_settings(), partitions=5, seed=seed, duplicates=0.1, view=AssignmentView())
    order = list(enumerate(observed))
    random.Random(seed).shuffle(order)
    for index, event in order:
        harness.observe(*event, settle=False, event_id=f"ev-{index}", minutes=index)
        for _ in range(random.Random(index).randint(0, 8)):
            harness.local.step()
    harness.local.run()
    harness.local.check_consistent()
    assert harness.local.clusters() == components(harness, observed)


def test_a_household_member_on_the_family_phone_goes_the_slow_way_and_counts_towards_shared_after() -> None:
    """Bob's contact carries only the phone Ann's customer holds: the view sends it to Ann's root, whose
    traits it contradicts; it takes the slow path, so the phone counts Bob as a second person (as without
    the fast path) and is shared past ``shared_after`` (1 for this test)."""
    from processors.identity.graph.outputs import SharedMarked
    from tests.processors.identity.graph.test_evidence import ANN, BOB, with_traits

    outcomes = []
    for view in (None, AssignmentView()):
        h = Harness(matcher_settings(shared_after={"PHONE": 1}), view=view)
        with_traits(h, [("ACCOUNT", "1000001"), ("PHONE", "+33612345678")], ANN)
        with_traits(h, [("PHONE", "+33612345678")], ANN, minutes=1)  # Ann again: the view learns the phone
        slow = _fast("slow")
        with_traits(h, [("PHONE", "+33612345678")], BOB, minutes=2)
        if view is not None:
            assert _fast("slow") == slow + 1
        outcomes.append([(m.identifier, m.customers) for m in h.decisions(SharedMarked)])
        h.local.check_consistent()
    assert outcomes[0] == outcomes[1] == [(Harness().key("PHONE", "+33612345678"), 2)]
