"""``omnibus topics read TOPIC``: what landed on a topic, decoded from Avro, with identifier values masked.

For a new user, an operator reading a dead letter, or a CRM developer checking what a subscriber will get,
without an outside Kafka tool. One JSON object per line on stdout: ``topic``, ``partition``, ``offset``,
``key`` and ``event`` (``schema``: the Avro record's full name; ``value``: the record). Identifier values are
masked as the screen pop and ``omnibus verify`` show them (``bus.identifiers.masking``): identifier records
``{"type", "value"}``, ``TYPE:value`` keys, and fields named as identifiers (``bus.redact.SENSITIVE_FIELDS``).
Everything else is shown as it is, ids and dates included, so that an id can be copied into
``/customers/{id}`` (a new user's first version masked every run of seven digits, customer ids too). Bytes (a
dead letter's original record) are shown by their length: ``omnibus deadletters show`` decodes them. Reads with
no consumer group: nothing of a running processor is touched.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import typer

from bus import undecodable
from bus.cli.json_lines import json_line
from bus.config import load_settings
from bus.errors import OmnibusError
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.masking import mask, masked_tokens, record_kind
from bus.plural import counted
from bus.redact import SENSITIVE_FIELDS, field_kind
from bus.topics import ALL_TOPICS, TopicSpec
from processors.replay import Replayed, TopicsReplay, read_topics

DEFAULT_LAST = 20  # records ``topics read`` prints without ``--last``


class UnknownTopic(OmnibusError, ValueError):
    """The name is no topic Omnibus declares, or one that carries no Avro (internal)."""


def topic_spec(name: str, prefix: str) -> TopicSpec:
    """The declared topic called ``name`` (``customer.contacts.v1`` or with the prefix, ``omnibus.customer...``).

    Raises ``UnknownTopic`` for an undeclared or internal topic, naming the ones that can be read."""
    wanted = name.removeprefix(f"{prefix}.")
    readable = [spec for spec in ALL_TOPICS if not spec.internal]
    for spec in ALL_TOPICS:
        if spec.suffix == wanted:
            if spec.internal:
                raise UnknownTopic(f"{name} is internal to a processor (not Avro): there is nothing to decode")
            return spec
    raise UnknownTopic(f"no topic called {name}; readable: {', '.join(spec.suffix for spec in readable)}")


def masked_text(text: str) -> str:
    """``text`` as shown: an identifier's key form (``TYPE:value``) masked by its kind, else each secret's token in it
    by its end (``bus.identifiers.masking.masked_tokens``)."""
    kind, sep, value = text.partition(":")
    return f"{kind}:{mask(kind, value)}" if sep and kind in IDENTIFIER_TYPES else masked_tokens(text)


def shown(value: Any, name: str | None = None) -> Any:
    """``value`` with identifier values masked, bytes by their length, decimals as exact text."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Decimal):  # Avro's decimal logical type (amounts)
        return str(value)
    if isinstance(value, dict):
        record = record_kind(value)
        if record is not None:
            return {**{k: shown(v, k) for k, v in value.items()}, "value": mask(record, str(value["value"]))}
        return {key: shown(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shown(item, name) for item in value]
    if isinstance(value, str):
        kind = field_kind(name)
        if kind is not None:  # a generic name ("value") is masked where it holds an identifier record, not by name
            return mask(kind, value)
        return masked_text(value)
    return value


def shown_key(record: Replayed) -> str | None:
    """The record's key as text, masked like the value: a ``TYPE:value`` key, and a key its topic declares to be an
    identifier (``TopicSpec.key`` naming one of ``SENSITIVE_FIELDS``: ``business.events.v1`` is keyed by the
    account number; a dead letter by its original record's key, so by the original topic's): the
    value's ``account_number`` was shown ``****5678`` beside the key ``"400012345678"``."""
    if record.key is None:
        return None
    text = record.key.decode("utf-8", "replace")
    kind = _key_kind(record)
    return mask(kind, text) if kind is not None else masked_text(text)


def _key_kind(record: Replayed) -> str | None:
    topic = record.topic
    source = record.event.value.get("source_topic") if record.event is not None else None
    if isinstance(source, str):  # a dead letter: keyed by the original record's key
        topic = source
    for spec in ALL_TOPICS:
        if topic == spec.suffix or topic.endswith(f".{spec.suffix}"):
            return SENSITIVE_FIELDS.get(spec.key.lower())
    return None


def line(record: Replayed) -> str:
    """One record as a JSON line (masked; a tombstone and an undecodable value say so)."""
    key = shown_key(record)
    event: Any
    if record.tombstone:
        event = {"tombstone": True}
    elif record.event is None:
        event = {"undecodable": f"<{len(record.value or b'')} bytes>"}
    else:
        event = {"schema": record.event.schema, "value": record.event.value}
    whole = {"topic": record.topic, "partition": record.partition, "offset": record.offset, "key": key,
             "event": event}
    return json_line(shown(whole))


def newest(records: list[Replayed], last: int) -> list[Replayed]:
    """The ``last`` newest of ``records`` across partitions, by Kafka timestamp (then partition, offset), oldest
    first: what ``--last N`` promises (N in total, it gave N per partition)."""
    ordered = sorted(records, key=lambda r: (r.timestamp_ms or 0, r.partition, r.offset))
    return ordered[-last:]


def read_command(
    topic: str = typer.Argument(..., help="A topic Omnibus declares, e.g. customer.contacts.v1 (omnibus topics list)."),
    last: int = typer.Option(DEFAULT_LAST, min=1, help="The newest N records of the topic in total, across its "
                             "partitions; when older ones are left out, a last line on stderr says so."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Print the last records of a topic, decoded and with identifier values masked as on the screen pop, one JSON
    object per line, oldest first (by Kafka timestamp across partitions)."""
    settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})}
        )
    try:
        spec = topic_spec(topic, settings.topics.prefix)
    except UnknownTopic as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    replay = asyncio.run(read_topics(settings, [spec], last=last))
    printed = newest(replay.records, last)  # each partition gave its last N: the newest N of them all
    # The reader noted every undecodable record it read; the error line counts those printed, as printed.
    undecodable.reset()
    for record in printed:
        if record.unframed:
            undecodable.note_poison(record.topic, record.partition, record.offset, shown=True)
        elif record.event is None and not record.tombstone:
            undecodable.note(record.topic, settings.registry.url, shown=True)
        typer.echo(line(record))
    left_out = limit_note(replay, printed, last)
    if left_out:
        typer.echo(left_out, err=True)


def limit_note(replay: TopicsReplay, printed: list[Replayed], last: int) -> str | None:
    """The stderr line saying that ``--last`` left older records out, or None when every record was printed. A new
    user read the default 20 of 1,500 records as all that had landed."""
    if len(replay.records) <= len(printed) and not replay.earlier:
        return None
    return (f"{counted(len(printed), 'record')} shown, the newest (--last {last}); older ones are left out: --last N "
            "for more")
