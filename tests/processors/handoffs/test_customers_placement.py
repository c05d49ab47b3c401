"""The handoff's customer is where identity placed it (tester F1, F3), not the owner of one of its identifiers.

Identity re-publishes every HandoffCreated on ``customer.contacts.v1`` under the customer it placed the handoff on,
having weighed all its identifiers; the directory feed keeps those placements (and CustomerMerged) and the tracker
follows them. The records go through the feed's own ``apply`` in the single-object framing, as read from Kafka.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from bus.topics import MOVED_FROM_HEADER
from processors.handoffs.customers import PLACEMENT_CAUSE
from processors.handoffs.directory_feed import UNREADABLE, DirectoryFeed
from schemas.catalog import default_catalog
from tests.processors.handoffs.factories import T0, accepted, created
from tests.processors.handoffs.test_customers import H, World, opened, replay
from tests.support.settings import isolated_settings

CATALOG = default_catalog()
LANDLINE = {"type": "PHONE", "value": "+33478000001"}  # Claire's and Jean's; identity gave it to Claire
HOME_EMAIL = {"type": "EMAIL", "value": "famille@example.org"}  # shared too, Claire's
JEAN_ACCOUNT = {"type": "ACCOUNT", "value": "C-100200"}
CLAIRE_ACCOUNT = {"type": "ACCOUNT", "value": "C-100300"}
LUC_MOBILE = {"type": "PHONE", "value": "+33611111111"}
LUC_ACCOUNT = {"type": "ACCOUNT", "value": "C-200117"}
SOPHIE_ACCOUNT = {"type": "ACCOUNT", "value": "C-200118"}  # one digit off Luc's


class Placed(World):
    """A ``World`` whose directory is also fed identity's ``customer.contacts.v1``."""

    def __init__(self) -> None:
        super().__init__()
        self.decoded = 0
        deserializer = SingleObjectDeserializer(CATALOG)

        def counting(data: bytes | None, ctx: SerdeContext) -> Event:
            self.decoded += 1
            return deserializer(data, ctx)

        self.feed = DirectoryFeed(isolated_settings("localhost:9"), self.directory, counting)
        self.offset = 0
        self.assign("cus_claire", LANDLINE, HOME_EMAIL, CLAIRE_ACCOUNT)
        self.assign("cus_jean", JEAN_ACCOUNT)
        self.assign("cus_luc", LUC_MOBILE, LUC_ACCOUNT)
        self.assign("cus_sophie", SOPHIE_ACCOUNT)
        self.business(opened("C-100200", "standard"), opened("C-100300", "standard"),
                      opened("C-200117", "premium"), opened("C-200118", "standard"))

    def contact(self, customer: str, event: Event, *, moved_from: str | None = None, at_ms: int = 0,
                raw: bytes | None = None) -> None:
        headers: Sequence[tuple[str, bytes]] = [(MOVED_FROM_HEADER, moved_from.encode())] if moved_from else []
        topic = self.feed.contacts_topic
        value = raw if raw is not None else SingleObjectSerializer(CATALOG)(event, SerdeContext(topic=topic))
        self.offset += 1
        self.feed.apply(topic, customer.encode(), value, 0, self.offset, headers, at_ms)

    def merged(self, merged: str, survivor: str) -> None:
        value = {"envelope": created("x").value["envelope"], "survivor_customer_id": survivor,
                 "merged_customer_id": merged, "moved_identifiers": [], "match_weight": None,
                 "lineage": {"triggering_event_id": "e-1", "channel": "WEB", "rule": "review-accepted"}}
        self.contact(merged, Event("omnibus.identity.CustomerMerged", value))

    def customers_announced(self) -> set[str | None]:
        return {o.event.value["customer_id"] for o in self.publisher.published if "customer_id" in o.event.value}

    def notification_keys(self) -> set[str]:
        return {o.key for o in self.published("CustomerNotification")}


def moved(event: Event, moved_id: str) -> Event:
    """``event`` as identity re-publishes it after an operator moved it (``Announcer._moved_contact``)."""
    return Event(event.schema, {**event.value, "envelope": {**event.value["envelope"], "event_id": moved_id}})


