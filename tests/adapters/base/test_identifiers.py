from __future__ import annotations

from datetime import UTC, datetime

from adapters.base.envelope import make_envelope
from adapters.base.identifiers import OBSERVED_SCHEMA, SHOWN_LINES, DroppedTally, key_of, observed
from adapters.base.mapper import MappedRecord
from bus.identifiers.national_id import NO_SCHEME_CODE
from bus.producer import Outgoing
from bus.serde import Event
from tests.bus.identifiers.support import normaliser

ENVELOPE = make_envelope(source_system="t", channel="WEB", source_event_id="1", occurred_at=datetime(2025, 1, 1, tzinfo=UTC))


def test_keys_are_type_and_value() -> None:
    assert key_of({"type": "EMAIL", "value": "ann@example.com"}) == "EMAIL:ann@example.com"


def test_observed_carries_identifiers_rejections_and_traits_keyed_by_the_first_identifier() -> None:
    found = normaliser(default_region="FR").collect([("PHONE", "06 12 34 56 78"), ("EMAIL", "not-an-address")])
    event = observed("t.identity", ENVELOPE, found, {"given_name": "Ann"}, fallback_key="x")
    assert event is not None and event.key == "PHONE:+33612345678"
    assert event.event.value["identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
    assert [r["code"] for r in event.event.value["rejected_identifiers"]] == ["email-syntax"]
    assert event.event.value["traits"] == {"given_name": "Ann"}


def test_a_record_with_only_rejections_is_still_observed_under_the_fallback_key() -> None:
    event = observed("t.identity", ENVELOPE, normaliser().collect([("PHONE", "12")]), None, fallback_key="branch-1")
    assert event is not None and event.key == "branch-1" and event.event.value["identifiers"] == []
    assert observed("t.identity", ENVELOPE, normaliser().collect([]), None, fallback_key="x") is None


def _accepted_with_refusals(*kinds_per_record: tuple[str, ...]) -> list[tuple[int, MappedRecord]]:
    """Accepted records whose ``IdentifiersObserved`` lists refused values of ``kinds`` (each a secret value)."""
    accepted = []
    for index, kinds in enumerate(kinds_per_record):
        refused = [{"type": kind, "code": f"{kind.lower()}-invalid", "reason": "malformed"} for kind in kinds]
        value = {"envelope": {}, "identifiers": [], "traits": None, "rejected_identifiers": refused}
        accepted.append((index, MappedRecord(f"r{index}", (Outgoing("t", "k", Event(OBSERVED_SCHEMA, value)),))))
    return accepted


def test_a_file_summary_counts_dropped_identifiers_by_type_and_names_their_lines() -> None:
    """tester13 M3: ``not-a-phone;broken@`` was summed up as "1 lines, 2 events published, 0 duplicates, 0 rejected"."""
    tally = DroppedTally()
    assert tally.summary() == ""
    tally.add(_accepted_with_refusals(("PHONE", "EMAIL")), lambda index: index + 2)
    assert tally.summary() == "2 identifiers dropped (EMAIL 1 malformed, PHONE 1 malformed) on line 2"
    tally.add(_accepted_with_refusals((), ("PHONE",)), lambda index: index + 7)
    assert tally.summary() == "3 identifiers dropped (EMAIL 1 malformed, PHONE 2 malformed) on lines 2, 8"


def test_many_lines_of_dropped_identifiers_are_counted_and_unknown_lines_left_out() -> None:
    tally = DroppedTally()
    tally.add(_accepted_with_refusals(*[("EMAIL",)] * (SHOWN_LINES + 1)), lambda index: index + 2)
    assert tally.summary() == f"{SHOWN_LINES + 1} identifiers dropped (EMAIL {SHOWN_LINES + 1} malformed) on {SHOWN_LINES + 1} lines"
    offsets = DroppedTally()
    offsets.add(_accepted_with_refusals(("NATIONAL_ID",)), lambda index: None)
    assert offsets.summary() == "1 identifier dropped (NATIONAL_ID 1 malformed)"


def test_tester30_f12_a_file_summary_says_why_each_identifier_was_dropped() -> None:
    """tester30 F12: "5 identifiers dropped (CUSTOMER_NUMBER 5)" did not say whether the numbers were placeholders or
    malformed."""
    accepted = _accepted_with_refusals(("CUSTOMER_NUMBER", "EMAIL"), ("CUSTOMER_NUMBER",), ("CUSTOMER_NUMBER",))
    for _, record in accepted[:2]:
        record.events[0].event.value["rejected_identifiers"][0]["code"] = "placeholder"
    tally = DroppedTally()
    tally.add(accepted, lambda index: index + 2)
    assert tally.summary() == ("4 identifiers dropped (CUSTOMER_NUMBER 2 placeholder, CUSTOMER_NUMBER 1 malformed, "
                               "EMAIL 1 malformed) on lines 2, 3, 4")


def test_a_national_id_refused_for_want_of_a_scheme_is_counted_apart_from_a_malformed_one() -> None:
    """tester50 F16: "NATIONAL_ID 3 malformed" of valid DNIs the deployment had set no scheme for."""
    accepted = _accepted_with_refusals(("NATIONAL_ID",), ("NATIONAL_ID",), ("NATIONAL_ID",))
    for _, record in accepted[:2]:
        record.events[0].event.value["rejected_identifiers"][0]["code"] = NO_SCHEME_CODE
    tally = DroppedTally()
    tally.add(accepted, lambda index: index + 2)
    assert tally.summary() == ("3 identifiers dropped (NATIONAL_ID 2 refused by the default scheme cn.ric: none set, "
                               "see OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES, NATIONAL_ID 1 malformed) on lines 2, 3, 4")
