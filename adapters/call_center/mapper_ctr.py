"""Amazon Connect contact trace records (CTRs) → ``Call``.

A body may hold one CTR, a JSON array of CTRs, JSON lines, or a Kinesis Data Firehose HTTP-endpoint
delivery (``{"requestId", "timestamp", "records": [{"data": base64}]}``), which is how CTRs usually leave
Connect (CTR stream → Kinesis → Firehose). Each CTR is cut out separately so one bad record does not
refuse its neighbours.

Versions: Connect re-emits a CTR when the contact is updated after it ended (after-contact work,
attributes), with a later ``LastUpdateTimestamp`` (AWS, "Amazon Connect contact records data model":
``LastUpdateTimestamp``). The version id is ``ContactId@LastUpdateTimestamp`` (``version_id``): every newer
version is published as new events with their own ids (``CallCompleted``, ``InteractionRecorded``,
``IdentifiersObserved``), each naming the same event of the version it replaces in ``envelope.causation_id``
(``supersedes``: the ingress reads the latest published version from its store); the store drops a version older
than or equal to one already published.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from adapters.base import wire
from adapters.base.errors import BAD_ENCODING, BAD_JSON, FieldChecks
from adapters.base.mapper import MappedRecord
from adapters.base.whole_ids import id_text
from adapters.call_center.attributes import (
    caller_number,
    contact_traits,
    recorded_card_status,
    recorded_handoff,
    recorded_offer,
    supply_points,
    verified_record_keys,
)
from adapters.call_center.errors import RejectedInput, malformed, missing
from adapters.call_center.mapper import Call, MapContext, NativeItem, call_events, iso_time
from adapters.call_center.outcome import connect_ended
from bus.contact_versions import versioned_id
from bus.references import phones_of

SOURCE_SYSTEM = "amazon-connect"
SOURCE = "CTR"
CHANNEL_KINDS = {"VOICE": "CALL", "CHAT": "CHAT", "EMAIL": "EMAIL", "TASK": "UNKNOWN"}
# The CTR fields without which a record is refused (400, dead-lettered), and why (the OpenAPI and the
# README list them from here). Times are ISO 8601 with an offset or Z, as Connect writes them.
REQUIRED_FIELDS: dict[str, str] = {
    "ContactId": "the contact's id: the call's id downstream",
    "InitiationTimestamp": "when the contact started (ISO 8601 with offset)",
    "DisconnectTimestamp": "when it ended (ISO 8601 with offset): a CTR is a finished contact",
    "LastUpdateTimestamp": "the CTR version's time (ISO 8601 with offset): a later version replaces an earlier one",
}


# The CTR's fields naming a contact: read with the white space around them off (``whole_ids.id_text``, as the counter
# and the web hall read their ids), so `` X `` is contact ``X``: its version ids, event ids, case and store entry.
CONTACT_ID_FIELDS = ("ContactId", "InitialContactId", "PreviousContactId", "NextContactId")


@dataclass(frozen=True)
class FirehoseDelivery:
    request_id: str
    items: list[NativeItem]


def split_body(body: bytes) -> tuple[list[NativeItem], FirehoseDelivery | None]:
    """Cut a request body into CTRs; raise ``RejectedInput`` only if the body as a whole is unusable."""
    try:
        document = wire.parse(body)
    except RejectedInput as error:
        if error.code == "too_deep":
            raise
        return _json_lines(body), None
    if isinstance(document, dict) and "records" in document and "requestId" in document:
        request_id = wire.text(document, "requestId", "Firehose delivery", max_chars=256) or ""
        firehose = FirehoseDelivery(request_id, _firehose_records(document["records"]))
        return firehose.items, firehose
    if isinstance(document, dict):
        return [_item(body, document)], None
    if isinstance(document, list):
        return [_item(_dumps(entry), entry) for entry in document], None
    raise RejectedInput("body is neither a CTR object, an array of CTRs, JSON lines nor a Firehose delivery",
                        code=BAD_JSON)


def _item(raw: bytes, value: Any) -> NativeItem:
    try:
        wire.check_tree(value, "the CTR")  # depth, numbers and encoding: per CTR, so it costs only itself
    except RejectedInput as error:
        return NativeItem(raw, error=error)
    if isinstance(value, dict):
        return NativeItem(raw, value)
    return NativeItem(raw, error=RejectedInput(f"a CTR must be a JSON object, got {type(value).__name__}",
                                               code=BAD_JSON))


def _json_lines(body: bytes) -> list[NativeItem]:
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        raise RejectedInput("body is empty: expected a CTR, an array of CTRs or JSON lines", code="empty")
    items = []
    for number, line in enumerate(lines, start=1):
        try:
            items.append(_item(line, wire.parse(line, f"line {number}")))
        except RejectedInput as error:
            items.append(NativeItem(line, error=error))
    if all(item.error for item in items) and len(items) == 1:
        raise items[0].error  # type: ignore[misc]  # a lone unparseable body: refuse it whole
    return items


def _firehose_records(records: Any) -> list[NativeItem]:
    if not isinstance(records, list):
        raise RejectedInput("Firehose delivery: records must be an array", code=BAD_JSON)
    items = []
    for index, record in enumerate(records):
        data = record.get("data") if isinstance(record, dict) else None
        try:
            raw = base64.b64decode(data or "", validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            items.append(NativeItem(_dumps(record), error=RejectedInput(
                f"Firehose record {index}: data is not base64 ({exc})", code=BAD_ENCODING)))
            continue
        try:
            items.append(_item(raw, wire.parse(raw, f"Firehose record {index} (not a JSON CTR)")))
        except RejectedInput as error:
            items.append(NativeItem(raw, error=error))
    return items


def _dumps(value: Any) -> bytes:
    """A record's bytes for its dead letter; what UTF-8 cannot carry is escaped, never an error."""
    return json.dumps(value, default=repr).encode("utf-8", "backslashreplace")


