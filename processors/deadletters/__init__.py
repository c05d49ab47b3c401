"""Dead letters an operator can look into: read from ``<prefix>.deadletter.v1``, selected, their original decoded.

A dead letter (``schemas/deadletter/DeadLetter.avsc``, written by ``bus.dead_letter``) keeps the original key, value
and headers of a record Omnibus refused, the reason, and where the record came from. ``read_dead_letters`` reads
them all (no consumer group: nothing of a running processor is touched), one per ``dead_letter_id`` (a batch
redelivered after a rebalance dead-letters its poison again under the same id); ``select`` filters them;
``original`` decodes the original value: Avro by the registry's schema (the source topic's records carry a
Confluent schema id), else JSON (an HTTP body), else UTF-8 text (a file's line), else hex. Identifier values are
masked as ``omnibus topics read`` masks them unless the caller asks to reveal them; text and opaque bytes are then
not shown at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.config import OmnibusSettings
from bus.dead_letter import (
    FILE_HEADER,
    FILE_LINE_HEADER,
    FILE_OFFSET_HEADER,
    LOCATION_HEADERS,
    OUTBOX_ID_HEADER,
    OUTBOX_TABLE_HEADER,
    POLLER_HEADER,
    POLLER_TABLE_HEADER,
    SEAL_KEY_ID_HEADER,
    SEALED_BODY_HEADER,
    scrubbed_reason,
)
from bus.errors import DeserializationError
from bus.redact import scrub_text
from bus.references import declared
from bus.serde import Deserializer, SerdeContext, build_serde
from bus.topics import DEAD_LETTERS
from processors.replay import read_topics
from processors.replay.read_cli import masked_text, shown

# The ``DeadLetter.source_kind`` of a record read from no topic that ``redrive`` re-submits from its sealed body
# (``processors.deadletters.sealed``); the other, ``file``, is imported again instead.
RESUBMITTED_KINDS = ("http", "outbox", "poller")
REDRIVEN_FROM_HEADER = "omnibus-redriven-from"  # on a re-driven record: "<dead-letter topic>/<partition>/<offset>"
DEAD_LETTER_ID_HEADER = "omnibus-dead-letter-id"  # on a re-driven record: the dead letter's id (what makes it once)
REDRIVEN_BY_HEADER = "omnibus-redriven-by"  # on a record ``redrive --new-id`` published: the operator's --by
REDRIVE_REASON_HEADER = "omnibus-redrive-reason"  # and their --reason, scrubbed (``bus.cli.operator_text``)
HIDDEN = "<hidden: --reveal shows it>"
SEALED = "<sealed: %d bytes; redrive opens it>"  # a refused body kept sealed (``bus.sealing``): never shown


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter: where it sits on the dead-letter topic, and its record (the schema's fields)."""

    topic: str
    partition: int
    offset: int
    fields: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.fields["dead_letter_id"])

    @property
    def position(self) -> str:
        """``<dead-letter topic>/<partition>/<offset>``: what ``REDRIVEN_FROM_HEADER`` carries."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def location(self) -> dict[str, str]:
        """The ``LOCATION_HEADERS`` it carries (name: text): set for a line refused by a file import, else empty."""
        found = {}
        for header in self.fields.get("headers") or ():
            if header["key"] in LOCATION_HEADERS and header["value"] is not None:
                found[header["key"]] = bytes(header["value"]).decode("utf-8", "replace")
        return found

    @property
    def source(self) -> str:
        """``topic/partition/offset`` it was read from; ``file <name> line <n>`` (``offset <bytes>``: older CDR
        files) for a line refused by a file import; ``outbox <table> row <id>`` for a row the legacy outbox relay
        refused, ``poller <name> table <table>`` for one a poller refused; else ``http`` (refused at an adapter's
        HTTP ingress)."""
        f = self.fields
        if f.get("source_topic") is not None:
            return f"{f['source_topic']}/{f['source_partition']}/{f['source_offset']}"
        where = self.location
        if FILE_HEADER in where:
            at = (f" line {where[FILE_LINE_HEADER]}" if FILE_LINE_HEADER in where
                  else f" offset {where[FILE_OFFSET_HEADER]}" if FILE_OFFSET_HEADER in where else "")
            return f"file {where[FILE_HEADER]}{at}"
        row = self._headers(OUTBOX_TABLE_HEADER, OUTBOX_ID_HEADER, POLLER_HEADER, POLLER_TABLE_HEADER)
        if OUTBOX_ID_HEADER in row:
            return f"outbox {row.get(OUTBOX_TABLE_HEADER, '?')} row {row[OUTBOX_ID_HEADER]}"
        if POLLER_HEADER in row:
            return f"poller {row[POLLER_HEADER]} table {row.get(POLLER_TABLE_HEADER, '?')}"
        return "http"

    @property
    def source_kind(self) -> str:
        """What ``--source-topic`` matches when it was not read from a topic: ``file``, or one of
        ``RESUBMITTED_KINDS`` (``outbox``, ``poller``, ``http``)."""
        if FILE_HEADER in self.location:
            return "file"
        row = self._headers(OUTBOX_ID_HEADER, POLLER_HEADER)
        return "outbox" if OUTBOX_ID_HEADER in row else "poller" if POLLER_HEADER in row else "http"

    def _headers(self, *names: str) -> dict[str, str]:
        """The headers ``names`` it carries, as text (name: value)."""
        return {header["key"]: bytes(header["value"]).decode("utf-8", "replace")
                for header in self.fields.get("headers") or ()
                if header["key"] in names and header["value"] is not None}

    def reason_text(self) -> str:
        """The reason scrubbed as logs are, except the file name a file import starts it with (``<file> line 9: ...``),
        which is kept as it is, and a calendar date in the refused value of a layout's field declared not personal
        (``bus.redact.is_personal_field``: a due date is shown, a birth date keeps its shape only)."""
        return str(scrubbed_reason(str(self.fields["reason"]), self.location))

    @property
    def size(self) -> int | None:
        """Bytes of the original value (as sent, also when only its first bytes were kept); None: no value."""
        f = self.fields
        if f.get("value_size") is not None:
            return int(f["value_size"])
        return None if f.get("value") is None else len(f["value"])

    def summary(self) -> dict[str, Any]:
        """What ``deadletters list`` prints: no original bytes, the key masked."""
        f = self.fields
        key = None if f.get("key") is None else masked_text(bytes(f["key"]).decode("utf-8", "replace"))
        return {"id": self.id, "failed_at": _iso(f["failed_at"]), "component": f["source_component"],
                "error_type": f["error_type"], "reason": self.reason_text(), "source": self.source,
                "key": key, "size": self.size, "truncated": bool(f.get("value_truncated")),
                "at": self.position}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def read_dead_letters(settings: OmnibusSettings, *, timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every dead letter on the topic now, oldest first by ``failed_at``, one per ``dead_letter_id`` (its first copy).

    Raises ``TimeoutError`` if the topic does not deliver up to its end offsets within ``timeout_s``."""
    replay = await read_topics(settings, [DEAD_LETTERS], timeout_s=timeout_s)
    seen: dict[str, DeadLetter] = {}
    for record in replay.records:
        if record.event is None or record.event.schema != "omnibus.deadletter.DeadLetter":
            continue
        letter = DeadLetter(record.topic, record.partition, record.offset, dict(record.event.value))
        seen.setdefault(letter.id, letter)
    return sorted(seen.values(), key=lambda d: (d.fields["failed_at"], d.partition, d.offset))


