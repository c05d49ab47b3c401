"""The identity checks on crafted runs: each passes on correct outputs and fails when its property is broken."""

from __future__ import annotations

from processors.verify.identity import check_identity
from processors.verify.report import Report
from tests.processors.identity.support import observed
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, INPUT, Run, record, row


def checked(run: Run, outputs) -> Report:  # type: ignore[no-untyped-def]
    report = Report()
    check_identity(run.recomputed, outputs, CONTACTS_IN, report)
    return report


def test_correct_outputs_pass_every_check() -> None:
    run = Run()
    report = checked(run, run.outputs())
    assert report.ok, report.lines()
    assert report.figures == {"events": 3, "lost": 0, "stale rows": 0}
    assert report.check("identity: every identifier of an accepted input is assigned").checked == 3


def test_a_missing_row_is_lost() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.assignments = outputs.assignments[1:]
    report = checked(run, outputs)
    assert len(report.check("identity: every identifier of an accepted input is assigned").failures) == 1
    assert report.figures["lost"] == 1
    assert "a@example.org" not in " ".join(report.failures())  # identifiers are masked in the report


def test_a_newer_row_naming_a_merged_away_customer_is_stale_an_older_one_is_not() -> None:
    run = Run()
    outputs = run.outputs()
    key = outputs.assignments[0].key.decode()  # type: ignore[union-attr]
    outputs.assignments.append(row(key, "cus_c", 1, 10))  # older version, written last: the reader ignores it
    assert checked(run, outputs).ok
    outputs.assignments.append(row(key, "cus_c", 3, 11))
    report = checked(run, outputs)
    assert report.figures["stale rows"] == 1
    assert report.check("identity: identifiers are grouped as the recomputation groups them").failures


def test_identifiers_split_over_two_customers_are_not_grouped_as_recomputed() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.assignments[0] = row(outputs.assignments[0].key.decode(), "cus_z", 2, 0)  # type: ignore[union-attr]
    report = checked(run, outputs)
    assert report.check("identity: identifiers are grouped as the recomputation groups them").failures == [
        "customer of EMAIL:a***@example.org: 3 identifier(s) recomputed, on the topic spread over 2 customer(s) "
        "with 0 other identifier(s)"]


def test_a_contact_missing_or_under_another_customer_fails() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.contacts = []
    report = checked(run, outputs)
    assert len(report.check("identity: every resolved contact is on customer.contacts").failures) == 1
    outputs.contacts = [record(CONTACTS, "cus_other", run.call, 0)]
    report = checked(run, outputs)
    assert len(report.check("identity: each contact is keyed by its identifiers' customer or a housemate").failures) == 1
    outputs.contacts = [record(CONTACTS, "cus_c", run.call, 0)]  # the merged-away key leads to the survivor
    assert checked(run, outputs).ok


def test_a_table_that_differs_from_the_recomputation_fails() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.changelog = [r for r in outputs.changelog if not r.key.startswith(b"cus_")]  # type: ignore[union-attr]
    assert not checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok


def test_a_late_changelog_write_of_a_worker_that_lost_the_partition_is_read_as_a_restore_reads_it() -> None:
    from dataclasses import replace

    from bus.fencing import fence_headers
    from processors.identity.graph.state import CustomerState, encode_state

    run = Run()
    outputs = run.outputs()
    good = [replace(r, headers=fence_headers(2)) for r in outputs.changelog]
    last = good[-1].offset
    stale = [replace(r, offset=last + 1 + i, headers=fence_headers(1), value=encode_state(CustomerState()))
             for i, r in enumerate(good) if r.key.startswith(b"cus_")]  # type: ignore[union-attr]
    outputs.changelog = good + stale  # the paused worker's records land after the new owner's
    assert checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok
    outputs.changelog = good + [replace(r, headers=fence_headers(3)) for r in stale]  # a newer owner's: they count
    assert not checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok


def test_an_input_the_intake_refuses_must_be_dead_lettered() -> None:
    run = Run()
    poison = record(INPUT, "p", observed([("EMAIL", "d@example.org")], event_id="e9"), 5)
    del poison.event.value["envelope"]  # type: ignore[union-attr]
    from processors.profile.book import ProfileBook
    from processors.replay.identity import recompute
    from tests.processors.identity.support import unlimited_settings
    from tests.processors.verify.support import SETTINGS

    run.recomputed = recompute([*run.inputs, poison], SETTINGS, unlimited_settings(), ProfileBook([]))
    outputs = run.outputs()
    assert len(checked(run, outputs).check("identity: inputs the intake refuses are dead-lettered").failures) == 1
    outputs.dead_lettered = {(INPUT, 0, 5)}
    assert checked(run, outputs).ok
