"""What a fault test keeps when the verifier finds one decision announced differently twice (``processors.verify.effects``).

A ``CustomerCreated`` or ``CustomerMerged`` published by two processings (a worker fenced out after it published, and
the partition's next owner that replayed the records from its restored state) must carry one event id and one
content. When they do not, the run's topics are gone with its broker by the time anyone looks: ``write_conflicts``
writes, beside the workers' logs, every copy of each such decision (topic, partition, offset, Kafka timestamp,
envelope, lineage, survivor, weight, moved identifiers) and every graph protocol message that names one of the
customers or triggering events involved, in topic order, so the two processings' inputs can be compared.
Test data only: the graph messages hold the workload's synthetic identifier values.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bus.config import OmnibusSettings
from bus.topics import CUSTOMER_EVENTS, IDENTITY_GRAPH
from processors.identity.wire import decode_record
from processors.replay import Replayed, read_topics
from processors.verify.effects import content, event_id
from processors.verify.run import customer_decision

MESSAGE_CHARS = 2_000  # of one protocol message's repr: enough for an offer's members and its saga


def conflicts(records: list[Replayed]) -> dict[str, list[Replayed]]:
    """The decisions (``customer_decision``) whose copies differ in event id or content, with every copy."""
    copies: dict[str, list[Replayed]] = defaultdict(list)
    for record in records:
        if (made := customer_decision(record)) is not None:
            copies[made].append(record)
    return {made: found for made, found in copies.items()
            if len({(event_id(r), repr(content(r.event.value))) for r in found}) > 1}  # type: ignore[union-attr]


def _line(record: Replayed) -> str:
    value: dict[str, Any] = record.event.value  # type: ignore[union-attr]
    fields = {name: value.get(name) for name in ("survivor_customer_id", "match_weight", "moved_identifiers",
                                                 "identifiers", "lineage")}
    return (f"  {record.topic}[{record.partition}]@{record.offset} ts={record.timestamp_ms} "
            f"envelope={value['envelope']} {fields}\n")


async def write_conflicts(settings: OmnibusSettings, path: Path) -> int:
    """Write the conflicting decisions of ``customer.events`` and the graph messages naming them to ``path``;
    the number of conflicting decisions (0: nothing written)."""
    graph = IDENTITY_GRAPH.name(settings.topics)
    replay = await read_topics(settings, [CUSTOMER_EVENTS, IDENTITY_GRAPH], raw=[IDENTITY_GRAPH])
    found = conflicts([r for r in replay.records if r.topic != graph])
    if not found:
        return 0
    names: set[str] = set()
    with path.open("w") as out:
        for made, copies in sorted(found.items()):
            out.write(f"== {made}: {len(copies)} copies\n")
            for record in copies:
                out.write(_line(record))
                value = record.event.value  # type: ignore[union-attr]
                customer = value.get("merged_customer_id") or value["customer_id"]
                names |= {customer, value.get("survivor_customer_id") or customer,
                          value["lineage"]["triggering_event_id"]}
        out.write("== graph messages naming them (topic order per partition)\n")
        for record in replay.records:
            if record.topic != graph:
                continue
            try:
                pairs = decode_record(record.value, record.key.decode() if record.key else "")
            except ValueError:
                continue
            for node, message in pairs:
                text = repr(message)
                if node in names or any(name in text for name in names):
                    out.write(f"  [{record.partition}]@{record.offset} ts={record.timestamp_ms} {node} "
                              f"{text[:MESSAGE_CHARS]}\n")
    return len(found)