def ctr_call(ctr: dict[str, Any], ctx: MapContext) -> Call:
    """Parse one CTR; raise ``RejectedInput`` naming every required field that is missing or malformed."""
    checks = FieldChecks()
    contact_id = checks(_text, contact_key(ctr), "ContactId")
    last_update = checks(iso_time, ctr.get("LastUpdateTimestamp"), "LastUpdateTimestamp", SOURCE)
    initiated_at = checks(iso_time, ctr.get("InitiationTimestamp"), "InitiationTimestamp", SOURCE)
    disconnected_at = checks(iso_time, ctr.get("DisconnectTimestamp"), "DisconnectTimestamp", SOURCE)
    queue = checks(_object, ctr.get("Queue"), "Queue") or {}
    agent = checks(_object, ctr.get("Agent"), "Agent") or {}
    attributes = checks(_object, ctr.get("Attributes"), "Attributes") or {}
    endpoint = checks(_object, ctr.get("CustomerEndpoint"), "CustomerEndpoint") or {}
    connected_at = checks(iso_time, agent.get("ConnectedToAgentTimestamp"), "Agent.ConnectedToAgentTimestamp", SOURCE,
                          required=False)
    enqueued_at = checks(iso_time, queue.get("EnqueueTimestamp"), "Queue.EnqueueTimestamp", SOURCE, required=False)
    dequeued_at = checks(iso_time, queue.get("DequeueTimestamp"), "Queue.DequeueTimestamp", SOURCE, required=False)
    if initiated_at is not None and disconnected_at is not None and disconnected_at < initiated_at:
        # not dated by either alone: the call would move to the day it "ended"
        checks.add(malformed("DisconnectTimestamp", SOURCE,
                             "before InitiationTimestamp: a contact ends after it starts"))
    checks.refuse_any()
    settings = ctx.settings

    left_out: dict[str, str] = {}
    caller = ctx.normaliser.collect([
        ("PHONE", caller_number(wire.text(endpoint, "Address", "CTR CustomerEndpoint", max_chars=64))
         if endpoint.get("Type", "TELEPHONE_NUMBER") == "TELEPHONE_NUMBER" else None),
        *verified_record_keys(attributes, settings, left_out), *supply_points(attributes, settings),
    ])
    # Contact attributes the IVR or agent captured (name, date of birth, postcode...) as standard traits.
    traits = contact_traits(attributes, settings, left_out)
    # the declared references, which may not carry the caller's own number and the note may quote
    declared = ctx.references.declared_in(attributes, phones_of(caller.records()))
    disconnect_reason = _field(ctr, "DisconnectReason")
    properties = {"initial_contact_id": _contact_field(ctr, "InitialContactId"),
                  "disconnect_reason": disconnect_reason, "channel": _field(ctr, "Channel")}
    handoff, handoff_refused = recorded_handoff(attributes, SOURCE)  # refused: the call goes without it
    offer, offer_refused = recorded_offer(attributes, SOURCE)  # refused: the call goes without it
    card, card_refused = recorded_card_status(attributes, SOURCE, caller.records())  # refused: the call goes on
    return Call(
        source_system=SOURCE_SYSTEM,
        contact_id=contact_id,
        version_id=version_id(contact_id, last_update),  # type: ignore[arg-type]
        site=ctx.site_name,
        initiation_method=_field(ctr, "InitiationMethod") or "UNKNOWN",
        initiated_at=initiated_at,  # type: ignore[arg-type]
        disconnected_at=disconnected_at,  # type: ignore[arg-type]
        queue=_field(queue, "Name", "Queue"),
        enqueued_at=enqueued_at,
        dequeued_at=dequeued_at,
        connected_at=connected_at,
        agent_id=_field(agent, "Username", "Agent") or _arn_tail(_field(agent, "ARN", "Agent")),
        # an agent's note: scrubbed, but the declared references written in it kept
        disposition=ctx.references.text(
            _optional_text(attributes.get(settings.connect_disposition_attribute)) or "", declared) or None,
        previous_contact_id=_contact_field(ctr, "PreviousContactId"),
        next_contact_id=_contact_field(ctr, "NextContactId"),
        transferred_by_source=bool(ctr.get("TransferCompletedTimestamp") or ctr.get("TransferredToEndpoint")),
        kind=CHANNEL_KINDS.get(_field(ctr, "Channel") or "VOICE", "UNKNOWN"),
        ended=connect_ended(disconnect_reason, connected=connected_at is not None),
        updated_at=last_update,
        **Call.customer(caller),
        traits=traits,
        left_out_traits=left_out,
        offer=offer, offer_refused=offer_refused,
        handoff=handoff, handoff_refused=handoff_refused,
        card_status=card, card_status_refused=card_refused,
        properties={k: str(v) for k, v in properties.items() if v},
        references=declared,
    )


