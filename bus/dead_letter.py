"""The dead-letter writer: a record that cannot be processed is kept, with why, and the flow moves on.

The dead letter holds the original key, value and headers: a record read from a topic byte for byte and whole, input
an adapter refused as its clear copy, no identifier readable in it (``bus.dead_letter_clear``; an HTTP body over
``MAX_KEPT_VALUE_BYTES`` as its first bytes, marked ``value_truncated``), the reason in words, the
error type, and where the record came from (topic/partition/offset, or none for HTTP input), so an
operator can fix the cause and replay it. If the dead letter itself cannot be written the error
propagates: the caller must then not acknowledge or commit, because a silent drop is never an option.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bus.envelope import DEAD_LETTER_IDS
from bus.errors import DeserializationError, RawRecord
from bus.logging import get_logger
from bus.metrics import DEAD_LETTERS
from bus.producer import EventProducer, Outgoing
from bus.record_headers import header_key_bytes, is_utf8
from bus.redact import Scrubbed, is_personal_field, scrub_text
from bus.serde.base import Event

if TYPE_CHECKING:  # cryptography is loaded only where a seal key is set
    from bus.dead_letter_clear import ClearCopy
    from bus.sealing import Sealer

DEAD_LETTER_SCHEMA = "omnibus.deadletter.DeadLetter"
MAX_REASON_CHARS = 2_000
# The most of an original value a dead letter keeps: a quarter of Kafka's default ``max.message.bytes`` (1 MiB, which
# Omnibus' topics keep), leaving room for the key, headers and reason. A longer value (an HTTP body refused as
# ``too_large``) is kept as its first bytes with ``value_truncated`` set: readable, never re-driven. A record read
# from a topic is kept whole whatever its size: it already fit a Kafka record, and a re-drive needs its exact bytes.
MAX_KEPT_VALUE_BYTES = 256 * 1024

# Headers a file import puts on a refused line (``adapters.legacy.ingress_batch``, ``call_center.ingress_file``):
# where the line is, never personal data, so shown as they are. A nightly export named by date
# (``accounts_2026-12-01.csv``) had its date scrubbed as a possible phone number.
FILE_HEADER, FILE_LINE_HEADER, FILE_OFFSET_HEADER, LAYOUT_HEADER = "file", "file.line", "file.offset", "layout"
LOCATION_HEADERS = frozenset({FILE_HEADER, FILE_LINE_HEADER, FILE_OFFSET_HEADER, LAYOUT_HEADER})
# Headers the legacy adapter puts on a row it refused: the outbox table and the row's id (``adapters.legacy.
# ingress_outbox``), or the poller's name and its table (``ingress_poller``). Where the row came from: ``deadletters
# list`` shows it as its source, ``adapters.legacy.redrive`` maps the row again from them.
OUTBOX_TABLE_HEADER, OUTBOX_ID_HEADER = "outbox.table", "outbox.id"
POLLER_HEADER, POLLER_TABLE_HEADER = "poller", "table"
# A layout's typed field refused (``adapters.legacy.layout_fields.typed``), after the file name: `` line 9: field
# due_date is malformed (expected date %d/%m/%Y, got '32/11/2026')``. Anchored at the start: the field name is the
# layout's.
_MALFORMED_FIELD = re.compile(r"(?P<head> line \d+: field (?P<name>\w+) is malformed \(expected [^',]*, got )"
                              r"(?P<value>'.*'\))$")

# A body refused at an adapter's ingress, sealed (``bus.sealing``) when the deployment sets a seal key, and the id of
# that key: what ``omnibus deadletters redrive`` opens to re-submit it. Never shown (``deadletters show``
# prints its size); the sealed bytes hold no identifier in clear.
SEALED_BODY_HEADER, SEAL_KEY_ID_HEADER = "omnibus-sealed-body", "omnibus-seal-key-id"

# A record published without an optional part it carried (a handoff request, an offer answer, a card status:
# ``adapters.base.mapper.DroppedPart``) dead-letters the part with the record's bytes under a reason that names it
# (``part_refused_reason``). A re-drive of that dead letter must open the part: ``redrive`` passes the part
# to the adapter's re-mapping under ``REFUSED_PART_CONTEXT``, beside the context headers its ingress noted.
_PART_REFUSED = " refused, the rest of the record was published: "
REFUSED_PART_CONTEXT = "omnibus.refused_part"


# A counter's refused follow-up was dead-lettered as a ``handoff`` before it was a part of its own; its reason names
# its field (``adapters.branch.parts``), so ``refused_part`` still reads it as the follow-up it is.
_FOLLOW_UP_WRITTEN_AS_HANDOFF = ("handoff", "'transaction.follow_up", "follow_up")


def part_words(part: str) -> str:
    """A part (``adapters.base.mapper.PARTS``) as a reason or an answer names it: ``follow_up`` -> ``follow-up``."""
    return part.replace("_", "-")


def part_refused_reason(part: str, why: str) -> str:
    """``<part> refused, the rest of the record was published: <why>``: the reason of a refused part's dead letter,
    the part in words (``part_words``: ``follow-up refused, ...``)."""
    return f"{part_words(part)}{_PART_REFUSED}{why}"


def refused_part(reason: str) -> str | None:
    """The part a dead letter's ``reason`` names (``part_refused_reason``: ``follow-up`` -> ``follow_up``), or None (a
    record refused whole). A counter's follow-up dead-lettered as a ``handoff`` by an older adapter is ``follow_up``."""
    words, sep, why = reason.partition(_PART_REFUSED)
    part = words.replace("-", "_")
    if not sep or not part.isidentifier():
        return None
    written_as, field, follow_up = _FOLLOW_UP_WRITTEN_AS_HANDOFF
    return follow_up if part == written_as and why.startswith(field) else part

