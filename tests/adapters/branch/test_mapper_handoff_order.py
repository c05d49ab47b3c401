"""An older counter upload re-driven after a newer one leaves the case as the newer made it.

A corrected upload of a transaction is a later version of its case (``test_mapper_handoff_versions``). Its creation
now states its version, the event's ``occurred_at`` (``intake_facts.source_version``, ISO 8601 UTC:
``adapters.branch.mapper.transaction_version``), as a polled row states its ``updated_at``: the tracker keeps the
newer (``processors.handoffs.revisions``). Reported: the counter's creation stated none, so a re-drive of the older
upload after the newer one put the case's summary back to the older text. The record carries no time it was
corrected at, so two uploads stating one ``occurred_at`` are applied in the order they arrive, as before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.branch.ingress import BRANCH_HEADER, TERMINAL_HEADER
from adapters.branch.mapper import CounterMapper
from adapters.branch.redrive import remapped
from bus.config import TopicSettings
from bus.handoff_revisions import SOURCE_VERSION_FACT
from bus.serde import Event
from processors.handoffs.revisions import OLDER_VERSION
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import apply
from tests.adapters.branch.support import branch_settings
from tests.adapters.branch.test_mapper_handoff_versions import creation, upload
from tests.processors.handoffs.factories import context

CORRECTED = "0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55"
FIRST_SUMMARY, CORRECTED_SUMMARY = "Reading 4 times too high", "Reading 40 times too high"


def at(occurred_at: str, event_id: str = "d4fab2a5-8e6c-4b1d-8f3a-5b7c9d1e3f44", **handoff: Any) -> Event:
    """The creation of an upload of the sample transaction, sent with ``occurred_at``."""
    sent = upload(event_id, **handoff)
    sent["events"][0]["occurred_at"] = occurred_at
    return creation(sent)


def first() -> Event:
    return at("2026-12-04T09:37:55+01:00")


def corrected() -> Event:
    """The upload corrected at the terminal an hour later (its ``occurred_at`` the time it was corrected)."""
    return at("2026-12-04T10:37:55+01:00", CORRECTED, summary=CORRECTED_SUMMARY)


def run(*events: Event) -> HandoffState:
    state = None
    for event in events:
        state = apply(state, event, context()).state
    assert state is not None
    return state


def test_the_creation_states_its_occurred_at_in_utc_as_its_version() -> None:
    assert first().value["intake_facts"][SOURCE_VERSION_FACT] == "2026-12-04T08:37:55+00:00"


def test_in_order_the_correction_is_applied() -> None:
    state = run(first(), corrected())
    assert state.summary == CORRECTED_SUMMARY
    assert state.intake_facts[SOURCE_VERSION_FACT] == "2026-12-04T09:37:55+00:00"


def test_an_older_upload_re_driven_after_the_correction_changes_nothing() -> None:
    """The reported case: an upload between the first and the last (refused, re-driven later) arrives after the
    last."""
    state = run(first(), corrected())
    between = at("2026-12-04T10:07:55+01:00", "5c2d9e1a-7b3f-4e8d-a1c6-2f9e8d7c6b55", summary="Reading 10 times")
    transition = apply(state, between, context())
    assert transition.outputs == [] and transition.effects == [("revised", OLDER_VERSION)]
    assert (transition.state.summary, transition.state.version) == (CORRECTED_SUMMARY, state.version)
    assert apply(transition.state, between, context()).changed is False  # again: a re-delivery, not counted twice


def test_the_correction_arriving_first_is_kept_when_the_older_upload_opens_the_case_later() -> None:
    """Both orders: the correction opened the case (the first upload was refused), then the first is re-driven."""
    state = run(corrected(), first())
    assert state.summary == CORRECTED_SUMMARY
    assert state.intake_facts[SOURCE_VERSION_FACT] == "2026-12-04T09:37:55+00:00"


def test_the_same_version_twice_is_applied_in_arrival_order() -> None:
    """A correction that keeps the transaction's ``occurred_at`` (the record has no time it was corrected at) is
    applied as before, not refused as older; the same upload again is a copy."""
    same_time = at("2026-12-04T09:37:55+01:00", CORRECTED, summary=CORRECTED_SUMMARY)
    state = run(first(), same_time)
    assert state.summary == CORRECTED_SUMMARY
    again = apply(state, same_time, context())
    assert again.changed is False and again.outputs == []


def test_a_case_opened_before_the_upgrade_takes_a_correction_and_then_keeps_it() -> None:
    """A case an adapter of the previous version opened states no version: the correction is applied whatever its
    time (as before); from then on the case holds the correction's version, so an older upload re-driven (mapped
    again by this adapter, with its version) changes nothing."""
    old = first()
    facts = {k: v for k, v in old.value["intake_facts"].items() if k != SOURCE_VERSION_FACT}
    state = run(Event(old.schema, {**old.value, "intake_facts": facts}), corrected())
    assert state.summary == CORRECTED_SUMMARY
    between = at("2026-12-04T10:07:55+01:00", "5c2d9e1a-7b3f-4e8d-a1c6-2f9e8d7c6b55", summary="Reading 10 times")
    transition = apply(state, between, context())
    assert transition.effects == [("revised", OLDER_VERSION)] and transition.state.summary == CORRECTED_SUMMARY


def test_a_version_stated_by_the_case_only_does_not_refuse_a_creation_without_one() -> None:
    """An upload the previous version published (no version), delivered after the case took a versioned one, is
    compared as before: applied, since nothing orders it."""
    old = corrected()
    facts = {k: v for k, v in old.value["intake_facts"].items() if k != SOURCE_VERSION_FACT}
    state = run(first())
    transition = apply(state, Event(old.schema, {**old.value, "intake_facts": facts}), context())
    assert transition.state.summary == CORRECTED_SUMMARY


def test_a_re_driven_upload_states_the_version_it_was_sent_with_not_the_time_it_was_re_driven() -> None:
    """``omnibus deadletters redrive`` maps the refused upload again (``adapters.branch.redrive``) with the time its
    dead letter was written: the version is still the event's ``occurred_at``, older than the correction's."""
    sent = upload()
    sent["events"][0]["occurred_at"] = "2026-12-04T09:37:55+01:00"
    mapper = CounterMapper(branch_settings(), TopicSettings())
    events = remapped(json.dumps(sent["events"][0]).encode(),
                      {TERMINAL_HEADER: sent["terminal_id"], BRANCH_HEADER: sent["branch_id"]},
                      datetime(2026, 12, 4, 18, 0, tzinfo=UTC), mapper, branch_settings())
    (created,) = [e.event for e in events if e.event.schema == "omnibus.handoff.HandoffCreated"]
    assert created.value["intake_facts"][SOURCE_VERSION_FACT] == "2026-12-04T08:37:55+00:00"
    state = run(corrected())  # the correction opened the case: the first upload was refused
    assert apply(state, created, context()).effects == [("revised", OLDER_VERSION)]
