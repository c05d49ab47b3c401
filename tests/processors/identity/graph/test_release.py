"""An operator releases a recycled phone number from its previous subscriber (tester F1, ``graph/release.py``).

Carol identified on the web with her prepaid number in 2024; the operator gave the number to Dave after her line
ceased. Dave's identify carrying it was kept apart from Carol (the matcher: two people), and his call from it popped
Carol: the earliest event's customer keeps a contested identifier for ever. ``omnibus identity release PHONE ...
--customer <Carol> --by ops-1``: Carol keeps her history but no longer the number; Dave's next identify takes it, and
his calls land on him. A replayed or stale command changes nothing, and an event Carol's number carried before the
release (a late upload) never takes it back.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import pytest

from bus.serde import Event
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.messages.commands import ReleaseIdentifier, Relinquish
from processors.identity.graph.outputs import Refused, ReviewRequested, Send, Unassigned, Unresolved
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import MANUAL_RELEASE
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.graph.test_split_contacts import contact_ids, resolved_to
from tests.processors.identity.support import (
    Harness,
    ident,
    interaction,
    matcher_settings,
    observed,
    product_subscribed,
)

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

PHONE = ("PHONE", "+33699887701")
CAROL, DAVE = ("USER_ID", "u-carol"), ("USER_ID", "u-dave")
TRAITS = {"u-carol": {"given_name": "Carol", "family_name": "Dupont", "birth_date": "1950-01-20"},
          "u-dave": {"given_name": "Dave", "family_name": "Nguyen", "birth_date": "1999-09-09"}}
RELEASED_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
OBSERVED = "identity.observed.v1"


def _envelope(channel: str, at: datetime) -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "occurred_at": at, "received_at": at, "source_system": "test",
            "channel": channel, "site": None, "correlation_id": str(uuid.uuid4()), "causation_id": None,
            "source_event_id": None}


def identify(user: str, phone: str, at: datetime) -> Event:
    """A web identify: the user id, the phone as typed, the person's name and birth date."""
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": _envelope("WEB", at), "identifiers": [ident("USER_ID", user), ident("PHONE", phone)],
        "traits": TRAITS[user]})


def call(contact: str, at: datetime) -> Event:
    """A call from the number with no IVR attributes (an Amazon Connect CTR: the caller's phone only)."""
    event = interaction([PHONE], interaction_id=contact)
    event.value["envelope"] = _envelope("CALL_CENTER", at)
    return event


def carol_keeps_daves_number(h: Harness | None = None) -> tuple[Harness, str, str]:
    """The tester's reproduction: (harness, Carol's customer, Dave's customer), Dave's call on Carol's screen pop."""
    h = h or Harness(matcher_settings(default_region="FR"))
    h.feed(identify("u-carol", "06 99 88 77 01", datetime(2024, 3, 1, tzinfo=UTC)), OBSERVED)
    h.feed(identify("u-dave", "+33699887701", datetime(2026, 11, 30, tzinfo=UTC)), OBSERVED)
    h.feed(call("CALL-1", datetime(2026, 11, 30, 18, tzinfo=UTC)))
    carol, dave = h.customer(*CAROL), h.customer(*DAVE)
    assert carol is not None and dave is not None and carol != dave
    assert h.customer(*PHONE) == carol and contact_ids(h, carol) == ["CALL-1"]
    return h, carol, dave


def release(h: Harness, customer: str, token: str = "cmd-release-1", at: datetime = RELEASED_AT) -> None:
    h.local.submit([Send(customer, ReleaseIdentifier(h.key(*PHONE), "ops-1", "line ceased", token,
                                                     int(at.timestamp() * 1e6)))])
    h.local.run()


def phone_node(h: Harness) -> IdentifierState:
    node = h.local.store.nodes[h.key(*PHONE)]
    assert isinstance(node, IdentifierState)
    return node


def test_after_the_release_carol_keeps_her_history_and_nobody_holds_the_number() -> None:
    h, carol, _ = carol_keeps_daves_number()
    release(h, carol)
    assert h.customer(*PHONE) is None and h.key(*PHONE) not in h.local.store.nodes[carol].members  # type: ignore[union-attr]
    assert contact_ids(h, carol) == ["CALL-1"]  # contacts already filed stay
    (released,) = [d for d in h.decisions(Refused) if d.lineage.rule == MANUAL_RELEASE]
    assert (released.customer_id, released.evicted, released.operator, released.lineage.triggering_event_id) == (
        carol, True, "ops-1", "cmd-release-1")
    assert released.reason == "released by an operator: line ceased"
    assert h.decisions(Unassigned) == [Unassigned(h.key(*PHONE), phone_node(h).version)]  # the compacted row goes
    node = phone_node(h)  # its previous holders' history is forgotten: no screen pop names Carol through it
    assert (node.first_rank, node.people, node.kept_apart, node.shared) == (None, [], [], False)
    h.local.check_consistent()


