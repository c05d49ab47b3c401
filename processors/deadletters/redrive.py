"""Re-drive dead letters: put each original record back on its source topic, once.

The record goes back with its original key, value and headers, on the partition it came from, plus two headers:
``omnibus-redriven-from`` (``<dead-letter topic>/<partition>/<offset>``) and ``omnibus-dead-letter-id``.
Once: before sending, the source topics are read from the earliest selected ``failed_at`` to their end for records
already carrying the id (a second run, or a run cut short after sending, sends nothing again). Downstream, the
processors drop a copy all the same, on the event id inside the value (at-least-once with idempotent effects), so
two operators re-driving at the same moment give two records and one effect.

Refused, with the reason: a dead letter from HTTP ingress or the legacy adapter's outbox relay or pollers (no topic
to put it back on: ``processors.deadletters.sealed`` maps its sealed body or row again; for a message refused only
for its id, ``processors.deadletters.new_id`` publishes it under a new one) or from a file import (correct the line
and import it again),
one without its value or with only its first bytes (``value_truncated``), one whose source topic this deployment
does not declare (or is internal to a processor), and one with a header key that is not UTF-8 (it would be
dead-lettered again: ``bus.record_headers``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings
from bus.consume import start_or_close
from bus.dead_letter import FILE_HEADER, LAYOUT_HEADER
from bus.kafka_client import connection_options
from bus.producer import EventProducer
from bus.record_headers import is_utf8
from bus.sealing import SEAL_KEY_VARIABLE
from bus.serde import build_serde
from bus.topic import KafkaRecord
from bus.topics import ALL_TOPICS, DEAD_LETTERS
from processors.deadletters import (
    DEAD_LETTER_ID_HEADER,
    REDRIVEN_FROM_HEADER,
    DeadLetter,
)

# The legacy adapter's component (``adapters.base.runtime.adapter_component("legacy")``): its outbox and poller rows
# come from a database, not a topic.
LEGACY_COMPONENT = "adapter.legacy"
# Where a refused request that cannot be re-driven still reaches the back office (``manual_case``).
OPEN_CASE_HINT = ("for a handoff it asked for, open the case by hand: omnibus deadletters open-case ID --kind KIND "
                  "--identifier TYPE=VALUE --by NAME --why TEXT")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one dead letter: ``redriven`` (``at``: where it landed), ``would_redrive`` (dry run),
    ``already_redriven`` (``at``: the earlier copy), or ``refused`` (``reason``)."""

    letter: DeadLetter
    action: str
    at: str | None = None
    reason: str | None = None


def ingress_refusal(letter: DeadLetter) -> str:
    """Why a dead letter refused where it entered (no topic to put it back on) cannot be re-driven, and what to do.

    A file's line: correct it and import it again, since a file import only reads (``docs/legacy-batch.md``: the same
    file is "already imported"; a corrected line in a new file with the same layout is imported, a duplicate of a
    published line when the layout has a business ``key``). An HTTP body, or a legacy outbox or polled row, kept
    without its seal: the sender or source system sends it again (sealed, ``processors.deadletters.sealed`` maps it
    again)."""
    where = letter.location
    if FILE_HEADER not in where and str(letter.fields.get("source_component") or "").startswith(LEGACY_COMPONENT):
        return (f"refused by the legacy adapter's outbox relay or a poller, its row not kept sealed "
                f"({SEAL_KEY_VARIABLE} was not set on the adapter): there is no topic to put it back on and no row to "
                "map again; the source system must report it again (a new outbox row; a polled row once it changes), "
                f"or {OPEN_CASE_HINT}")
    if FILE_HEADER not in where:
        return ("refused at HTTP ingress: there is no topic to put it back on (the sender must send it again; a web "
                "message refused only for its id, error type RejectedInput.id_conflict or "
                "RejectedInput.request_id_conflict: redrive --new-id --by NAME --why TEXT)")
    if LAYOUT_HEADER in where:
        return (f"refused by import-batch ({letter.source}, layout {where[LAYOUT_HEADER]}): there is no topic to put "
                "it back on; correct the line in the export (or in a new file with the same header) and import that "
                "file again: omnibus adapter legacy import-batch --layout <the layout file> <file>")
    return (f"refused by a file import ({letter.source}): there is no topic to put it back on; correct the line in a "
            "file of the same format and import that file again (omnibus adapter call-center import-cdr)")


def refusal(letter: DeadLetter, settings: OmnibusSettings) -> str | None:
    """Why ``letter`` cannot go back on its topic, or None."""
    f = letter.fields
    topic = f.get("source_topic")
    if topic is None or f.get("source_partition") is None:
        return ingress_refusal(letter)
    if f.get("value") is None:
        return "the dead letter holds no original value"
    if f.get("value_truncated"):
        return "the dead letter holds only the first bytes of the original value"
    readable = {spec.name(settings.topics) for spec in ALL_TOPICS if not spec.internal}
    if topic not in readable:
        return f"{topic} is not a topic of this deployment (prefix {settings.topics.prefix!r}) that carries events"
    if any(h.get("key_bytes") is not None or not is_utf8(h["key"]) for h in f.get("headers") or ()):
        return "a header key is not UTF-8: the record would be dead-lettered again"
    return None


def redriven_record(letter: DeadLetter) -> KafkaRecord:
    """The record to send: the original key, value and headers on the original partition, plus the re-drive headers."""
    f = letter.fields
    headers = tuple((h["key"], bytes(h["value"]) if h["value"] is not None else b"") for h in f.get("headers") or ())
    headers += ((REDRIVEN_FROM_HEADER, letter.position.encode()), (DEAD_LETTER_ID_HEADER, letter.id.encode()))
    key = None if f.get("key") is None else bytes(f["key"])
    return KafkaRecord(f["source_topic"], key, bytes(f["value"]), headers, partition=int(f["source_partition"]))