def select(letters: Iterable[DeadLetter], *, ids: Iterable[str] = (), reason: str | None = None,
           error_type: str | None = None, source_topic: str | None = None, component: str | None = None,
           since: datetime | None = None) -> list[DeadLetter]:
    """The dead letters matching every filter given: ``ids`` (any of them), ``reason`` and ``error_type``
    (case-insensitive substrings), ``source_topic`` (with or without the prefix; else a ``DeadLetter.source_kind``:
    ``http`` for HTTP ingress, ``file`` for a file import, ``outbox`` / ``poller`` for the legacy adapter's rows),
    ``component`` (exact), ``since`` (failed at or after; a naive datetime is UTC)."""
    wanted = set(ids)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    out = []
    for letter in letters:
        f = letter.fields
        topic = f.get("source_topic") or letter.source_kind
        if wanted and letter.id not in wanted:
            continue
        if reason and reason.lower() not in f["reason"].lower():
            continue
        if error_type and error_type.lower() not in f["error_type"].lower():
            continue
        if source_topic and source_topic not in (topic, topic.partition(".")[2]):
            continue
        if component and component != f["source_component"]:
            continue
        if since is not None and f["failed_at"] < since:
            continue
        out.append(letter)
    return out


def original(letter: DeadLetter, deserializer: Deserializer, *, reveal: bool = False) -> dict[str, Any]:
    """The original record, decoded where it can be.

    ``{"format": "avro", "schema", "value"}`` (the registry's schema of its id), ``{"format": "json", "value"}``,
    ``{"format": "text", "value"}`` (UTF-8 that is not JSON: a file's line; a file's line an older release kept in
    another encoding, its bytes not valid in UTF-8 as escapes, ``n\\xf3mina``), ``{"format": "hex", "value"}``, or
    ``{"format": "none"}``, with ``truncated``, ``size``, the ``key`` and the
    ``headers`` (name: value). Without ``reveal``, identifier values are masked as ``omnibus topics read`` masks
    them, and what cannot be read field by field (hex, text, header values) is hidden."""
    f = letter.fields
    value: bytes | None = f.get("value")
    decoded: dict[str, Any]
    if value is None:
        decoded = {"format": "none"}
    else:
        decoded = _decode(value, letter, deserializer)
    if not reveal:
        decoded = _masked(decoded)
    key = f.get("key")
    key_text = None if key is None else bytes(key).decode("utf-8", "replace")
    # a file's line sealed by an older release: never re-driven (it is imported again), so its seal is not listed
    unsealable = FILE_HEADER in letter.location
    headers = {h["key"]: _header_value(h["value"], reveal or h["key"] in LOCATION_HEADERS)
               if h["key"] != SEALED_BODY_HEADER or h["value"] is None else SEALED % len(h["value"])
               for h in f.get("headers") or ()
               if not (unsealable and h["key"] in (SEALED_BODY_HEADER, SEAL_KEY_ID_HEADER))}
    return {"id": letter.id, **letter.summary(), **decoded,
            "key": key_text if reveal or key_text is None else masked_text(key_text), "headers": headers}


