"""Standby replicas applied in bulk, straight from the consumer's fetch (#9: two workers' CPU per event).

faust hands every changelog record of a standby partition through its per-record consumer path
(``Consumer._drain_messages``: a ``wait_first`` per record, ``Conductor.on_message``, an ``Event``, the
changelog queue, one ``asyncio.wait_for`` per record in ``Recovery._slurp_changelogs``) before the table
applies it. With two identity workers each one replays the other's changelogs that way: about 220 µs of
CPU per event (``tests/bench/results/two_workers.md``), for records the table then stores as the bytes
they came in (``value_type=bytes``).

``install()`` patches ``Consumer._wait_next_records`` once per process: right after each fetch, the records
of standby changelog partitions whose table opts in (``bus.fenced_table.FencedTable.takes_standby_in_bulk``:
raw keys and values, faust's memory store, no changelog callback) are taken out of the fetched map and
applied by the table as one batch (``FencedTable.apply_standby``: the fence, then the last record per key).
faust's own bookkeeping moves with them: the recovery's standby offset (where a later recovery seeks the
partition) and the consumer's read offset. Active restores, and every other table, keep faust's path.

Only the records faust itself would hand on now are taken: its flow runs and the partition is resumed
(``bus.changelog_rewind.delivered``). A fetch can return the records of paused partitions (an empty active set,
``bus.changelog_rewind``); applying those after faust read a standby partition's highwater and before it resumed
the partition raised faust's ``ConsistencyError`` (the standby offset above the highwater). Those records, and every
other changelog record faust would drop, are taken out of the fetch and the partition is sought back to them
(``bus.changelog_rewind.rewind``), so they come again when faust resumes it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from bus import changelog_rewind

_MARK = "omnibus_standby_apply"


def installed() -> bool:
    """True when faust's ``Consumer._wait_next_records`` (or a wrapper around it) is this module's."""
    from faust.transport.consumer import Consumer

    method: Any = Consumer._wait_next_records
    while method is not None:
        if getattr(method, _MARK, False):
            return True
        method = getattr(method, "__wrapped__", None)
    return False


def install() -> None:
    """Patch faust's consumer once per process (tables that do not opt in are unchanged)."""
    from faust.transport.consumer import Consumer

    if installed():
        return
    wrapped = Consumer._wait_next_records

    async def _wait_next_records(self: Any, timeout: float) -> Any:
        records, active = await wrapped(self, timeout)
        if records and not self.should_stop:
            if self.flow_active:
                take(self, records, active)  # type: ignore[arg-type]  # faust's RecordMap: a dict at run time
            await changelog_rewind.rewind(self, changelog_rewind.undelivered(self, records, active))  # type: ignore[arg-type]
        return records, active

    _wait_next_records.__wrapped__ = wrapped  # type: ignore[attr-defined]
    setattr(_wait_next_records, _MARK, True)
    if getattr(wrapped, "omnibus_bulk", False):  # bus.consume_bulk's own once-check looks at the outermost
        _wait_next_records.omnibus_bulk = True  # type: ignore[attr-defined]
    Consumer._wait_next_records = _wait_next_records  # type: ignore[method-assign]


def take(consumer: Any, records: MutableMapping[Any, Sequence[ConsumerRecord]], active: set[Any] | None = None) -> int:
    """Apply and remove from ``records`` (a fetched map, faust TP -> records in offset order) those of the
    standby partitions whose table takes them in bulk and that faust delivers now (``active``: the partitions the
    fetch was made for, None: all; ``bus.changelog_rewind.delivered``); returns how many records were taken.
    Records at or below the partition's standby offset (already applied) are dropped, as faust's recovery drops
    them."""
    recovery = consumer.app.tables.recovery
    standby: set[Any] = recovery.standby_tps
    if not standby:
        return 0
    tables: Mapping[Any, Any] = recovery.tp_to_table
    offsets = recovery.standby_offsets
    taken = 0
    for tp in [tp for tp in records if tp in standby and tp not in recovery.active_tps]:
        table = tables.get(tp)
        if table is None or not getattr(table, "takes_standby_in_bulk", False):
            continue
        if not changelog_rewind.delivered(consumer, tp, active):
            continue  # paused: faust reads its highwater or seeks it now (bus.changelog_rewind takes it back)
        fetched = records.pop(tp)
        seen = offsets.get(tp)
        fresh = fetched if seen is None else [record for record in fetched if record.offset > seen]
        if fresh:
            table.apply_standby(tp.partition, fresh)
            offsets[tp] = fresh[-1].offset
            consumer._read_offset[tp] = fresh[-1].offset
            taken += len(fresh)
    return taken
