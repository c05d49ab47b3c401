"""verify accepts a contact keyed by the housemate its caller's traits fit (``graph/seek.py``): a new user's calls and
counter visits on a family phone, rightly filed under Paul while Marie keeps the phone, all failed "each contact is
keyed by its identifiers' customer", and an operator could no longer tell a real failure from this one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from bus.serde import Event
from processors.replay import Replayed
from processors.verify.identity import check_identity
from processors.verify.report import Report
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_seek import records as household_call
from tests.processors.verify.support import CONTACTS_IN, INPUT, record
from tests.processors.verify.test_identity_alias import run, written


def _read(events: Mapping[str, Iterable[tuple[Event, str]]], order: tuple[str, ...]) -> list[Replayed]:
    """``events`` (name -> its events and their topics' suffixes) as verify reads them, the names in ``order``."""
    found: list[Replayed] = []
    for name in order:
        for event, topic in events[name]:
            topic = INPUT if topic == "identity.observed.v1" else CONTACTS_IN
            found.append(record(topic, "k", event, sum(r.topic == topic for r in found)))
    return found


def _verified(records: list[Replayed]) -> Report:
    """The identity checks on what a processor that took ``records`` wrote."""
    report = Report()
    check_identity(run(records), written(run(records), records), CONTACTS_IN, report)
    return report


def as_read(order: tuple[str, ...], caller: dict[str, str]) -> list[Replayed]:
    return _read({name: [pair] for name, pair in household_call(caller).items()}, order)


@pytest.mark.parametrize("caller", [BOB, ANN], ids=["the-housemates-call", "the-keepers-call"])
def test_a_call_under_the_housemate_its_traits_fit_passes_verify(caller: dict[str, str]) -> None:
    report = _verified(as_read(("ann", "bob", "call", "ivr"), caller))
    assert report.ok, report.lines()


def _twins_read(order: tuple[str, ...], caller: str) -> list[Replayed]:
    from tests.processors.identity.graph.test_seek_twins import contact, household

    events = {**household("tom", "tim", without_phone=(caller,)), **contact(caller)}
    return _read({name: [pair] for name, pair in events.items()}, order)


@pytest.mark.parametrize("order", [("tom", "tim", "ivr", "call"), ("tom", "ivr", "call", "tim"),
                                   ("ivr", "call", "tom", "tim")], ids=lambda order: "-".join(order))
def test_a_call_that_reached_its_caller_by_blocking_passes_verify(order: tuple[str, ...]) -> None:
    """tester10 #2: Tim's records never carried the family phone Tom keeps; his call made a customer of its own,
    noted on the phone and merged by blocking into Tim's (``seek.own_customer``): verify accepts its key on
    ``customer.contacts`` as a housemate's. (Passes on the old code too, where the call was on no customer: verify
    expects only the contacts its own replay resolves, so a contact that both runs leave unresolved is not flagged.)"""
    report = _verified(_twins_read(order, "tim"))
    assert report.ok, report.lines()


def versions_read(order: tuple[str, ...]) -> list[Replayed]:
    """The housemates' records and an updated CTR's versions (``test_contact_versions.records``), read in ``order``."""
    from tests.processors.identity.graph.test_contact_versions import records as versions_of_a_call

    return _read(versions_of_a_call(), order)


@pytest.mark.parametrize("order", [("ann", "bob", "v1", "v2"), ("ann", "bob", "v2", "v1"), ("v1", "ann", "bob", "v2")],
                         ids=lambda order: "-".join(order))
def test_f13_an_updated_ctr_moved_to_the_housemate_passes_verify(order: tuple[str, ...]) -> None:
    """Issue #8, F13: the first version of a call from the family phone (no IVR data) on the keeper, its update with
    Bob's IVR traits on Bob; identity moves the first version to Bob (``graph/versions.py``): verify holds."""
    report = _verified(versions_read(order))
    assert report.ok, report.lines()
