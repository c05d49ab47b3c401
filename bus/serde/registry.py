"""The schema-registry client: ``confluent_kafka.schema_registry`` (Confluent's own client; Apicurio's
ccompat API speaks the same REST protocol), behind the two calls the Confluent framing needs.

What is ours is only what the library does not say: its errors become ``bus.errors.SchemaRegistryError``
with ``retriable`` (an unreachable registry, 5xx or 429 may come back; 4xx will not), and a local map of
what this process registered, so ``is_cached`` lets the async producer keep the hot path free of I/O.
The library retries nothing here (``max.retries`` 0): a registry outage reaches the caller at once and
the adapter answers 503, as before.
"""

from __future__ import annotations

import functools
import json
import queue
import threading
from typing import Any

from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry import (
    SchemaRegistryClient as ConfluentRegistryClient,
)
from confluent_kafka.schema_registry.error import (
    SchemaRegistryError as ConfluentRegistryError,
)

from bus.config import RegistrySettings
from bus.errors import RegistryLookupDeferred, SchemaRegistryError
from bus.registry_outage import deferring_lookups

try:  # the HTTP library the registry client runs on: httpx2 where installed, else httpx (as confluent-kafka does)
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]


_ANSWERS_LOCK = threading.Lock()
_answers = 0  # requests a schema registry answered in this process (``registry_answers``)


def registry_answers() -> int:
    """How many requests a schema registry answered in this process so far (any client, any call): an adapter that
    noted the registry down ends that outage only once this count moved past its note (``adapters.base.publisher``),
    not at a publish whose schemas were all cached, which never asked it."""
    return _answers


def _answered() -> None:
    global _answers
    with _ANSWERS_LOCK:
        _answers += 1


def _schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


class SchemaRegistryClient:
    """``register`` and ``schema_by_id``, each cached; raises ``SchemaRegistryError`` (``retriable`` set)."""

    def __init__(self, settings: RegistrySettings) -> None:
        if not settings.url:
            raise SchemaRegistryError("no schema registry URL configured (OMNIBUS_REGISTRY__URL)")
        self._url = settings.url
        self._timeout_s = settings.timeout_s
        conf: dict[str, Any] = {"url": settings.url, "timeout": settings.timeout_s, "max.retries": 0}
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            conf["basic.auth.user.info"] = f"{settings.username}:{password}"
        self._client = ConfluentRegistryClient(conf)
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (a no-op if already there) and return its global id."""
        text = _schema_text(schema)
        cached = self._ids.get((subject, text))
        if cached is not None:
            return cached
        schema_id = int(self._call(f"register under {subject}", functools.partial(self.register, subject, schema),
                                   self._client.register_schema, subject, Schema(text, "AVRO")))
        with self._lock:
            self._ids[(subject, text)] = schema_id
            self._schemas.setdefault(schema_id, schema)
        return schema_id

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The writer schema registered under ``schema_id`` (a parsed JSON schema)."""
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        found = self._call(f"get schema id {schema_id}", functools.partial(self.schema_by_id, schema_id),
                           self._client.get_schema, schema_id)
        schema = json.loads(found.schema_str)
        with self._lock:
            self._schemas[schema_id] = schema
        return schema

    def is_cached(self, subject: str, schema: dict[str, Any]) -> bool:
        return (subject, _schema_text(schema)) in self._ids

    def _call(self, what: str, again: Any, function: Any, *args: Any) -> Any:
        """``function(*args)``, its errors as ``SchemaRegistryError`` carrying ``again`` (the public call that
        caches its answer) as ``lookup``. A registry that does not answer within ``RegistrySettings.timeout_s`` all
        told (one that accepts the connection and never answers, or answers a byte at a time: httpx's timeout bounds
        each read, not the request) is unreachable: an outage, like a refusal (``_within_timeout``).
        Within ``bus.registry_outage.lookups_off_loop`` nothing is sent: ``RegistryLookupDeferred`` is raised."""
        if deferring_lookups():
            raise RegistryLookupDeferred(what, again)
        try:
            result = self._within_timeout(what, function, *args)
        except ConfluentRegistryError as exc:
            status = exc.http_status_code if exc.http_status_code and exc.http_status_code > 0 else None
            raise SchemaRegistryError(
                f"schema registry answered {status} to {what}: {exc.error_message}", status=status,
                retriable=status is None or status >= 500 or status == 429, lookup=again,
            ) from exc
        except (httpx.TransportError, OSError) as exc:
            raise SchemaRegistryError(f"schema registry at {self._url} unreachable: {exc}", retriable=True,
                                      lookup=again) from exc
        _answered()
        return result

    def _within_timeout(self, what: str, function: Any, *args: Any) -> Any:
        """``function(*args)`` run in a daemon thread and waited for at most ``timeout_s`` seconds; raises what it
        raised, or ``TimeoutError`` (an ``OSError``) once that time is up. The abandoned request ends in its thread
        when the registry finishes its answer or httpx's own per-read timeout fires; nothing waits for it."""
        outcome: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

        def request() -> None:
            try:
                outcome.put((True, function(*args)))
            except BaseException as exc:  # handed to the caller, raised there
                outcome.put((False, exc))

        threading.Thread(target=request, name="schema-registry-request", daemon=True).start()
        try:
            answered, value = outcome.get(timeout=self._timeout_s)
        except queue.Empty:
            raise TimeoutError(f"no answer to {what} within {self._timeout_s} s") from None
        if not answered:
            raise value
        return value