def version_id(contact_id: str, last_update: datetime) -> str:
    """The id of one version of a contact's CTR (its dedupe id and ``source_event_id``):
    ``ContactId@LastUpdateTimestamp`` (ISO 8601), the form ``bus.contact_versions`` orders a contact's versions by."""
    return versioned_id(contact_id, last_update)


def superseding(call: Call, published: datetime | None) -> Call:
    """``call`` naming the version it replaces, ``published`` (the latest ``LastUpdateTimestamp`` published for its
    contact; None: none yet, or not older than this one)."""
    if published is None or call.updated_at is None or published >= call.updated_at:
        return call
    return replace(call, supersedes=version_id(call.contact_id, published))


def map_ctr(ctr: dict[str, Any], ctx: MapContext, published: datetime | None = None) -> MappedRecord:
    """The events of one CTR; ``published``: the latest version of its contact already published (``superseding``)."""
    return call_events(superseding(ctr_call(ctr, ctx), published), ctx)


def contact_key(ctr: dict[str, Any]) -> Any:
    """The CTR's ``ContactId`` as it is read: text trimmed (``whole_ids.id_text``), anything else as it is (refused by
    ``ctr_call``); the ingress holds a contact's versions under it, so `` X `` and ``X`` wait for each other."""
    value = ctr.get("ContactId")
    return id_text(value) if isinstance(value, str) else value


def _contact_field(ctr: dict[str, Any], name: str) -> str | None:
    """An optional field naming a contact (``CONTACT_ID_FIELDS``), trimmed; None when absent or blank."""
    found = _field(ctr, name)
    return (id_text(found) or None) if found is not None else None


def _text(value: Any, field_name: str) -> str:
    if value in (None, ""):
        raise missing(field_name, SOURCE)
    if not isinstance(value, str):
        raise malformed(field_name, SOURCE, f"expected text, got {wire.json_type(value)}")
    if len(value) > 256:
        raise malformed(field_name, SOURCE, "longer than 256 characters")
    return value


def _field(container: dict[str, Any], name: str, parent: str | None = None) -> str | None:
    """An optional text field of the CTR (or of its ``parent`` object), refused if it is not text."""
    return wire.text(container, name, f"CTR {parent}" if parent else SOURCE, max_chars=512)


def _optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _object(value: Any, field_name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise malformed(field_name, SOURCE, f"expected an object, got {type(value).__name__}")
    return value


def _arn_tail(arn: Any) -> str | None:
    return str(arn).rsplit("/", 1)[-1] if arn else None
