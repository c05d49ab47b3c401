"""``AdapterPublisher.reject_part``: a refused part of a published record is dead-lettered once per part and reason.

t28ops (F6, "noticed"): a re-sent CTR whose handoff was refused wrote the handoff's dead letter again, each time. Senders
deliver at least once (Firehose retries, a counter agent re-uploads what it did not hear acknowledged, Connect sends a
contact's CTR again as it is updated), so the refused part's dead letter is deduped on the part's own id, the same for
every delivery and version of the record (the handoff id, the offer answer's presentation id: the contact id, the
counter's event id), whatever the record's own dedupe id.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace

from adapters.base.errors import RejectedInput
from adapters.base.ingest import Item, ingest
from adapters.base.mapper import DroppedPart, MappedRecord
from adapters.base.publisher import dropped_part_id
from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.state import Timeline
from bus.errors import RawRecord
from tests.adapters.base.test_ingest import _publisher, interaction
from tests.adapters.branch.test_mapper import mapped
from tests.adapters.branch.test_mapper_handoff import with_handoff
from tests.adapters.call_center.support import context, sample

BAD_PARTS = {"omnibus_handoff_summary": "no kind given", "offer_id": "fibre-upgrade", "offer_response": "accepted"}


def _ctr(updated: str) -> dict:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **BAD_PARTS}
    ctr["LastUpdateTimestamp"] = updated
    return ctr


async def _ingested(publisher, record: MappedRecord, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    await ingest(publisher, [Item(record, lambda: RawRecord(value=raw))], lambda _, mapped_record: mapped_record)


async def test_a_resent_and_an_updated_ctr_dead_letter_their_refused_parts_once() -> None:
    """The sample: a CTR whose handoff (summary without kind) and offer answer (no version) were refused, delivered
    twice and then updated (another LastUpdateTimestamp: another version, another dedupe id): one dead letter per
    part, not one per delivery. Every version's call is published as before."""
    publisher, kafka, dead_letters = _publisher()
    first = mapper_ctr.map_ctr(_ctr("2024-03-05T09:20:00Z"), context())
    updated = mapper_ctr.map_ctr(_ctr("2024-03-05T10:00:00Z"), context())
    assert first.dedupe_id != updated.dedupe_id

    for record in (first, first, updated, updated):
        await _ingested(publisher, record, b"ctr")

    assert [reason.split(" refused")[0] for reason in dead_letters.reasons] == ["handoff", "offer"]
    assert len(set(dead_letters.ids)) == 2 and None not in dead_letters.ids
    assert len(kafka.published) == len(first.events) + len(updated.events)  # both versions of the call


async def test_a_redelivered_taskrouter_task_dead_letters_its_refused_parts_once() -> None:
    publisher, _, dead_letters = _publisher()
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    terminal["TaskAttributes"] = json.dumps(json.loads(terminal["TaskAttributes"]) | BAD_PARTS)
    for _ in range(3):
        record = mapper_taskrouter.map_task(terminal, Timeline(), context("lyon"))
        for dropped in record.dropped_parts:
            await publisher.reject_part(RawRecord(value=b"task"), dropped)
    assert [reason.split(" refused")[0] for reason in dead_letters.reasons] == ["handoff", "offer"]


async def test_a_reuploaded_counter_event_dead_letters_its_refused_handoff_once() -> None:
    publisher, kafka, dead_letters = _publisher()
    record = mapped(with_handoff({"summary": "no kind given"}))
    for _ in range(3):
        await _ingested(publisher, record, b"event")
    assert len(dead_letters.reasons) == 1 and dead_letters.reasons[0].startswith("handoff refused")
    assert len(kafka.published) == len(record.events)  # the re-uploads are duplicates


async def test_another_reason_for_the_same_part_is_a_dead_letter_of_its_own() -> None:
    """An update whose form is still wrong in another way tells something new: dead-lettered too, under another id."""
    publisher, _, dead_letters = _publisher()
    missing = RejectedInput("CTR: field Attributes.omnibus_handoff_kind is required", code="missing_field")
    malformed = RejectedInput("CTR: field Attributes.omnibus_handoff_kind is malformed", code="malformed_field")
    for n, refusal in enumerate((missing, missing, malformed, malformed)):
        record = replace(interaction(n), dropped_parts=(DroppedPart("handoff", refusal, "call:ctr:c1"),))
        await _ingested(publisher, record, b"ctr")
    assert dead_letters.reasons == [f"handoff refused, the rest of the record was published: {refusal.reason}"
                                    for refusal in (missing, malformed)]
    assert len(set(dead_letters.ids)) == 2


def test_the_parts_id_holds_no_reason_text_and_is_one_per_part_key_and_reason() -> None:
    refusal = RejectedInput("CTR: field Attributes.offer_version is malformed", code="malformed_field")
    offer = DroppedPart("offer", refusal, "call:amazon-connect:c1")
    assert dropped_part_id(offer) == dropped_part_id(replace(offer))
    assert dropped_part_id(offer).startswith("dropped-offer=call:amazon-connect:c1#") and "malformed" not in \
        dropped_part_id(offer)
    assert len({dropped_part_id(offer), dropped_part_id(replace(offer, part="handoff")),
                dropped_part_id(replace(offer, key="call:amazon-connect:c2"))}) == 3
