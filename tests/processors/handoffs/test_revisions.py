"""A ``HandoffCreated`` of a later version of the source record a case was opened from (a polled ticket row updated,
a keyed batch line changed) is the same case: a copy, or its summary and facts revised, never a second creation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from bus.serde import Event
from processors.handoffs.metrics import REVISIONS, HandoffMetrics
from processors.handoffs.revisions import OLDER_VERSION, changed_fields, is_later_version
from processors.handoffs.transitions import DUPLICATE_CREATION, IllegalTransition, apply
from tests.processors.handoffs.factories import T0, accepted, context, created
from tests.processors.handoffs.test_transitions import assert_on_the_contract, names, run

RECORD = "legacy:billing-db:poll:tickets:T-1"
H = timedelta(hours=1)


def version(at_hours: int = 0, *, record: str | None = RECORD, **changes: object) -> Event:
    """The ticket row's ``HandoffCreated`` at one version (its own event id), naming the source record."""
    event = created("legacy:billing-db:poll:tickets:T-1", T0 + at_hours * H, channel="BUSINESS_SYSTEM")
    value = {**event.value, "intake_facts": {"bill": "B-1", **({SOURCE_RECORD_FACT: record} if record else {})},
             **changes}
    return Event(event.schema, value)


def test_a_later_version_with_the_same_content_is_a_copy_not_a_dead_letter() -> None:
    state = run(version())
    again = apply(state, version(2), context())
    assert again.changed is False and again.outputs == [] and again.state is state


def test_a_changed_summary_or_fact_revises_the_case_without_a_second_creation_or_notification() -> None:
    state = run(version(), accepted("legacy:billing-db:poll:tickets:T-1", T0 + H))
    later = version(2, summary="Bill is wrong; customer sent the meter photo",
                    intake_facts={"bill": "B-2", SOURCE_RECORD_FACT: RECORD})
    transition = apply(state, later, context())
    assert_on_the_contract(transition)
    new = transition.state
    assert names(transition) == ["HandoffStatusChanged"]  # no HandoffRouted, no CustomerNotification
    assert (new.summary, new.intake_facts["bill"]) == ("Bill is wrong; customer sent the meter photo", "B-2")
    assert (new.status, new.owner, new.deadline_us, new.created_at_us) == (
        state.status, state.owner, state.deadline_us, state.created_at_us)
    assert new.version == state.version + 1 and transition.outputs[0].event.value["summary"] == new.summary
    assert transition.effects == [("revised", "summary"), ("revised", "intake_facts")]
    redelivered = apply(new, later, context())  # at least once: the same version again is a re-delivery
    assert redelivered.changed is False


def test_what_the_tracker_cannot_change_is_kept_and_counted() -> None:
    state = run(version())
    transition = apply(state, version(3, case_type="line-repair", origin_site="paris"), context())
    assert (transition.state.case_type, transition.state.origin_site, transition.state.team) == (
        state.case_type, state.origin_site, state.team)
    assert transition.effects == [("revised", "case_type"), ("revised", "origin_site")]
    before = REVISIONS.labels(field="case_type", applied="false")._value.get()
    HandoffMetrics(context().policy).applied("omnibus.handoff.HandoffCreated", state.team, transition.effects)
    assert REVISIONS.labels(field="case_type", applied="false")._value.get() == before + 1


@pytest.mark.parametrize("first, second", [(None, None), (None, RECORD), (RECORD, None),
                                           (RECORD, "legacy:billing-db:poll:tickets:T-2")])
def test_any_other_creation_under_a_held_id_is_still_a_duplicate_creation(first, second) -> None:
    """Another request under a used id (no source record, or another record's row naming the same ``handoff_id``)."""
    with pytest.raises(IllegalTransition) as error:
        apply(run(version(record=first)), version(1, record=second), context())
    assert error.value.code == DUPLICATE_CREATION


def test_identifiers_compare_as_a_set_and_the_source_record_is_read_from_the_facts() -> None:
    phone, mail = {"type": "PHONE", "value": "+33612345678"}, {"type": "EMAIL", "value": "a@example.com"}
    state = run(version(customer_identifiers=[phone, mail]))
    assert is_later_version(state, version(1).value)
    assert changed_fields(state, version(1, customer_identifiers=[mail, phone]).value) == ()
    assert changed_fields(state, version(1, customer_identifiers=[phone]).value) == ("customer_identifiers",)


