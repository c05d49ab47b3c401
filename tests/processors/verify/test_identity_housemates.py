"""verify accepts a contact keyed by the housemate its caller's traits fit (``graph/seek.py``): a new user's calls and
counter visits on a family phone, rightly filed under Paul while Marie keeps the phone, all failed "each contact is
keyed by its identifiers' customer", and an operator could no longer tell a real failure from this one."""

from __future__ import annotations

import pytest

from processors.replay import Replayed
from processors.verify.identity import check_identity
from processors.verify.report import Report
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_seek import records as household_call
from tests.processors.verify.support import CONTACTS_IN, INPUT, record
from tests.processors.verify.test_identity_alias import run, written


def as_read(order: tuple[str, ...], caller: dict[str, str]) -> list[Replayed]:
    events = household_call(caller)
    found: list[Replayed] = []
    for name in order:
        event, topic = events[name]
        topic = INPUT if topic == "identity.observed.v1" else CONTACTS_IN
        found.append(record(topic, "k", event, sum(r.topic == topic for r in found)))
    return found


@pytest.mark.parametrize("caller", [BOB, ANN], ids=["the-housemates-call", "the-keepers-call"])
def test_a_call_under_the_housemate_its_traits_fit_passes_verify(caller: dict[str, str]) -> None:
    records = as_read(("ann", "bob", "call", "ivr"), caller)
    running = run(records)
    report = Report()
    check_identity(run(records), written(running, records), CONTACTS_IN, report)
    assert report.ok, report.lines()
