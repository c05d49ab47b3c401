import hashlib

import pytest

from bus.serde import Event
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Refused, Send
from processors.identity.intake import MAX_SAGA_BYTES, EventTooLarge, Intake, event_ref, raw_identifiers
from processors.identity.normalize import IdentifierNormalizer
from processors.profile.book import ProfileBook
from tests.processors.identity.support import interaction, observed, product_subscribed, settings

BOOK = ProfileBook.from_registry()
INTAKE = Intake(IdentifierNormalizer(settings()), BOOK, clock=lambda: 12.5)


def test_one_saga_starts_at_the_first_identifier_in_key_order() -> None:
    event = observed([("PHONE", "139 1234 5678"), ("EMAIL", "A@x.org"), ("EMAIL", "a@x.org")])
    (send,) = INTAKE.start(event, None)
    assert isinstance(send, Send) and isinstance(send.message, Visit)
    saga = send.message.saga
    assert saga.ids == ["EMAIL:a@x.org", "PHONE:+8613912345678"]  # normalised, deduplicated, sorted
    assert send.node == saga.ids[0]
    assert (saga.event_id, saga.channel, saga.started_at) == (event.value["envelope"]["event_id"], "WEB", 12.5)


def test_sections_add_identifiers_such_as_the_account_of_a_business_event() -> None:
    event = product_subscribed("ACC-5", [("EMAIL", "b@x.org")])
    assert {"type": "ACCOUNT", "value": "ACC-5"} in raw_identifiers(event, BOOK)
    (send,) = INTAKE.start(event, EventRef("business", event.schema, b""))
    assert isinstance(send, Send) and isinstance(send.message, Visit)
    assert send.message.saga.ids == ["ACCOUNT:ACC-5", "EMAIL:b@x.org"]
    assert send.message.saga.event is not None and send.message.saga.event.topic == "business"


def test_rejected_values_are_refused_with_a_masked_value_and_the_rest_goes_on() -> None:
    event = interaction([("NATIONAL_ID", "110105194912310021"), ("PHONE", "+8613800138000"), ("EMAIL", "ok@x.org")])
    outputs = INTAKE.start(event, None)
    refused = [o for o in outputs if isinstance(o, Refused)]
    assert {(r.identifier, r.lineage.rule) for r in refused} == {
        ("NATIONAL_ID:[national id]", "invalid-identifier"), ("PHONE:+86*******8000", "blocked-value"),
    }
    assert all(r.lineage.triggering_event_id == event.value["envelope"]["event_id"] for r in refused)
    (send,) = [o for o in outputs if isinstance(o, Send)]
    assert isinstance(send.message, Visit) and send.message.saga.ids == ["EMAIL:ok@x.org"]
    assert "110105194912310021" not in repr(outputs)


def test_a_contact_normalises_each_accepted_identifier_once_though_its_section_names_it_again() -> None:
    """#9: a contact's identifiers come twice (``customer_identifiers`` and the recent-contacts section's view); the
    second look-up of an accepted one is skipped, a refused one is normalised (and counted, refused) each time."""
    normalizer = IdentifierNormalizer(settings())
    seen: list[str] = []
    normalize = normalizer.normalize

    def counting(raw: dict[str, str], **kwargs: object) -> object:
        seen.append(raw["type"])
        return normalize(raw, **kwargs)  # type: ignore[arg-type]

    normalizer.normalize = counting  # type: ignore[method-assign, assignment]
    event = interaction([("PHONE", "+8613912345678"), ("EMAIL", "twice@x.org"), ("PHONE", "+8613800138000")])
    assert len(raw_identifiers(event, BOOK)) == 6
    outputs = Intake(normalizer, BOOK).start(event, None)
    assert sorted(seen) == ["EMAIL", "PHONE", "PHONE", "PHONE"]  # the blocked phone twice, the others once
    assert len([o for o in outputs if isinstance(o, Refused)]) == 2
    (send,) = [o for o in outputs if isinstance(o, Send)]
    assert send.message.saga.ids == ["EMAIL:twice@x.org", "PHONE:+8613912345678"]  # type: ignore[attr-defined]


def test_an_event_without_usable_identifiers_starts_nothing() -> None:
    assert INTAKE.start(observed([]), None) == []


def test_an_event_too_large_for_the_graph_is_refused_with_its_size() -> None:
    """#13 case 5: a 900 KB contact made a graph message over Kafka's 1 MiB limit."""
    event = interaction([("EMAIL", "big@x.org")])
    ref = event_ref("contact.events.v1", event, b"x" * (MAX_SAGA_BYTES + 1))
    with pytest.raises(EventTooLarge, match=f"over the {MAX_SAGA_BYTES} bytes"):
        INTAKE.start(event, ref)
    many = observed([("ACCOUNT", hashlib.sha256(str(n).encode()).hexdigest() * 3) for n in range(800)])  # 160 KB
    with pytest.raises(EventTooLarge):
        INTAKE.start(many, None)
    assert len(INTAKE.start(event, event_ref("contact.events.v1", event, b"x" * 10_000))) == 1


def test_the_saga_message_is_encoded_once_for_its_size_check_and_bundled_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from processors.identity import wire

    (send,) = INTAKE.start(observed([("EMAIL", "once@x.org")]), None)
    assert isinstance(send, Send) and send.encoded == wire.encode_message(send.node, send.message)
    monkeypatch.setattr(wire, "encode_message", lambda *_: pytest.fail("encoded a second time"))
    ((key, record),) = wire.bundle([send], partitions=4)
    assert key == send.node and wire.decode_record(record) == [(send.node, send.message)]