async def jeans_handoff_placed_after_creation() -> tuple[Placed, Event]:
    """F1's handoff, created before identity's placement on Jean is read and followed at the next tick."""
    world = Placed()
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    await world.send(handoff)
    world.contact("cus_jean", handoff)
    await world.tick(T0 + H)
    return world, handoff


async def test_f1_a_shared_landline_does_not_put_jeans_handoff_on_claire() -> None:
    world = Placed()
    handoff = created("h1", case_type="meter-dispute", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    world.contact("cus_jean", handoff)  # identity placed the call's handoff on Jean
    await world.send(handoff)
    await world.send(accepted("h1", T0 + H))
    await world.tick(T0 + 2 * H)
    assert world.state().customer_id == "cus_jean"
    assert world.customers_announced() == {"cus_jean"}  # every HandoffRouted, HandoffStatusChanged, notification
    assert world.notification_keys() == {"cus_jean"}


async def test_f3_a_mistyped_account_does_not_give_luc_sophies_tier_once_the_placement_arrives() -> None:
    world = Placed()
    handoff = created("h1", channel="BRANCH", tier=None, identifiers=[SOPHIE_ACCOUNT, LUC_MOBILE])
    await world.send(handoff)  # before identity's placement is read: the identifier fallback, Sophie
    assert (world.state().customer_id, world.state().service_tier) == ("cus_sophie", "standard")
    world.contact("cus_luc", handoff)
    await world.tick(T0 + H)
    state = world.state()
    assert (state.customer_id, state.service_tier) == ("cus_luc", "premium")
    assert LUC_MOBILE in state.addresses and all(a["value"] != SOPHIE_ACCOUNT["value"] for a in state.addresses)
    await world.send(accepted("h1", T0 + 2 * H))
    assert world.published("CustomerNotification")[-1].key == "cus_luc"


async def test_a_placement_read_before_the_handoff_sets_customer_and_tier_at_creation() -> None:
    world = Placed()
    handoff = created("h1", channel="BRANCH", tier=None, identifiers=[SOPHIE_ACCOUNT, LUC_MOBILE])
    world.contact("cus_luc", handoff)
    await world.send(handoff)
    assert (world.state().customer_id, world.state().service_tier) == ("cus_luc", "premium")
    assert world.customers_announced() == {"cus_luc"}


@pytest.mark.parametrize(("identifiers", "placed_on"), [
    ([HOME_EMAIL], "cus_jean"),  # only a shared e-mail
    ([LUC_MOBILE, SOPHIE_ACCOUNT], "cus_luc"),  # the right phone first, a mistyped account after it
    ([JEAN_ACCOUNT, LANDLINE], "cus_jean"),
])
async def test_the_placement_wins_whatever_the_identifiers(identifiers: list[dict], placed_on: str) -> None:
    for placement_first in (True, False):
        world = Placed()
        handoff = created("h1", tier=None, identifiers=identifiers)
        if placement_first:
            world.contact(placed_on, handoff)
        await world.send(handoff)
        world.contact(placed_on, handoff)
        await world.tick(T0 + H)
        assert world.state().customer_id == placed_on


async def test_a_placement_change_is_announced_as_identitys_placement() -> None:
    world, handoff = await jeans_handoff_placed_after_creation()
    change = world.published("HandoffStatusChanged")[-1].event.value
    assert (change["customer_id"], change["cause"]) == ("cus_jean", PLACEMENT_CAUSE)
    assert change["envelope"]["causation_id"] == handoff.value["envelope"]["event_id"]


async def test_the_placed_customer_follows_merges_and_their_chains() -> None:
    world = Placed()
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    world.contact("cus_jean", handoff)
    await world.send(handoff)
    world.merged("cus_jean", "cus_jean2")
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_jean2"
    world.merged("cus_jean2", "cus_jean3")
    world.merged("cus_jean3", "cus_jean2")  # a loop never hangs the lookup
    await world.tick(T0 + 2 * H)
    assert world.state().customer_id in {"cus_jean2", "cus_jean3"}


async def test_an_operators_move_after_creation_wins_over_the_original_placement() -> None:
    world = Placed()
    handoff = created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    world.contact("cus_claire", handoff, at_ms=1_000)  # identity first placed it on Claire
    await world.send(handoff)
    world.contact("cus_jean", moved(handoff, "moved-1"), moved_from="cus_claire", at_ms=2_000)
    await world.tick(T0 + H)
    assert world.state().customer_id == "cus_jean"
    world.contact("cus_claire", handoff, at_ms=3_000)  # the original placement again (identity replayed)
    world.contact("cus_claire", moved(handoff, "moved-0"), moved_from="cus_jean", at_ms=1_500)  # an older move
    await world.tick(T0 + 2 * H)
    assert world.state().customer_id == "cus_jean"
    world.contact("cus_luc", moved(handoff, "moved-2"), moved_from="cus_jean", at_ms=4_000)  # a later move
    await world.tick(T0 + 3 * H)
    assert world.state().customer_id == "cus_luc"


async def test_without_a_placement_the_first_assigned_identifier_decides_as_before() -> None:
    world = Placed()
    world.contact("cus_jean", created("h2"))  # another handoff's placement
    await world.send(created("h1", tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT]))
    assert world.state().customer_id == "cus_claire"


