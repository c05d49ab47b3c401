"""Recalling a customer notification a gateway may still hold, once its address is no longer the customer's.

A notification published to a phone or an e-mail its customer then loses (a recycled number's new subscriber, a
claim, a release: ``HandoffState.relinquished``) would still go out to the new holder if a gateway holds it unsent (a
gateway down or behind, a send queued until morning). The tracker remembers the addressed notifications it published
(``HandoffState.sent``, the latest ``SENT_KEPT``: a case's notifications are a handful) and, when it learns that one's
address was lost, publishes a ``CustomerNotificationRecalled`` naming it (``notification_id``), under the key it went
out with, so it follows it on the same partition; the gateway drops it if not sent yet
(``docs/subscribers.md``). As the offer processor's ``ADDRESS_LOST`` withdrawal (``processors/offers/addresses.py``),
the decision is the state's, never a timer: without delivery receipts any notification published may still be held,
so every remembered one to the lost address is recalled, once (it then leaves ``sent``). A recall is only ever built
from ``sent``, which only holds what was published; a redelivered one has the same event id (seed ``recall:<id>``).
"""

from __future__ import annotations

from collections.abc import Collection

from bus.serde import Event
from processors.handoffs.outputs import NOTIFICATION, RECALL, Emitter, Output
from processors.handoffs.state import HandoffState, SentNotification
from processors.handoffs.tier_facts import identifier_key

SENT_KEPT = 16  # addressed notifications remembered per handoff, newest kept
ADDRESS_LOST = "ADDRESS_LOST"  # omnibus.handoff.RecallReason: the customer no longer holds the address


def remembered(state: HandoffState, outputs: list[Output]) -> HandoffState:
    """``state`` remembering the addressed notifications of its handoff among ``outputs`` (about to be published,
    before ``state`` is saved: what was not published is never remembered)."""
    known = {n.notification_id for n in state.sent}
    new = [SentNotification(v["notification_id"], o.key, v["channel"], dict(v["address"]))
           for o in outputs if o.event.schema == NOTIFICATION
           for v in (o.event.value,) if v["handoff_id"] == state.handoff_id and v.get("address")
           and v["notification_id"] not in known]
    return state.with_(sent=(*state.sent, *new)[-SENT_KEPT:]) if new else state


def recalled(emitter: Emitter, state: HandoffState, at_us: int, causation_id: str | None,
             also_lost: Collection[str] = ()) -> tuple[HandoffState, list[Output]]:
    """(``state`` without them, the recalls) of the notifications ``state`` sent to an address its customer no longer
    holds: one of the handoff's (``relinquished``) or, ``also_lost``, another address of the customer's a notification
    went to (``fallback_addresses``; keys ``TYPE:value``); ``causation_id``: the customer update that says so."""
    gone = {*state.relinquished, *also_lost}
    lost = [n for n in state.sent if identifier_key(n.address) in gone]
    if not lost:
        return state, []
    kept = tuple(n for n in state.sent if n not in lost)
    return state.with_(sent=kept), [recall(emitter, state, n, at_us, causation_id) for n in lost]


def fallback_addresses(state: HandoffState) -> list[dict[str, str]]:
    """The addresses ``state``'s notifications went to that are not the handoff's own identifiers (the customer's
    other addresses, ``HandoffState.addresses``): whether the customer still holds them is the directory's to say."""
    own = {identifier_key(i) for i in state.customer_identifiers}
    return [n.address for n in state.sent if identifier_key(n.address) not in own]


def recall(emitter: Emitter, state: HandoffState, sent: SentNotification, at_us: int,
           causation_id: str | None) -> Output:
    """The ``CustomerNotificationRecalled`` of ``sent``, keyed as it was."""
    record = {
        "envelope": emitter.envelope(state, f"recall:{sent.notification_id}", at_us, causation_id),
        "notification_id": sent.notification_id, "handoff_id": state.handoff_id, "customer_id": state.customer_id,
        "channel": sent.channel, "address": dict(sent.address), "reason": ADDRESS_LOST,
    }
    return Output("notifications", sent.key, Event(RECALL, record))