def test_an_event_intake_decoded_is_not_decoded_again_at_the_root_nor_by_the_announcer() -> None:
    from bus.serde import Event
    from processors.identity.intake import ref_loader

    decoded: list[bytes] = []

    def deserializer(data: bytes, ctx: object) -> Event:
        decoded.append(data)
        return Event("s", {"n": data})

    load = ref_loader(deserializer, remember=2)  # type: ignore[arg-type]
    kept = Event("s", {"n": b"1"})
    load.keep(EventRef("t", "s", b"1"), kept)
    assert load(EventRef("t", "s", b"1")) is kept and decoded == []
    load(EventRef("t", "s", b"2"))
    load(EventRef("t", "s", b"3"))  # the oldest goes
    assert load(EventRef("t", "s", b"1")) is not kept and decoded == [b"2", b"3", b"1"]


def _without_identifier(outcome: str, schema: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("omnibus_identity_events_without_identifier_total",
                                      {"schema": schema, "outcome": outcome})
    return value or 0.0


def test_a_section_event_that_names_no_customer_is_counted_and_dead_lettered_not_dropped() -> None:
    """An offer instruction with no identifier (the demo's lost screen pop) started nothing, said nothing and was
    counted nowhere. Now intake refuses it (the agent dead-letters what intake raises; the verifier's
    recomputation lists it as refused) and counts it by schema."""
    from processors.identity.intake import NoIdentifier
    from processors.offers.outputs import OFFER_INSTRUCTION
    from tests.processors.identity.support import envelope

    instruction = Event(OFFER_INSTRUCTION, {"envelope": envelope("PROCESSOR"), "customer_identifiers": []})
    before = _without_identifier("dead_lettered", OFFER_INSTRUCTION)
    with pytest.raises(NoIdentifier, match="names no customer .* on no screen pop"):
        INTAKE.start(instruction, EventRef("marketing", OFFER_INSTRUCTION, b""))
    assert _without_identifier("dead_lettered", OFFER_INSTRUCTION) == before + 1


def test_an_anonymous_contact_is_counted_and_unresolved() -> None:
    """A call with the number withheld and no account entered is on no screen pop, as it may be: counted, and
    ``Unresolved`` (``omnibus_identity_events_resolved_total{outcome="unresolved"}``), not dead-lettered. One whose
    identifiers were all refused keeps its refusals, which say why."""
    from processors.identity.graph.outputs import Unresolved

    schema = "omnibus.contact.InteractionRecorded"
    before = _without_identifier("unresolved", schema)
    call = interaction([])
    assert INTAKE.start(call, None) == [Unresolved(call.value["envelope"]["event_id"], 12.5)]
    refused_only = INTAKE.start(interaction([("PHONE", "+8613800138000")]), None)
    assert {type(o) for o in refused_only[:-1]} == {Refused} and isinstance(refused_only[-1], Unresolved)
    assert _without_identifier("unresolved", schema) == before + 2
    assert INTAKE.start(observed([]), None) == []  # read by no section: nothing to place


def test_the_verifiers_recomputation_lists_an_event_that_names_no_customer_as_refused() -> None:
    from bus.config import OmnibusSettings
    from processors.offers.outputs import OFFER_INSTRUCTION
    from processors.replay import Replayed
    from processors.replay.identity import recompute
    from tests.processors.identity.support import envelope

    instruction = Event(OFFER_INSTRUCTION, {"envelope": envelope("PROCESSOR"), "customer_identifiers": []})
    record = Replayed("v.marketing.offer-instructions.v1", 0, 7, b"k", instruction, b"")
    result = recompute([record], OmnibusSettings(), settings(), BOOK)
    assert result.refused == [record] and result.applied == 0


def test_tester28_f5_a_handoff_of_a_contact_that_reached_no_customer_is_unresolved_not_poison() -> None:
    """tester28 F5: the handoff a caller with a withheld number opened names no customer, and identity dead-lettered
    every ``HandoffStatusChanged`` of it as poison (``NoIdentifier``), so normal traffic filled the dead letters. It is
    on no screen pop, as its contact: counted and ``Unresolved``; the tracker tracks the case all the same. Its
    creation (read by no section) starts nothing, as before. An offer instruction without one is still refused."""
    from datetime import UTC, datetime

    from processors.handoffs.outputs import STATUS_CHANGED
    from processors.identity.graph.outputs import Unresolved
    from processors.identity.intake import NoIdentifier
    from processors.offers.outputs import OFFER_INSTRUCTION
    from tests.processors.handoffs.factories import acknowledged, created
    from tests.processors.handoffs.test_profile_section import status_events
    from tests.processors.identity.support import envelope

    at = datetime(2026, 12, 3, 7, tzinfo=UTC)
    opened = created("CASE-ANON", at)
    opened = Event(opened.schema, {**opened.value, "customer_identifiers": []})
    events = status_events(opened, acknowledged("CASE-ANON", at))
    assert events and all(not e.value["customer_identifiers"] for e in events)
    before = _without_identifier("unresolved", STATUS_CHANGED)
    for event in events:
        assert INTAKE.start(event, None) == [Unresolved(event.value["envelope"]["event_id"], 12.5)]
    assert _without_identifier("unresolved", STATUS_CHANGED) == before + len(events)
    assert INTAKE.start(opened, None) == []
    instruction = Event(OFFER_INSTRUCTION, {"envelope": envelope("PROCESSOR"), "customer_identifiers": []})
    with pytest.raises(NoIdentifier):
        INTAKE.start(instruction, None)
