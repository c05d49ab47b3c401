"""The pull query: which offers a channel may present to a customer now, ranked, caps applied (not quiet hours: the
customer asking is there, ``definition.CUSTOMER_PRESENT``).

``GET /customers/{customer_id}/offers?channel=WEB`` or, by any identifier like the screen pop,
``GET /customers/lookup/offers?type=EMAIL&value=a@x.org&channel=BRANCH``. Answer::

    {"customer_id": "cus_...", "channel": "WEB", "offers": [{"offer_id", "version", "title", "content",
     "priority", "valid_until"}], "suppressed": [{"offer_id": "...", "reason": "contact_cap"}],
     "held_back": null or why records wait that the answer lacks (``processors.readiness.held_back_answer``)}

A 404 (no customer has the identifier, an unknown customer id) carries ``held_back`` too
(``processors.readiness.held_back_miss``): the customer may be in the records that wait.

Identifier values are normalised by ``bus.identifiers`` like everywhere else (``OMNIBUS_IDENTIFIERS__*``,
whose HMAC key turns a national ID into the token identity links on). The answer comes from this worker's
tables (one worker, see ``agent``): while a second worker splits the partitions it is 503 with ``Retry-After`` and
the reason (``processors.sole_worker``), never a 404 for a customer the other worker holds.
``GET /openapi.json``: the answer's contract (``openapi.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View
from pydantic import SecretStr

from bus.identifiers import IdentifierNormaliser, Rejected
from processors.offers import metrics
from processors.offers.definition import Channel
from processors.offers.openapi import BY_ID_PATH, OPENAPI_PATH, openapi
from processors.offers.ranking import choose
from processors.offers.store import Stores
from processors.readiness import held_back_answer, held_back_miss, unavailable
from processors.web_auth import guarded

if TYPE_CHECKING:
    from processors.offers.agent import OffersWorker

LOOKUP = "lookup"


def identifier_key(normaliser: IdentifierNormaliser, kind: str, value: str) -> tuple[str | None, str | None]:
    """(key ``TYPE:value`` as identity resolution links it, None) or (None, why the value is refused)."""
    if not kind or not value:
        return None, "type and value are required"
    found = normaliser.normalise(kind, value)
    return (None, found.reason) if isinstance(found, Rejected) else (found.key, None)


def answer(worker: OffersWorker, customer_id: str, channel: str) -> dict[str, Any] | None:
    engine = worker.engine
    stores = Stores(*(worker.tables[name] for name in ("catalog", "directory", "customers", "pending")))
    if stores.customers.get(customer_id) is None:
        return None
    state = engine.customer(stores, customer_id)
    chosen = choose(state, engine.live_offers(stores), channel, engine.clock(), worker.settings.zone,
                    worker.settings.policy)
    metrics.record(("suppressed", (reason.value, channel)) for _, reason in chosen.suppressed)
    return {
        "customer_id": state.customer_id, "channel": channel,
        "offers": [{"offer_id": o.offer_id, "version": o.version, "title": o.title, "content": o.content_for(channel),
                    "priority": o.priority, "valid_until": o.valid_until.isoformat() if o.valid_until else None}
                   for o in chosen.available],
        "suppressed": [{"offer_id": o.offer_id, "reason": reason.value} for o, reason in chosen.suppressed],
    }


def register_views(worker: OffersWorker, *, tokens: Mapping[str, SecretStr] | None = None,
                   held_back: Callable[[], str | None] = lambda: None) -> None:
    """The offers query (guarded by ``tokens``: ``processors.web_auth``) and its open ``/openapi.json``; ``held_back``:
    why an answer may lack records that wait (``processors.readiness.Readiness.held_back``), answered in its
    ``held_back`` and a header (``processors.readiness.held_back_answer``)."""
    app = worker.app

    @guarded(tokens or {}, component="offers")
    async def offers_view(self: View, request: Request, customer_id: str) -> Response:
        started = time.perf_counter()
        channel = request.query.get("channel", "").upper()
        if channel not in Channel.__members__:
            return self.error(400, f"channel must be one of {', '.join(Channel.__members__)}")
        if worker.guard is not None and (split := worker.guard.reason()) is not None:
            return unavailable(self, split)  # part of the tables only: a 404 here would be a wrong answer
        if customer_id == LOOKUP:
            query = request.query
            key, refused = identifier_key(worker.normaliser, query.get("type", ""), query.get("value", ""))
            if key is None:
                return self.error(400, refused or "bad identifier")
            customer_id = worker.tables["directory"].get(key)
            if customer_id is None:
                return held_back_miss(self, "no customer has this identifier", held_back())
        found = answer(worker, customer_id, channel)
        metrics.QUERY_LATENCY.observe(time.perf_counter() - started)
        if not found:
            return held_back_miss(self, "unknown customer id", held_back())
        return held_back_answer(self, found, held_back())

    document = openapi(worker.normaliser.settings)

    async def openapi_view(self: View, request: Request) -> Response:  # the contract: no state, always served
        return self.json(document)

    app.page(BY_ID_PATH, name="customer-offers")(offers_view)
    app.page(OPENAPI_PATH, name="offers-openapi")(openapi_view)
