"""Convergence: without limits, the clusters are the connected components of what was seen together,
whatever the partitioning, the arrival order, the interleaving of partitions and duplicate deliveries;
where the matcher refuses or a per-customer limit decides, the outcome does not depend on them either."""

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from processors.identity.graph.outputs import Refused
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import (
    MAX_EMAILS, UNLIMITED, Harness, anchored_identifiers, corrupted, earliest_owners, household_events, kept_by_rank,
    kept_by_rank_per_component, matcher_settings, person_identifiers, personal_identifiers, personal_partition,
    phone_owners, sharing_household_events, unlimited_settings,
)
from tests.processors.identity.support import settings as identity_settings

KINDS = {"PHONE": "+86139{:08d}", "EMAIL": "u{}@x.org", "ACCOUNT": "AC-{}", "USER_ID": "user-{}", "DEVICE": "dev-{}"}

identifiers = st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 25)).map(
    lambda pair: (pair[0], KINDS[pair[0]].format(pair[1]))
)
events = st.lists(st.lists(identifiers, min_size=1, max_size=4), min_size=1, max_size=60)


def components(harness: Harness, observed: list[list[tuple[str, str]]]) -> set[frozenset[str]]:
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for event in observed:
        keys = [harness.key(kind, value) for kind, value in event]
        for key in keys:
            parent[find(key)] = find(keys[0])
    groups: dict[str, set[str]] = {}
    for key in parent:
        groups.setdefault(find(key), set()).add(key)
    return {frozenset(group) for group in groups.values()}


