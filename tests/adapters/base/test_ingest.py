"""``adapters.base.ingest``: every event is Avro-encoded once, and the bytes checked are the bytes published."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import RejectedInput
from adapters.base.ingest import Item, ingest
from adapters.base.mapper import Claim, DroppedPart, MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.config import OmnibusSettings
from bus.envelope import source_envelope
from bus.errors import RawRecord
from bus.producer import Outgoing
from bus.serde import Event
from tests.adapters.base.support import CountingKafka, DeadLetters


def interaction(n: int, name: object = "Invoice Downloaded") -> MappedRecord:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    value = {
        "envelope": source_envelope(source_system="web", channel="WEB", source_event_id=f"m-{n}", occurred_at=at,
                                    received_at=at),
        "interaction_id": f"m-{n}", "customer_identifiers": [], "kind": "WEB_EVENT", "name": name,
        "outcome": "NOT_APPLICABLE", "agent_id": None, "duration_ms": None, "properties": {},
    }
    return MappedRecord(f"web:m-{n}", (Outgoing("contacts", "k", Event("omnibus.contact.InteractionRecorded", value)),))


async def test_each_event_is_encoded_once_and_a_schema_misfit_costs_only_its_record() -> None:
    kafka, dead_letters = CountingKafka(), DeadLetters()
    publisher = AdapterPublisher("test", kafka, DedupeStore(None, 60), dead_letters, retry_after_s=1)  # type: ignore[arg-type]
    records = [interaction(0), interaction(1, name=42), interaction(2)]
    items = [Item(record, lambda: RawRecord(value=b"raw")) for record in records]

    outcome = await ingest(publisher, items, lambda _, record: record)

    assert [index for index, _ in outcome.accepted] == [0, 2]
    assert [(index, error.code) for index, error in outcome.refused] == [(1, "unmappable")]
    assert len(dead_letters.reasons) == 1 and isinstance(outcome.refused[0][1], RejectedInput)
    assert kafka.encodings == 3  # one per event, the misfit included; none again at publishing
    assert kafka.published == [record.encoded[0] for _, record in outcome.accepted]


def test_a_partly_refused_request_says_how_many_were_accepted_and_nothing_when_none_was() -> None:
    """A new user read "1 of 1 events rejected (the others were accepted)"."""
    from adapters.base.ingest import partly_rejected

    assert partly_rejected(1, 0, "events", "event 0: bad") == "1 of 1 events rejected: event 0: bad"
    assert partly_rejected(1, 1, "messages", "x") == "1 of 2 messages rejected (the other 1 was accepted): x"
    assert partly_rejected(2, 3, "events", "x") == "2 of 5 events rejected (the other 3 were accepted): x"


def _publisher(dedupe: DedupeStore | None = None) -> tuple[AdapterPublisher, CountingKafka, DeadLetters]:
    kafka, dead_letters = CountingKafka(), DeadLetters()
    publisher = AdapterPublisher("test", kafka, dedupe or DedupeStore(None, 60), dead_letters,  # type: ignore[arg-type]
                                 retry_after_s=1)
    return publisher, kafka, dead_letters


def _item(record: MappedRecord, digest: bytes | None) -> Item:
    return Item(replace(record, content_digest=digest), lambda: RawRecord(value=b"raw"))


async def test_tester19_f18_an_id_reused_for_other_content_is_refused_and_a_resend_is_a_duplicate() -> None:
    """A terminal reused an event id for a refund: dropped as a duplicate of the payment under a 200."""
    publisher, kafka, dead_letters = _publisher()
    first = await ingest(publisher, [_item(interaction(0), b"payment"), _item(interaction(0), b"refund"),
                                     _item(interaction(0), b"payment")], lambda _, record: record)
    assert [index for index, _ in first.accepted] == [0, 2]
    assert [(index, error.code) for index, error in first.refused] == [(1, "id_conflict")]
    assert "'web:m-0'" in first.refused[0][1].reason and first.duplicates == 1
    assert len(dead_letters.reasons) == 1 and len(kafka.published) == 1

    later = await ingest(publisher, [_item(interaction(0), b"refund"), _item(interaction(0), b"payment")],
                         lambda _, record: record)
    assert [index for index, _ in later.accepted] == [1]
    assert [(index, error.code) for index, error in later.refused] == [(0, "id_conflict")]
    assert later.duplicates == 1 and len(kafka.published) == 1


async def test_an_id_published_without_a_digest_stays_a_duplicate_whatever_comes_after() -> None:
    """Ids remembered by a store of before (or by an ingress giving no digest) keep their old meaning."""
    publisher, kafka, _ = _publisher()
    await ingest(publisher, [_item(interaction(0), None)], lambda _, record: record)
    again = await ingest(publisher, [_item(interaction(0), b"other")], lambda _, record: record)
    assert (len(again.accepted), again.refused, again.duplicates, len(kafka.published)) == (1, [], 1, 1)


def _claiming(n: int, digest: bytes) -> Item:
    """Record ``n`` naming case C-1 with the request ``digest`` (a web service request's request_id)."""
    refusal = RejectedInput("case C-1 names another request", code="request_id_conflict")
    claims = (Claim("case=C-1", digest, lambda: refusal),)
    record = replace(interaction(n), content_digest=f"message {n}".encode(), claims=claims)
    return Item(record, lambda: RawRecord(value=b"raw"))


async def test_tester24_f17_a_claimed_id_naming_another_content_is_refused_with_the_claims_own_refusal() -> None:
    """Another record under a claimed id (in this call or an earlier one) is refused with the claim's refusal, not
    the record id's; the same content under it is published (another message, one case); a re-send of the refused
    record is refused again, not counted a duplicate (it was never published)."""
    publisher, kafka, dead_letters = _publisher()
    first = await ingest(publisher, [_claiming(0, b"attempt 1"), _claiming(1, b"attempt 2"),
                                     _claiming(2, b"attempt 1")], lambda _, record: record)
    assert [index for index, _ in first.accepted] == [0, 2]
    assert [(index, error.code, error.reason) for index, error in first.refused] == [
        (1, "request_id_conflict", "case C-1 names another request")]
    later = await ingest(publisher, [_claiming(1, b"attempt 2"), _claiming(0, b"attempt 1")], lambda _, record: record)
    assert [(index, error.code) for index, error in later.refused] == [(0, "request_id_conflict")]
    assert later.duplicates == 1 and len(kafka.published) == 2 and len(dead_letters.reasons) == 2


async def test_tester28_f6_a_record_whose_handoff_was_refused_is_published_and_the_handoff_dead_lettered() -> None:
    """tester28 F6: a CTR whose agent gave a summary without the kind was refused whole (400), and Connect, delivering
    through Firehose, never reads the answer: the call was lost. The record is published; its handoff request is
    dead-lettered with the record's bytes and listed in the answer's ``dropped_handoffs``, never counted rejected."""
    from adapters.base.identifiers import dropped_fields

    publisher, kafka, dead_letters = _publisher()
    refused = RejectedInput("CTR: field Attributes.omnibus_handoff_kind is required to open a handoff (the kind of "
                            "case, e.g. line-repair)", code="missing_field")
    items = [Item(interaction(0), lambda: RawRecord(value=b"ctr 0")),
             Item(replace(interaction(1), dropped_parts=(DroppedPart("handoff", refused, "call:ctr:1"),)), lambda: RawRecord(value=b"ctr 1"))]

    outcome = await ingest(publisher, items, lambda _, record: record)

    assert [index for index, _ in outcome.accepted] == [0, 1] and not outcome.refused
    assert len(kafka.published) == 2  # both records' events, the second without a handoff
    ((letter, error_type),) = dead_letters.records
    assert (letter.value, error_type) == (b"ctr 1", "RejectedInput.missing_field")
    assert dead_letters.reasons == [f"handoff refused, the rest of the record was published: {refused.reason}"]
    assert dropped_fields(outcome.accepted) == {
        "dropped_handoffs": [{"index": 1, "code": "missing_field", "reason": refused.reason}]}


async def test_a_record_whose_offer_answer_was_refused_is_published_and_the_answer_dead_lettered() -> None:
    """The same loss as tester28 F6's handoff, for a malformed offer answer (a CTR's ``offer_response`` that is none):
    the record is published, the answer dead-lettered with the record's bytes and listed in ``dropped_offers``,
    beside a handoff refused on the same record."""
    from adapters.base.identifiers import dropped_fields

    publisher, kafka, dead_letters = _publisher()
    offer = RejectedInput("CTR: field Attributes.offer_response is malformed (must be one of accepted, ...)",
                          code="malformed_field")
    handoff = RejectedInput("CTR: field Attributes.omnibus_handoff_kind is required to open a handoff",
                            code="missing_field")
    dropped = (DroppedPart("handoff", handoff, "call:ctr:0"), DroppedPart("offer", offer, "call:ctr:0"))
    items = [Item(replace(interaction(0), dropped_parts=dropped), lambda: RawRecord(value=b"ctr 0"))]

    outcome = await ingest(publisher, items, lambda _, record: record)

    assert [index for index, _ in outcome.accepted] == [0] and not outcome.refused and len(kafka.published) == 1
    assert [letter.value for letter, _ in dead_letters.records] == [b"ctr 0", b"ctr 0"]
    assert dead_letters.reasons == [f"handoff refused, the rest of the record was published: {handoff.reason}",
                                    f"offer refused, the rest of the record was published: {offer.reason}"]
    assert dropped_fields(outcome.accepted) == {
        "dropped_handoffs": [{"index": 0, "code": "missing_field", "reason": handoff.reason}],
        "dropped_offers": [{"index": 0, "code": "malformed_field", "reason": offer.reason}]}
