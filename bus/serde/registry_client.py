"""A small, cached client for the Confluent Schema Registry REST API (Apicurio's ccompat API speaks it too).

Synchronous on purpose: it is called once per new subject or schema id and then answered from its
cache, so the hot path never does I/O. A registry that cannot be reached raises a retriable error.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bus.config import RegistrySettings
from bus.errors import SchemaRegistryError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryClient:
    def __init__(self, settings: RegistrySettings) -> None:
        if not settings.url:
            raise SchemaRegistryError("no schema registry URL configured (OMNIBUS_REGISTRY__URL)")
        self._base = settings.url.rstrip("/")
        self._timeout = settings.timeout_s
        self._auth: str | None = None
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            raw = f"{settings.username}:{password}".encode()
            self._auth = "Basic " + base64.b64encode(raw).decode()
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (a no-op if already there) and return its global id."""
        text = json.dumps(schema, separators=(",", ":"), sort_keys=True)
        cached = self._ids.get((subject, text))
        if cached is not None:
            return cached
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        answer = self._request("POST", path, {"schema": text, "schemaType": "AVRO"})
        schema_id = int(answer["id"])
        with self._lock:
            self._ids[(subject, text)] = schema_id
            self._schemas.setdefault(schema_id, schema)
        return schema_id

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        answer = self._request("GET", f"/schemas/ids/{schema_id}")
        schema = json.loads(answer["schema"])
        with self._lock:
            self._schemas[schema_id] = schema
        return schema

    def is_cached(self, subject: str, schema: dict[str, Any]) -> bool:
        return (subject, json.dumps(schema, separators=(",", ":"), sort_keys=True)) in self._ids

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._base + path, data=data, method=method)
        request.add_header("Accept", CONTENT_TYPE)
        if data is not None:
            request.add_header("Content-Type", CONTENT_TYPE)
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise SchemaRegistryError(
                f"schema registry answered {exc.code} to {method} {path}: {detail}",
                status=exc.code,
                retriable=exc.code >= 500 or exc.code == 429,
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise SchemaRegistryError(
                f"schema registry at {self._base} unreachable: {exc}", retriable=True
            ) from exc
