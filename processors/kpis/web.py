"""``GET /kpis``: the aggregates this worker holds, as JSON: windows ended within ``windows_kept_days`` of event time
(``retention``; older ones: ``omnibus report kpis``).

Query: ``granularity`` (HOUR, DAY), ``from`` / ``to`` (ISO-8601 instants; windows starting in
``[from, to)``), ``channel`` (``omnibus.common.Channel``), ``site``; other values of these are answered 400.
Answer: ``{"aggregates": [...]}``, each with the window, its counts, open handoffs by age band and the KPI
ratios (``docs/kpis.md``); ``open_handoffs`` is null for a window that has not ended (its snapshot is taken at the
window's end, as ``omnibus report kpis`` shows ``pending``: a 0 there read as "no open handoffs"). Stage-two state
is partitioned by window key: with several workers each answers for the windows it owns (``partial: true``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from faust.web import Request, Response, View
from pydantic import SecretStr

from bus.errors import OmnibusError
from processors.kpis.measures import KPIS, Measure, open_by_band, ratio
from processors.kpis.windows import Granularity, WindowKey, from_micros, to_micros
from processors.readiness import unavailable
from processors.web_auth import guarded
from schemas.enums import CHANNELS


def render(window_key: str, counts: Mapping[str, int], now_us: int | None = None) -> dict[str, Any]:
    """One aggregate as answered; ``now_us`` (µs since the epoch, default the wall clock) decides whether the
    window has ended, so whether its open-handoff snapshot exists."""
    window = WindowKey.parse(window_key)
    ended = window.end_us <= (time.time_ns() // 1000 if now_us is None else now_us)
    return {
        "granularity": window.granularity.value, "window_start": from_micros(window.start_us).isoformat(),
        "window_end": from_micros(window.end_us).isoformat(), "channel": window.channel, "site": window.site or None,
        "counts": {m.value: counts.get(m.value, 0) for m in Measure},
        "open_handoffs": open_by_band(dict(counts)) if ended else None,
        "kpis": {kpi.name: ratio(dict(counts), kpi) for kpi in KPIS},
    }


def select(
    windows: Mapping[str, Mapping[str, int]], *, granularity: str | None = None, start: datetime | None = None,
    end: datetime | None = None, channel: str | None = None, site: str | None = None,
) -> list[dict[str, Any]]:
    found = []
    for key in sorted(windows, key=WindowKey.parse):
        window = WindowKey.parse(key)
        if granularity and window.granularity.value != granularity.upper():
            continue
        if (start and window.start_us < to_micros(start)) or (end and window.start_us >= to_micros(end)):
            continue
        if (channel and window.channel != channel.upper()) or (site is not None and window.site != site):
            continue
        found.append(render(key, windows[key]))
    return found


class BadQuery(OmnibusError, ValueError):
    """A query parameter of ``GET /kpis`` that no window can match (answered 400 with this text)."""


def filters(query: Mapping[str, str]) -> dict[str, Any]:
    """``select``'s keyword arguments from the query; raises ``BadQuery`` naming the parameter and what it takes
    (a new user's ``granularity=WEEK`` was answered 200 with no aggregates, as if there were none)."""
    granularity, channel = query.get("granularity"), query.get("channel")
    if granularity and granularity.upper() not in {g.value for g in Granularity}:
        raise BadQuery(f"granularity must be one of {', '.join(g.value for g in Granularity)}, not {granularity!r}")
    if channel and channel.upper() not in CHANNELS:
        raise BadQuery(f"channel must be one of {', '.join(sorted(CHANNELS))}, not {channel!r}")
    try:
        start = datetime.fromisoformat(query["from"]) if query.get("from") else None
        end = datetime.fromisoformat(query["to"]) if query.get("to") else None
    except ValueError as exc:
        raise BadQuery(f"from/to must be ISO-8601 instants: {exc}") from None
    return {"granularity": granularity, "start": start, "end": end, "channel": channel, "site": query.get("site")}


def register_views(
    app: Any, current: Callable[[], Mapping[str, Mapping[str, int]]], partial: Callable[[], bool],
    cannot_serve: Callable[[], str | None] = lambda: None, tokens: Mapping[str, SecretStr] | None = None,
) -> None:
    """``GET /kpis`` on ``app``; ``cannot_serve``: why the worker cannot read its tables now (starting, stopping,
    rebalancing: ``processors.readiness.Readiness.waiting_for``), answered 503 with Retry-After, as every
    processor's views are (``current`` asks the consumer for its assignment, which raises before it started);
    ``tokens``: the bearer tokens it asks for (``processors.web_auth``)."""
    @guarded(tokens or {}, component="kpis")
    async def kpis_view(self: View, request: Request) -> Response:
        if (waiting := cannot_serve()) is not None:
            return unavailable(self, waiting)
        try:
            wanted = filters(request.query)
        except BadQuery as exc:
            return self.error(400, str(exc))
        return self.json({"aggregates": select(current(), **wanted), "partial": partial()})

    app.page("/kpis", name="kpis")(kpis_view)
