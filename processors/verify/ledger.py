"""The run's input ledger: which events the adapters acknowledged, and whether each one is on an input topic.

The default ledger is the input topics themselves: every record that decodes there was acknowledged by
Kafka, so it is an accepted input. A test or an operator that knows more (the event ids an adapter
answered 2xx for) writes them to a JSONL file, one ``{"event_id": "...", "topic": "identity.observed.v1"}``
per line (``topic``: the topic suffix, optional); ``check_ledger`` then demands each of them on the topics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from processors.replay import Replayed
from processors.verify.effects import event_id
from processors.verify.report import Check, Report


def write_ledger(path: Path, entries: Iterable[tuple[str, str]]) -> None:
    """Append ``(event id, topic suffix)`` lines to the JSONL ledger ``path``."""
    with path.open("a") as out:
        for found, topic in entries:
            out.write(json.dumps({"event_id": found, "topic": topic}) + "\n")


def read_ledger(path: Path) -> list[tuple[str, str | None]]:
    """``(event id, topic suffix or None)`` per line; raises ``ValueError`` on a line that is not a ledger entry."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        entry = json.loads(line)
        if not isinstance(entry, dict) or not isinstance(entry.get("event_id"), str):
            raise ValueError(f"{path}:{number}: not a ledger entry (an object with an event_id)")
        entries.append((entry["event_id"], entry.get("topic")))
    return entries


def check_ledger(entries: list[tuple[str, str | None]], inputs: Iterable[Replayed], prefix: str,
                 report: Report) -> None:
    """Every acknowledged event id of the ledger is on (its) input topic; missing ones count as ``lost``."""
    on_topics: dict[str, set[str]] = {}
    for record in inputs:
        if (found := event_id(record)) is not None:
            on_topics.setdefault(found, set()).add(record.topic)
    check = report.add(Check("ledger: every acknowledged event is on an input topic", len(entries)))
    for found, suffix in entries:
        topics = on_topics.get(found, set())
        if not topics or (suffix is not None and f"{prefix}.{suffix}" not in topics and suffix not in topics):
            check.fail(f"event {found} acknowledged{f' for {suffix}' if suffix else ''} is not on the topic")
    report.count_items("lost", check.failures)