async def already_redriven(settings: OmnibusSettings, letters: Sequence[DeadLetter], *,
                           topics: Mapping[str, Iterable[str]] | None = None,
                           timeout_s: float = 30.0) -> dict[str, str]:
    """Dead-letter id -> ``topic/partition/offset`` of a record already re-driven from it, for ``letters``: the
    earliest written of them (by timestamp, then topic, partition, offset), the same at every ask whatever topics
    are read and in whichever order they deliver (a re-drive publishes several events, on several topics).

    Reads each source topic (or the topics ``topics`` names for a dead letter's id: where ``--new-id`` publishes)
    from the earliest ``failed_at`` of the letters on it (a re-driven copy is written after its dead letter) to the
    end offsets seen at the start, headers only. Raises ``TimeoutError``."""
    since: dict[str, int] = {}
    for letter in letters:
        ms = int(letter.fields["failed_at"].timestamp() * 1000)
        for topic in topics[letter.id] if topics is not None else (letter.fields["source_topic"],):
            since[topic] = min(since.get(topic, ms), ms)
    if not since:
        return {}
    wanted = {letter.id for letter in letters}
    options = {**connection_options(settings.kafka),
               "client_id": f"{settings.kafka.client_id}-redrive-{uuid.uuid4().hex[:6]}"}
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, group_id=None)
    await start_or_close(consumer)
    found: dict[str, tuple[int, str, int, int]] = {}
    try:
        tps = [TopicPartition(topic, p) for topic in since for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            await consumer._client.force_metadata_update()  # noqa: SLF001
            tps = [TopicPartition(t, p) for t in since for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return {}
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: since[tp.topic] for tp in tps})
        remaining = set()
        for tp in tps:
            start = starts[tp].offset if starts.get(tp) is not None else ends[tp]
            if start < ends[tp]:
                consumer.seek(tp, start)
                remaining.add(tp)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=int(timeout_s * 1000))
            if not batch:
                raise TimeoutError(f"source topics did not deliver up to their end offsets within {timeout_s} s")
            for tp, messages in batch.items():
                for m in messages:
                    if m.offset >= ends[tp]:
                        break
                    for name, value in m.headers or ():
                        id_ = value.decode(errors="replace") if name == DEAD_LETTER_ID_HEADER and value else None
                        if id_ in wanted:
                            at = (m.timestamp, tp.topic, tp.partition, m.offset)
                            found[id_] = min(found.get(id_, at), at)
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return {id_: f"{topic}/{partition}/{offset}" for id_, (_, topic, partition, offset) in found.items()}


def event_topics(settings: OmnibusSettings) -> list[str]:
    """The topics a re-drive or ``open-case`` may publish on: every topic of the deployment that carries events, but
    the dead letters' own."""
    return sorted({spec.name(settings.topics) for spec in ALL_TOPICS if not spec.internal and spec is not DEAD_LETTERS})


async def handled_before(settings: OmnibusSettings, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """``outcomes`` with each ``refused`` one whose dead letter was already handled, re-driven or opened as a case by
    hand (a record carrying its id, ``omnibus-dead-letter-id``, on an event topic since it failed), answered
    ``already_redriven`` instead: told to correct a letter already handled, an operator sweeping the dead letters
    (``redrive --component ...``) could not tell it from an open one and might open its case a second time. Raises
    ``TimeoutError`` as ``already_redriven``."""
    refused = [outcome.letter for outcome in outcomes if outcome.action == "refused"]
    if not refused:
        return list(outcomes)
    topics = event_topics(settings)
    done = await already_redriven(settings, refused, topics={letter.id: topics for letter in refused})
    return [Outcome(outcome.letter, "already_redriven", at=done[outcome.letter.id])
            if outcome.action == "refused" and outcome.letter.id in done else outcome for outcome in outcomes]


async def redrive(settings: OmnibusSettings, letters: Sequence[DeadLetter], *, dry_run: bool = False,
                  check_done: bool = True) -> list[Outcome]:
    """Put ``letters`` back on their source topics, each once (see the module docstring); one ``Outcome`` each, in
    order. ``check_done=False`` skips the look for earlier copies (tests of the processors' own dedupe).
    Raises ``bus.errors.PublishError`` if Kafka does not acknowledge a record (those before it are sent)."""
    outcomes: dict[str, Outcome] = {}
    sendable: list[DeadLetter] = []
    for letter in letters:
        if letter.id in outcomes or any(letter.id == other.id for other in sendable):
            continue
        reason = refusal(letter, settings)
        if reason is not None:
            outcomes[letter.id] = Outcome(letter, "refused", reason=reason)
        else:
            sendable.append(letter)
    done = await already_redriven(settings, sendable) if check_done else {}
    to_send = [letter for letter in sendable if letter.id not in done]
    for letter in sendable:
        if letter.id in done:
            outcomes[letter.id] = Outcome(letter, "already_redriven", at=done[letter.id])
        elif dry_run:
            outcomes[letter.id] = Outcome(letter, "would_redrive", at=letter.fields["source_topic"])
    if to_send and not dry_run:
        serializer, _ = build_serde(settings.registry)
        async with EventProducer(settings, serializer) as producer:
            for letter in to_send:  # one at a time, in order: a failure leaves a clear line between sent and not
                meta, = await producer.send([redriven_record(letter)])
                outcomes[letter.id] = Outcome(letter, "redriven", at=f"{meta.topic}/{meta.partition}/{meta.offset}")
    return [outcomes[id_] for id_ in dict.fromkeys(letter.id for letter in letters)]
