"""A ``HandoffCreated`` under a handoff id the tracker holds, for the same source record: a later version of the case.

A legacy ticket row polled again after an update, a keyed batch line that changed, or a counter transaction the
terminal uploaded again corrected (``adapters.branch.mapper``) publishes a ``HandoffCreated`` of its new version
under the case's id (its own event id: each version is a fact) naming the record it comes from
(``intake_facts[SOURCE_RECORD_FACT]``, ``bus.handoff_revisions``). The case it opened is the same case:

- what the creation describes is unchanged (``changed_fields`` empty: only a column the row's mapping does not read
  moved its ``updated_at``): a copy, applied as a re-delivery is (no change, no output, no dead letter);
- its ``summary`` or ``intake_facts`` changed: the case takes them (``REVISED_FIELDS``), one version more, and a
  ``HandoffStatusChanged`` (cause ``HandoffCreated``, status unchanged, no notification: the customer was told of
  the case once) carries them to subscribers;
- its ``case_type``, customer identifiers or site changed: the tracker has no event that re-types, re-routes or
  re-places a case, so the case keeps its own (identity places the case by them, ``bus.handoff_revisions``); the
  change is counted (``omnibus_handoff_revisions_total{field, applied="false"}``) and logged, never dead-lettered;
- its customer identifiers changed while the case is open (a counter upload's phone corrected: a typo fixed, or
  another customer's number): the case's later notices go to a corrected identifier the case's customer holds, as
  identity places it (``HandoffState.addresses``), else to no address (``corrected``, ``notifications.delivery``):
  never again to the identifier the correction replaced (a stranger's number, if in service), never to another
  customer's. A closed or resolved case is history: unchanged.

A version older than the one the case holds (``intake_facts[SOURCE_VERSION_FACT]``, a polled row's ``updated_at``, a
counter transaction's ``occurred_at``: a refused row or upload re-driven after a newer version) changes nothing: the
case keeps the newer, and the older is counted (``field="older_version"``) and logged; one stating the same instant
is taken in arrival order (``is_older_version``). Where a version changes only what the case keeps, nothing is
published either (the case as announced is unchanged); the event id is remembered, so a re-delivery is not counted
again.

Any other ``HandoffCreated`` under a held id (no source record, or another one: another request under a used
``request_id``, two systems' rows naming one ``handoff_id``) is refused as before, ``duplicate_creation``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from processors.handoffs.state import APPLIED_IDS_KEPT, HandoffState

REVISED_FIELDS = ("summary", "intake_facts")  # what a later version changes on the case
KEPT_FIELDS = ("case_type", "customer_identifiers", "origin_site")  # what it cannot: counted, the case keeps its own
OLDER_VERSION = "older_version"  # an older version than the case's: counted under this ``field``, nothing changed


def is_later_version(state: HandoffState, value: dict[str, Any]) -> bool:
    """Whether ``value`` (a ``HandoffCreated``) names the source record ``state``'s case was opened from."""
    record = state.intake_facts.get(SOURCE_RECORD_FACT)
    return record is not None and (value.get("intake_facts") or {}).get(SOURCE_RECORD_FACT) == record


def is_older_version(state: HandoffState, value: dict[str, Any]) -> bool:
    """Whether ``value`` is a version of the source record older than the one ``state`` holds, both stating their
    versions (``SOURCE_VERSION_FACT``); False where either does not. Two versions stating one instant are taken in the
    order they arrive: a counter correction keeps its transaction's ``occurred_at`` (``adapters.branch.mapper.
    transaction_version``), and a row updated twice within its ``updated_at``'s resolution changed all the same; the
    same version again is a copy (``changed_fields`` empty)."""
    theirs = (value.get("intake_facts") or {}).get(SOURCE_VERSION_FACT)
    held = state.intake_facts.get(SOURCE_VERSION_FACT)
    return theirs is not None and held is not None and datetime.fromisoformat(theirs) < datetime.fromisoformat(held)


def noted(state: HandoffState, event_id: str) -> HandoffState:
    """``state`` with ``event_id`` remembered (a re-delivery is then a copy), nothing else changed: no new version."""
    return state.with_(applied=(*state.applied, event_id)[-APPLIED_IDS_KEPT:])


def _facts(value: Any) -> dict[str, Any]:
    """Intake facts as compared: without the version, which every version has its own of."""
    return {name: fact for name, fact in dict(value or {}).items() if name != SOURCE_VERSION_FACT}


def _identifiers(items: Any) -> frozenset[tuple[tuple[str, Any], ...]]:
    return frozenset(tuple(sorted(dict(i).items())) for i in items or ())


def changed_fields(state: HandoffState, value: dict[str, Any]) -> tuple[str, ...]:
    """The fields of ``REVISED_FIELDS`` and ``KEPT_FIELDS`` in which the ``HandoffCreated`` ``value`` differs from
    the case ``state`` (identifiers compared as a set), in that order; empty: a copy."""
    now = {"summary": value["summary"], "intake_facts": _facts(value.get("intake_facts")),
           "case_type": value["case_type"], "customer_identifiers": _identifiers(value["customer_identifiers"]),
           "origin_site": value.get("origin_site")}
    held = {"summary": state.summary, "intake_facts": _facts(state.intake_facts), "case_type": state.case_type,
            "customer_identifiers": _identifiers(state.customer_identifiers), "origin_site": state.origin_site}
    return tuple(name for name in (*REVISED_FIELDS, *KEPT_FIELDS) if now[name] != held[name])


def revised(state: HandoffState, value: dict[str, Any]) -> HandoffState:
    """``state`` with the ``REVISED_FIELDS`` of the later version ``value``."""
    return state.with_(summary=value["summary"], intake_facts=dict(value.get("intake_facts") or {}))


def corrected(state: HandoffState, value: dict[str, Any]) -> HandoffState:
    """``state`` with the contact identifiers of the later version ``value`` as corrected
    (``HandoffState.corrected_identifiers``) when they differ from the case's, none when they are the case's again
    (a correction undone), while the case is open; else ``state``."""
    if not state.is_open:
        return state
    same = _identifiers(value["customer_identifiers"]) == _identifiers(state.customer_identifiers)
    now = () if same else tuple(dict(i) for i in value["customer_identifiers"] or ())
    return state.with_(corrected_identifiers=now)
