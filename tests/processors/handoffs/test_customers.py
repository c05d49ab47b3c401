"""Handoffs that know the customer (#15): tier resolution, re-timing, keying and re-keying on merge and split.

The tracker runs with an in-memory table and a ``CustomerDirectory`` fed by hand the way the directory
feed feeds it from ``customer.identifiers.v1`` and ``handoff.tier-facts.v1``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bus.serde import Event
from bus.clock import ManualClock, from_micros, to_micros
from processors.handoffs.config import HandoffPolicy, SlaPolicy, TierPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.tier_facts import tier_fact, tier_facts
from processors.handoffs.outputs import Emitter
from processors.handoffs.state import DeadlineRule, TierSource
from processors.handoffs.tracker import Destinations, HandoffTracker
from processors.replay import Replayed
from processors.replay.handoffs import rebuild_states
from tests.processors.handoffs.factories import (
    SYSTEM, T0, FakeDeadLetters, FakePublisher, accepted, created, envelope, record, resolved,
)

H = timedelta(hours=1)
EMAIL = {"type": "EMAIL", "value": "ana@example.org"}
USER = {"type": "USER_ID", "value": "u-ana"}
POLICY = HandoffPolicy(
    sla=(SlaPolicy(service_tiers=("premium",), resolve_within_hours=4),
         SlaPolicy(service_tiers=("gold",), resolve_within_hours=2)),
    tiers=TierPolicy(products={"CARE-PLUS": "premium", "CARE-GOLD": "gold"}),
)


def business(kind: str, account: str, at=T0 - 24 * H, **fields) -> Event:
    value = {"envelope": envelope(at, source="billing-db", channel="BUSINESS_SYSTEM"), "account_number": account,
             "customer_identifiers": [{"type": "ACCOUNT", "value": account}], **fields}
    return Event("omnibus.business." + kind, value)


def opened(account: str, tier: str | None, at=T0 - 24 * H) -> Event:
    return business("AccountOpened", account, at, account_type="residential", service_tier=tier)


def subscribed(account: str, subscription: str, product: str, at=T0 - 24 * H, cancelled: bool = False) -> Event:
    kind = "ProductCancelled" if cancelled else "ProductSubscribed"
    return business(kind, account, at, subscription_id=subscription, product_code=product)


class World:
    """A tracker, its directory and what it published."""

    def __init__(self, policy: HandoffPolicy = POLICY) -> None:
        self.directory = CustomerDirectory(ready=True)
        self.clock = ManualClock(T0)
        self.publisher = FakePublisher()
        self.store: dict = {}
        self.topic: list[Event] = []  # handoff.events.v1 as it would read: what was sent and what the tracker emitted
        self.tracker = HandoffTracker(policy, Emitter(SYSTEM, self.clock), self.store, self.publisher,
                                      FakeDeadLetters(), Destinations("events", "notifications"),
                                      directory=self.directory)

    def assign(self, customer: str, *identifiers: dict) -> None:
        for identifier in identifiers:
            self.directory.assign(f"{identifier['type']}:{identifier['value']}", customer)

    def business(self, *events: Event) -> None:
        """The facts the tracker digests from each business event (``tier_facts``), recorded as the feed does."""
        for event in events:
            facts = tier_facts(event)
            assert facts
            for fact in facts:
                self.directory.record(fact)

    async def send(self, event: Event) -> str:
        self.topic.append(event)
        start = len(self.publisher.published)
        result = await self.tracker.handle(event, record())
        self._log_outputs(start)
        return result

    async def tick(self, at) -> None:
        start = len(self.publisher.published)
        await self.tracker.tick(0, to_micros(at))
        self._log_outputs(start)

    def _log_outputs(self, start: int) -> None:
        self.topic.extend(o.event for o in self.publisher.published[start:] if o.topic == "events")

    def state(self, handoff_id: str = "h1"):
        from processors.handoffs.state import HandoffState

        return HandoffState.from_dict(self.store[handoff_id])

    def published(self, name: str) -> list:
        return [o for o in self.publisher.published if o.event.schema.endswith("." + name)]


def topic_records(world: World) -> list[Replayed]:
    """``world.topic`` as ``omnibus replay`` reads it: one partition, in offset order."""
    return [Replayed("events", 0, offset, event.value["handoff_id"].encode(), event, b"")
            for offset, event in enumerate(world.topic)]


async def replay(world: World, until, policy: HandoffPolicy = POLICY) -> dict:
    """The table ``omnibus replay`` (and ``omnibus verify``) rebuilds from ``world.topic`` without a directory,
    ticked up to ``until``."""
    states, _ = await rebuild_states(topic_records(world), policy, SYSTEM, to_micros(until))
    return states


async def test_a_known_customer_gets_the_tier_billing_published() -> None:
    world = World()
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL, USER)
    world.business(opened("A-1", "premium"))
    await world.send(created("h1", channel="WEB", tier=None, identifiers=[EMAIL, USER]))
    state = world.state()
    assert (state.customer_id, state.service_tier, state.tier_source) == ("cus_ana", "premium", TierSource.CUSTOMER)
    assert from_micros(state.deadline_us) == T0 + 4 * H
    lineage = world.published("HandoffStatusChanged")[0].event.value["deadline_lineage"]
    assert lineage["rule"] == "sla" and lineage["resolve_within_hours"] == 4 and lineage["customer_id"] == "cus_ana"
    assert lineage["tier_event_id"] == state.tier_event_id and lineage["tier_source"] == "CUSTOMER"
    (note,) = world.published("CustomerNotification")  # before identity's placement: no guessed customer (F20)
    assert note.key == "h1" and note.event.value["customer_id"] is None
    assert note.event.value["channel"] == "WEB" and note.event.value["address"] == USER  # the identifier seen there
    assert all(o.event.value["customer_id"] == "cus_ana" for o in world.publisher.published if o is not note)


async def test_a_guessed_tier_gives_way_to_the_customers_unless_the_channel_is_trusted() -> None:
    world = World()
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "standard"))
    await world.send(created("h1", tier="gold", identifiers=[EMAIL]))
    assert (world.state().service_tier, world.state().tier_source) == ("standard", TierSource.CUSTOMER)
    trusting = World(HandoffPolicy(tiers=TierPolicy(trusted_channels=("CALL_CENTER",))))
    trusting.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    trusting.business(opened("A-1", "standard"))
    await trusting.send(created("h1", tier="gold", identifiers=[EMAIL]))
    assert (trusting.state().service_tier, trusting.state().tier_source) == ("gold", TierSource.TRUSTED_CHANNEL)


async def test_an_unknown_customer_starts_on_the_default_tier_and_is_retimed_once_when_resolved() -> None:
    world = World()
    await world.send(created("h1", channel="WEB", tier=None, identifiers=[EMAIL]))
    state = world.state()
    assert (state.customer_id, state.service_tier, state.tier_source) == (None, "standard", TierSource.DEFAULT)
    assert from_micros(state.deadline_us) == T0 + 20 * H
    assert world.published("CustomerNotification")[0].key == "h1"  # no customer yet: keyed by the handoff
    await world.tick(T0 + H)
    assert world.state().version == state.version  # nothing known yet, nothing changes
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "premium"))
    await world.tick(T0 + H)
    state = world.state()
    assert (state.customer_id, state.service_tier, state.tier_source) == ("cus_ana", "premium", TierSource.CUSTOMER)
    # One of 20 standard hours was used; 3 of the 4 premium hours are left: the premium deadline, T0 + 4 h.
    assert from_micros(state.deadline_us) == T0 + 4 * H
    change = world.published("HandoffStatusChanged")[-1].event.value
    assert change["cause"] == "omnibus.business.AccountOpened" and change["customer_id"] == "cus_ana"
    assert change["envelope"]["causation_id"] == state.tier_event_id
    lineage = change["deadline_lineage"]
    assert lineage["rule"] == DeadlineRule.CUSTOMER_RESOLVED and lineage["previous_deadline_at"] == T0 + 20 * H
    warnings = sorted(t.due_us for t in state.timers if t.kind.value == "warning")
    assert [from_micros(w) for w in warnings] == [T0 + 2 * H, T0 + 3 * H]  # 50 % and 75 % of 4 hours
    await world.tick(T0 + 1.5 * H)
    causes = [o.event.value["cause"] for o in world.published("HandoffStatusChanged")]
    assert causes.count("omnibus.business.AccountOpened") == 1  # re-timed once
    await world.send(accepted("h1", T0 + 2 * H))
    assert world.published("CustomerNotification")[-1].key == "cus_ana"


async def test_a_late_resolution_never_breaches_a_case_retroactively() -> None:
    world = World()
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "premium"))
    await world.tick(T0 + 6 * H)  # 6 hours used: more than premium's 4
    retimed = world.published("HandoffStatusChanged")[-2].event.value  # then the breach escalated it
    assert retimed["service_tier"] == "premium" and retimed["deadline_at"] == T0 + 6 * H
    breach = world.published("HandoffBreached")
    assert [b.event.value["deadline_at"] for b in breach] == [T0 + 6 * H]
    assert world.state().tier == 1


async def test_several_products_the_highest_active_tier_wins() -> None:
    world = World()
    account, other = {"type": "ACCOUNT", "value": "A-1"}, {"type": "ACCOUNT", "value": "A-2"}
    world.assign("cus_ana", account, other, EMAIL)
    world.business(
        opened("A-1", "standard"), subscribed("A-1", "s-1", "CARE-PLUS"), subscribed("A-1", "s-9", "TV-BASIC"),
        opened("A-2", "gold", at=T0 - 30 * H), business("AccountClosed", "A-2", at=T0 - 26 * H),
        subscribed("A-2", "s-2", "CARE-GOLD", at=T0 - 29 * H), subscribed("A-2", "s-2", "CARE-GOLD", cancelled=True),
    )
    tier = world.directory.tier_of("cus_ana", POLICY.tiers)
    assert tier is not None and (tier.tier, tier.schema) == ("premium", "omnibus.business.ProductSubscribed")
    # An older fact arriving late changes nothing.
    world.business(subscribed("A-2", "s-2", "CARE-GOLD", at=T0 - 28 * H))
    assert world.directory.tier_of("cus_ana", POLICY.tiers).tier == "premium"
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    assert world.state().service_tier == "premium" and from_micros(world.state().deadline_us) == T0 + 4 * H


async def test_an_upgrade_mid_case_retimes_forward_only_and_a_downgrade_changes_nothing() -> None:
    world = World()
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "standard"))
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    assert from_micros(world.state().deadline_us) == T0 + 20 * H
    world.business(subscribed("A-1", "s-1", "CARE-PLUS", at=T0 + 2 * H))
    await world.tick(T0 + 2 * H)
    state = world.state()
    assert state.service_tier == "premium" and from_micros(state.deadline_us) == T0 + 4 * H  # 2 h used, 2 h left
    assert state.lineage.rule is DeadlineRule.TIER_UPGRADE
    world.business(subscribed("A-1", "s-1", "CARE-PLUS", at=T0 + 3 * H, cancelled=True))
    await world.tick(T0 + 3 * H)
    assert world.state().service_tier == "premium" and world.state().deadline_us == state.deadline_us


async def test_an_upgrade_is_ignored_when_the_rule_is_keep() -> None:
    policy = POLICY.model_copy(update={"tiers": TierPolicy(products={"CARE-PLUS": "premium"}, mid_case="keep")})
    world = World(policy)
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "standard"))
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    world.business(subscribed("A-1", "s-1", "CARE-PLUS", at=T0 + 2 * H))
    await world.tick(T0 + 2 * H)
    assert world.state().service_tier == "standard" and from_micros(world.state().deadline_us) == T0 + 20 * H


async def test_notifications_follow_the_customer_through_a_merge_and_a_split() -> None:
    world = World()
    world.assign("cus_b", EMAIL)
    await world.send(created("h1", channel="WEB", tier=None, identifiers=[EMAIL]))
    assert world.published("CustomerNotification")[-1].key == "h1"  # RECEIVED names no unplaced customer (F20)
    world.assign("cus_a", EMAIL)  # identity merged cus_b into cus_a: the e-mail now belongs to cus_a
    await world.tick(T0 + H)
    change = world.published("HandoffStatusChanged")[-1].event.value
    assert (change["customer_id"], change["cause"]) == ("cus_a", "omnibus.identity.IdentifierAssignment")
    await world.send(accepted("h1", T0 + 2 * H))
    assert world.published("CustomerNotification")[-1].key == "cus_a"
    world.assign("cus_c", EMAIL)  # a split moved the e-mail to a new customer
    await world.tick(T0 + 3 * H)
    assert world.state().customer_id == "cus_c"
    await world.send(resolved("h1", T0 + 4 * H))
    assert world.published("CustomerNotification")[-1].key == "cus_c"
    world.assign("cus_d", EMAIL)  # a resolved case is no longer followed
    await world.tick(T0 + 5 * H)
    assert world.state().customer_id == "cus_c"


async def test_a_directory_not_caught_up_yet_is_not_trusted() -> None:
    world = World()
    world.directory.ready = False
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "premium"))
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    assert world.state().customer_id is None and world.state().service_tier == "standard"
    await world.tick(T0 + H)
    assert world.state().customer_id is None
    world.directory.ready = True
    await world.tick(T0 + H)  # the first tick after catching up checks every open handoff of the partition
    assert world.state().customer_id == "cus_ana" and world.state().service_tier == "premium"


async def test_after_a_rebalance_the_index_is_rebuilt_from_the_table() -> None:
    world = World()
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    world.tracker.customer_index.invalidate()
    world.assign("cus_ana", EMAIL)
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_ana"


@pytest.mark.parametrize("kind", ["BillIssued", "OrderStatusChanged"])
def test_business_events_without_tiers_state_no_fact(kind: str) -> None:
    assert tier_fact(Event("omnibus.business." + kind, {"envelope": envelope(T0), "account_number": "A"})) is None


def test_tier_facts_survive_their_topic_codec() -> None:
    fact = tier_fact(opened("A-1", "premium"))
    assert fact is not None and type(fact).from_json(fact.to_json()) == fact
    assert fact.key == "ACCOUNT:A-1" and fact.active and fact.tier == "premium"
    assert uuid.UUID(fact.event_id)


async def test_a_new_address_of_the_customer_is_kept_without_an_announcement() -> None:
    world = World()
    world.assign("cus_ana", EMAIL)
    await world.send(created("h1", channel="BRANCH", tier=None, identifiers=[EMAIL]))
    published = len(world.publisher.published)
    world.assign("cus_ana", {"type": "PHONE", "value": "+33611111111"})  # identity links a phone to her
    await world.tick(T0 + 0.1 * H)
    assert len(world.publisher.published) == published
    assert {"type": "PHONE", "value": "+33611111111"} in world.state().addresses


async def test_a_full_recheck_spreads_over_ticks() -> None:
    world = World()
    world.directory.ready = False
    world.tracker.batch_size = 2
    for n in range(5):
        await world.send(created(f"h{n}", tier=None, identifiers=[EMAIL]))
    world.assign("cus_ana", EMAIL)
    world.directory.ready = True
    changed = [await world.tracker.follow_customers(0, to_micros(T0 + H)) for _ in range(4)]
    assert changed == [2, 2, 1, 0]
    assert all(world.state(f"h{n}").customer_id == "cus_ana" for n in range(5))


async def test_what_a_change_concerns_goes_before_a_full_recheck() -> None:
    world = World()
    world.directory.ready = False
    world.tracker.batch_size = 2
    for n in range(6):
        await world.send(created(f"h{n}", tier=None, identifiers=[EMAIL if n < 5 else USER]))
    world.directory.ready = True
    assert await world.tracker.follow_customers(0, to_micros(T0 + H)) == 0  # the backlog: h0, h1 checked
    world.assign("cus_ana", USER)  # concerns h5 only
    assert await world.tracker.follow_customers(0, to_micros(T0 + H)) == 1
    assert world.state("h5").customer_id == "cus_ana"


async def test_a_replay_of_the_events_topic_rebuilds_the_customer_updates() -> None:
    """``omnibus replay`` rebuilds the state from handoff.events.v1 without a directory: the tracker's own
    announcements carry what the directory said."""
    world = World()
    await world.send(created("h1", tier=None, identifiers=[EMAIL]))
    world.assign("cus_ana", {"type": "ACCOUNT", "value": "A-1"}, EMAIL)
    world.business(opened("A-1", "standard"))
    await world.tick(T0 + H)
    world.business(subscribed("A-1", "s-1", "CARE-PLUS", at=T0 + 2 * H))
    await world.tick(T0 + 2 * H)
    await world.send(accepted("h1", T0 + 3 * H))
    await world.tick(T0 + 5 * H)
    replayed = await replay(world, T0 + 5 * H)
    keep = ("customer_id", "service_tier", "tier_source", "deadline_us", "tier", "fired", "status", "lineage")
    assert {k: replayed["h1"][k] for k in keep} == {k: world.store["h1"][k] for k in keep}
    assert world.store["h1"]["lineage"]["rule"] == "escalation"  # premium's 4 h ran out at +4 h
