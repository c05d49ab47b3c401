"""``omnibus identity pop``: the screen pop from a running identity worker, over its own HTTP API.

The screen pop is served from the workers' tables (``processors/identity/web.py``), so the command asks a worker as
a front-line screen does: ``GET /customers/lookup?type=...&value=...[&region=...]`` or ``GET /customers/{id}``. The
worker normalises the identifier and masks every value in the answer; the identifier's value travels only in the
request's query (percent-encoded: a ``+`` as ``%2B``) and never in a log line or an error message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bus.errors import OmnibusError
from processors.identity.openapi import CUSTOMER_PATH, LOOKUP_PATH


@dataclass(frozen=True, slots=True)
class PopAnswer:
    """What the worker answered: its HTTP ``status`` and JSON ``body`` (the profile on 200, else ``{"error": ...}``,
    ``processors/identity/openapi.py``)."""

    status: int
    body: dict[str, Any]


class NoAnswer(OmnibusError):
    """No identity worker answered at the address (refused, timed out, not HTTP); the message says which.
    Retriable: a worker that is starting or restarting answers later."""

    retriable = True


def pop_url(base_url: str, *, kind: str | None = None, value: str | None = None, region: str | None = None,
            customer_id: str | None = None) -> str:
    """The lookup URL of an identifier (``kind``, ``value``, optional phone ``region``) or of ``customer_id``."""
    base = base_url.rstrip("/")
    if customer_id is not None:
        return base + CUSTOMER_PATH.format(customer_id=urllib.parse.quote(customer_id, safe=""))
    query = {"type": kind or "", "value": value or "", **({"region": region} if region else {})}
    return f"{base}{LOOKUP_PATH}?{urllib.parse.urlencode(query)}"


def fetch_pop(url: str, timeout_s: float, headers: Mapping[str, str] | None = None) -> PopAnswer:
    """GET ``url`` (from ``pop_url``). Raises ``NoAnswer`` when nothing answers within ``timeout_s`` seconds or the
    answer is not JSON; the error names the worker's address, never the query (it holds the identifier).
    ``headers``: sent along (``Authorization`` when the worker asks for a bearer token: ``processors.web_auth``)."""
    address = urllib.parse.urlsplit(url)._replace(query="").geturl()
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (http(s) from our option)
            return PopAnswer(response.status, _json(response.read(), address))
    except urllib.error.HTTPError as answered:
        return PopAnswer(answered.code, _json(answered.read(), address))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoAnswer(f"no identity worker answered at {address}: {reason}") from None


def _json(raw: bytes, address: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise NoAnswer(f"{address} did not answer JSON: is it identity's web port?") from None
    if not isinstance(body, dict):
        raise NoAnswer(f"{address} did not answer a JSON object: is it identity's web port?")
    return body
