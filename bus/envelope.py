"""The one builder of the ``omnibus.common.Envelope`` every event carries, and the one id scheme.

Ids are deterministic: ``IdScheme.derive(*parts)`` is ``uuid5(namespace, separator.join(parts))``, so
re-mapping the same native record or re-taking the same decision after a crash yields the same event id,
which subscribers dedupe on. Each kind of id has its own fixed namespace, declared here once; the
namespaces and separators are frozen because changing one would change every id it ever produced.

Shape of an envelope (``schemas/common/Envelope.avsc``): ``event_id``, ``occurred_at`` and
``received_at`` (timezone-aware datetimes), ``source_system``, ``channel``, ``site``,
``correlation_id``, ``causation_id``, ``source_event_id``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROCESSOR_CHANNEL = "PROCESSOR"


# A hex digit with its top two bits made 10 (RFC 4122 §4.1.1's variant): 0-3 -> 8-b, ..., c-f -> 8-b.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


@dataclass(frozen=True, slots=True)
class IdScheme:
    """Deterministic ids of one kind: ``uuid5(namespace, separator.join(parts))`` as a string."""

    namespace: uuid.UUID
    separator: str
    _hash: Any = field(init=False, repr=False, compare=False)  # SHA-1 already fed the namespace

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hashlib.sha1(self.namespace.bytes, usedforsecurity=False))

    def derive(self, *parts: str) -> str:
        """``str(uuid.uuid5(namespace, separator.join(parts)))`` (RFC 4122 §4.3), without building a
        ``UUID``: the hot path of every adapter. Raises ``UnicodeEncodeError`` as ``uuid5`` does."""
        digest = self._hash.copy()
        digest.update(self.separator.join(parts).encode())
        text = digest.hexdigest()
        # the version nibble becomes 5 and the variant's top two bits 10, set on the hex text
        return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


# Events mapped from a source record: (source system, source event id, discriminator[, content digest in hex]).
SOURCE_EVENT_IDS = IdScheme(uuid.UUID("6f6d6e69-6275-5300-8000-000000000001"), "\x1f")
# Identity decisions: (kind, triggering event id, customer ids / identifier...).
IDENTITY_DECISION_IDS = IdScheme(uuid.UUID("6f1f6a55-8d8e-4c52-9a3c-0b9a4a0d2e11"), "|")
# Handoff tracker outputs: (handoff id, seed naming the fact, e.g. ``c0:t1:w50``).
HANDOFF_OUTPUT_IDS = IdScheme(uuid.UUID("6f1c2a52-5c1e-4a55-9a57-0c7f3f0b8e11"), "/")
# KPI aggregates: (window key, digest of the counts).
KPI_AGGREGATE_IDS = IdScheme(uuid.UUID("0b7c3c55-2f7e-4e8f-9a51-6c1d64f0a7e2"), "/")
# Dead letters of records read from a topic: (component, topic, partition, offset).
DEAD_LETTER_IDS = IdScheme(uuid.UUID("d1ed1e77-0a5e-4c1b-8f2e-5b0c9e4a7d31"), "/")


KEY_DIGEST_HEX = 32  # 128 bits, as a content digest (``revisions.content_digest``) and a token
KEY_MARK = "key-"  # before the digest in an id: what follows stands for a key, it is not the key


def key_digest(scope: str, parts: Sequence[str]) -> str:
    """``key-`` + ``KEY_DIGEST_HEX`` hex digits of SHA-256 over ``scope`` and ``parts``: what an id carries in place
    of a key that holds an identifier value or a person's trait (README, "Ids never carry an identifier value").

    ``scope``: what the key names (a batch layout's or poller's name, ``adapters.legacy.keys``; an identity graph's
    identifier node, ``processors.identity.graph.saga.node_digest``); ``parts``: the key's spelled parts. The same
    parts give the same digest in one scope, so an id stays deterministic (dedupe and every reader's event ids
    depend on it). Not keyed: an id must not change with the deployment's token key; it hides the values from readers
    of ids, not from one who guesses a value and hashes it (the values travel in the events themselves, as
    identifiers, for those who may read them)."""
    text = json.dumps([scope, *parts], ensure_ascii=False)  # a list: no two keys write the same text
    return KEY_MARK + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_DIGEST_HEX]


def step_id(parent_id: str, step: str) -> str:
    """The id of one named step under an entity whose own id is a UUID (``uuid5(parent, step)``)."""
    return IdScheme(uuid.UUID(parent_id), "").derive(step)


def event_id(source_system: str, source_event_id: str, discriminator: str = "", content: bytes | None = None) -> str:
    """Deterministic id of an event mapped from a source record; ``discriminator`` tells apart several
    events mapped from one record.

    ``content``: a digest of the record's content (``adapters.base.ingest.content_digest``, 32 bytes), given by the
    adapters whose source ids are chosen by a sender that may reuse one for another record (a Segment ``messageId``,
    a counter event's ``event_id``). The id then names the content too: a re-send of the same record keeps its id
    (subscribers drop it), another record under a reused source id gets ids of its own, whichever adapter process
    took it, so no subscriber drops it as a copy. Without ``content`` the id is the one every earlier release
    derived."""
    if content is None:
        return SOURCE_EVENT_IDS.derive(source_system, source_event_id, discriminator)
    return SOURCE_EVENT_IDS.derive(source_system, source_event_id, discriminator, content.hex())


def envelope(
    *,
    event_id: str,
    occurred_at: datetime,
    source_system: str,
    channel: str,
    received_at: datetime | None = None,
    site: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    source_event_id: str | None = None,
) -> dict[str, Any]:
    """An envelope record (the Avro shape above); ``received_at`` defaults to now.

    Raises ``ValueError`` when ``occurred_at`` is naive: Avro's timestamp-micros needs an instant.
    """
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return {
        "event_id": event_id,
        "occurred_at": occurred_at,
        "received_at": received_at or datetime.now(UTC),
        "source_system": source_system,
        "channel": channel,
        "site": site,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "source_event_id": source_event_id,
    }


def source_envelope(
    *,
    source_system: str,
    channel: str,
    source_event_id: str,
    occurred_at: datetime,
    discriminator: str = "",
    site: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    received_at: datetime | None = None,
    content: bytes | None = None,
) -> dict[str, Any]:
    """The envelope of an event mapped from a source record: its id derives from the source's id (and the record's
    content digest when given: ``event_id``), and it starts its own correlation unless it continues one."""
    identity = event_id(source_system, source_event_id, discriminator, content)
    return envelope(
        event_id=identity, occurred_at=occurred_at, received_at=received_at, source_system=source_system,
        channel=channel, site=site, correlation_id=correlation_id or identity, causation_id=causation_id,
        source_event_id=source_event_id,
    )
