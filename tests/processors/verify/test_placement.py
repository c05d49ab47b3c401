"""Identity's placement against the tracker's customer and within one contact (tester20 F4: verify said "all checks
hold" with Bob's call tracked on Alice, the phone keeper, and one call's events on both)."""

from __future__ import annotations

from typing import Any

import pytest

from bus.serde import Event
from bus.topics import MOVED_FROM_HEADER
from processors.replay import Replayed
from processors.verify.placement import (
    ELSEWHERE,
    HANDOFF_CUSTOMER,
    HANDOFF_WITH_CONTACT,
    NO_CUSTOMER,
    ONE_CONTACT,
    SPREAD,
    announced_customers,
    check_handoff_customers,
    check_handoffs_with_their_contact,
    check_one_customer_per_contact,
    read_placements,
)
from processors.verify.report import Report

CONTACTS = "v.customer.contacts.v1"
HANDOFFS = "v.handoff.events.v1"
ALICE, BOB = "cus_alice", "cus_bob"  # the phone keeper, the housemate who called
CALL = "corr-call-bob-dob"  # the call's correlation id, shared by its events
HANDOFF = "call:amazon-connect:t20-ctr-bob-dob"
CALL_ID = "t20-ctr-bob-dob"  # the call's screen-pop id (its CTR's ContactId)
ID_FIELDS_OF_CALL = {"omnibus.contact.CallCompleted": {"contact_id": CALL_ID},
                     "omnibus.contact.InteractionRecorded": {"interaction_id": CALL_ID}}


def placed(customer: str, schema: str, event_id: str, offset: int, *, correlation: str = CALL, at_ms: int = 0,
           moved_from: str | None = None, cause: str | None = None, **fields: Any) -> Replayed:
    envelope = {"event_id": event_id, "correlation_id": correlation, "causation_id": cause}
    fields = {**ID_FIELDS_OF_CALL.get(schema, {}), **fields}
    headers = ((MOVED_FROM_HEADER, moved_from.encode()),) if moved_from else ()
    return Replayed(CONTACTS, 0, offset, customer.encode(), Event(schema, {"envelope": envelope, **fields}), b"x",
                    headers, at_ms)


def call(handoff_on: str, interaction_on: str, call_on: str | None = None) -> list[Replayed]:
    """One call: its CallCompleted, InteractionRecorded and the HandoffCreated it opened, each where identity put it."""
    return [placed(call_on or handoff_on, "omnibus.contact.CallCompleted", "e-call", 0),
            placed(interaction_on, "omnibus.contact.InteractionRecorded", "e-interaction", 1),
            placed(handoff_on, "omnibus.handoff.HandoffCreated", "e-handoff", 2, handoff_id=HANDOFF)]


def merged(merged_id: str, survivor: str, offset: int) -> Replayed:
    return placed(merged_id, "omnibus.identity.CustomerMerged", f"m-{merged_id}", offset, correlation="m",
                  merged_customer_id=merged_id, survivor_customer_id=survivor)


def tracker(customer: str | None, status: str = "ROUTED") -> dict[str, dict[str, Any]]:
    return {HANDOFF: {"customer_id": customer, "status": status}}


def test_a_call_placed_on_the_housemate_and_tracked_on_him_holds() -> None:
    report = Report()
    placements = read_placements(call(BOB, BOB))
    check_one_customer_per_contact(placements, report)
    check_handoff_customers(placements, tracker(BOB), {HANDOFF: BOB}, report)
    assert report.ok, report.lines()
    assert report.check(ONE_CONTACT).checked == 1 and report.check(HANDOFF_CUSTOMER).checked == 1
    assert report.figures == {SPREAD: 0, ELSEWHERE: 0}


def test_tester20_f4_the_call_on_two_customers_and_the_handoff_tracked_on_the_keeper_fail() -> None:
    """The sample: CallCompleted and HandoffCreated on Alice, InteractionRecorded on Bob; the tracker names Alice
    while identity placed the handoff on Bob (a later placement)."""
    records = [*call(ALICE, BOB), placed(BOB, "omnibus.handoff.HandoffCreated", "e-handoff", 3, at_ms=5,
                                         handoff_id=HANDOFF)]
    report = Report()
    placements = read_placements(records)
    check_one_customer_per_contact(placements, report)
    check_handoff_customers(placements, tracker(ALICE), {HANDOFF: ALICE}, report)
    assert not report.ok
    # tester24 F7: each failure names the customer ids involved, which the operator is entitled to
    assert report.check(ONE_CONTACT).failures == [f"contact {CALL}: 3 events on 2 customers (CallCompleted on "
                                                  f"{ALICE}; HandoffCreated, InteractionRecorded on {BOB})"]
    assert report.check(HANDOFF_CUSTOMER).failures == [
        f"handoff {HANDOFF} (routed): identity placed it on {BOB}, the tracker's table and its latest "
        f"HandoffRouted/HandoffStatusChanged name(s) {ALICE}"]
    assert report.figures == {SPREAD: 1, ELSEWHERE: 1}
    # tester24 F11: --list-figures lists what each figure counts
    assert report.items == {SPREAD: report.check(ONE_CONTACT).failures,
                            ELSEWHERE: report.check(HANDOFF_CUSTOMER).failures}


