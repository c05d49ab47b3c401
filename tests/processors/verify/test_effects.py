"""Copies of an effect: one event id, one content; one decision, one event id."""

from __future__ import annotations

from processors.verify.effects import check_copies, check_one_id_per_decision
from processors.verify.report import Report
from processors.verify.run import customer_decision
from tests.processors.verify.support import customer_event


def test_a_copy_published_later_is_a_duplicate_not_a_conflict() -> None:
    report = Report()
    first = customer_event("CustomerCreated", "cus_a", "c1", 1, customer_id="cus_a")
    again = customer_event("CustomerCreated", "cus_a", "c1", 9, customer_id="cus_a")  # other publish instants
    assert check_copies("customer.events", [first, again], report).ok
    assert report.figures == {"duplicates": 1, "conflicting": 0}


def test_copies_that_differ_in_content_or_key_conflict() -> None:
    report = Report()
    check = check_copies("customer.events", [
        customer_event("CustomerCreated", "cus_a", "c1", 1, customer_id="cus_a"),
        customer_event("CustomerCreated", "cus_a", "c1", 2, customer_id="cus_b"),
        customer_event("CustomerCreated", "cus_z", "c1", 3, customer_id="cus_a"),
    ], report)
    assert len(check.failures) == 2 and report.figures["conflicting"] == 2
    assert "customer_id" in check.failures[0] and "keys" in check.failures[1]


def test_a_key_resolved_through_a_merge_is_the_same_effect() -> None:
    records = [customer_event("CustomerCreated", "cus_c", "x", 1, customer_id="cus_a"),
               customer_event("CustomerCreated", "cus_a", "x", 2, customer_id="cus_a")]
    assert not check_copies("customer.contacts", records, Report()).ok
    assert check_copies("customer.contacts", records, Report(), lambda key: {"cus_c": "cus_a"}.get(key, key)).ok


def test_one_decision_announced_under_two_event_ids_fails() -> None:
    report = Report()
    records = [customer_event("CustomerMerged", "cus_a", "m1", 1, survivor_customer_id="cus_a",
                              merged_customer_id="cus_c"),
               customer_event("CustomerMerged", "cus_a", "m2", 2, survivor_customer_id="cus_a",
                              merged_customer_id="cus_c"),
               customer_event("CustomerCreated", "cus_a", "c1", 0, customer_id="cus_a")]
    check = check_one_id_per_decision("customer.events", records, report, customer_decision)
    assert check.checked == 2 and check.failures == ["customer cus_c merged away announced under 2 event ids"]
