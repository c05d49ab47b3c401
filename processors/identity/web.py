"""The screen pop: any identifier in, the whole customer out, from whichever worker owns the data.

``GET /customers/lookup?type=PHONE&value=...[&region=FR]`` normalises the identifier (a phone as dialled in
``region``, ISO 3166-1 alpha-2; the deployment's default region without it), asks the worker that owns
the identifier's partition for its customer, follows merges to the surviving customer, and asks the
worker that owns that customer's partition for its members and profile. ``GET /customers/{id}``
starts from a customer id. ``GET /openapi.json``: the answers' contract (``openapi.py``). Identifier values in
the answer are masked. Workers find each other through faust's partition assignment (``app.router``) and talk over
the internal ``/identity/nodes?key=`` view, which answers from local state only. What the answer says about an
identifier several people use, a merged-away id and look-alike masked values is worded in ``pop_hints``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import ClientTimeout
from faust.web import Request, Response, View
from yarl import URL

from bus.errors import OmnibusError
from bus.identifiers.kinds import ACCOUNT
from processors.identity.graph.context import Ctx, is_customer
from processors.identity.graph.evidence import people_count
from processors.identity.graph.limits import claimable
from processors.identity.graph.state import IdentifierState, state_view
from processors.identity.normalize import Identifier, Rejected
from processors.identity.openapi import CUSTOMER_PATH, LOOKUP_PATH, OPENAPI_PATH, openapi
from processors.identity.pop_hints import masked_values, resolved_note, shared_hint, split_offs
from processors.identity.wire import partition_of
from processors.profile.masking import mask
from processors.profile.sections.cards import identifier_status
from processors.profile.sections.products import accounts_named
from processors.readiness import Readiness, held_back_answer, held_back_miss, install, unavailable
from processors.web_auth import authorization, guarded

if TYPE_CHECKING:
    from processors.identity.agent import IdentityProcessor

MAX_MERGE_HOPS = 32
NODE_PATH = "/identity/nodes"
FETCH_TIMEOUT = ClientTimeout(total=5)  # seconds for another worker to answer for a node it owns


class Unavailable(OmnibusError):
    """The owner of a key is unknown (rebalancing) or did not answer."""

    retriable = True


class ScreenPop:
    def __init__(self, processor: IdentityProcessor) -> None:
        self.processor = processor
        self.app = processor.app

    def _owner(self, key: str) -> str | None:
        """Base URL of the worker that owns ``key``, or None when it is this worker."""
        try:
            url = self.app.router.key_store(self.processor.nodes.name, key.encode())
        except (KeyError, TypeError) as exc:  # TypeError: faust's router before topic metadata arrived
            found = self._owner_by_partition(key)
            if found is None:
                raise Unavailable("partition assignment not known yet") from exc
            url = found
        own = self.app.conf.canonical_url
        if (url.host, url.port) == (own.host, own.port):
            return None
        return str(url).rstrip("/")

    def _owner_by_partition(self, key: str) -> URL | None:
        """The owner of ``key``'s partition from the group's table assignment, the partition computed here
        (``wire.partition_of``, murmur2 as the tables use). faust's router asks its producer for the partition
        count, which a worker that never wrote to the node table has not fetched: every lookup it served
        answered 503 until it did (seen in ``test_web.py`` with two workers, 1 run in 7)."""
        table = self.app.tables[self.processor.nodes.name]
        partitions = table.partitions  # declared with the table: the graph topic's (agent.py)
        if not partitions:
            return None
        topic, partition = table.changelog_topic.get_topic_name(), partition_of(key, partitions)
        for host, topics in self.app.router.table_metadata(self.processor.nodes.name).items():
            if partition in topics.get(topic, ()):
                return URL(host)
        return None

    def owners_unknown(self) -> str | None:
        """Why a lookup cannot find the worker that owns a key yet (the graph partitions with no known owner in
        the group's table assignment, which ``_owner`` falls back to), or None when every one has an owner: a
        readiness check (``processors.readiness``), so ``/ready`` is not ready while the screen pop would 503."""
        table = self.app.tables[self.processor.nodes.name]
        topic = table.changelog_topic.get_topic_name()
        owned: set[int] = set()
        for topics in self.app.router.table_metadata(self.processor.nodes.name).values():
            owned.update(topics.get(topic, ()))
        if not table.partitions:
            return "the graph's partition count is not known yet"
        unknown = sorted(set(range(table.partitions)) - owned)
        return f"owners of graph partitions {unknown} not known yet" if unknown else None

    def local(self, key: str) -> dict[str, Any]:
        """The node and profile of ``key`` from this worker's state; for an identifier, also ``people``: how many
        people its events' evidence shows (``evidence.people_count``, the screen pop's ``shared_identifier``)."""
        store = self.processor.store
        state = store.get_node(key)
        answer: dict[str, Any] = {"node": state_view(state),
                                  "profile": store.get_profile(key) if is_customer(key) else None}
        if isinstance(state, IdentifierState):
            answer["people"] = people_count(Ctx(self.processor.graph.config, store, key, state, IdentifierState()))
        return answer

    async def fetch(self, key: str) -> dict[str, Any]:
        owner = self._owner(key)
        if owner is None:
            return self.local(key)
        try:
            url, params = f"{owner}{NODE_PATH}", {"key": key}
            async with self.app.http_client.get(url, params=params, timeout=FETCH_TIMEOUT,
                                                headers=authorization(self.processor.settings.web.tokens)) as response:
                if response.status != 200:
                    raise Unavailable(f"owner answered {response.status}")
                return await response.json()
        except OSError as exc:
            raise Unavailable(f"owner unreachable: {exc}") from exc

    async def customer_of(self, key: str) -> str | None:
        node = (await self.fetch(key))["node"] or {}
        return node.get("owner")

    async def identifier_node(self, key: str) -> tuple[dict[str, Any], int]:
        """The identifier's node as its owner holds it (``state_view``; empty when unknown) and the number of
        people its evidence shows."""
        found = await self.fetch(key)
        return found["node"] or {}, int(found.get("people") or 0)

    async def current(self, customer_id: str) -> str | None:
        """The customer ``customer_id`` is now (merges followed); None if unknown."""
        for _ in range(MAX_MERGE_HOPS):
            node = (await self.fetch(customer_id))["node"]
            if not node or not node.get("created"):
                return None
            if not node.get("parent"):
                return customer_id
            customer_id = node["parent"]
        raise Unavailable("too many merge hops")

    async def lookup(self, identifier: Identifier) -> dict[str, Any] | None:
        """``GET /customers/lookup``: the screen pop (``profile``) of the customer who keeps ``identifier``, its
        ``shared_identifier`` the hint for ``identifier`` (None when one person's), not repeated in
        ``shared_identifiers``; None when no customer keeps it."""
        node, people = await self.identifier_node(identifier.key)
        customer_id = node.get("owner")
        return await self.profile(customer_id, looked_up=(identifier, node, people)) if customer_id else None

    async def profile(self, customer_id: str, *, looked_up: tuple[Identifier, dict[str, Any], int] | None = None,
                      ) -> dict[str, Any] | None:
        """The customer's view after following merges; None if the id is unknown. Shape (JSON; declared in
        ``openapi.customer_schema``, keep the two together)::

            {"customer_id", "identifiers": [{"type", "value" (masked)}], "merged_customer_ids": [ids],
             "split_customer_ids": [ids], "resolved_note": text or null,
             "shared_identifier": shared_hint or null, "identifier_status": status or null,
             "shared_identifiers": [shared_hint], <section>: ...}

        One shape whatever the customer holds: a list is ``[]`` when empty, never null (a section with no state
        yet renders empty, ``ProfileBook.render``); an object or a scalar with nothing to say is null.
        ``shared_identifier``: the hint of the identifier looked up (``lookup``; null by id);
        ``identifier_status``: on a lookup by a card that is not active, its status and a note for the agent
        (``processors.profile.sections.cards.identifier_status``); null otherwise.
        ``shared_identifiers``: every other identifier of the customer several people use, each once.
        ``split_customer_ids``: customers an operator split apart from this one or from one merged into it
        (``omnibus identity split``); ``resolved_note``: by id, why another customer answers for the id asked
        for (``resolved_note``); null when it answers itself, and on a lookup by identifier. ``looked_up``: the
        identifier a lookup started from, with its node and people count (``identifier_node``).

        Masked values are told apart within the answer (``masked_values``): two accounts ending alike show as
        ``****1001 (1)`` and ``****1001 (2)``, in identifiers and hints alike."""
        requested = customer_id if looked_up is None else None  # by id (GET /customers/{id})
        without = looked_up[0].key if looked_up is not None else None
        for _ in range(MAX_MERGE_HOPS):
            found = await self.fetch(customer_id)
            node = found["node"]
            if not node or not node.get("created"):
                return None
            if node.get("parent"):
                customer_id = node["parent"]
                continue
            members = sorted(node.get("members", {}))
            shown = masked_values([*members, *node.get("elsewhere", []), *([without] if without else [])])
            hint = None
            # spelled as identity keys the ACCOUNT identifiers they are compared with (``ProfileBook.account_number``)
            holds = {self.processor.book.account_number(number)
                     for number in accounts_named((found["profile"] or {}).get("products"))}
            if looked_up is not None:
                identifier, looked_up_node, people = looked_up
                hint = await self.hint(identifier, looked_up_node, people, customer_id, shown, holds)
            return {
                "customer_id": customer_id,
                "identifiers": [{"type": key.partition(":")[0], "value": shown[key]} for key in members],
                "merged_customer_ids": node.get("aliases") or [],
                "split_customer_ids": (splits := split_offs(node)),
                "resolved_note": resolved_note(requested, customer_id, splits),
                "shared_identifier": hint,
                # a caller quoting a blocked or replaced card is not matched silently
                "identifier_status": identifier_status(looked_up[0].type, looked_up[0].value, shown[looked_up[0].key],
                                                       found["profile"]) if looked_up is not None else None,
                "shared_identifiers": await self.shared_identifiers(customer_id, node, shown, without=without,
                                                                   holds=holds),
                **self.processor.book.render(found["profile"]),
            }
        raise Unavailable("too many merge hops")

    async def shared_identifiers(self, customer_id: str, node: dict[str, Any], shown: dict[str, str],
                                 without: str | None = None, holds: set[str] | None = None) -> list[dict[str, Any]]:
        """``shared_hint`` of every identifier of this customer several people use, each once: its members of
        types a household shares (``limits.claimable``: not a national ID or user id) and the identifiers its
        events carried that another customer keeps (``CustomerState.elsewhere``: the housemate's side); not
        ``without`` (the identifier looked up: its hint is ``shared_identifier``); ``holds``: as ``hint``'s."""
        policy = self.processor.graph.policy
        keys = [key for key in sorted(node.get("members", {})) if claimable(policy, key) and key != without]
        keys += [key for key in node.get("elsewhere", []) if key not in keys and key != without]
        found = await asyncio.gather(*(self.identifier_node(key) for key in keys))
        hints = [await self.hint(Identifier.from_key(key), found_node, people, customer_id, shown, holds)
                 for key, (found_node, people) in zip(keys, found, strict=True)]
        return [hint for hint in hints if hint is not None]

    async def hint(self, identifier: Identifier, node: dict[str, Any], people: int, this_customer: str | None,
                   shown: dict[str, str], holds: set[str] | None = None) -> dict[str, Any] | None:
        """``shared_hint`` for an identifier's node as its owner holds it, customer ids followed to their survivors;
        ``shown``: the answer's masked values (``masked_values``); ``holds``: the account numbers this customer's
        own business lines named (``products.accounts_named``: a joint account's holder, ``shared_hint``'s
        ``holder``), in their normal form (``ProfileBook.account_number``).

        A former holder (``IdentifierState.released_from``: an operator's release, or a system of record that gave
        the identifier to another customer, ``graph/recycle.py``) no longer uses it: neither it nor the person its
        events showed counts, on the new holder's screen pop or on its own (a recycled mobile is not "used by 2
        people" because its previous subscriber's line once carried it)."""
        kept_by = await self.current(node["owner"]) if node.get("owner") else None
        former = {current for _, customer in node.get("released_from", [])
                  if (current := await self.current(customer)) is not None and current != kept_by}
        customers = [kept_by] if kept_by else []
        for customer in node.get("kept_apart", []):
            if (current := await self.current(customer)) is not None and current not in customers:
                customers.append(current)
        gone = [customer for customer in customers if customer in former]
        customers = [customer for customer in customers if customer not in former]
        people = max(people - len(gone), len(customers))
        masked = shown.get(identifier.key) or mask(identifier.type, identifier.value)
        holder = identifier.type == ACCOUNT and identifier.value in (holds or ())
        return shared_hint(identifier.type, masked, shared=bool(node.get("shared")), people=people,
                           customer_ids=customers, kept_by=kept_by, this_customer=this_customer, holder=holder)


def register_views(processor: IdentityProcessor) -> ScreenPop:
    screen_pop = ScreenPop(processor)
    app = processor.app
    readiness: Readiness = install(app, "identity", checks=[screen_pop.owners_unknown],
                                   broker=processor.settings.readiness)

    tokens = processor.settings.web.tokens

    @guarded(tokens, component="identity")
    async def node_view(self: View, request: Request) -> Response:  # local state only: no routing needed
        if (waiting := readiness.waiting_for()) is not None:
            return unavailable(self, waiting)
        key = request.query.get("key", "")
        return self.json(screen_pop.local(key)) if key else self.error(400, "key is required")

    @guarded(tokens, component="identity")
    async def lookup_view(self: View, request: Request) -> Response:
        if (waiting := readiness.cannot_serve()) is not None:
            return unavailable(self, waiting)
        kind, value = request.query.get("type", ""), request.query.get("value", "")
        try:
            identifier = processor.normalizer.normalize({"type": kind.upper(), "value": value},
                                                        region=request.query.get("region"), lookup=True)
        except ValueError as exc:  # an unknown region
            return self.error(400, str(exc))
        if isinstance(identifier, Rejected):
            reason = identifier.reason
            if value.startswith(" ") and value[1:2].isdigit():  # an unescaped '+' reads as a space in a query
                reason += "; a '+' in a URL query must be written %2B (value=%2B33612345678)"
            return self.error(400, reason, rule=identifier.rule)
        try:
            found = await screen_pop.lookup(identifier)
        except Unavailable as exc:
            return unavailable(self, str(exc))
        if not found:
            return held_back_miss(self, "no customer has this identifier", readiness.held_back())
        return held_back_answer(self, found, readiness.held_back())

    @guarded(tokens, component="identity")
    async def customer_view(self: View, request: Request, customer_id: str) -> Response:
        if (waiting := readiness.cannot_serve()) is not None:
            return unavailable(self, waiting)
        try:
            found = await screen_pop.profile(customer_id)
        except Unavailable as exc:
            return unavailable(self, str(exc))
        if not found:
            return held_back_miss(self, "unknown customer id", readiness.held_back())
        return held_back_answer(self, found, readiness.held_back())

    document = openapi(processor.book.sections, processor.settings.identifiers)  # a composition's own sections too

    async def openapi_view(self: View, request: Request) -> Response:  # the contract: no state, always served
        return self.json(document)

    app.page(NODE_PATH, name="identity-node")(node_view)
    app.page(OPENAPI_PATH, name="identity-openapi")(openapi_view)
    app.page(LOOKUP_PATH, name="customer-lookup")(lookup_view)
    app.page(CUSTOMER_PATH, name="customer-by-id")(customer_view)
    return screen_pop
