"""The shared adapter contract, applied to the branch counters' upload endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from adapters.base.mapper import MappedRecord
from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import Raw, WithToken, branch_settings, sample, start_branch
from tests.adapters.contract import AdapterContract, BadSample, Deliver, Sample

TICKET = "omnibus.contact.QueueTicketChanged"
OBSERVED = "omnibus.contact.IdentifiersObserved"


def upload(*events: dict[str, Any], terminal: str = "CT-0142-03") -> dict[str, Any]:
    return {"terminal_id": terminal, "branch_id": "0142", "events": list(events)}


def transaction(**changes: Any) -> dict[str, Any]:
    event = {"event_id": "bad", "kind": "transaction", "occurred_at": "2024-05-02T10:00:00+02:00",
             "transaction": {"id": "TX-1", "type": "bill-payment", "status": "completed"}}
    return {**event, **changes}


class TestBranchContract(AdapterContract):
    source_component = "adapter.branch"
    samples = [
        Sample("ticket issued at the machine, customer gave a phone", sample("ticket_issued_machine"),
               [(TICKET, "0142"), (OBSERVED, "PHONE:+33612345678")]),
        Sample("ticket called to a counter", sample("ticket_called_counter"), [(TICKET, "0142")]),
        Sample("ticket served", sample("ticket_served_counter"), [(TICKET, "0142")]),
        Sample("no-show", sample("no_show_counter"), [(TICKET, "0142")]),
        Sample("transaction with identifiers", sample("transaction_with_identifiers"),
               [("omnibus.contact.CounterTransaction", "0142"), ("omnibus.contact.InteractionRecorded", "0142"),
                (OBSERVED, "ACCOUNT:ACC-0042-7781")]),
        Sample("failed transaction, no identifiers", sample("transaction_failed_anonymous"),
               [("omnibus.contact.CounterTransaction", "0142"), ("omnibus.contact.InteractionRecorded", "0142")]),
    ]
    bad_samples = [
        BadSample("unknown kind", upload(transaction(kind="coffee_served")), "unknown event kind"),
        BadSample("no event id", upload({k: v for k, v in transaction().items() if k != "event_id"}), "missing 'event_id'"),
        BadSample("local time without offset", upload(transaction(occurred_at="2024-05-02T10:00:00")), "UTC offset"),
        BadSample("called ticket without counter", upload({
            "event_id": "bad-2", "kind": "ticket_called", "occurred_at": "2024-05-02T10:00:00+02:00",
            "ticket": {"number": "A1", "service_type": "payments", "issued_at": "2024-05-02T09:50:00+02:00"}}),
            "ticket.counter_id"),
        BadSample("bad status", upload(transaction(transaction={"id": "T", "type": "x", "status": "maybe"})),
                  "transaction.status"),
        # tester18 F9: every field at fault named at once, at the event's level and within its section
        BadSample("no event id, kind nor time", upload({"transaction": {"id": "T"}}),
                  "missing 'event_id'; unknown event kind None: expected one of"),
        BadSample("ticket without its fields", upload({
            "event_id": "bad-3", "kind": "ticket_called", "occurred_at": "2024-05-02T10:00:00+02:00", "ticket": {}}),
                  "missing 'ticket.number'; missing 'ticket.issued_at'; missing 'ticket.counter_id'; "
                  "missing 'ticket.service_type'"),
        # tester19 F20: the section's faults named with the event's
        BadSample("local time and no ticket", upload({
            "event_id": "bad-4", "kind": "ticket_served", "occurred_at": "2024-05-02T10:00:00"}),
                  "'occurred_at' must carry a UTC offset (terminals may be offline across time zones); missing 'ticket'"),
        BadSample("not JSON", Raw(b'{"terminal_id": "CT-0142-03", "events": ['), "not valid JSON", mapper_rejects=False),
        BadSample("no events", Raw(b'{"terminal_id": "CT-0142-03", "branch_id": "0142", "events": []}'),
                  "non-empty array", mapper_rejects=False),
        BadSample("unknown token", WithToken("tok-stolen", sample("no_show_counter")), "unknown terminal token",
                  mapper_rejects=False, dead_lettered=False),
        BadSample("another terminal's token", WithToken("tok-qm-0142-1-9c1e", sample("no_show_counter")),
                  "does not belong", mapper_rejects=False, dead_lettered=False),
    ]

    @pytest.fixture
    def mapper(self) -> Callable[[Any], MappedRecord]:
        mapper = CounterMapper(branch_settings(), TopicSettings())

        def map_upload(native: dict[str, Any]) -> MappedRecord:
            (event,) = native["events"]
            return mapper(event, terminal_id=native["terminal_id"], branch_id=native["branch_id"])

        return map_upload

    @pytest.fixture
    async def adapter(self) -> AsyncIterator[Callable[..., Any]]:
        async with AsyncExitStack() as stack:
            async def start(settings: Any, **overrides: Any) -> Deliver:
                return (await start_branch(stack, settings, **overrides)).deliver

            yield start
