"""The handoff tracker's checks: every accepted lifecycle event reflected, the table equal to a recomputation.

Inputs are the records of ``handoff.events.v1`` not written by the tracker itself; the running state is
the tracker table's changelog (``processors.replay.handoffs.running``), the recomputation
``processors.replay.handoffs.rebuild`` (same ``view`` of each handoff on both sides).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from processors.handoffs.outputs import LIFECYCLE
from processors.replay import Replayed
from processors.replay.compare import compare
from processors.verify.report import Check, Report


def accepted_inputs(records: Iterable[Replayed], source_system: str) -> list[Replayed]:
    """Lifecycle records from the back office (not the tracker's own outputs) that name a handoff."""
    return [r for r in records if r.event is not None
            and (r.event.value.get("envelope") or {}).get("source_system") != source_system
            and r.event.schema in LIFECYCLE and r.event.value.get("handoff_id")]


def check_handoffs(inputs: list[Replayed], source_system: str, rebuilt: Mapping[str, Any],
                   table: Mapping[str, Any], dead_lettered: set[tuple[str, int, int]], report: Report) -> None:
    """Add the tracker's checks and figures to ``report``; ``rebuilt`` and ``table``: handoff id -> view."""
    accepted = accepted_inputs(inputs, source_system)
    report.count("events", len(accepted))
    reflected = report.add(Check("handoffs: every accepted handoff event is in the tracker's table", len(accepted)))
    for record in accepted:
        handoff_id = record.event.value["handoff_id"]  # type: ignore[union-attr]
        if handoff_id not in table and (record.topic, record.partition, record.offset) not in dead_lettered:
            reflected.fail(f"handoff {handoff_id} ({record.event.schema.rsplit('.', 1)[-1]} at "  # type: ignore[union-attr]
                           f"{record.topic}[{record.partition}]@{record.offset}) is not in the table")
    report.count_items("lost", reflected.failures)
    comparison = compare(rebuilt, table)
    equal = report.add(Check("handoffs: tracker table equals the recomputation from its inputs",
                             comparison.same + len(comparison.differing) + len(comparison.only_rebuilt)
                             + len(comparison.only_running)))
    equal.failures += comparison.details(limit=10**6)
