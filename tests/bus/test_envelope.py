"""One envelope builder, one id scheme: ids are pinned, since a changed id breaks every subscriber's dedupe."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.envelope import (
    HANDOFF_OUTPUT_IDS,
    IDENTITY_DECISION_IDS,
    KPI_AGGREGATE_IDS,
    SOURCE_EVENT_IDS,
    envelope,
    event_id,
    source_envelope,
    step_id,
)

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_ids_are_the_ones_every_earlier_release_produced() -> None:
    assert event_id("web", "m-1", "x") == "09d4e39d-a66a-5fc9-8f7c-87126ba9a2f2"
    assert event_id("call_center", "c-9") == "bb0b4a36-840f-5bef-b0d1-ab1770861e90"
    assert IDENTITY_DECISION_IDS.derive("merged", "e1", "c1", "c2") == "17496543-caad-51c0-8135-49c3d33f5b27"
    assert HANDOFF_OUTPUT_IDS.derive("h-1", "c0:t1:w50") == "3e1efb58-472c-5f0f-b2bb-8682b3185b29"
    assert KPI_AGGREGATE_IDS.derive("HOUR|2026-01-01T00|WEB|", "abc") == "314a0ef0-7cae-5b95-889b-6c221b507cae"
    assert step_id("0d3e9a3c-5a1b-4c6e-9f00-000000000d3e", "ack") == "c77a7e84-5b10-5788-ad3b-94b9d9a86ce8"


def test_a_content_digest_names_the_content_in_the_id_and_leaves_ids_without_one_as_they_were() -> None:
    """F1: a sender's id reused for another record on another adapter replica must not give the first one's id."""
    paid, viewed = bytes(range(32)), bytes(range(1, 33))
    # uuid5 of (source system, source id, discriminator, the digest in hex), pinned as every id above
    assert event_id("web", "m-1", "x", paid) == "625fbc97-285b-57cb-972c-28a51e027728" == str(
        uuid.uuid5(SOURCE_EVENT_IDS.namespace, "\x1f".join(["web", "m-1", "x", paid.hex()])))
    assert event_id("web", "m-1", "x", paid) != event_id("web", "m-1", "x", viewed)
    assert event_id("web", "m-1", "x", None) == "09d4e39d-a66a-5fc9-8f7c-87126ba9a2f2"  # the pinned id above
    built = source_envelope(source_system="web", channel="WEB", source_event_id="m-1", occurred_at=AT,
                            discriminator="x", content=paid)
    assert built["event_id"] == built["correlation_id"] == event_id("web", "m-1", "x", paid)
    assert built["source_event_id"] == "m-1"


def test_the_parts_cannot_run_into_each_other() -> None:
    assert SOURCE_EVENT_IDS.derive("ab", "c") != SOURCE_EVENT_IDS.derive("a", "bc")


def test_a_source_envelope_starts_its_own_correlation() -> None:
    built = source_envelope(source_system="web", channel="WEB", source_event_id="m-1", occurred_at=AT,
                            discriminator="x", received_at=AT)
    assert built == {
        "event_id": "09d4e39d-a66a-5fc9-8f7c-87126ba9a2f2", "occurred_at": AT, "received_at": AT,
        "source_system": "web", "channel": "WEB", "site": None,
        "correlation_id": "09d4e39d-a66a-5fc9-8f7c-87126ba9a2f2", "causation_id": None, "source_event_id": "m-1",
    }
    continued = source_envelope(source_system="web", channel="WEB", source_event_id="m-1", occurred_at=AT,
                                correlation_id="c-1")
    assert continued["correlation_id"] == "c-1"


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        envelope(event_id="e", occurred_at=datetime(2026, 1, 1), source_system="s", channel="PROCESSOR")


@given(st.lists(st.text(), min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_derive_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    """The hot-path derivation (no ``UUID`` object) gives exactly the ids ``uuid.uuid5`` gave."""
    for scheme in (SOURCE_EVENT_IDS, IDENTITY_DECISION_IDS, HANDOFF_OUTPUT_IDS):
        joined = scheme.separator.join(parts)
        try:
            expected = str(uuid.uuid5(scheme.namespace, joined))
        except UnicodeEncodeError:  # a lone surrogate: refused alike
            with pytest.raises(UnicodeEncodeError):
                scheme.derive(*parts)
            continue
        assert scheme.derive(*parts) == expected
