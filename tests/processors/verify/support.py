"""Crafted runs for the verifier's unit tests: input records, and the outputs a correct processor writes."""

from __future__ import annotations

from typing import Any

from bus.config import load_settings
from bus.serde import Event, SerdeContext
from bus.topics import (
    BUSINESS_EVENTS,
    CONTACT_EVENTS,
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    CUSTOMER_IDENTIFIERS,
    HANDOFF_EVENTS,
    IDENTIFIERS_OBSERVED,
)
from processors.profile.book import ProfileBook
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.verify.identity import check_identity
from processors.verify.identity_outputs import IdentityOutputs
from processors.verify.report import Report
from tests.processors.identity.support import SERIALIZER, interaction, observed, unlimited_settings

SETTINGS = load_settings(topics={"prefix": "v"})
INPUT = IDENTIFIERS_OBSERVED.name(SETTINGS.topics)
CONTACTS_IN = CONTACT_EVENTS.name(SETTINGS.topics)
HANDOFFS_IN = HANDOFF_EVENTS.name(SETTINGS.topics)
BUSINESS_IN = BUSINESS_EVENTS.name(SETTINGS.topics)
ROWS = CUSTOMER_IDENTIFIERS.name(SETTINGS.topics)
EVENTS = CUSTOMER_EVENTS.name(SETTINGS.topics)
CONTACTS = CUSTOMER_CONTACTS.name(SETTINGS.topics)


def record(topic: str, key: str | None, event: Event | None, offset: int, partition: int = 0) -> Replayed:
    raw = b"x"
    if event is not None and topic in (CONTACTS_IN, INPUT, HANDOFFS_IN, BUSINESS_IN):  # the inputs the recomputation reads
        raw = SERIALIZER(event, SerdeContext(topic=topic))
    return Replayed(topic, partition, offset, key.encode() if key is not None else None, event,
                    raw if event is not None else None)


def row(key: str, customer: str, version: int, offset: int) -> Replayed:
    kind, _, value = key.partition(":")
    return record(ROWS, key, Event("omnibus.identity.IdentifierAssignment", {
        "identifier": {"type": kind, "value": value}, "customer_id": customer, "assigned_at": 0,
        "assigned_by_event_id": None, "version": version}), offset)


def customer_event(name: str, key: str, event_id: str, offset: int, **fields: Any) -> Replayed:
    envelope = {"event_id": event_id, "occurred_at": offset, "received_at": offset, "source_system": "omnibus-identity"}
    return record(EVENTS, key, Event(f"omnibus.identity.{name}", {"envelope": envelope, **fields}), offset)


class Run:
    """Two observations linking three e-mails, one call from the first: recomputed, and correct outputs."""

    def __init__(self) -> None:
        self.inputs = [
            record(INPUT, "a", observed([("EMAIL", "a@example.org"), ("EMAIL", "b@example.org")], event_id="e1"), 0),
            record(INPUT, "c", observed([("EMAIL", "c@example.org"), ("EMAIL", "b@example.org")], event_id="e2"), 1),
        ]
        self.call = interaction([("EMAIL", "a@example.org")], minutes=3)
        self.inputs.append(record(CONTACTS_IN, "call", self.call, 0))
        self.recomputed: Recomputed = recompute(self.inputs, SETTINGS, unlimited_settings(), ProfileBook([]))
        self.keys = sorted(k for k in self.recomputed.identifiers_of["e1"] + self.recomputed.identifiers_of["e2"])

    def outputs(self) -> IdentityOutputs:
        """What a correct processor writes: customers A and C created, C merged into A, every row on A."""
        keys = sorted(set(self.keys))
        rows = [row(key, "cus_a", 2, offset) for offset, key in enumerate(keys)]
        merged = customer_event("CustomerMerged", "cus_a", "m1", 2, survivor_customer_id="cus_a",
                                merged_customer_id="cus_c", moved_identifiers=[])
        contact = record(CONTACTS, "cus_a", self.call, 0)
        return IdentityOutputs(assignments=rows, customer_events=[
            customer_event("CustomerCreated", "cus_a", "c1", 0, customer_id="cus_a"),
            customer_event("CustomerCreated", "cus_c", "c2", 1, customer_id="cus_c"), merged], contacts=[contact],
            changelog=self.changelog())

    def changelog(self) -> list[Replayed]:
        from processors.identity.graph.state import encode_state

        return [Replayed("v.identity-identity-nodes-changelog", 0, i, key.encode(), None, encode_state(state))
                for i, (key, state) in enumerate(self.recomputed.graph.store.nodes.items())]


def checked(run: Run, outputs: IdentityOutputs) -> Report:
    """The identity checks' report on ``run`` (its recomputation) and what a processor wrote (``outputs``)."""
    report = Report()
    check_identity(run.recomputed, outputs, CONTACTS_IN, report)
    return report
