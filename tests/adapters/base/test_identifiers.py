from __future__ import annotations

from datetime import UTC, datetime

from adapters.base.envelope import make_envelope
from adapters.base.identifiers import key_of, observed
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