log = get_logger(__name__)


def scrubbed_reason(reason: str, location: Mapping[str, str]) -> Scrubbed:
    """A dead letter's ``reason`` scrubbed as logs are, except the file name a file import starts it with
    (``<file> line 9: ...``; ``location``: its ``LOCATION_HEADERS``, name: text), kept as it is, and a calendar date
    in the refused value of a layout's field declared not personal (``bus.redact.is_personal_field``: a due date or
    an opening date is shown, a birth date keeps its shape only). One rule for ``deadletters list`` and
    the log line of ``DeadLetterWriter.write`` (the log masked what the list showed)."""
    name = location.get(FILE_HEADER)
    for prefix in {name, name.rsplit("/", 1)[-1]} if name else ():
        if reason.startswith(f"{prefix} "):
            rest = reason[len(prefix):]
            field = _MALFORMED_FIELD.match(rest) if LAYOUT_HEADER in location else None
            if field is None or is_personal_field(field["name"]):
                return Scrubbed(prefix + scrub_text(rest))
            return Scrubbed(prefix + scrub_text(field["head"]) + scrub_text(field["value"], dates=False))
    return Scrubbed(scrub_text(reason))


def _location(record: RawRecord) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in record.headers
            if name in LOCATION_HEADERS and value is not None}


def dead_letter_id(record: RawRecord, component: str, error_type: str) -> str:
    """The dead letter's id: for a record read from a topic, UUID v5 of (component, topic, partition, offset,
    error type) (``bus.envelope.DEAD_LETTER_IDS``), so a batch redelivered after a rebalance dead-letters its
    poison again under the same id and readers drop the copy, as they do for every processor output; a random
    UUID for input with no offset (an HTTP body: each refusal is its own)."""
    if record.topic is None or record.partition is None or record.offset is None:
        return str(uuid.uuid4())
    return DEAD_LETTER_IDS.derive(component, record.topic, str(record.partition), str(record.offset), error_type)


def dead_letter_event(
    record: RawRecord, *, reason: str, error_type: str, component: str, correlation_id: str | None = None,
    given_id: str | None = None,
) -> Event:
    """The dead letter of ``record``; ``given_id``: its id when the caller derives one (a refused part of a published
    record, ``AdapterPublisher.reject_part``), else ``dead_letter_id``'s."""
    # A record read from a topic already fit a Kafka record: it is kept byte for byte, so it can be re-driven.
    # Only input with no offset (an HTTP body) can exceed what a dead letter holds.
    cut = record.offset is None and len(record.value or b"") > MAX_KEPT_VALUE_BYTES
    return Event(
        DEAD_LETTER_SCHEMA,
        {
            "dead_letter_id": given_id or dead_letter_id(record, component, error_type),
            "failed_at": datetime.now(UTC),
            "source_component": component,
            "source_topic": record.topic,
            "source_partition": record.partition,
            "source_offset": record.offset,
            "key": record.key,
            "value": record.value[:MAX_KEPT_VALUE_BYTES] if cut and record.value is not None else record.value,
            "value_truncated": record.value_cut or cut,
            "value_size": record.value_size if record.value_cut
            else (None if record.value is None else len(record.value)),
            "headers": [_header(key, value) for key, value in record.headers],
            "reason": reason[:MAX_REASON_CHARS],
            "error_type": error_type,
            "correlation_id": correlation_id,
        },
    )