def _header_value(value: bytes | None, reveal: bool) -> str | None:
    if value is None:
        return None
    text = bytes(value).decode("utf-8", "replace")
    return text if reveal else scrub_text(text)


def _decode(value: bytes, letter: DeadLetter, deserializer: Deserializer) -> dict[str, Any]:
    f = letter.fields
    if not f.get("value_truncated"):  # either wire format: the deserializer reads its magic bytes
        ctx = SerdeContext(topic=f.get("source_topic") or "", partition=f.get("source_partition"),
                           offset=f.get("source_offset"))
        try:
            event = deserializer(value, ctx)
        except DeserializationError:
            pass
        else:
            return {"format": "avro", "schema": event.schema, "value": event.value}
    try:
        return {"format": "json", "value": json.loads(value)}
    except ValueError:  # not UTF-8 or not JSON (also a JSON body cut by the size limit)
        pass
    try:  # a line of a file import (CSV, fixed-width, a CDR), or a body that is not JSON: shown as the text it is
        return {"format": "text", "value": value.decode("utf-8")}
    except UnicodeDecodeError:
        if FILE_HEADER in letter.location:  # a line an older release kept in its file's encoding (a Latin-1 export)
            return {"format": "text", "value": value.decode("utf-8", errors="backslashreplace")}
        return {"format": "hex", "value": value.hex()}


def _masked(decoded: dict[str, Any]) -> dict[str, Any]:
    if decoded["format"] in ("hex", "text"):  # no fields to mask one by one: a name or address is not scrubbed
        return {**decoded, "value": HIDDEN}
    if decoded["format"] in ("avro", "json"):
        return {**decoded, "value": _scrubbed(shown(decoded["value"]))}
    return decoded


def _scrubbed(value: Any, name: str | None = None) -> Any:
    """Free text (a name, a note) may hold an e-mail or a number too: scrubbed as logs are, but a business reference
    under its field's ``name`` kept as the adapters keep it in a property (``bus.references.References.facts``): an
    id-named field's ``SR-2026-0002`` (``handoff_id``), a declared ``meter_point_id`` (a handoff's
    dead letter showed ``"handoff_id": "SR-[digits]"``)."""
    if isinstance(value, str):
        return scrub_text(value) if name is None else declared().facts({name: value})[name]
    if isinstance(value, dict):
        return {k: _scrubbed(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, name) for v in value]
    return value


def deserializer_for(settings: OmnibusSettings) -> Deserializer:
    return build_serde(settings.registry)[1]
