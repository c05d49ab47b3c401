"""Retention signals for the CRM: churn risk and arrears, with the evidence, one per customer, kind and window.

Rules (``SignalSettings``):

* REPEAT_CONTACT: ``repeat_contacts`` conversations about the same matter within ``window_days`` (the
  brief's "repeat contact within 7 days"); evidence: those contacts.
* HANDOFF_BREACHED / HANDOFF_BOUNCED: the handoff tracker's status change caused by a breach, or by a
  transfer or reopening (a case passed on or sent back).
* CANCELLATION_REQUEST / PORT_OUT_REQUEST: a contact whose disposition or name, or an order whose
  status, contains a configured marker.
* PAYMENT_OVERDUE: billing's ``PaymentOverdue`` at least ``overdue_days`` late.

Deduplication is state: ``CustomerState.signals[kind]`` holds the end of the window opened by the last
signal of that kind; nothing of that kind is signalled again before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bus.serde import Event
from processors.offers.config import SignalSettings
from processors.offers.intake import BUSINESS, CONTACT, matter_of, occurred_us
from processors.offers.state import CustomerState

HANDOFF_STATUS = "omnibus.handoff.HandoffStatusChanged"
BREACH_CAUSES = frozenset({"omnibus.handoff.HandoffBreached"})
BOUNCE_CAUSES = frozenset({"omnibus.handoff.HandoffTransferred", "omnibus.handoff.HandoffReopened"})


class SignalKind(StrEnum):
    REPEAT_CONTACT = "REPEAT_CONTACT"
    HANDOFF_BREACHED = "HANDOFF_BREACHED"
    HANDOFF_BOUNCED = "HANDOFF_BOUNCED"
    CANCELLATION_REQUEST = "CANCELLATION_REQUEST"
    PORT_OUT_REQUEST = "PORT_OUT_REQUEST"
    PAYMENT_OVERDUE = "PAYMENT_OVERDUE"


@dataclass(frozen=True, slots=True)
class Evidence:
    event_id: str
    event_type: str
    occurred_us: int
    channel: str
    detail: str


@dataclass(frozen=True, slots=True)
class Signal:
    kind: SignalKind
    window_start_us: int
    window_end_us: int
    evidence: tuple[Evidence, ...]


def _evidence(event: Event, detail: str) -> Evidence:
    envelope = event.value["envelope"]
    return Evidence(envelope["event_id"], event.schema, occurred_us(event), envelope["channel"], detail)


def _has_marker(text: str, markers: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in markers)


def _findings(state: CustomerState, event: Event, settings: SignalSettings, window_us: int) -> list[tuple[SignalKind, tuple[Evidence, ...]]]:
    value: dict[str, Any] = event.value
    found: list[tuple[SignalKind, tuple[Evidence, ...]]] = []
    if event.schema == CONTACT + "InteractionRecorded":
        matter = matter_of(value)
        if _has_marker(matter, settings.cancellation_markers):
            found.append((SignalKind.CANCELLATION_REQUEST, (_evidence(event, matter),)))
        if _has_marker(matter, settings.port_out_markers):
            found.append((SignalKind.PORT_OUT_REQUEST, (_evidence(event, matter),)))
        at_us = occurred_us(event)
        same = [row for row in state.contacts if row[2] == matter and matter and at_us - window_us < row[0] <= at_us]
        if len(same) >= settings.repeat_contacts:
            found.append((SignalKind.REPEAT_CONTACT, tuple(
                Evidence(row[3], CONTACT + "InteractionRecorded", row[0], row[1], row[2]) for row in same)))
    elif event.schema == HANDOFF_STATUS:
        detail = f"handoff {value['handoff_id']} ({value.get('case_type')})"
        if value.get("cause") in BREACH_CAUSES:
            found.append((SignalKind.HANDOFF_BREACHED, (_evidence(event, detail),)))
        elif value.get("cause") in BOUNCE_CAUSES:
            found.append((SignalKind.HANDOFF_BOUNCED, (_evidence(event, detail),)))
    elif event.schema == BUSINESS + "OrderStatusChanged":
        text = " ".join(str(value.get(f) or "") for f in ("source_status", "status", "product_code"))
        if _has_marker(text, settings.port_out_markers):
            found.append((SignalKind.PORT_OUT_REQUEST, (_evidence(event, f"order {value['order_id']}: {text.strip()}"),)))
        elif _has_marker(text, settings.cancellation_markers):
            found.append((SignalKind.CANCELLATION_REQUEST, (_evidence(event, f"order {value['order_id']}: {text.strip()}"),)))
    elif event.schema == BUSINESS + "PaymentOverdue" and int(value.get("days_overdue") or 0) >= settings.overdue_days:
        found.append((SignalKind.PAYMENT_OVERDUE, (_evidence(event, f"bill {value.get('bill_id')}: {value.get('days_overdue')} days"),)))
    return found


def detect(state: CustomerState, event: Event, settings: SignalSettings) -> list[Signal]:
    """Signals this event raises for the customer (call after the event's contact row was added).

    Updates ``state.signals`` (the dedupe windows); the window starts at the event's own instant."""
    window_us = int(settings.window_days * 86400 * 1_000_000)
    signals: list[Signal] = []
    at_us = occurred_us(event)
    for kind, evidence in _findings(state, event, settings, window_us):
        if state.signals.get(kind.value, 0) > at_us:
            continue  # already signalled in this window
        state.signals[kind.value] = at_us + window_us
        signals.append(Signal(kind, at_us, at_us + window_us, evidence))
    return signals
