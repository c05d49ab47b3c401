"""What waits for identity leaves after the event-time retention (``processors/offers/retention.py``).

The reported kind: an offer answer whose contact identity never places, or whose identifiers it never announces,
waited in ``pending`` for ever, and every contact's placement stayed in the directory for ever. The clock is the
newest ``received_at`` of the offer events and contacts handled, never the wall clock.
"""

from __future__ import annotations

from datetime import timedelta

from bus.serde import Event
from processors.offers.answers import PRESENTED, RESPONDED
from processors.offers.config import OffersSettings
from processors.offers.outputs import Batch
from processors.offers.retention import CLOCK_KEY
from processors.offers.store import Stores
from tests.processors.offers.factories import ident
from tests.processors.offers.test_engine_answer_placement import (
    LANDLINE,
    MARIE,
    MARIE_ACCOUNT,
    OFFER,
    contact,
    household,
    offer_event,
    placed,
    status,
)
from tests.processors.offers.world import SETTINGS, World

DAY = timedelta(days=1)
RETENTION_DAYS = 30
RESPONSES = "omnibus.marketing.responses.v1"


def world_with_retention() -> World:
    world = household(MARIE_ACCOUNT)
    world.engine.settings = OffersSettings(**{**SETTINGS.model_dump(), "retention_s": RETENTION_DAYS * 86400})
    return world


def feed_from(world: World, event: Event, offset: int) -> Batch:
    """``event`` as read from partition 0 of the responses topic at ``offset``."""
    stores, batch = Stores(*world.tables), Batch()
    world.engine.handle(stores, event, None, batch, origin=[RESPONSES, 0, offset, None])
    stores.commit()
    return batch


def later(world: World, days: float) -> None:
    world.now += timedelta(days=days)


def tick(world: World) -> Batch:
    """A call of Marie's recorded now: its placement moves the clock (and sweeps when due)."""
    return placed(world, contact(world, "CALL_CENTER", "CALL", MARIE_ACCOUNT), MARIE)


def pending(world: World) -> dict[str, object]:
    return {k: v for k, v in world.tables[3].items() if k != CLOCK_KEY}


def placements(world: World) -> set[str]:
    return {k for k in world.tables[1] if k.startswith("PLACED:")}


def test_the_reported_sample_an_answer_whose_contact_is_never_placed_is_dead_lettered_after_the_retention() -> None:
    world = world_with_retention()
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)  # identity never places it
    decline = offer_event(world, visit, LANDLINE)
    parked = feed_from(world, decline, 41)
    assert ("unresolved_parked", ()) in parked.counts and f"PLACED:{visit.value['envelope']['correlation_id']}" in (
        pending(world))
    later(world, RETENTION_DAYS - 1)
    assert not tick(world).expired and pending(world)  # within the retention: still waiting
    later(world, 2)
    batch = tick(world)  # the sweep runs on the processing path
    assert not pending(world)
    [dead] = batch.expired
    assert dead.event.value["envelope"]["event_id"] == decline.value["envelope"]["event_id"]
    assert dead.origin == [RESPONSES, 0, 41, None]
    assert dead.reason.startswith("OfferResponded waited 31 days for identity to place the contact")
    assert LANDLINE.partition(":")[2] not in dead.reason
    assert ("pruned", ("pending", "expired")) in batch.counts


def test_an_answer_whose_identifiers_identity_never_announces_is_dead_lettered_once_whatever_its_keys() -> None:
    world = world_with_retention()
    world.now += DAY
    answer = Event(RESPONDED, {**offer_event(world, contact(world, "WEB", "WEB_EVENT"), "EMAIL:ghost@x.org").value})
    answer.value["envelope"]["correlation_id"] = answer.value["envelope"]["event_id"]  # no contact of its own
    answer.value["customer_identifiers"] = [ident("EMAIL:ghost@x.org"), ident("PHONE:+33600000999")]
    feed_from(world, answer, 7)
    assert set(pending(world)) == {"EMAIL:ghost@x.org", "PHONE:+33600000999"}
    later(world, RETENTION_DAYS + 1)
    batch = tick(world)
    assert not pending(world)
    assert [d.reason.split(" waited")[0] for d in batch.expired] == ["OfferResponded"]
    assert "announce a customer of its identifiers" in batch.expired[0].reason
    assert batch.counts.count(("pruned", ("pending", "expired"))) == 2


def test_a_placement_is_dropped_from_the_directory_after_the_retention_and_kept_within_it() -> None:
    world = world_with_retention()
    tick(world)
    [old] = placements(world)
    later(world, RETENTION_DAYS - 1)
    tick(world)
    assert old in placements(world)
    within = placements(world) - {old}
    later(world, 2)
    batch = tick(world)
    assert old not in placements(world) and within <= placements(world) and len(placements(world)) == 2
    assert batch.counts.count(("pruned", ("directory", "expired"))) == 1


