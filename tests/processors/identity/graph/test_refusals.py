"""A refusal is announced once (``graph/refusals.py``; tester M8: a landline two households share announced one more
``LinkRefused`` per call).

Two households, each with its utility account, give the same landline (Ann's first); every call from it carries the
phone and the caller's account. The refusal between the two customers through the phone is announced once, in every
arrival order, across partitions and with redeliveries; every call is still placed on its household's customer. The
same holds for the other identifier kinds and rules; a refusal that says something new (another identifier, rule or
weight band) is announced.
"""

from __future__ import annotations

import itertools

import pytest
from prometheus_client import REGISTRY

from bus.serde import Event
from processors.identity import metrics
from processors.identity.graph.context import TOKEN_HASH_BYTES, Ctx, GraphConfig
from processors.identity.graph.outputs import Lineage, RefusalRepeated, Refused, Resolved
from processors.identity.graph.refusals import MAX_KEPT, announce
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from processors.identity.rules import MATCH_WEIGHT, MAX_PER_CUSTOMER, SHARED_IDENTIFIER, SPLIT_DO_NOT_MERGE, LinkPolicy
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, envelope, ident, interaction, matcher_settings

ANN_ACCOUNT, BOB_ACCOUNT = ("ACCOUNT", "1000001"), ("ACCOUNT", "2000002")
LANDLINE = ("PHONE", "+33140000001")
OBSERVED = "identity.observed.v1"
Record = tuple[Event, str]


def observed(identifiers: list[tuple[str, str]], traits: dict[str, str] | None, minutes: int,
             channel: str = "WEB") -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope(channel, minutes=minutes), "identifiers": [ident(k, v) for k, v in identifiers],
        "traits": traits})


def households(shared: tuple[str, str] = LANDLINE) -> list[Record]:
    """Ann's household (minute 0) and Bob's (minute 1) give ``shared``, each with its account and its person."""
    return [(observed([ANN_ACCOUNT, shared], ANN, 0), OBSERVED), (observed([BOB_ACCOUNT, shared], BOB, 1), OBSERVED)]


def call(number: int, shared: tuple[str, str] = LANDLINE) -> list[Record]:
    """Bob's call from ``shared`` (minute 10 + ``number``): the IVR's record (his account, his person), the contact."""
    minutes = 10 + number
    return [(observed([BOB_ACCOUNT, shared], BOB, minutes, "CALL_CENTER"), OBSERVED),
            (interaction([BOB_ACCOUNT, shared], minutes=minutes, interaction_id=f"call-{number}"), "contact.events.v1")]


def run(records: list[Record], *, h: Harness | None = None, partitions: int = 1, seed: int | None = None,
        duplicates: float = 0.0) -> Harness:
    h = h or Harness(matcher_settings(), partitions=partitions, seed=seed, duplicates=duplicates)
    for event, topic in records:
        h.feed(event, topic=topic, settle=partitions == 1)
    h.local.run()
    h.local.check_consistent()
    return h


def said(h: Harness) -> list[tuple[str, str, frozenset[str]]]:
    """Each refusal announced as (rule, identifier, its customers after merges): what a subscriber learns of it."""
    return [(r.lineage.rule, r.identifier, frozenset(root(h, c) for c in (r.customer_id, r.other_customer_id) if c))
            for r in h.decisions(Refused)]


def test_calls_from_a_landline_two_households_share_announce_their_refusal_once() -> None:
    """The reported case: five calls from the shared landline, one ``LinkRefused``; each call is still Bob's."""
    calls = [record for number in range(5) for record in call(number)]
    h = run([*households(), *calls])
    ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
    assert ann is not None and bob is not None and ann != bob and h.customer(*LANDLINE) == ann
    assert said(h) == [(MATCH_WEIGHT, h.key(*LANDLINE), frozenset({ann, bob}))]
    assert len(h.decisions(RefusalRepeated)) == len(calls)  # counted instead of announced
    placed = {r.triggering_event_id: root(h, r.customer_id) for r in h.decisions(Resolved)}
    assert {placed[event.value["envelope"]["event_id"]] for event, _ in calls} == {bob}


UNITS = ("ann", "bob", "call-0", "call-1")


def _records(shared: tuple[str, str]) -> dict[str, list[Record]]:
    ann, bob = households(shared)
    return {"ann": [ann], "bob": [bob], "call-0": call(0, shared), "call-1": call(1, shared)}


@pytest.mark.parametrize("shared", [LANDLINE, ("EMAIL", "lee.family@example.org"), ("DEVICE", "tablet-7731"),
                                    ("CARD", "4111111111111111")], ids=lambda shared: shared[0])
def test_in_every_arrival_order_the_pairs_refusal_is_announced_once_for_any_identifier_kind(
        shared: tuple[str, str]) -> None:
    """The pair met in the other order (Bob's records first: his customer held the identifier and refused Ann's in a
    join, then Ann's claim took it and the calls are refused in an offer decided at her root) is one refusal too:
    the offer carries the loser's memory (``Offer.refusals``)."""
    units = _records(shared)
    for order in itertools.permutations(UNITS):
        h = run([record for unit in order for record in units[unit]])
        ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
        assert said(h) == [(MATCH_WEIGHT, h.key(*shared), frozenset({ann, bob}))], order