def at_version(hours: int, **changes: object) -> Event:
    """The row's version ``hours`` after T0, stating its ``updated_at`` as the poller does (``SOURCE_VERSION_FACT``)."""
    facts = {"bill": "B-1", SOURCE_RECORD_FACT: RECORD, SOURCE_VERSION_FACT: (T0 + hours * H).isoformat()}
    return version(hours, **{"intake_facts": facts, **changes})


def test_an_older_version_arriving_after_a_newer_one_does_not_roll_the_case_back() -> None:
    """Reported: a refused ticket row re-driven after the source system had updated it (the newer version applied)
    put the case's summary back to the older text, counted as a revision."""
    newer = at_version(3, summary="Photo received; reading corrected")
    state = run(at_version(0), newer)
    assert state.summary == "Photo received; reading corrected"
    older = at_version(1, summary="Estimated reading")  # the re-driven version
    transition = apply(state, older, context())
    assert transition.outputs == [] and transition.effects == [("revised", OLDER_VERSION)]
    assert (transition.state.summary, transition.state.version) == (state.summary, state.version)
    assert transition.state.intake_facts[SOURCE_VERSION_FACT] == (T0 + 3 * H).isoformat()
    assert apply(transition.state, older, context()).changed is False  # again: a re-delivery, not counted twice
    before = REVISIONS.labels(field=OLDER_VERSION, applied="false")._value.get()
    HandoffMetrics(context().policy).applied("omnibus.handoff.HandoffCreated", state.team, transition.effects)
    assert REVISIONS.labels(field=OLDER_VERSION, applied="false")._value.get() == before + 1


def test_versions_that_differ_only_in_their_instant_are_copies() -> None:
    state = run(at_version(0))
    assert changed_fields(state, at_version(2).value) == ()
    assert apply(state, at_version(2), context()).changed is False


def test_a_version_changing_only_what_the_case_keeps_publishes_nothing() -> None:
    """Reported: a changed case type (counted, not applied) published a HandoffStatusChanged identical to the one
    before, one version later."""
    state, retyped = run(at_version(0)), at_version(2, case_type="line-repair")
    transition = apply(state, retyped, context())
    assert transition.outputs == [] and transition.effects == [("revised", "case_type")]
    assert transition.state.version == state.version and transition.state.case_type == state.case_type
    assert apply(transition.state, retyped, context()).changed is False  # a re-delivery is not counted again


def test_a_subscriber_reads_the_case_from_the_latest_status_change_not_the_latest_creation() -> None:
    """docs/subscribers.md, "Versions of one case": every ``HandoffCreated`` version is published, those the tracker
    refused too (an older version re-driven, a case type the case never took); the tracker's latest
    ``HandoffStatusChanged`` is the case (tester finding F12: a CRM took the re-driven old summary and the refused type
    from the latest creation)."""
    published: list[Event] = []
    state = None
    for creation in (at_version(0, summary="Sin fibra desde ayer"), at_version(3, summary="Técnico citado el lunes"),
                     at_version(1, summary="Sin servicio de fibra"),  # the older version, re-driven
                     at_version(4, summary="Técnico citado el lunes", case_type="line-repair")):
        transition = apply(state, creation, context())
        published += [creation, *(out.event for out in transition.outputs)]
        state = transition.state
    last_created = [e for e in published if e.schema.endswith("HandoffCreated")][-1]
    last_status = max((e for e in published if e.schema.endswith("HandoffStatusChanged")),
                      key=lambda e: e.value["version"])
    assert last_created.value["case_type"] == "line-repair"  # what the source said, refused
    assert (last_status.value["summary"], last_status.value["case_type"]) == (
        "Técnico citado el lunes", at_version(0).value["case_type"])  # the case
    assert (state.summary, state.case_type, state.version) == (
        last_status.value["summary"], last_status.value["case_type"], last_status.value["version"])
