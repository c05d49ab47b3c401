"""The customer directory forgets identity's placements and contact moves past its record-time retention.

The reported kind: ``CustomerDirectory``'s per-handoff and per-contact maps (``Placements._placed``, ``_origin``,
``_opened``, ``_contact_moved``) only grew, one entry per handoff and per moved contact for the life of the worker. They are now
kept ``retention_ms`` of record time (the newest Kafka timestamp read on customer.contacts.v1, never the wall
clock), the window a replica restarted from offset 0 reads back anyway.
"""

from __future__ import annotations

from prometheus_client import REGISTRY

from bus.serde import Event
from processors.handoffs.placements import SWEEP_EVERY_MS
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_customers import H
from tests.processors.handoffs.test_customers_moved_contact import call, opened_during
from tests.processors.handoffs.test_customers_placement import JEAN_ACCOUNT, LANDLINE, Placed, moved

DAY_MS = 86_400_000
RETENTION_MS = 7 * DAY_MS


def world() -> Placed:
    placed = Placed()
    placed.directory.placements.retention_ms = RETENTION_MS
    return placed


def handoff(handoff_id: str, contact: str | None = None) -> Event:
    event = created(handoff_id, tier=None, identifiers=[LANDLINE, JEAN_ACCOUNT])
    return Event(event.schema, {**event.value, "origin_interaction_id": contact})


def sizes(placed: Placed) -> tuple[int, int, int, int]:
    d = placed.directory.placements
    return len(d._placed), len(d._origin), len(d._opened), len(d._contact_moved)  # noqa: SLF001


def pruned(name: str) -> float:
    return REGISTRY.get_sample_value("omnibus_handoff_directory_pruned_total",
                                     {"map": name, "reason": "expired"}) or 0.0


def test_the_reported_sample_placements_older_than_the_retention_leave_at_the_next_sweep() -> None:
    placed, before = world(), pruned("placements")
    placed.contact("cus_jean", handoff("h-old", "CALL-1"), at_ms=DAY_MS)
    placed.contact("cus_jean", handoff("h-mid", "CALL-2"), at_ms=5 * DAY_MS)
    assert sizes(placed) == (2, 2, 2, 0)
    placed.contact("cus_jean", handoff("h-new", "CALL-3"), at_ms=DAY_MS + RETENTION_MS + SWEEP_EVERY_MS)
    assert placed.directory.placed_on("h-old") is None and sizes(placed) == (2, 2, 2, 0)
    assert placed.directory.placed_on("h-mid") is not None and placed.directory.placed_on("h-new") is not None
    assert pruned("placements") == before + 1


def test_within_the_retention_nothing_leaves_and_the_wall_clock_never_prunes() -> None:
    placed = world()
    for n in range(20):
        placed.contact("cus_jean", handoff(f"h{n}", f"CALL-{n}"), at_ms=DAY_MS + n * SWEEP_EVERY_MS)
    assert sizes(placed)[0] == 20  # 19 hours of record time: no placement is 7 days older than the newest


def test_moves_of_contacts_without_a_held_handoff_leave_and_a_moved_handoff_keeps_its_move() -> None:
    placed, before = world(), pruned("contact_moves")
    placed.contact("cus_claire", handoff("h1", "CALL-9"), at_ms=DAY_MS)
    placed.contact("cus_jean", moved(call("CALL-9"), "moved-9"), moved_from="cus_claire", at_ms=3 * DAY_MS)
    placed.contact("cus_jean", moved(call("CALL-10"), "moved-10"), moved_from="cus_claire", at_ms=DAY_MS)
    assert sizes(placed) == (1, 1, 1, 2)
    placed.contact("cus_jean", handoff("h2"), at_ms=DAY_MS + RETENTION_MS + SWEEP_EVERY_MS)
    # h1's placement is old but its contact moved since: kept with the move, still on Jean
    assert placed.directory.placed_on("h1") == ("cus_jean", "moved-9") and sizes(placed) == (2, 1, 1, 1)
    assert pruned("contact_moves") == before + 1
    placed.contact("cus_jean", handoff("h3"), at_ms=3 * DAY_MS + RETENTION_MS + SWEEP_EVERY_MS)
    assert placed.directory.placed_on("h1") is None and sizes(placed) == (2, 0, 0, 0)


def test_a_late_placement_older_than_the_retention_still_places_its_handoff_then_leaves() -> None:
    placed = world()
    placed.contact("cus_jean", handoff("h-new"), at_ms=30 * DAY_MS)
    version = placed.directory.version
    placed.contact("cus_claire", handoff("h-late", "CALL-4"), at_ms=DAY_MS)  # a partition read 29 days late
    assert (placed.directory.placed_on("h-late") or ("",))[0] == "cus_claire" and placed.directory.version > version
    placed.contact("cus_jean", handoff("h-next"), at_ms=30 * DAY_MS + SWEEP_EVERY_MS)
    assert placed.directory.placed_on("h-late") is None and sizes(placed) == (2, 0, 0, 0)


def script() -> list[tuple[str, Event, str | None, int]]:
    records: list[tuple[str, Event, str | None, int]] = []
    for day in range(40):
        records.append(("cus_claire", handoff(f"h{day}", f"CALL-{day}"), None, day * DAY_MS))
        if day % 3 == 0:
            records.append(("cus_jean", moved(call(f"CALL-{day}"), f"moved-{day}"), "cus_claire", day * DAY_MS + 1))
    return records


def test_a_replica_reading_the_same_records_again_ends_with_the_same_maps() -> None:
    first, second, records = world(), world(), script()
    for placed in (first, second):
        for customer, event, moved_from, at_ms in records:
            placed.contact(customer, event, moved_from=moved_from, at_ms=at_ms)
    assert sizes(first) == sizes(second) and sizes(first)[0] <= 9
    p1, p2 = first.directory.placements, second.directory.placements
    assert (p1._placed, p1._origin, p1._opened, p1._contact_moved) == (  # noqa: SLF001
        p2._placed, p2._origin, p2._opened, p2._contact_moved)  # noqa: SLF001


async def test_a_handoff_whose_placement_left_keeps_the_customer_identity_placed_it_on() -> None:
    placed, event = world(), opened_during()
    placed.contact("cus_jean", event, at_ms=DAY_MS)
    await placed.send(event)
    await placed.tick(T0 + H)
    assert placed.state().customer_id == "cus_jean" and placed.state().customer_placed
    announced = len(placed.published("HandoffStatusChanged"))
    placed.contact("cus_jean", handoff("h2"), at_ms=DAY_MS + RETENTION_MS + SWEEP_EVERY_MS)
    assert placed.directory.placed_on("h1") is None
    await placed.tick(T0 + 2 * H)
    assert placed.state().customer_id == "cus_jean" and len(placed.published("HandoffStatusChanged")) == announced
