"""The project's own error types.

Every error says whether retrying can help (``retriable``), so routing a failure (retry, dead-letter,
stop) is a decision on data rather than guesswork. Errors raised while decoding carry the raw bytes and
where they came from: exactly what the dead-letter writer needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bus.plural import noun_for

# The root lives in the lowest layer (the contract's errors derive from it); import it from here.
from schemas.errors import OmnibusError

if TYPE_CHECKING:
    from bus.dead_letter_lines import LineShape

__all__ = [
    "ConfigError", "DeserializationError", "MissingTopicError", "OmnibusError", "PublishError", "RawRecord",
    "LocalStackError", "RegistryLookupDeferred", "SchemaRegistryError", "SerializationError",
]
LOG_TAIL_MARK = "--- last lines"  # ``LocalStackError``'s messages: a tail of a log follows
TOPICS_APPLY_HINT = "run `omnibus topics apply` (or check OMNIBUS_TOPICS__PREFIX)"


class ConfigError(OmnibusError):
    """Settings are missing, malformed or unknown."""


class LocalStackError(OmnibusError, RuntimeError):
    """The local stack (a server that ``omnibus stack up`` or the demo starts, Maven, Java) could not be started or
    stopped. The message opens with what failed and where its logs are; a tail of a log may follow, each after a line
    starting with ``LOG_TAIL_MARK``."""

    def headline(self) -> str:
        """The message without the log tails: what a command's one ``error:`` line shows."""
        return str(self).split("\n" + LOG_TAIL_MARK, 1)[0]


class SerializationError(OmnibusError):
    """A value could not be encoded (it does not match its schema, or the schema is unknown)."""


class SchemaRegistryError(OmnibusError):
    """The schema registry refused a request or could not be reached. ``lookup``: the registry call that failed,
    to be made again by itself (it caches what it gets): ``bus.registry_outage`` makes it off the event loop before
    it runs the step that needed it again, so a registry that hangs blocks no other task on each retry."""

    def __init__(self, message: str, *, status: int | None = None, retriable: bool = False,
                 lookup: Callable[[], object] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retriable = retriable
        self.lookup = lookup


class RegistryLookupDeferred(SchemaRegistryError):
    """A schema look-up or registration not made on the event loop (``bus.registry_outage.lookups_off_loop``):
    ``lookup`` makes it, in a thread, before the step that needed it runs again. Not an outage by itself."""

    def __init__(self, what: str, lookup: Callable[[], object]) -> None:
        super().__init__(f"{what}: made off the event loop", retriable=True, lookup=lookup)


class PublishError(OmnibusError):
    """Kafka did not acknowledge a record."""

    def __init__(self, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


class MissingTopicError(ConfigError, PublishError):
    """The broker answered, and its metadata does not list ``topics``: configuration, not an outage.

    Never retriable: waiting does not create a topic. A command ends with status 2 on it (a ``ConfigError``,
    ``bus.bootstrap``); the message names the topics and the fix (``TOPICS_APPLY_HINT``)."""

    def __init__(self, topics: Sequence[str]) -> None:
        self.topics = tuple(topics)
        names = ", ".join(self.topics)
        verb = "does" if len(self.topics) == 1 else "do"
        PublishError.__init__(self, f"{noun_for(len(self.topics), 'topic')} {names} {verb} not exist: "
                                    f"{TOPICS_APPLY_HINT}", retriable=False)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record exactly as it came off the wire, with its coordinates (offset is None for HTTP input)."""

    value: bytes | None
    key: bytes | None = None
    headers: Sequence[tuple[str, bytes | None]] = field(default_factory=tuple)
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    value_cut: bool = False  # ``value`` is only the first bytes of what was sent (an HTTP body over the size limit)
    value_size: int | None = None  # with ``value_cut``: the size sent, when the sender declared it (Content-Length)
    # a file's line whose columns its import knows: how its dead letter's clear copy reads it
    # (``bus.dead_letter_lines``)
    line: LineShape | None = None


class DeserializationError(OmnibusError):
    """Bytes could not be decoded into an event. ``record`` holds the original bytes and coordinates.

    ``unframed``: the value is in neither framing Omnibus writes (``bus.serde``: the Confluent wire format, or the
    single-object encoding of a schema of the catalog), so no registry setting would decode it: a poison record that
    a producer outside Omnibus wrote, which the processors dead-letter, not a sign that the reader uses the wrong
    registry."""

    def __init__(self, message: str, *, record: RawRecord, unframed: bool = False) -> None:
        super().__init__(message)
        self.record = record
        self.unframed = unframed
