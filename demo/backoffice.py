"""The finance desk's own system answering on Kafka: it acknowledges the work orders it received,
an agent takes each case, and a few are resolved at once."""

from __future__ import annotations

from datetime import UTC, datetime

from bus.config import OmnibusSettings
from bus.envelope import envelope, step_id
from bus.producer import EventProducer, Outgoing
from bus.serde import Event
from bus.topics import HANDOFF_EVENTS
from demo.people import DemoCustomer
from demo.traffic import _id

RECEIVING_SYSTEM = "finance-desk"


def _envelope(handoff_id: str, step: str) -> dict:
    now = datetime.now(UTC)
    event_id = step_id(handoff_id, step)
    return envelope(event_id=event_id, occurred_at=now, received_at=now, source_system=RECEIVING_SYSTEM,
                    channel="BACK_OFFICE", correlation_id=handoff_id, source_event_id=event_id)


async def work_the_queue(producer: EventProducer, settings: OmnibusSettings, people: list[DemoCustomer]) -> int:
    topic = HANDOFF_EVENTS.name(settings.topics)
    outgoing = []
    for customer in people:
        if customer.index % 3:
            continue  # only these customers asked for help on the web (see traffic.web_journey)
        handoff_id = _id("handoff", customer.index)
        agent = {"kind": "EMPLOYEE", "id": f"fin-{customer.index % 3}"}
        outgoing.append(Event("omnibus.handoff.HandoffAcknowledged", {
            "envelope": _envelope(handoff_id, "ack"), "handoff_id": handoff_id, "receiving_system": RECEIVING_SYSTEM,
            "external_reference": f"FIN-{customer.index:05d}", "actor": None}))
        outgoing.append(Event("omnibus.handoff.HandoffAccepted", {
            "envelope": _envelope(handoff_id, "accept"), "handoff_id": handoff_id, "owner": agent, "team": "finance"}))
        if customer.index % 2:
            outgoing.append(Event("omnibus.handoff.HandoffResolved", {
                "envelope": _envelope(handoff_id, "resolve"), "handoff_id": handoff_id,
                "resolution": "Duplicate charge refunded", "resolution_code": "refund", "team": "finance",
                "actor": agent}))
    await producer.publish_many([Outgoing(topic, e.value["handoff_id"], e) for e in outgoing])
    return len(outgoing)
