"""The order of ticks and input records: a tick scans only once the inputs published before it were read."""

from bus.tick_gate import MAX_PENDING, Outcome, TickGate
from bus.ticks import Tick

EVENTS, MERGES = "omnibus.handoff.events.v1", "omnibus.kpi.merges.v1"
S = 1_000_000  # µs


def test_a_tick_whose_inputs_were_read_scans_at_once() -> None:
    gate = TickGate(max_defer_s=300)
    gate.read(EVENTS, 0, 4)
    admission = gate.admit(0, Tick(10 * S, {EVENTS: 5}))
    assert (admission.scan_at_us, admission.outcome) == (10 * S, Outcome.SCANNED)


def test_a_tick_without_ends_scans_at_once() -> None:
    """Ticks of an older worker (no ``ends``) and the replay's own ticks wait for nothing, as before."""
    assert TickGate(max_defer_s=300).admit(3, Tick(7 * S)).scan_at_us == 7 * S


def test_a_tick_ahead_of_unread_inputs_waits_for_the_record_that_completes_it() -> None:
    gate = TickGate(max_defer_s=300)
    gate.read(EVENTS, 0, 0)
    admission = gate.admit(0, Tick(10 * S, {EVENTS: 3}))  # offsets 1 and 2 were published before the tick
    assert (admission.scan_at_us, admission.outcome) == (None, Outcome.DEFERRED)
    assert gate.unread(0, {EVENTS: 3}) == 2 and gate.deferred(0) == 1
    assert gate.read(EVENTS, 0, 1) is None
    assert gate.read(EVENTS, 1, 2) is None  # another partition's record completes nothing here
    assert gate.read(EVENTS, 0, 2) == 10 * S  # the scan runs now, at the tick's instant
    assert gate.deferred(0) == 0 and gate.read(EVENTS, 0, 3) is None


def test_deferred_ticks_scan_in_order_each_when_its_inputs_were_read() -> None:
    gate = TickGate(max_defer_s=300)
    assert gate.admit(0, Tick(10 * S, {EVENTS: 2})).scan_at_us is None
    assert gate.admit(0, Tick(15 * S, {EVENTS: 4})).scan_at_us is None
    assert gate.read(EVENTS, 0, 0) is None
    assert gate.read(EVENTS, 0, 1) == 10 * S  # not 15 s: offsets 2 and 3 may cancel what falls due by then
    assert gate.read(EVENTS, 0, 3) == 15 * S


def test_every_input_topic_of_the_partition_counts() -> None:
    gate = TickGate(max_defer_s=300)
    gate.read(EVENTS, 0, 9)
    assert gate.admit(0, Tick(10 * S, {EVENTS: 10, MERGES: 1})).scan_at_us is None
    assert gate.read(MERGES, 0, 0) == 10 * S


def test_the_position_before_any_record_is_the_committed_offset() -> None:
    committed = {(EVENTS, 0): 5}
    gate = TickGate(max_defer_s=300, committed=lambda topic, partition: committed.get((topic, partition)))
    assert gate.admit(0, Tick(10 * S, {EVENTS: 5})).outcome is Outcome.SCANNED
    assert gate.admit(1, Tick(10 * S, {EVENTS: 5})).outcome is Outcome.DEFERRED  # never committed: from offset 0


def test_a_reset_forgets_positions_and_deferred_ticks() -> None:
    """After a rebalance another worker may have read on: the committed offset says where reading resumes."""
    gate = TickGate(max_defer_s=300, committed=lambda topic, partition: 8)
    gate.read(EVENTS, 0, 2)
    assert gate.admit(0, Tick(10 * S, {EVENTS: 8})).outcome is Outcome.DEFERRED
    gate.reset()
    assert gate.deferred(0) == 0 and gate.position(EVENTS, 0) == 8
    assert gate.admit(0, Tick(11 * S, {EVENTS: 8})).outcome is Outcome.SCANNED


def test_a_scan_is_deferred_at_most_max_defer_s() -> None:
    """A partition that never catches up (continuous traffic, or an end offset no record reaches: a
    transaction marker) still scans: at the latest tick's instant once the oldest waited ``max_defer_s``."""
    gate = TickGate(max_defer_s=60)
    for n in range(12):  # every 5 s, with new records published each time
        assert gate.admit(0, Tick(n * 5 * S, {EVENTS: 10 + n})).outcome is Outcome.DEFERRED
    forced = gate.admit(0, Tick(60 * S, {EVENTS: 30}))
    assert (forced.scan_at_us, forced.outcome) == (60 * S, Outcome.FORCED)
    assert gate.deferred(0) == 0


def test_ticks_waiting_for_the_same_offsets_still_count_from_the_first() -> None:
    """Ticks with the same ends merge into one deferred scan, which keeps the first tick's age: a quiet
    partition whose end no record reaches is not deferred for ever."""
    gate = TickGate(max_defer_s=60)
    for n in range(12):
        assert gate.admit(0, Tick(n * 5 * S, {EVENTS: 3})).outcome is Outcome.DEFERRED
    assert gate.deferred(0) == 1
    assert gate.admit(0, Tick(60 * S, {EVENTS: 3})).outcome is Outcome.FORCED


def test_deferred_ticks_are_bounded_per_partition() -> None:
    gate = TickGate(max_defer_s=10**9)
    for n in range(MAX_PENDING + 10):
        gate.admit(0, Tick(n, {EVENTS: n + 1}))
    assert gate.deferred(0) == MAX_PENDING
    assert gate.admit(0, Tick(10**9 * S, {EVENTS: 10**6})).outcome is Outcome.FORCED  # the first tick's age is kept