def test_the_tracker_naming_no_customer_or_announcing_another_fails() -> None:
    placements = read_placements(call(BOB, BOB))
    for table, announced in ((tracker(None), {}), (tracker(BOB), {HANDOFF: ALICE})):
        report = Report()
        check_handoff_customers(placements, table, announced, report)
        assert report.figures == {ELSEWHERE: 1}, (table, announced)


def test_a_move_wins_over_the_original_and_merges_are_followed() -> None:
    """An operator's split re-published the call's events under Bob (moved copies, their originals as causes): they
    stand there, whatever the timestamps; a customer merged into Bob is Bob."""
    moved = [placed(BOB, "omnibus.contact.CallCompleted", "copy-call", 3, moved_from=ALICE, cause="e-call"),
             placed("cus_new", "omnibus.contact.InteractionRecorded", "copy-int", 4, moved_from=ALICE,
                    cause="e-interaction"),
             placed(BOB, "omnibus.handoff.HandoffCreated", "copy-handoff", 5, moved_from=ALICE, cause="e-handoff",
                    handoff_id=HANDOFF), merged("cus_new", BOB, 6)]
    report = Report()
    placements = read_placements([*moved, *call(ALICE, ALICE)])  # the originals read after their copies
    check_one_customer_per_contact(placements, report)
    check_handoff_customers(placements, tracker("cus_new"), {}, report)
    assert report.ok, report.lines()


def moved_call(handoff_moved: bool) -> list[Replayed]:
    """Identity moved the call's events from Alice to Bob (an operator's move-contact, a split, a claim, a later
    version, the late owner), and the HandoffCreated opened during it with them if ``handoff_moved``."""
    records = [placed(ALICE, "omnibus.contact.CallCompleted", "e-call", 0),
               placed(ALICE, "omnibus.contact.InteractionRecorded", "e-interaction", 1),
               placed(ALICE, "omnibus.handoff.HandoffCreated", "e-handoff", 2, handoff_id=HANDOFF,
                      origin_interaction_id=CALL_ID),
               placed(BOB, "omnibus.contact.CallCompleted", "copy-call", 3, moved_from=ALICE, cause="e-call"),
               placed(BOB, "omnibus.contact.InteractionRecorded", "copy-int", 4, moved_from=ALICE,
                      cause="e-interaction")]
    if handoff_moved:
        records.append(placed(BOB, "omnibus.handoff.HandoffCreated", "copy-handoff", 5, moved_from=ALICE,
                              cause="e-handoff", handoff_id=HANDOFF, origin_interaction_id=CALL_ID))
    return records


def check_all(records: list[Replayed], table: dict[str, dict[str, Any]]) -> Report:
    report = Report()
    placements = read_placements(records)
    check_one_customer_per_contact(placements, report)
    check_handoffs_with_their_contact(placements, report)
    check_handoff_customers(placements, table, {}, report)
    return report


def test_a_moved_call_takes_the_handoff_opened_during_it_and_the_tracker_follows() -> None:
    """Identity moved the call and the HandoffCreated opened during it to Bob: every check holds with the tracker on
    Bob; the handoff check fails with it on Alice."""
    report = check_all(moved_call(handoff_moved=True), tracker(BOB))
    assert report.ok and report.figures == {SPREAD: 0, ELSEWHERE: 0}, report.lines()
    report = check_all(moved_call(handoff_moved=True), tracker(ALICE))
    assert report.figures == {SPREAD: 0, ELSEWHERE: 1}, report.lines()


def test_a_handoff_left_on_the_customer_its_call_moved_off_fails() -> None:
    """Movehoff's note: identity moved the call to Bob and left its HandoffCreated on Alice (her screen pop showed
    his dispute; KPI readers counted it on her): the placement checks fail, though the tracker follows the call."""
    report = check_all(moved_call(handoff_moved=False), tracker(BOB))
    failed = {check.name for check in report.checks if check.failures}
    assert failed == {HANDOFF_WITH_CONTACT, ONE_CONTACT}, report.lines()
    (failure,) = next(c for c in report.checks if c.name == HANDOFF_WITH_CONTACT).failures
    assert failure == f"HandoffCreated e-handoff: on {ALICE}, the contact {CALL_ID} it was opened during on {BOB}"


