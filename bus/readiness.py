"""The one body every health probe answers, adapters and processors alike: ``/live``, ``/ready`` (and the adapters'
``/healthz``, kept for existing probes).

A new user found two shapes: adapters answered ``{"status": "ok"}``, processors ``{"live": true}`` and
``{"ready": true, "partitions": 19, "max_lag": 0}``. Every probe now answers a JSON object with all of these
fields (``ProbeBody``; ``PROBE_SCHEMA`` describes it in the adapters' OpenAPI):

- ``component`` (string): the process, named as in metrics (``identity``, ``adapter.web``);
- ``status`` (string): ``ok`` when ready, else ``unavailable``;
- ``live`` (boolean): true while the process goes on; false only when a processor is stopping itself because its
  start-up stalled (``bus.startup_watchdog``; ``reason`` says why), then ``/live`` answers 503;
- ``ready`` (boolean): whether it serves now (a processor: owns its partitions, its views can answer, caught up;
  an adapter: always, since it listens only once its producer is connected);
- ``reason`` (string or null): why it is not ready, null when it is;
- ``partitions`` (integer or null): the input partitions a processor owns, null for an adapter (no consumer);
- ``max_lag`` (integer or null, records): the highest consumer lag over them, null when not known (an adapter, or
  a processor that does not own its partitions yet);
- ``lag_age_s`` (number or null, seconds): how old ``max_lag`` may be: the time since a broker last answered the
  worker (the high watermarks the lag is computed from came from it); null with ``max_lag`` null, or when the
  broker is not watched. During a broker outage ``max_lag`` stays what it was last seen, and this grows (a frozen
  ``max_lag`` looked current for 75 s);
- ``behind`` (object): ``{"topic[partition]": lag in records}`` for each partition over the processor's limit,
  empty when none;
- ``stalled`` (object): ``{"topic[partition]": lag in records}`` for each partition the lag watchdog knows stalled
  (records wait and nothing was consumed for its ``stall_after_s``, until the committed offset moves again:
  ``bus.lag_watchdog``), empty when none; any makes a processor not ready (a stall hid behind a
  ``max_lag`` under the limit).

The status codes: ``/live`` answers 200 while the process's event loop runs (503 when ``live`` is false);
``/ready`` (and ``/healthz``) 200 when ``ready``, else 503 with ``Retry-After`` and this same body. Kubernetes probes
read only the status code (``deploy/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

LIVE_PATH, READY_PATH = "/live", "/ready"
Status = Literal["ok", "unavailable"]
OK: Status = "ok"
UNAVAILABLE: Status = "unavailable"


class ProbeBody(TypedDict):
    """What ``/live`` and ``/ready`` answer (the module docstring gives each field)."""

    component: str
    status: Status
    live: bool
    ready: bool
    reason: str | None
    partitions: int | None
    max_lag: int | None
    lag_age_s: float | None
    behind: dict[str, int]
    stalled: dict[str, int]


def probe_body(component: str, *, ready: bool = True, reason: str | None = None, partitions: int | None = None,
               max_lag: int | None = None, lag_age_s: float | None = None,
               behind: Mapping[str, int] | None = None, stalled: Mapping[str, int] | None = None,
               live: bool = True) -> ProbeBody:
    """The probe body of ``component``; ``reason`` is kept only when not ``ready`` (a ready process has none).
    ``live`` false (a worker stopping itself) is never ready.

    Raises ``ValueError`` when ``ready`` is false without a ``reason``: an operator must be told why."""
    ready = ready and live
    if not ready and not reason:
        raise ValueError(f"{component} is not ready: a probe body must say why")
    return ProbeBody(component=component, status=OK if ready else UNAVAILABLE, live=live, ready=ready,
                     reason=None if ready else reason, partitions=partitions, max_lag=max_lag,
                     lag_age_s=None if lag_age_s is None else round(lag_age_s, 1), behind=dict(behind or {}),
                     stalled=dict(stalled or {}))


# ``ProbeBody`` as an OpenAPI 3.1 (JSON Schema 2020-12) schema, for the adapters' descriptions.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The same body on /live, /ready and /healthz, for adapters and processors alike.",
    "required": list(ProbeBody.__annotations__),
    "additionalProperties": False,
    "properties": {
        "component": {"type": "string", "description": "The process, named as in metrics (adapter.web).",
                      "examples": ["adapter.web"]},
        "status": {"type": "string", "enum": [OK, UNAVAILABLE], "description": "ok when ready, else unavailable."},
        "live": {"type": "boolean", "description": "True while the process goes on; false (with /live 503) only "
                 "when a processor stops itself because its start-up stalled."},
        "ready": {"type": "boolean", "description": "Whether it serves now."},
        "reason": {"type": ["string", "null"], "description": "Why it is not ready; null when it is."},
        "partitions": {"type": ["integer", "null"], "minimum": 0,
                       "description": "Input partitions a processor owns; null for an adapter."},
        "max_lag": {"type": ["integer", "null"], "minimum": 0,
                    "description": "Highest consumer lag over them, in records; null when not known."},
        "lag_age_s": {"type": ["number", "null"], "minimum": 0,
                      "description": "Seconds since a broker last answered: how old max_lag may be; null when "
                                     "not known."},
        "behind": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                   "description": "topic[partition] -> lag in records, for each partition over the limit."},
        "stalled": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                    "description": "topic[partition] -> lag in records, for each partition where records wait and "
                                   "nothing was consumed for the lag watchdog's stall_after_s (until its committed "
                                   "offset moves); any makes a processor not ready."},
    },
}


# A processor's view that answers from its tables while ``/ready`` is 503 for a reason that lets it serve (a schema
# registry or broker that does not answer, a partition behind or stalled: records wait that the answer lacks) says so:
# the answer's ``held_back`` field is that reason (null when ready), and this header is present (``true``). A user saw
# ``/kpis`` and the screen pop answer 200 during a registry outage with nothing saying the data was behind.
HELD_BACK_HEADER, HELD_BACK_KEY = "Omnibus-Held-Back", "held_back"
HELD_BACK_FIELD: dict[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "null"}],
    "description": "Null when the worker answering is ready. Else why records wait that this answer does not count "
                   f"yet, as its /ready says (it answers 503 meanwhile; the {HELD_BACK_HEADER} header is true): a "
                   "schema registry or broker that does not answer, a partition behind or stalled. Ask again later. "
                   "Always present in the HTTP answer.",
}
HELD_BACK_ON_MISS_FIELD: dict[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "null"}],
    "description": "On a 404 (no such customer or identifier): null when the worker answering is ready. Else why "
                   f"records wait (as its /ready says; the {HELD_BACK_HEADER} header is true): the customer may be in "
                   "them (a new caller's first contact), so the 404 may be too early. Ask again later.",
}
HELD_BACK_HEADER_SCHEMA: dict[str, Any] = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present (true) when held_back is not null: the answer may lack records that wait.",
}


def with_held_back(schema: dict[str, Any]) -> dict[str, Any]:
    """An answer's object ``schema`` (OpenAPI, closed) with the ``held_back`` field: present in every HTTP answer,
    not required of the builders whose objects the view answers (the screen pop's profile, the offers' answer)."""
    return {**schema, "properties": {**schema["properties"], HELD_BACK_KEY: HELD_BACK_FIELD}}