@pytest.mark.parametrize(("partitions", "seed", "duplicates"), [(5, 1, 0.3), (12, 2, 0.5)])
def test_across_partitions_with_redeliveries_the_refusal_is_announced_once(
        partitions: int, seed: int, duplicates: float) -> None:
    h = run([*households(), *call(0), *call(1), *call(2)], partitions=partitions, seed=seed, duplicates=duplicates)
    ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
    assert said(h) == [(MATCH_WEIGHT, h.key(*LANDLINE), frozenset({ann, bob}))]


def test_a_redelivered_call_and_a_restart_announce_nothing_again() -> None:
    """The memory is node state: a call redelivered (its event id again) and calls after the states were written and
    read back (a restart restores the tables) are counted, not announced."""
    first = call(0)
    h = run([*households(), *first])
    store = h.local.store
    store.nodes = {key: decode_state(encode_state(state)) for key, state in store.nodes.items()}
    run([*first, *call(1)], h=h)
    assert [rule for rule, _, _ in said(h)] == [MATCH_WEIGHT]


def test_a_shared_identifiers_refusal_is_announced_once_per_owner() -> None:
    """Four households on one landline: past ``shared_after`` it stops linking (``shared-identifier``, decided on its
    node, remembered there: ``IdentifierState.refusals``); the calls after it announce nothing more."""
    others = [(observed([("ACCOUNT", account), LANDLINE], {**BOB, "given_name": name, "birth_date": born}, minute),
               OBSERVED) for account, name, born, minute in (("3000003", "Carol", "1990-03-04", 2),
                                                             ("4000004", "Dan", "1970-03-04", 3))]
    h = run([*households(), *others])
    before = len(h.decisions(Refused))
    assert SHARED_IDENTIFIER in [rule for rule, _, _ in said(h)]
    run([*call(0), *call(1), *call(2)], h=h)
    assert len(h.decisions(Refused)) == before
    assert {(r.rule, r.identifier) for r in h.decisions(RefusalRepeated)} == {(SHARED_IDENTIFIER, h.key(*LANDLINE))}


def test_an_identifier_over_the_limit_is_refused_once_however_often_it_comes_back() -> None:
    h = Harness(matcher_settings(max_per_customer={"EMAIL": 1}))
    second = ("EMAIL", "ann.lee@example.org")
    run([(observed([ANN_ACCOUNT, ("EMAIL", "ann@example.org")], ANN, 0), OBSERVED),
         *[(observed([ANN_ACCOUNT, second], ANN, 5 + n), OBSERVED) for n in range(3)]], h=h)
    assert said(h) == [(MAX_PER_CUSTOMER, h.key(*second), frozenset({h.customer(*ANN_ACCOUNT)}))]


def _refused(rule: str = MATCH_WEIGHT, identifier: str = "PHONE:+33140000001",
             pair: tuple[str, str] = ("cus_a", "cus_b"), weight: float | None = -9.3, event_id: str = "event-1",
             evicted: bool = False) -> Refused:
    return Refused(identifier, "two people", Lineage(event_id, "CALL_CENTER", rule), customer_id=pair[0],
                   other_customer_id=pair[1], match_weight=weight, evicted=evicted)


def _announced(*refusals: Refused, known: bytes = b"") -> tuple[list[bool], CustomerState]:
    ctx = Ctx(GraphConfig(LinkPolicy(matcher_settings()), None, None), None, "cus_a",  # type: ignore[arg-type]
              None, CustomerState(created=True))
    return [announce(ctx, refused, known=known) for refused in refusals], ctx.state


def test_what_a_subscriber_learns_anew_is_announced_the_same_again_is_not() -> None:
    """Another event, the pair in the other order, a weight in the same band: the same refusal. Another rule,
    identifier, customer or weight band: announced. An eviction: always announced."""
    assert _announced(
        _refused(), _refused(event_id="event-2"), _refused(pair=("cus_b", "cus_a")), _refused(weight=-9.9),
        _refused(rule=SPLIT_DO_NOT_MERGE), _refused(identifier="EMAIL:lee.family@example.org"),
        _refused(pair=("cus_a", "cus_c")), _refused(weight=-10.2), _refused(weight=None),
        _refused(evicted=True), _refused(evicted=True),
    )[0] == [True, False, False, False, True, True, True, True, True, True, True]


def test_the_memory_is_bounded_and_keeps_the_refusals_that_repeat() -> None:
    repeating = _refused()
    others = [_refused(identifier=f"PHONE:+3314000{n:04d}") for n in range(MAX_KEPT * 2)]
    announced, state = _announced(repeating, *[item for other in others for item in (other, repeating)], others[0])
    assert len(state.refusals) == MAX_KEPT * TOKEN_HASH_BYTES
    assert announced[0] and not any(announced[2:-1:2]) and announced[-1]  # the first other was forgotten


def test_a_refusal_the_other_root_remembers_is_not_announced_again() -> None:
    known = _announced(_refused())[1].refusals
    assert _announced(_refused(pair=("cus_b", "cus_a")), known=known)[0] == [False]


def test_repeats_are_counted_by_rule_and_identifier_type_never_value() -> None:
    def repeated() -> float:
        return REGISTRY.get_sample_value("omnibus_identity_refusals_repeated_total",
                                         {"rule": MATCH_WEIGHT, "type": "PHONE"}) or 0.0

    before = repeated()
    metrics.observe([RefusalRepeated("PHONE:+33140000001", MATCH_WEIGHT)] * 3, 0.0)
    assert repeated() == before + 3