def test_a_placed_answer_in_time_is_applied_and_nothing_is_dead_lettered() -> None:
    world = world_with_retention()
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    feed_from(world, offer_event(world, visit, LANDLINE), 1)
    later(world, RETENTION_DAYS - 1)
    placed(world, visit, MARIE)  # late, yet within the retention
    assert status(world, MARIE) == "DECLINED" and not pending(world)
    later(world, 2)
    assert not tick(world).expired


def test_a_late_answer_older_than_the_retention_is_dead_lettered_at_once_never_parked() -> None:
    world = world_with_retention()
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    late = offer_event(world, visit, LANDLINE)
    later(world, RETENTION_DAYS + 5)
    tick(world)
    batch = feed_from(world, late, 3)
    assert not pending(world) and not batch.instructions
    assert [d.reason.split(" waited ")[1][:7] for d in batch.expired] == ["35 days"]
    assert ("pruned", ("pending", "late")) in batch.counts


def test_a_late_contact_older_than_the_retention_releases_its_waiting_answer_but_is_not_kept() -> None:
    world = world_with_retention()
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    later(world, RETENTION_DAYS + 5)
    tick(world)
    answer = offer_event(world, visit, LANDLINE)  # received now, for a contact received 35 days ago
    feed_from(world, answer, 4)
    batch = placed(world, visit, MARIE)
    assert status(world, MARIE) == "DECLINED" and not pending(world)
    assert f"PLACED:{visit.value['envelope']['correlation_id']}" not in placements(world)
    assert ("pruned", ("directory", "late")) in batch.counts


def test_the_wall_clock_never_prunes_only_event_time() -> None:
    world = world_with_retention()
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    feed_from(world, offer_event(world, visit, LANDLINE), 5)
    world.engine.clock = lambda: world.now + timedelta(days=400)  # a worker restarted a year later, no new input
    feed_from(world, offer_event(world, visit, LANDLINE, schema=PRESENTED), 6)
    assert len(next(iter(pending(world).values()))) == 2  # type: ignore[arg-type]


def run(events: list[tuple[Event, int | None]]) -> list[dict[str, object]]:
    world = world_with_retention()
    for event, placed_offset in events:
        if placed_offset is None:
            placed(world, event, MARIE)
        else:
            feed_from(world, event, placed_offset)
    return world.tables


def test_a_replay_of_the_same_input_gives_the_same_state_and_the_same_dead_letters() -> None:
    world = world_with_retention()
    script: list[tuple[Event, int | None]] = []
    for day in range(0, 90, 3):
        world.now += timedelta(days=3)
        visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
        script.append((offer_event(world, visit, LANDLINE), day))
        if day % 2:
            script.append((visit, None))
    first, second = run(script), run(script)
    assert first == second
    assert first[1] and all(k.startswith("PLACED:") for k in pending_keys(first))
    again = world_with_retention()
    for event, offset in script + script:  # the whole input redelivered after a crash
        placed(again, event, MARIE) if offset is None else feed_from(again, event, offset)
    assert again.tables[2] == first[2] and pending_keys(again.tables) == pending_keys(first)


def pending_keys(tables: list[dict[str, object]]) -> set[str]:
    return {k for k in tables[3] if k != CLOCK_KEY}


def test_an_answer_waiting_under_an_identifier_already_applied_elsewhere_is_dropped_without_a_dead_letter() -> None:
    world = world_with_retention()
    answer = offer_event(world, contact(world, "WEB", "WEB_EVENT"), "EMAIL:new@x.org")
    answer.value["envelope"]["correlation_id"] = answer.value["envelope"]["event_id"]
    answer.value["customer_identifiers"] = [ident("EMAIL:new@x.org"), ident("PHONE:+33600000998")]
    feed_from(world, answer, 9)
    world.created(MARIE, "EMAIL:new@x.org")  # one of its identifiers announced: applied; the other copy waits
    assert status(world, MARIE) == "DECLINED" and set(pending(world)) == {"PHONE:+33600000998"}
    later(world, RETENTION_DAYS + 1)
    batch = tick(world)
    assert not batch.expired and not pending(world) and ("pruned", ("pending", "applied")) in batch.counts
    assert OFFER in world.customer(MARIE)["offers"]


def test_an_event_pushed_out_of_a_full_wait_list_is_dead_lettered_not_dropped_silently() -> None:
    world = world_with_retention()
    world.engine.settings = OffersSettings(**{**world.engine.settings.model_dump(), "pending_per_identifier": 2})
    visit = contact(world, "BRANCH", "COUNTER_TRANSACTION", LANDLINE)
    answers = [offer_event(world, visit, LANDLINE, schema=PRESENTED) for _ in range(3)]
    batches = [feed_from(world, answer, offset) for offset, answer in enumerate(answers)]
    [dead] = batches[2].expired
    assert dead.event.value["envelope"]["event_id"] == answers[0].value["envelope"]["event_id"]
    assert dead.origin == [RESPONSES, 0, 0, None] and "full wait list" in dead.reason
    assert ("unresolved_dropped", ()) in batches[2].counts
