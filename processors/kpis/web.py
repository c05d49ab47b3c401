"""``GET /kpis``: the aggregates of every window, as JSON: windows ended within ``windows_kept_days`` of event time
(``retention``; older ones: ``omnibus report kpis``).

Query: ``granularity`` (HOUR, DAY), ``from`` / ``to`` (ISO-8601 dates or instants, UTC when they name no zone, as
``omnibus report kpis --from`` reads them: ``bus.clock.read_instant``; windows starting in ``[from, to)``),
``channel`` (``omnibus.common.Channel``), ``site``; other values of these are answered 400.
Answer: ``{"aggregates": [...], "partial": bool, "missing": [...], "held_back": null or why}``, each aggregate with
the window, its counts, open handoffs by age band and the KPI ratios (``docs/kpis.md``); ``open_handoffs`` is null for
a window that has not ended (its snapshot is taken at the window's end, as ``omnibus report kpis`` shows ``pending``: a
0 there read as "no open handoffs"). Stage-two state is partitioned by window key: the worker asked answers its own
windows and those the other workers own, asked of them (``peers``); ``partial`` is true and ``missing`` names the
partitions and why when an owner did not answer (a rebalance, a worker stopping); ``held_back`` is why records wait that
the counts lack yet (the worker's ``/ready`` reason while it is 503: ``processors.readiness.held_back_answer``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from faust.web import Request, Response, View
from pydantic import SecretStr

from bus.clock import read_instant
from bus.errors import OmnibusError
from processors.kpis.measures import KPIS, Measure, open_by_band, ratio
from processors.kpis.peers import PEER_PATH, Fetch, Gathered, Held, gather
from processors.kpis.windows import Granularity, WindowKey, from_micros, to_micros
from processors.readiness import held_back_answer, unavailable
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


def matching(
    windows: Mapping[str, Mapping[str, int]], *, granularity: str | None = None, start: datetime | None = None,
    end: datetime | None = None, channel: str | None = None, site: str | None = None,
) -> dict[str, Mapping[str, int]]:
    """The windows (key -> counts) the filters accept (``filters``' keyword arguments; aware instants)."""
    found = {}
    for key, counts in windows.items():
        window = WindowKey.parse(key)
        if granularity and window.granularity.value != granularity.upper():
            continue
        if (start and window.start_us < to_micros(start)) or (end and window.start_us >= to_micros(end)):
            continue
        if (channel and window.channel != channel.upper()) or (site is not None and window.site != site):
            continue
        found[key] = counts
    return found


def select(windows: Mapping[str, Mapping[str, int]], **wanted: Any) -> list[dict[str, Any]]:
    """The aggregates (``render``) of the windows ``matching`` accepts, in window order."""
    found = matching(windows, **wanted)
    return [render(key, found[key]) for key in sorted(found, key=WindowKey.parse)]


QUERY = ("granularity", "from", "to", "channel", "site")  # the filters, passed on to the owners as given


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
    return {"granularity": granularity, "start": _instant(query, "from"), "end": _instant(query, "to"),
            "channel": channel, "site": query.get("site")}


def _instant(query: Mapping[str, str], name: str) -> datetime | None:
    """The time parameter ``name`` (``bus.clock.read_instant``: a date or a time without zone is UTC's)."""
    if not (text := query.get(name)):
        return None
    try:
        return read_instant(text)
    except ValueError:
        raise BadQuery(f"{name} must be an ISO-8601 date or instant (UTC when it names no zone, e.g. 2026-03-01 or "
                       f"2026-03-01T10:00:00+01:00), not {text!r}") from None


def _partitions(text: str, count: int) -> set[int]:
    try:
        found = {int(part) for part in text.split(",") if part}
    except ValueError:
        raise BadQuery(f"partitions must be partition numbers separated by commas, not {text!r}") from None
    if not found <= set(range(count)):
        raise BadQuery(f"partitions must be below {count}, not {text!r}")
    return found


def register_views(
    app: Any, held: Held, fetch: Fetch | None = None, cannot_serve: Callable[[], str | None] = lambda: None,
    tokens: Mapping[str, SecretStr] | None = None, held_back: Callable[[], str | None] = lambda: None,
) -> None:
    """``GET /kpis`` and the internal ``GET /kpis/partitions`` (``peers``) on ``app``; ``held``: this worker's
    windows and the other owners; ``fetch``: how it asks them (None: it answers its own windows only, ``partial``
    naming the others); ``cannot_serve``: why the worker cannot read its tables now (starting, stopping,
    rebalancing: ``processors.readiness.Readiness.waiting_for``), answered 503 with Retry-After, as every
    processor's views are (``held.owned`` asks the consumer for its assignment, which raises before it started);
    ``tokens``: the bearer tokens both ask for (``processors.web_auth``); ``held_back``: why the answer may lack records
    that wait (``processors.readiness.Readiness.held_back``), answered in ``held_back`` and a header."""
    @guarded(tokens or {}, component="kpis")
    async def kpis_view(self: View, request: Request) -> Response:
        if (waiting := cannot_serve()) is not None:
            return unavailable(self, waiting)
        try:
            wanted = filters(request.query)
        except BadQuery as exc:
            return self.error(400, str(exc))
        owned = held.owned()
        windows: dict[str, Mapping[str, int]] = {**held.windows(owned)}
        others = set(range(held.count)) - owned
        gathered = Gathered(missing=[{"partitions": sorted(others), "reason": "this worker asks no other"}]
                            if others else [])
        if others and fetch is not None:
            query = {name: request.query[name] for name in QUERY if request.query.get(name)}
            gathered = await gather(others, held, query, fetch)
        windows.update(gathered.windows)
        return held_back_answer(self, {"aggregates": select(windows, **wanted), "partial": bool(gathered.missing),
                                       "missing": gathered.missing}, held_back())

    @guarded(tokens or {}, component="kpis")
    async def partitions_view(self: View, request: Request) -> Response:  # local state only: no fan-out
        if (waiting := cannot_serve()) is not None:
            return unavailable(self, waiting)
        try:
            wanted, asked = filters(request.query), _partitions(request.query.get("partitions", ""), held.count)
        except BadQuery as exc:
            return self.error(400, str(exc))
        answering = asked & held.owned()
        return self.json({"partitions": sorted(answering),
                          "windows": matching(held.windows(answering), **wanted)})

    app.page("/kpis", name="kpis")(kpis_view)
    app.page(PEER_PATH, name="kpis-partitions")(partitions_view)
