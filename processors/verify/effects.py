"""Effects published more than once: each copy must carry the same event id and the same content.

Processors are at-least-once: after a crash or a rebalance a batch is processed again and its effects
published again. That is harmless only when every copy has the event id of the first (readers dedupe on
it) and says the same thing. Two checks per output topic:

* same event id, same content: copies may differ only in when they were published (the envelope's
  ``occurred_at`` / ``received_at`` of a processor's own announcement, an assignment's ``assigned_at``);
  where ``resolve`` is given, the record keys are compared after it (a contact republished under the
  survivor of a merge is the same effect);
* one decision, one event id: the values ``decision`` maps a record to (e.g. the customer a
  ``CustomerCreated`` creates) must each have been announced under a single event id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from processors.replay import Replayed
from processors.verify.report import Check, Report

PUBLISH_TIMES = ("occurred_at", "received_at")


def content(value: dict[str, Any]) -> dict[str, Any]:
    """The value without the instants that only say when a copy was published."""
    envelope = {k: v for k, v in (value.get("envelope") or {}).items() if k not in PUBLISH_TIMES}
    return {**value, "envelope": envelope} if "envelope" in value else value


def event_id(record: Replayed) -> str | None:
    if record.event is None:
        return None
    return (record.event.value.get("envelope") or {}).get("event_id")


def check_copies(name: str, records: Iterable[Replayed], report: Report,
                 resolve: Callable[[str], str] = lambda key: key) -> Check:
    """Copies with one event id must agree (content and resolved key); counts ``duplicates`` and
    ``conflicting`` in ``report.figures``."""
    check = report.add(Check(f"{name}: copies of an event id carry the same content"))
    first: dict[str, tuple[str, dict[str, Any]]] = {}
    duplicates: list[str] = []  # one line per copy after the first (its event id)
    for record in records:
        if (found := event_id(record)) is None:
            continue
        check.checked += 1
        key = resolve(record.key.decode(errors="replace") if record.key is not None else "")
        seen = (key, content(record.event.value))  # type: ignore[union-attr]
        if found not in first:
            first[found] = seen
            continue
        duplicates.append(f"event {found} ({name})")
        if first[found][0] != seen[0]:
            check.fail(f"event {found} published under two different keys")
        elif first[found][1] != seen[1]:
            fields = sorted(k for k in set(first[found][1]) | set(seen[1]) if first[found][1].get(k) != seen[1].get(k))
            check.fail(f"event {found}: copies differ in {', '.join(fields)}")
    report.count_items("duplicates", duplicates)
    report.count_items("conflicting", check.failures)
    return check


def check_one_id_per_decision(name: str, records: Iterable[Replayed], report: Report,
                              decision: Callable[[Replayed], str | None]) -> Check:
    """Every decision (``decision(record)``, None: not one) announced under exactly one event id."""
    check = report.add(Check(f"{name}: one event id per decision"))
    ids: dict[str, set[str]] = {}
    for record in records:
        if (found := event_id(record)) is not None and (made := decision(record)) is not None:
            ids.setdefault(made, set()).add(found)
    check.checked = len(ids)
    for made, found_ids in sorted(ids.items()):
        if len(found_ids) > 1:
            check.fail(f"{made} announced under {len(found_ids)} event ids")
    report.count_items("conflicting", check.failures)
    return check