async def test_the_feed_decodes_one_record_per_schema_it_does_not_keep() -> None:
    world = Placed()
    for n in range(5):
        world.contact("cus_jean", opened(f"C-9{n}", "standard"))  # a business record placed on Jean
    assert world.decoded == 1
    handoffs = [created(f"h{n}") for n in range(3)]
    for handoff in handoffs:
        world.contact("cus_jean", handoff)
    assert world.decoded == 4  # every HandoffCreated is read
    assert world.directory.placed_on("h2") == ("cus_jean", handoffs[2].value["envelope"]["event_id"])


def test_an_unreadable_contact_record_is_counted_and_skipped() -> None:
    world = Placed()
    before = UNREADABLE.labels(topic=world.feed.contacts_topic)._value.get()
    world.contact("cus_jean", created("h1"), raw=b"\xc3\x01not-a-fingerprint")
    world.feed.apply(world.feed.contacts_topic, None, b"x")
    assert UNREADABLE.labels(topic=world.feed.contacts_topic)._value.get() == before + 2
    world.contact("cus_jean", created("h1"))
    assert world.directory.placed_on("h1") is not None


async def test_a_replay_of_the_events_topic_rebuilds_a_placement_change() -> None:
    """The tracker's own announcements carry the placed customer (and its tier), as ``omnibus replay`` reads them.
    (Created with an identifier nobody holds yet; a customer known at creation: ``tests/processors/replay``.)"""
    world = Placed()
    handoff = created("h1", channel="BRANCH", tier=None, identifiers=[{"type": "PHONE", "value": "+33699999999"}])
    await world.send(handoff)
    world.contact("cus_luc", handoff)
    await world.tick(T0 + H)
    world.merged("cus_luc", "cus_luc2")
    await world.tick(T0 + 2 * H)
    replayed = await replay(world, T0 + 2 * H)
    keep = ("customer_id", "customer_placed", "service_tier", "tier_source", "deadline_us", "lineage")
    assert {k: replayed["h1"][k] for k in keep} == {k: world.store["h1"][k] for k in keep}
    assert replayed["h1"]["customer_id"] == "cus_luc2"


async def test_a_placed_customer_outlives_its_placement_on_the_contacts_topic() -> None:
    """customer.contacts.v1 keeps 7 days: a worker started later must not hand Jean's handoff back to Claire."""
    world, _ = await jeans_handoff_placed_after_creation()
    assert world.state().customer_placed
    restarted = Placed()  # a fresh replica: identifiers and tiers, the placement gone with the topic's retention
    restarted.store.update(world.store)
    await restarted.tick(T0 + 200 * H)
    assert restarted.state().customer_id == "cus_jean"
    restarted.merged("cus_jean", "cus_jean2")
    await restarted.tick(T0 + 201 * H)
    assert restarted.state().customer_id == "cus_jean2"