def test_daves_next_identify_takes_the_number_and_his_calls_land_on_him() -> None:
    h, carol, dave = carol_keeps_daves_number()
    release(h, carol)
    h.feed(identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)), OBSERVED)
    assert h.customer(*PHONE) == root(h, dave)
    h.feed(call("CALL-2", datetime(2026, 12, 3, tzinfo=UTC)))
    assert contact_ids(h, root(h, dave)) == ["CALL-2"] and contact_ids(h, carol) == ["CALL-1"]
    assert not h.decisions(ReviewRequested)
    h.local.check_consistent()


def test_a_call_before_daves_identify_makes_a_customer_of_the_number_not_carols() -> None:
    """A call alone names nobody else: it makes a customer of the number (then reviewed against Dave's identify,
    as for any new number whose first event is a call)."""
    h, carol, _ = carol_keeps_daves_number()
    release(h, carol)
    h.feed(call("CALL-2", datetime(2026, 12, 2, tzinfo=UTC)))
    caller = h.customer(*PHONE)
    assert caller not in (None, carol) and contact_ids(h, carol) == ["CALL-1"]
    assert contact_ids(h, caller) == ["CALL-2"]  # type: ignore[arg-type]


def test_an_event_that_carried_carols_number_before_the_release_never_takes_it_back() -> None:
    """An offline counter's late upload, a replay: it occurred before the release, so the number it carried was
    Carol's then. It goes to Carol through her user id and neither links, ranks nor claims the number: in either
    order against Dave's identify."""
    late = datetime(2025, 6, 1, tzinfo=UTC)
    for dave_first in (False, True):
        h, carol, dave = carol_keeps_daves_number()
        release(h, carol)
        events = [identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)),
                  identify("u-carol", "0699887701", late)]
        for event in events if dave_first else reversed(events):
            h.feed(event, OBSERVED)
        assert h.customer(*PHONE) == root(h, dave) and h.customer(*CAROL) == carol, dave_first
        assert phone_node(h).kept_apart == [] and len(phone_node(h).people) == 1
        h.local.check_consistent()


def _channel_event(kind: str, at: datetime) -> Event:
    """One event of each kind an adapter publishes whose only identifier is the number, dated ``at``."""
    if kind == "call":
        return call("LATE", at)
    if kind == "counter":
        event = interaction([PHONE], channel="BRANCH", kind="COUNTER_VISIT", interaction_id="LATE")
    elif kind == "product":
        event = product_subscribed("ACC-LATE", [PHONE])
    else:  # an IVR's or a counter's record with the caller's phone and nothing else
        event = observed([PHONE], channel="CALL_CENTER")
    event.value["envelope"] = _envelope(event.value["envelope"]["channel"], at)
    return event


@pytest.mark.parametrize("kind", ["call", "counter", "product", "observed"])
@pytest.mark.parametrize("daves_identify_first", [False, True])
def test_a_late_event_from_before_the_release_reaches_carol_its_holder_then(kind: str,
                                                                           daves_identify_first: bool) -> None:
    """Tester18 F5: a late call dated while Carol held the number, after the release (and after Dave took it or
    before): the release's instant decides, so it is Carol's (on her contact stream), never nobody's, never Dave's;
    it does not take the number back."""
    h, carol, dave = carol_keeps_daves_number()
    release(h, carol)
    if daves_identify_first:
        h.feed(identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)), OBSERVED)
    late = _channel_event(kind, datetime(2025, 5, 1, tzinfo=UTC))
    h.feed(late, {"observed": OBSERVED, "product": "business.events.v1"}.get(kind, "contact.events.v1"))
    late_id = late.value["envelope"]["event_id"]
    assert not [d for d in h.decisions(Unresolved) if d.triggering_event_id == late_id]
    if kind == "product":  # it carries its account too, new: a customer of its own (the stale number links nothing)
        (own,) = resolved_to(h, late_id)
        assert own not in (carol, root(h, dave)) and h.customer("ACCOUNT", "ACC-LATE") == own
    else:
        assert resolved_to(h, late_id) == [carol]
    if kind in ("call", "counter"):
        assert sorted(contact_ids(h, carol)) == ["CALL-1", "LATE"]
    assert h.customer(*PHONE) == (root(h, dave) if daves_identify_first else None)
    h.local.check_consistent()