def _header(key: str, value: bytes | None) -> dict[str, object]:
    """A header as the dead letter keeps it: a key that arrived as non-UTF-8 bytes keeps those bytes."""
    if is_utf8(key):
        return {"key": key, "value": value, "key_bytes": None}
    raw = header_key_bytes(key)
    return {"key": raw.decode("utf-8", errors="replace"), "value": value, "key_bytes": raw}


class DeadLetterWriter:
    """``clear`` rewrites the original key, value and header values before they are kept (adapters pass a
    ``bus.dead_letter_clear.ClearCopy``, so refused input never puts a national ID, card number, phone, e-mail or
    free-text identifier readable on the topic); None keeps them byte for byte (processors: their input is a topic
    already, normalised and scrubbed by an adapter).

    ``sealer``: input read from no topic (an HTTP body, a legacy outbox or polled row) is also kept as it came, sealed
    for this component (``bus.sealing``), in the header ``SEALED_BODY_HEADER``, with ``SEAL_KEY_ID_HEADER``; the
    adapters pass one when ``OMNIBUS_DEAD_LETTERS__SEAL_KEY`` is set. A body over ``MAX_KEPT_VALUE_BYTES`` is not
    sealed (it is kept cut, never re-driven), nor is a file's line (``FILE_HEADER``): it is corrected in its file and
    imported again, never re-driven, so a sealed copy would only keep its personal data longer."""

    def __init__(self, producer: EventProducer, topic: str, component: str,
                 clear: ClearCopy | None = None, sealer: Sealer | None = None) -> None:
        self._producer = producer
        self._topic = topic
        self._component = component
        self._clear = clear
        self._sealer = sealer

    @property
    def topic(self) -> str:
        return self._topic

    async def write(
        self, record: RawRecord, *, reason: str, error_type: str, correlation_id: str | None = None,
        dead_letter_id: str | None = None,
    ) -> None:
        """Publish a dead letter for ``record`` and wait for Kafka's acknowledgement; ``dead_letter_id``: its id when
        the caller derives one (readers keep one dead letter per id: ``processors.deadletters``)."""
        sealed = self._sealed(record)
        if self._clear is not None:
            record = self._clear.record(record)
        if sealed:
            record = dataclasses.replace(record, headers=(*record.headers, *sealed))
        event = dead_letter_event(
            record, reason=reason, error_type=error_type, component=self._component, correlation_id=correlation_id,
            given_id=dead_letter_id,
        )
        key = record.key.decode(errors="replace") if record.key is not None else None
        await self._producer.publish(Outgoing(self._topic, key, event))
        DEAD_LETTERS.labels(component=self._component, error_type=error_type).inc()
        log.warning(
            "dead-lettered a record",  # the id is what `omnibus deadletters show / redrive` name
            component=self._component, error_type=error_type, reason=scrubbed_reason(reason, _location(record)),
            dead_letter_id=event.value["dead_letter_id"], source_topic=record.topic,
            source_partition=record.partition, source_offset=record.offset,
        )

    async def write_error(self, error: Exception, record: RawRecord | None = None) -> None:
        """Dead-letter the record an error is about (a ``DeserializationError`` carries its own)."""
        if record is None:
            if not isinstance(error, DeserializationError):
                raise TypeError("a record is required for errors that do not carry one") from error
            record = error.record
        await self.write(record, reason=str(error), error_type=type(error).__name__)

    def _sealed(self, record: RawRecord) -> tuple[tuple[str, bytes], ...]:
        """The sealed-body headers of ``record`` (input read from no topic, whole), else none."""
        if self._sealer is None or record.topic is not None or record.value is None or record.value_cut \
                or len(record.value) > MAX_KEPT_VALUE_BYTES or any(name == FILE_HEADER for name, _ in record.headers):
            return ()
        return ((SEALED_BODY_HEADER, self._sealer.seal(record.value, self._component)),
                (SEAL_KEY_ID_HEADER, self._sealer.key_id.encode()))
