"""``omnibus topics read TOPIC``: what landed on a topic, decoded from Avro and with identifiers masked.

For a new user, an operator reading a dead letter, or a CRM developer checking what a subscriber will get,
without an outside Kafka tool. One JSON object per line on stdout: ``topic``, ``partition``, ``offset``,
``key`` and ``event`` (``schema``: the Avro record's full name; ``value``: the record). Identifier values are
masked the way logs mask them (``bus.redact``: a per-process token for fields named as identifiers, phones,
e-mails and long digit runs scrubbed from any text); bytes (a dead letter's original record) are shown by
their length. Reads with no consumer group: nothing of a running processor is touched.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec
import typer

from bus.config import load_settings
from bus.errors import OmnibusError
from bus.redact import redact
from bus.topics import ALL_TOPICS, TopicSpec
from processors.replay import Replayed, read_topics


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


def _shown(value: Any) -> Any:
    """Bytes by their length (a dead letter's original record), decimals as exact text; the rest as it is."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Decimal):  # Avro's decimal logical type (amounts)
        return str(value)
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(item) for item in value]
    return value


def line(record: Replayed) -> bytes:
    """One record as a JSON line (masked; an undecodable value says so)."""
    key = None if record.key is None else redact(record.key.decode("utf-8", "replace"))
    event: Any = ({"undecodable": f"<{len(record.value or b'')} bytes>"} if record.event is None
                  else {"schema": record.event.schema, "value": redact(record.event.value)})
    shown = {"topic": record.topic, "partition": record.partition, "offset": record.offset, "key": key,
             "event": event}
    return msgspec.json.encode(_shown(shown))


def read_command(
    topic: str = typer.Argument(..., help="A topic Omnibus declares, e.g. customer.contacts.v1 (omnibus topics list)."),
    last: int = typer.Option(20, min=1, help="Records per partition, counted back from its end."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Print the last records of a topic, decoded and with identifier values masked, one JSON object per line
    (per partition, in offset order)."""
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
    for record in replay.records:
        typer.echo(line(record).decode())
    if replay.undecodable:
        typer.echo(f"{replay.undecodable} record(s) did not decode with the registry's schemas", err=True)