def test_after_two_releases_each_late_call_reaches_the_holder_of_its_time() -> None:
    """The number went Carol -> Dave -> released again: a call dated between the releases is Dave's, one dated
    before the first is Carol's."""
    h, carol, dave = carol_keeps_daves_number()
    release(h, carol)
    h.feed(identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)), OBSERVED)
    release(h, root(h, dave), token="cmd-release-2", at=datetime(2027, 3, 1, tzinfo=UTC))
    assert h.customer(*PHONE) is None
    h.feed(call("LATE-DAVE", datetime(2027, 1, 5, tzinfo=UTC)))
    h.feed(call("LATE-CAROL", datetime(2025, 5, 1, tzinfo=UTC)))
    assert "LATE-DAVE" in contact_ids(h, root(h, dave)) and "LATE-CAROL" in contact_ids(h, carol)
    assert "LATE-CAROL" not in contact_ids(h, root(h, dave)) and not h.decisions(Unresolved)
    h.local.check_consistent()


def test_a_replayed_command_changes_nothing() -> None:
    h, carol, _ = carol_keeps_daves_number()
    release(h, carol)
    seen, nodes = len(h.local.decisions), copy.deepcopy(h.local.store.nodes)
    release(h, carol)  # redelivered: its step token is remembered
    assert len(h.local.decisions) == seen and h.local.store.nodes == nodes


def test_a_stale_command_never_undoes_a_newer_claim() -> None:
    """Dave took the number after the release; the same release sent again (another command id), or a
    ``relinquish`` of the old assignment still on its way, leaves it with Dave."""
    h, carol, dave = carol_keeps_daves_number()
    release(h, carol)
    old_version = phone_node(h).version
    h.feed(identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)), OBSERVED)
    release(h, carol, token="cmd-release-2")
    (refused,) = [d for d in h.decisions(Refused) if d.lineage.triggering_event_id == "cmd-release-2"]
    assert not refused.evicted and refused.customer_id == carol
    h.local.submit([Send(h.key(*PHONE), Relinquish(carol, old_version, 0, "ops-1", None, "cmd-release-1"))])
    h.local.run()
    assert h.customer(*PHONE) == root(h, dave)
    h.local.check_consistent()


def test_a_release_sent_to_a_merged_away_id_reaches_its_survivor() -> None:
    h, carol, _ = carol_keeps_daves_number()
    merged = f"cus_{'f' * 24}"  # a customer merged into Carol's: its parent pointer leads there
    h.local.store.nodes[merged] = CustomerState(created=True, parent=carol)
    release(h, merged)
    assert h.customer(*PHONE) is None and contact_ids(h, carol) == ["CALL-1"]


@pytest.mark.parametrize("seed", range(4))
def test_on_partitions_with_duplicates_and_the_fast_path_the_release_gives_the_same_screen_pops(seed: int) -> None:
    """At-least-once delivery, 5 partitions shuffled, repeat calls on the fast path (whose view drops the number at
    the tombstone, then learns Dave's): the same outcome as in order, a late call from Carol's time on Carol."""
    h = Harness(matcher_settings(default_region="FR"), partitions=5, seed=seed, duplicates=0.2,
                view=AssignmentView())
    h, carol, dave = carol_keeps_daves_number(h)
    release(h, carol)
    h.feed(call("CALL-2", datetime(2026, 12, 1, 13, tzinfo=UTC)))  # a repeat call: not Carol's any more
    assert contact_ids(h, carol) == ["CALL-1"]
    h.feed(identify("u-dave", "+33699887701", datetime(2026, 12, 2, tzinfo=UTC)), OBSERVED)
    h.feed(call("CALL-3", datetime(2026, 12, 3, tzinfo=UTC)))
    h.feed(call("LATE", datetime(2025, 5, 1, tzinfo=UTC)))  # Carol's line then (tester18 F5): on her history
    assert sorted(contact_ids(h, carol)) == ["CALL-1", "LATE"] and "CALL-3" in contact_ids(h, root(h, h.customer(*PHONE) or dave))
    assert h.customer(*PHONE) not in (None, carol)
    assert len([d for d in h.decisions(Refused) if d.lineage.rule == MANUAL_RELEASE]) == 1
    h.local.check_consistent()
