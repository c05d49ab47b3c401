"""Any KPI worker answers every window: the windows of the partials partitions it does not own come from the workers
that own them.

The windows table is partitioned like ``kpi.partials.v1`` (``rollup.partition_of``); with several workers each holds
the windows of the partitions assigned to it. The worker asked (``GET /kpis``) answers its own and asks every other
member that faust's group assignment names as an owner (``app.router.table_metadata``: each member's web URL,
``web_host``/``web_port``, and its active changelog partitions) over the internal ``GET /kpis/partitions`` view,
which answers from local state only, for the partitions it was asked that it still owns. A partition no member
answers for in ``FETCH_TIMEOUT`` (its owner stopping, a rebalance under way) is named in the answer's ``missing``
with the reason, and the answer says ``partial: true``: never a silent half.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import faust
from aiohttp import ClientTimeout
from pydantic import SecretStr
from yarl import URL

from bus.errors import OmnibusError
from processors.kpis.rollup import partition_of
from processors.web_auth import authorization

PEER_PATH = "/kpis/partitions"
FETCH_TIMEOUT = ClientTimeout(total=3)  # seconds for another worker to answer for the partitions it owns
NOT_OWNED = ("no other worker's web URL owns them in the group's assignment: a rebalance under way, a worker "
             "stopped, or workers that advertise one URL (OMNIBUS_WEB__HOST must be each pod's own address)")


class PeerUnavailable(OmnibusError):
    """Another worker did not answer for its partitions (unreachable, timed out, or answered other than 200)."""

    retriable = True


Fetch = Callable[[str, Mapping[str, str]], Awaitable[dict[str, Any]]]
"""``(base URL, query) -> {"partitions": [int], "windows": {window key: counts}}`` of ``PEER_PATH``; raises
``PeerUnavailable``."""


@dataclass(frozen=True)
class Held:
    """What a worker holds, as the views read it: ``count`` partitions of the windows table; ``owned()`` those this
    worker has active; ``windows(partitions)`` window key -> summed counts of its windows in those; ``owners()`` every
    other member's base URL -> the partitions the group's assignment gives it."""

    count: int
    owned: Callable[[], set[int]]
    windows: Callable[[set[int]], dict[str, dict[str, int]]]
    owners: Callable[[], dict[str, set[int]]] = dict


@dataclass
class Gathered:
    """The windows other workers answered and the partitions none did: ``missing``, ``[{"partitions": [int],
    "reason": str}]``, one entry per reason."""

    windows: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)


async def gather(wanted: set[int], held: Held, query: Mapping[str, str], fetch: Fetch) -> Gathered:
    """The windows of partitions ``wanted`` (those this worker does not own) matching ``query`` (``GET /kpis``'s
    filters, passed on as given), each partition taken once from the first owner that answers for it."""
    asks = {url: sorted(parts & wanted) for url, parts in held.owners().items() if parts & wanted}
    answers = await asyncio.gather(
        *(fetch(url, {**query, "partitions": ",".join(map(str, parts))}) for url, parts in asks.items()),
        return_exceptions=True)
    found, left, why = Gathered(), set(wanted), {}
    for (url, asked), answer in zip(asks.items(), answers, strict=True):
        if isinstance(answer, PeerUnavailable):
            why.update({p: f"the worker at {url} that owns them did not answer: {answer}" for p in asked})
            continue
        if isinstance(answer, BaseException):
            raise answer
        taken = set(answer["partitions"]) & left
        found.windows.update({key: counts for key, counts in answer["windows"].items()
                              if partition_of(key, held.count) in taken})
        left -= taken
        why.update({p: f"the worker at {url} no longer owns them (a rebalance under way)" for p in asked})
    by_reason: dict[str, list[int]] = {}
    for partition in sorted(left):
        by_reason.setdefault(why.get(partition, NOT_OWNED), []).append(partition)
    found.missing = [{"partitions": parts, "reason": reason} for reason, parts in by_reason.items()]
    return found


def owners(app: faust.App, table: str) -> dict[str, set[int]]:
    """Every other member's base URL -> the partitions of ``table`` it owns, from faust's group assignment (empty
    before the first assignment)."""
    topic = app.tables[table].changelog_topic.get_topic_name()
    own = app.conf.canonical_url
    found: dict[str, set[int]] = {}
    for host, topics in app.router.table_metadata(table).items():
        url = URL(host)
        if (url.host, url.port) != (own.host, own.port):
            found[str(url).rstrip("/")] = set(topics.get(topic, ()))
    return found


def http_fetch(app: faust.App, tokens: Mapping[str, SecretStr]) -> Fetch:
    """``Fetch`` over faust's HTTP client, with the bearer token the peer's guarded view asks for."""
    async def fetch(url: str, query: Mapping[str, str]) -> dict[str, Any]:
        try:
            async with app.http_client.get(f"{url}{PEER_PATH}", params=dict(query), timeout=FETCH_TIMEOUT,
                                           headers=authorization(tokens)) as response:
                if response.status != 200:
                    raise PeerUnavailable(f"it answered {response.status}")
                found: dict[str, Any] = await response.json()
                return found
        except (OSError, aiohttp.ClientError, ValueError) as exc:  # TimeoutError is an OSError
            raise PeerUnavailable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc

    return fetch