def replay(observed, *, partitions: int, seed: int | None, duplicates: float = 0.0, config=None) -> Harness:  # type: ignore[no-untyped-def]
    harness = Harness(config or unlimited_settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    order = list(enumerate(observed))
    if seed is not None:
        random.Random(seed).shuffle(order)
    for index, event in order:
        harness.observe(*event, settle=False, event_id=f"ev-{index}", minutes=index)
        for _ in range(random.Random(index).randint(0, 8) if seed is not None else 0):
            harness.local.step()  # let some messages through between arrivals
    harness.local.run()
    harness.local.check_consistent()
    return harness


@settings(max_examples=80, deadline=None)
@given(observed=events, seed=st.integers(0, 10_000))
def test_clusters_do_not_depend_on_partitions_order_or_duplicates(observed, seed) -> None:  # type: ignore[no-untyped-def]
    in_order = replay(observed, partitions=1, seed=None)
    expected = components(in_order, observed)
    assert in_order.local.clusters() == expected
    assert replay(observed, partitions=12, seed=seed).local.clusters() == expected
    assert replay(observed, partitions=5, seed=seed, duplicates=0.2).local.clusters() == expected


@settings(max_examples=60, deadline=None)
@given(observed=events, seed=st.integers(0, 10_000))
def test_with_limits_no_customer_ever_breaks_one(observed, seed) -> None:  # type: ignore[no-untyped-def]
    config = identity_settings(max_per_customer={"PHONE": 2, "EMAIL": 1, "USER_ID": 1},
                               shared_after={"PHONE": 2, "EMAIL": 2})
    harness = replay(observed, partitions=6, seed=seed, duplicates=0.1, config=config)
    policy = LinkPolicy(config)
    for state in harness.local.roots().values():
        assert policy.breach([], state.members) is None


def test_with_limits_the_outcome_is_deterministic_for_a_given_order() -> None:
    rng = random.Random(7)
    observed = [[(k, KINDS[k].format(rng.randint(0, 12))) for k in rng.sample(sorted(KINDS), 3)] for _ in range(80)]
    config = identity_settings(max_per_customer={"PHONE": 1, "EMAIL": 1, "ACCOUNT": 2})
    runs = [replay(observed, partitions=1, seed=None, config=config) for _ in range(2)]
    assert runs[0].local.clusters() == runs[1].local.clusters()
    refusals = [[(r.identifier, r.lineage.rule) for r in run.decisions(Refused)] for run in runs]
    assert refusals[0] == refusals[1] and refusals[0]


def replay_households(events, *, partitions: int, seed: int | None, duplicates: float = 0.0, config=None) -> Harness:  # type: ignore[no-untyped-def]
    harness = Harness(config or matcher_settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    order = list(events)
    if seed is not None:
        random.Random(seed).shuffle(order)
    for event in order:
        harness.feed(event, "identity.observed.v1", settle=False)
        for _ in range(random.Random(event.value["envelope"]["event_id"]).randint(0, 8) if seed is not None else 0):
            harness.local.step()
    harness.local.run()
    harness.local.check_consistent()
    return harness


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
def test_where_the_matcher_refuses_the_people_do_not_depend_on_order_or_partitions(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """Households share phones: every link through a phone between two people is refused by the
    matcher, every person's identifiers end on one customer, whatever the order and partitioning."""
    events, expected = household_events(random.Random(seed), people, count)
    for partitions, order_seed, duplicates in ((1, None, 0.0), (12, seed, 0.0), (5, seed + 1, 0.2)):
        harness = replay_households(events, partitions=partitions, seed=order_seed, duplicates=duplicates)
        owners = {key: harness.local.customer_of(key) for key in harness.local.store.nodes if ":" in key
                  and not key.startswith("BLOCK:")}
        assert personal_partition(owners) == expected


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
def test_which_person_keeps_a_family_phone_does_not_depend_on_order_or_partitions(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """The matcher refuses every household link through a phone; the phone ends with the person whose
    earliest event carried it (``graph/claim_node.py``): in order on one partition, shuffled on 12,
    shuffled on 5 with duplicates, and shuffled on one (where who had it first is not who came first)."""
    events, expected = household_events(random.Random(seed), people, count)
    _assert_the_family_phone_stays_with_its_earliest_person(events, expected, seed)


SHARED_AFTER = {"PHONE": 2, "EMAIL": 1}  # a phone of three people, an e-mail of two: shared


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
def test_where_shared_after_decides_the_shared_flags_and_people_do_not_depend_on_order(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """Households share a phone and an e-mail; a person's customers formed through different identifiers
    merge later. An identifier is shared when more people than ``shared_after`` carried it, counted on
    their events' evidence: the same flags and the same people in order on one partition, shuffled on
    12, and shuffled on 5 with duplicate deliveries."""
    events, users = sharing_household_events(random.Random(seed), people, count)
    config = matcher_settings(shared_after=SHARED_AFTER)
    expected = {key: users[key] > SHARED_AFTER[key.split(":")[0]] for key in users}
    outcomes = []
    for partitions, order_seed, duplicates in ((1, None, 0.0), (12, seed, 0.0), (5, seed + 1, 0.2)):
        harness = replay_households(events, partitions=partitions, seed=order_seed, duplicates=duplicates,
                                    config=config)
        nodes = harness.local.store.nodes
        flags = {key: nodes[harness.key(*key.split(":", 1))].shared for key in users}  # type: ignore[union-attr]
        owners = {key: harness.local.customer_of(key) for key in nodes
                  if ":" in key and not key.startswith("BLOCK:") and key not in users}
        outcomes.append((flags, personal_partition(owners)))
    assert outcomes[0][0] == expected
    assert outcomes[1] == outcomes[0] and outcomes[2] == outcomes[0]



@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
def test_where_only_the_matcher_decides_the_people_do_not_depend_on_order(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """Households share a phone and an e-mail that never become shared (no ``shared_after``, no caps): only the
    matcher and blocking keep housemates apart, a housemate's event often reaching the other's customer first
    through the family e-mail. Every person's identifiers end on one customer of their own, in order on one
    partition, shuffled on 12, and shuffled on 5 with duplicates (issue #8 build 5)."""
    events, users = sharing_household_events(random.Random(seed), people, count)
    config = matcher_settings(shared_after=dict(UNLIMITED), max_per_customer=dict(UNLIMITED))
    for partitions, order_seed, duplicates in ((1, None, 0.0), (12, seed, 0.0), (5, seed + 1, 0.2)):
        harness = replay_households(events, partitions=partitions, seed=order_seed, duplicates=duplicates,
                                    config=config)
        owners = {key: harness.local.customer_of(key) for key in harness.local.store.nodes
                  if ":" in key and not key.startswith("BLOCK:") and key not in users}
        assert personal_partition(owners) == personal_identifiers(events, users)


def assert_corrupted_households_agree(rng: random.Random, people: int, count: int,
                                      orders: tuple[tuple[int, int | None, float], ...]) -> None:
    """``people`` households' ``count`` corrupted records replayed in each of ``orders`` (partitions, shuffle seed,
    duplicate share), limits off: never two people on one customer (a record too spoilt to tell may stay apart
    from its person), and the same customers in every order."""
    events, users = sharing_household_events(rng, people, count)
    events = corrupted(rng, events)
    config = matcher_settings(shared_after=dict(UNLIMITED), max_per_customer=dict(UNLIMITED))
    outcomes = []
    for partitions, order_seed, duplicates in orders:
        harness = replay_households(events, partitions=partitions, seed=order_seed, duplicates=duplicates,
                                    config=config)
        owners = {key: harness.local.customer_of(key) for key in harness.local.store.nodes
                  if ":" in key and not key.startswith("BLOCK:") and key not in users}
        outcomes.append(personal_partition(owners))
    persons = personal_identifiers(events, users)
    assert all(any(cluster <= person for person in persons) for cluster in outcomes[0])
    assert all(outcome == outcomes[0] for outcome in outcomes[1:])


CORRUPTED_ORDERS = ((1, None, 0.0), (12, 0, 0.0), (5, 1, 0.2), (1, 0, 0.3))  # shuffle seeds: + the draw's seed


def assert_corrupted_draw_agrees(seed: int, people: int, count: int) -> None:
    """One draw of the property below: in order on one partition, shuffled on 12, on 5 with duplicates, and
    shuffled on one with more duplicates."""
    orders = tuple((partitions, None if shuffle is None else seed + shuffle, duplicates)
                   for partitions, shuffle, duplicates in CORRUPTED_ORDERS)
    assert_corrupted_households_agree(random.Random(seed), people, count, orders)


# Random draws of the property below that differed by arrival order on main 2e851f2a and on the round after it (a
# search of 12,000 draws, 2026-12-05; one failed CI run; 3157 by tests.bench.identity_corrupted_order --seed 48): a
# housemate first on the family e-mail, a spoilt record reaching a login's customer second. Their cut forms and the
# two rules: test_corrupted_traits_order.py.
CORRUPTED_DRAWS = [(6860, 8, 20), (7461, 3, 8), (1533, 6, 21), (2197, 9, 32), (2112, 9, 22), (375, 8, 35),
                   (7653, 4, 19), (2418, 9, 20), (7852, 7, 17), (3157, 8, 11)]


def _with_the_known_draws(test):  # type: ignore[no-untyped-def]
    """``test`` with each of ``CORRUPTED_DRAWS`` as an ``@example``: tried first on every run."""
    for seed, people, count in reversed(CORRUPTED_DRAWS):
        test = example(seed=seed, people=people, count=count)(test)
    return test


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
@_with_the_known_draws
def test_with_corrupted_traits_the_people_do_not_depend_on_order(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """As above, with the records a careless form gives (``support.corrupted``: no birth date, a given-name
    typo, swapped names): the people are the same in every order and partitioning, and housemates stay apart
    (a record too spoilt to tell may stay apart from its person, in every order). First the known draws
    (``CORRUPTED_DRAWS``), then 25 drawn by Hypothesis, the same ones every run (``tests/fixtures/hypothesis.py``:
    derandomized, so CI never fails on a draw nobody has seen). The broad random search is a benchmark::

        PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_corrupted_order --draws 2000 --seed 48

    (``tests/bench/results/identity_corrupted_order.md``: on main 2e851f2a about 0.1 % of draws differed, 1 of 1,500
    of that search, 0 since, and 1 of 1,500 with ``--seed 49``, a kind not traced yet: ``test_the_corrupted_draws_that
    _still_differ``; the nine pinned, cut to their smallest differing sub-streams, are
    ``test_corrupted_traits_order.py``; issue #8 point 5).
    ``OMNIBUS_HYPOTHESIS_PROFILE=random`` draws this test's 25 afresh."""
    assert_corrupted_draw_agrees(seed, people, count)


# Found by tests.bench.identity_corrupted_order --seed 49 on branch order48 (differs on round5 78d3e72d too), cut to
# one person's three records with a different given-name slip each ("Estxer" on u-4 and p4, "Esthxr" and "Exther" on
# ACC-4): a kind not traced yet (issue #8 point 5).
@pytest.mark.parametrize(("seed", "people", "count"), [(3337, 5, 8)])
@pytest.mark.xfail(strict=True, reason="issue #8 point 5: three given-name slips of one person depend on arrival order")
def test_the_corrupted_draws_that_still_differ(seed: int, people: int, count: int) -> None:
    assert_corrupted_draw_agrees(seed, people, count)


@pytest.mark.parametrize(("seed", "people", "count"),
                         [(2571, 5, 21), (5443, 6, 24), (3147, 9, 37), (7339, 8, 21), (7257, 9, 6), (4871, 4, 33),
                          (2660, 7, 17)])
def test_the_corrupted_draws_whose_people_depended_on_arrival_order_agree(seed: int, people: int, count: int) -> None:
    """Draws of the property above that gave other customers in another order: a record of another person than
    the customer it reached with no link decided (its identifiers that customer's, or the others kept apart by
    a refusal) was applied there unweighed when it came after, and made its own customer when it came first.
    5443: "Anx" born 1950 (the personal and the home e-mail) and "Ann" without a birth date (her login, both
    e-mails). 2571: "Anx" born 1950 and "xnn" born 1950 on one account. 7257: "Inex" and "Ixes" (two slips), Inex's
    record reaching Greta's customer through the home e-mail and refused against Ixes' through the personal one.
    Now such a record makes its own customer and claims the identifiers it ranks first on, or was kept apart
    through (``graph/own_customer.py``). 4871: a copy of a claim that moved nothing reserved the phone again under
    its token, for good (``claim_node.on_claim``). 2660: the claim of "xnn"'s own customer on her e-mail was lost when
    its owner merged with Ann's other customer before the dissolve was decided (``claim_again.claim_again``)."""
    assert_corrupted_draw_agrees(seed, people, count)


@pytest.mark.parametrize("seed", [369, 550, 755])
def test_the_stress_inputs_whose_people_depended_on_arrival_order_agree(seed: int) -> None:
    """Corrupted inputs of the order stress (protocol.md, "Order") that gave other people in another order:
    369, "Bob" without a birth date and "Box" born 1951 on Bob's account (the account was the "Box" customer's
    only identifier: it now merges into the claimant, ``claim_node.on_give``); 550, Ann without a birth date
    and "Axn" born 1950 on her e-mail (the same); 755, "xob" born 1951, "Bob" without a birth date and "Box" born
    1951, pairwise contradicting, two of them on one login (a record that reaches its customer through a login
    it holds is that person's, ``customer_node.on_apply``)."""
    rng = random.Random(seed)
    assert_corrupted_households_agree(rng, rng.randint(3, 9), rng.randint(10, 50),
                                      ((1, None, 0.0), (12, seed, 0.0), (5, seed + 1, 0.2)))


# --- where a per-customer limit decides -------------------------------------------------------------

person_events = st.lists(
    st.tuples(st.integers(0, 2), st.lists(st.integers(0, 4), max_size=3, unique=True), st.booleans()),
    min_size=1, max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(drawn=person_events, seed=st.integers(0, 10_000))
def test_where_a_limit_decides_the_kept_identifiers_do_not_depend_on_order_or_partitions(drawn, seed) -> None:  # type: ignore[no-untyped-def]
    """At most two e-mails per customer, up to five arriving in different events: every replay keeps the
    two that occurred first (ties within an event: the smaller key), whatever the arrival order."""
    observed = [person_identifiers(*event) for event in drawn]
    config = identity_settings(max_per_customer={"EMAIL": MAX_EMAILS}, shared_after=dict(UNLIMITED))
    in_order = replay(observed, partitions=1, seed=None, config=config)
    expected = kept_by_rank(in_order.key, observed)
    assert in_order.local.clusters() == expected
    assert replay(observed, partitions=12, seed=seed, config=config).local.clusters() == expected
    assert replay(observed, partitions=5, seed=seed, duplicates=0.2, config=config).local.clusters() == expected


anchored_events = st.lists(
    st.tuples(st.integers(0, 1), st.text("uad", min_size=1, max_size=3),
              st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=3, unique=True)),
    min_size=1, max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(drawn=anchored_events, seed=st.integers(0, 10_000))
def test_where_a_limit_decides_merges_and_lower_priority_links_do_not_depend_on_order(drawn, seed) -> None:  # type: ignore[no-untyped-def]
    """At most two e-mails per customer. A person's events carry a user id, an account or a device (the
    device ranks below EMAIL), so customers form per anchor and merge when an event carries two: a limit
    is then exceeded by merging two customers, or met through a lower-priority identifier (the device).
    Every replay ends with the same customers, each with the two e-mails that occurred first."""
    observed = [anchored_identifiers(*event) for event in drawn]
    config = identity_settings(max_per_customer={"EMAIL": MAX_EMAILS}, shared_after=dict(UNLIMITED))
    in_order = replay(observed, partitions=1, seed=None, config=config)
    expected = kept_by_rank_per_component(in_order.key, observed)
    assert in_order.local.clusters() == expected
    assert replay(observed, partitions=12, seed=seed, config=config).local.clusters() == expected
    assert replay(observed, partitions=5, seed=seed, duplicates=0.2, config=config).local.clusters() == expected


def _half_described(events):  # type: ignore[no-untyped-def]
    """The household events with person p's given name only when p is even, birth date only when odd: two
    housemates of one kind are refused (veto), of different kinds reviewed (nothing tells them apart)."""
    from bus.serde import Event

    out = []
    for event in events:
        traits = dict(event.value["traits"])
        person = int(traits["birth_date"][:4]) - 1950  # support.person_traits
        traits.pop("birth_date" if person % 2 == 0 else "given_name")
        out.append(Event(event.schema, {**event.value, "traits": traits}))
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(2, 9), count=st.integers(1, 40))
def test_where_reviews_keep_housemates_apart_who_keeps_the_family_phone_does_not_depend_on_order(seed, people, count) -> None:  # type: ignore[no-untyped-def]
    """#8 leftover: claims act on reviews as on refusals. Housemates described by different fields (given
    name / birth date) are reviewed, not refused; the phone still ends with the person whose earliest event
    carried it, in order on one partition, shuffled on 12, on 5 with duplicates, and shuffled on one."""
    events, expected = household_events(random.Random(seed), people, count)
    events = _half_described(events)
    _assert_the_family_phone_stays_with_its_earliest_person(events, expected, seed)


def _assert_the_family_phone_stays_with_its_earliest_person(events, expected, seed: int) -> None:  # type: ignore[no-untyped-def]
    """In order on one partition, shuffled on 12, on 5 with duplicates, and shuffled on one: each phone is
    with the person whose earliest event carried it, and the people are ``expected``."""
    owners = None
    for partitions, order_seed, duplicates in ((1, None, 0.0), (12, seed, 0.0), (5, seed + 1, 0.2), (1, seed + 2, 0.0)):
        harness = replay_households(events, partitions=partitions, seed=order_seed, duplicates=duplicates)
        owners = owners or earliest_owners(harness.key, events, expected)
        assert phone_owners(harness) == owners
        assert personal_partition({key: harness.local.customer_of(key) for key in harness.local.store.nodes
                                   if key.startswith(("USER_ID:", "EMAIL:", "ACCOUNT:"))}) == expected
