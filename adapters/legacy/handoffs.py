"""Outbox rows, polled rows or batch lines of the handoff types → ``omnibus.handoff`` lifecycle events.

A legacy ticketing or back-office system reports what it did with a handoff the way it reports any business
fact (``mapper.BusinessRecord``), with these fields (text; ``by`` is the employee who did it):

- ``HandoffCreated``: ``case_type``, ``summary``, optional ``handoff_id`` (default: ``legacy_handoff_id``, e.g.
  ``legacy:<source system>:outbox:<row id>`` for an outbox row; a polled row or keyed line is named after the row or
  key, not its version, and names it in ``intake_facts.source_record``: every version is the same case,
  ``bus.handoff_revisions``), ``team`` (kept as ``intake_facts.requested_team``),
  and the customer's identifiers as for every business event (``account_number``, ``phone``, ``email``...), and the
  declared business references among its fields in any spelling (a ``METER_POINT`` column: intake facts); origin channel
  ``BUSINESS_SYSTEM``;
- ``HandoffAcknowledged``: ``handoff_id``, optional ``receiving_system`` (default: the source system),
  ``external_reference`` (the case's id in that system), ``by``;
- ``HandoffAccepted``: ``handoff_id``, ``by`` (the owner), optional ``team``;
- ``HandoffResolved``: ``handoff_id``, ``resolution`` (free text the customer is told: scrubbed of identifier values
  as a summary is, its declared references kept), ``by``, optional ``resolution_code``, ``team``;
- ``HandoffClosed``: ``handoff_id``, optional ``close_reason`` (``CONFIRMED`` default, ``WITHDRAWN``,
  ``DUPLICATE``, ``AUTO_CLOSED``), ``by``.

Events go to ``handoff.events.v1`` keyed by the handoff id, with ids from the row's id, or version's (a re-read row
or version is a duplicate). The tracker decides whether the transition is legal (docs/handoffs.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from adapters.base.errors import RejectedInput
from adapters.base.handoff_request import BadHandoffRequest, HandoffRequest, handoff_id
from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from schemas.enums import CLOSE_REASONS

if TYPE_CHECKING:
    from adapters.legacy.mapper import Fields



def legacy_handoff_id(source_system: str, record_id: str) -> str:
    """The id of the case a ``HandoffCreated`` record without ``handoff_id`` opens: ``legacy:<source system>:<record
    id>``, the record id being its source's (``BusinessRecord.record_key``, else ``dedupe_id``): ``outbox:<row id>``
    (``ingress_outbox.outbox_record_id``), ``poll:<poller>:<key>`` for every version of a polled row
    (``ingress_poller.polled_row_id``), ``batch:<layout>:<checksum 32 hex>:<line>`` or, for every version of a keyed
    line, ``batch:<layout>:key-<32 hex>`` (``batch_lines.line_id``). docs/handoffs.md states these forms."""
    return handoff_id("legacy", source_system, record_id)


def source_record_fact(f: Fields) -> dict[str, str]:
    """``{SOURCE_RECORD_FACT: legacy:<source system>:<record key>}`` for a record with versions (a polled row, a keyed
    line), else ``{}``: the tracker reads a later version's ``HandoffCreated`` as the same case
    (``bus.handoff_revisions``), whether the case is named by the record or by a ``handoff_id`` column. With it
    ``SOURCE_VERSION_FACT`` (ISO 8601, UTC), its version's instant: a polled row's ``updated_at``, a keyed line's date
    (else its file's): an older version (a refused row re-driven after the source updated it, an older export
    imported after a newer one) does not roll the case back."""
    record = f.record
    if record.record_key is None:
        return {}
    version = record.record_version
    return {SOURCE_RECORD_FACT: legacy_handoff_id(f.ctx.source_system, record.record_key),
            **({SOURCE_VERSION_FACT: version.astimezone(UTC).isoformat()} if version is not None else {})}


def _malformed(name: str, why: str) -> RejectedInput:
    return RejectedInput(f"field {name} is malformed: {why}", code="malformed_field")


def _employee(f: Fields, name: str = "by", *, required: bool = True) -> dict[str, str] | None:
    person = f.text(name, required=required)
    return {"kind": "EMPLOYEE", "id": person} if person else None


def _created(f: Fields) -> dict[str, Any]:
    # Every field is read before the request is parsed: a layout's fields are checked against what is read
    # (adapters.legacy.reads.event_fields).
    case_type, team, summary = f.text("case_type"), f.text("team", required=False), f.text("summary", required=False)
    ident = f.text("handoff_id", required=False) or legacy_handoff_id(
        f.ctx.source_system, f.record.record_key or f.record.dedupe_id)
    actor = _employee(f, required=False) or {"kind": "SYSTEM", "id": f.ctx.source_system}
    identifiers = f.customer_identifiers()
    facts = {**f.declared_references(), "account_number": f.account_number(required=False, key=False),
             **source_record_fact(f)}
    try:
        request = HandoffRequest.parse(case_type, team, summary)
    except BadHandoffRequest as exc:
        raise _malformed(exc.field.removeprefix("omnibus_handoff_"), str(exc)) from exc
    if request is None:  # unreachable: case_type is required above
        raise _malformed("case_type", "is required")
    value = request.event(envelope={}, handoff_id=ident, channel="BUSINESS_SYSTEM", identifiers=identifiers,
                          site=None, interaction_id=f.record.dedupe_id, actor=actor, facts=facts,
                          traits_event_id=None, references=f.ctx.references).value
    value.pop("envelope")
    return value


def _resolution(f: Fields) -> str:
    """The resolution, scrubbed as a handoff's summary is (``References.text``, ``bus.redact.free_text``): it goes
    on a topic every CRM reads and into the customer's notification."""
    return f.ctx.references.text(f.text("resolution") or "")


def _close_reason(f: Fields) -> str:
    reason = (f.text("close_reason", required=False) or "CONFIRMED").upper()
    if reason not in CLOSE_REASONS:
        raise _malformed("close_reason", f"must be one of {', '.join(sorted(CLOSE_REASONS))}")
    return reason


HANDOFF_BUILDERS: dict[str, Callable[[Fields], dict[str, Any]]] = {
    "HandoffCreated": _created,
    "HandoffAcknowledged": lambda f: {
        "handoff_id": f.text("handoff_id"),
        "receiving_system": f.text("receiving_system", required=False) or f.ctx.source_system,
        "external_reference": f.text("external_reference", required=False), "actor": _employee(f, required=False)},
    "HandoffAccepted": lambda f: {"handoff_id": f.text("handoff_id"), "owner": _employee(f),
                                  "team": f.text("team", required=False)},
    "HandoffResolved": lambda f: {
        "handoff_id": f.text("handoff_id"), "resolution": _resolution(f),
        "resolution_code": f.text("resolution_code", required=False), "team": f.text("team", required=False),
        "actor": _employee(f)},
    "HandoffClosed": lambda f: {"handoff_id": f.text("handoff_id"), "close_reason": _close_reason(f),
                                "actor": _employee(f, required=False)},
}
