import pytest

from bus.config import RegistrySettings
from bus.serde import SerdeContext, build_serde
from processors.offers.campaigns import (
    Current,
    PublishRefused,
    check_revision,
    defined,
    fold,
    withdrawn,
)
from processors.offers.definition import Offer
from tests.processors.offers.factories import offer

FULL = offer("fibre", version=3, priority=7, content={"default": "d", "CALL_CENTER": "script"},
             valid_until="2027-01-01T00:00:00+01:00", eligibility='"DSL" in products',
             caps=[{"max": 2, "per": "7d"}, {"max": 1, "per": "1d", "channel": "WEB"}],
             quiet_hours={"start": "21:00", "end": "08:00"})


def test_definition_round_trips_through_avro() -> None:
    serializer, deserializer = build_serde(RegistrySettings())
    ctx = SerdeContext(topic="omnibus.marketing.offers.v1")
    event = deserializer(serializer(defined(FULL), ctx), ctx)
    assert Offer.from_record(event.value) == FULL
    assert event.value["contact_cap"] == {"max_presentations": 2, "window_ms": 7 * 86400 * 1000, "channel": None}


def test_fold_keeps_the_latest_record_per_offer() -> None:
    v1, v2 = offer("a"), offer("a", version=2)
    current = fold([defined(v1), defined(offer("b")), defined(v2), withdrawn(offer("b"), "ended early")])
    assert current["a"] == Current(v2) and current["b"].withdrawn and current["b"].reason == "ended early"


def test_revisions() -> None:
    published = Current(offer("a", version=2))
    assert check_revision(offer("a", version=3), published)
    assert not check_revision(offer("a", version=2), published)  # the same again: nothing to do
    with pytest.raises(PublishRefused, match="older"):
        check_revision(offer("a", version=1), published)
    with pytest.raises(PublishRefused, match="another definition"):
        check_revision(offer("a", version=2, title="Changed"), published)
    with pytest.raises(PublishRefused, match="withdrawn"):
        check_revision(offer("a", version=2), Current(offer("a", version=2), withdrawn=True))


def test_event_ids_are_stable() -> None:
    assert defined(FULL).value["envelope"]["event_id"] == defined(FULL).value["envelope"]["event_id"]


def test_a_withdrawal_reason_is_published_scrubbed_of_identifiers() -> None:
    """tester24 F5, the kind: an operator's free text leaves the command scrubbed as the channels' free text is."""
    event = withdrawn(offer("b"), "complaint ref card 4111111111111111 from jean.dupont@example.fr")
    assert event.value["reason"] == "complaint ref card [digits] from [email]"
    assert withdrawn(offer("b"), "ended early").value["reason"] == "ended early"
    assert withdrawn(offer("b"), None).value["reason"] is None