def test_a_handoff_whose_contact_was_not_read_or_of_no_contact_is_not_checked() -> None:
    records = [placed(ALICE, "omnibus.handoff.HandoffCreated", "e-h1", 0, handoff_id="h1", origin_interaction_id="x"),
               placed(ALICE, "omnibus.handoff.HandoffCreated", "e-h2", 1, handoff_id="h2", origin_interaction_id=None)]
    report = Report()
    check = check_handoffs_with_their_contact(read_placements(records), report)
    assert report.ok and check.checked == 0


@pytest.mark.parametrize("status", ["RESOLVED", "CLOSED"])
def test_a_resolved_or_closed_handoff_elsewhere_fails_naming_its_status(status: str) -> None:
    """tester25 F1: the tracker follows identity's placement whatever the status, so a finished case on another
    customer is a failure (it was a note saying "closed" for a resolved case), worded with the case's own status."""
    report = Report()
    check_handoff_customers(read_placements(call(BOB, BOB)), tracker(ALICE, status), {HANDOFF: ALICE}, report)
    assert not report.ok and report.figures == {ELSEWHERE: 1} and report.notes == []
    assert report.check(HANDOFF_CUSTOMER).failures == [
        f"handoff {HANDOFF} ({status.lower()}): identity placed it on {BOB}, the tracker's table and its latest "
        f"HandoffRouted/HandoffStatusChanged name(s) {ALICE}"]


def test_a_side_naming_no_customer_says_so_not_none() -> None:
    """tester25 F1's demo handoff: resolved with ``customer_id: null`` everywhere; verify printed Python's ``None``."""
    report = Report()
    check_handoff_customers(read_placements(call(BOB, BOB)), tracker(None, "RESOLVED"), {HANDOFF: None}, report)
    (failure,) = report.check(HANDOFF_CUSTOMER).failures
    assert failure == (f"handoff {HANDOFF} (resolved): identity placed it on {BOB}, the tracker's table and its "
                       f"latest HandoffRouted/HandoffStatusChanged name(s) {NO_CUSTOMER}")
    assert "None" not in failure


def test_a_handoff_identity_never_placed_is_not_checked() -> None:
    report = Report()
    check_handoff_customers(read_placements([]), tracker(ALICE), {}, report)
    assert report.ok and report.check(HANDOFF_CUSTOMER).checked == 0


def test_the_latest_routed_or_status_changed_names_the_announced_customer() -> None:
    def out(offset: int, schema: str, customer: str | None) -> Replayed:
        return Replayed(HANDOFFS, 0, offset, HANDOFF.encode(), Event(f"omnibus.handoff.{schema}", {
            "envelope": {"event_id": f"o{offset}"}, "handoff_id": HANDOFF, "customer_id": customer}), b"x")

    outputs = [out(0, "HandoffRouted", None), out(1, "HandoffStatusChanged", ALICE), out(2, "HandoffBreached", BOB)]
    assert announced_customers(outputs) == {HANDOFF: ALICE}


@pytest.mark.parametrize("order", [("ann", "bob", "v1", "v2"), ("v1", "ann", "bob", "v2")], ids="-".join)
def test_identity_keeps_an_updated_ctr_on_one_customer_and_without_its_move_verify_fails(
        order: tuple[str, ...]) -> None:
    """Issue #8 F13 through identity's graph: the call's first version (no IVR data) on the phone keeper, its update
    with Bob's IVR traits on Bob; identity moves the first version's events to Bob (copies named by their cause, without
    ``MOVED_FROM_HEADER``): one customer. Without the copies (a processor before ``graph/versions.py``) the call is on two."""
    from tests.processors.verify.test_contacts_housemates import versions_read
    from tests.processors.verify.test_identity_alias import run, written

    found = versions_read(order)
    contacts = written(run(found), found).contacts
    report = Report()
    check_one_customer_per_contact(read_placements(contacts), report)
    assert report.ok and report.check(ONE_CONTACT).checked == 1, report.lines()
    inputs = {r.event.value["envelope"]["event_id"] for r in found if r.event is not None}
    originals = [r for r in contacts if r.event is not None and r.event.value["envelope"]["event_id"] in inputs]
    assert len(originals) < len(contacts)  # identity moved the first version (copies, no header: a contact move's)
    report = Report()
    check_one_customer_per_contact(read_placements(originals), report)
    assert report.figures == {SPREAD: 1}, report.lines()
