"""Products held: accounts, subscribed products, open orders and overdue bills from the legacy systems.

Account numbers are rendered masked, like every identifier in the screen pop.

Each entry remembers the instant (``envelope.occurred_at``) of the fact that last changed it and
ignores older facts, so replays and late or reordered events never resurrect a cancelled product. A fact whose
event is ``undated`` (a batch layout without ``occurred_at``: its instant is only the export file's time) never outranks
a dated one, whatever the instants, in either arrival order; between two undated facts, or two
dated ones, the later instant wins. Its entry is marked ``"undated": true`` (no mark: dated, as every entry kept
before the mark).

Accounts are keyed by their number in its normal form (``processors.profile.about.account_number`` in the
deployment's ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``, given by ``ProfileBook`` as ``account_format``), as
identity keys the ACCOUNT identifier: billing's ``CA-900001`` and another producer's ``900001`` are one row
(papercuts3). State kept under another spelling is re-keyed at the customer's next business event.

A closed account and a cancelled product stay on screen after the open ones, marked by their status (``CLOSED``,
``CANCELLED``) and the instant they closed (``closed_at``: the close's ``occurred_at``, a cancellation's
``effective_at`` when it gives one), the latest closed first: the customer calls about the final bill of a contract
that just ended (F2; they were hidden before). Orders and bills show only what is still open (``open_orders``,
``overdue_bills``). An entry kept before ``closed_at`` was stored shows the instant of its closing fact (``at``).

State: ``{"accounts" | "products" | "orders" | "bills": {id: entry}, "dropped": int}``. Each kind keeps at
most ``ProfileLimits.products_per_kind`` entries: past it, closed facts (closed accounts, cancelled
products, finished orders, bills not overdue) go first, then the oldest; ``dropped`` counts what went (a
replay of a dropped fact may count it again). A dropped closed fact is forgotten: a replay of the event
that opened it would show it again, the price of a bounded state.

At an operator's split an entry (``entries``: ``<kind>/<id>``) follows the moved identifiers it came through
(``ProfileBook``: an account opened under a moved account number goes, with its products and bills); ``dropped``
stays with the source.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import BUSINESS_EVENTS, TopicSpec
from processors.profile import about
from processors.profile.limits import MAX_TEXT_CHARS, keep_newest, short_key, short_texts
from processors.profile.masking import mask
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, micros, occurred_micros
from processors.profile.shapes import MONEY, TEXT, TIME, closed, list_of, nullable

NS = "omnibus.business."
FINAL_ORDER_STATUSES = frozenset({"COMPLETED", "DELIVERED", "CANCELLED", "FAILED"})
UNKNOWN_ORDER_STATUS = "UNKNOWN"  # a word the order system's adapter could not map (``adapters.legacy.statuses``)
SOURCE_STATUS = "source_status"  # the system's own word, kept in an order entry whose status is UNKNOWN
KINDS = ("accounts", "products", "orders", "bills")
DROPPED = "dropped"
CLOSED_AT = "closed_at"  # of a closed account or a cancelled product, in its entry (micros) and on screen (ISO 8601)
UNDATED = "undated"  # in an entry whose fact's event was undated (the business events' field of that name)
# The entry each event feeds: kind and the field of its id.
ENTRY_OF = {"AccountOpened": ("accounts", "account_number"), "AccountClosed": ("accounts", "account_number"),
            "ProductSubscribed": ("products", "subscription_id"), "ProductCancelled": ("products", "subscription_id"),
            "OrderStatusChanged": ("orders", "order_id"), "BillIssued": ("bills", "bill_id"),
            "PaymentOverdue": ("bills", "bill_id")}


def _live(kind: str, entry: dict[str, Any]) -> bool:
    """Whether the screen pop shows the entry (what is not shown goes first when a kind is full)."""
    status = entry.get("status")
    if kind == "accounts":
        return status == "OPEN"
    if kind == "products":
        return status == "ACTIVE"
    if kind == "orders":
        return status not in FINAL_ORDER_STATUSES
    return status == "OVERDUE"


def rank(entry: dict[str, Any]) -> tuple[bool, int]:
    """How an entry's fact ranks against another's: a dated fact above an undated one, then the later instant."""
    return not entry.get(UNDATED, False), entry.get("at", 0)


def upsert(table: dict[str, Any], key: str, at: int, fields: dict[str, Any], forget: tuple[str, ...] = (),
            undated: bool = False) -> None:
    """Apply a fact of instant ``at`` (``undated``: its event's mark) to entry ``key``: ``fields`` set, ``forget``
    removed (an open entry stores no ``closed_at``: bytes of every customer's profile), unless the entry holds a fact
    that ranks above it (``rank``)."""
    key = short_key(key)
    current = table.get(key)
    if current is not None and rank(current) > (not undated, at):
        return  # a fact ranking below the one already applied
    kept = {name: value for name, value in (current or {}).items() if name not in (*forget, UNDATED)}
    table[key] = {**kept, **short_texts(fields), "at": at, **({UNDATED: True} if undated else {})}


def _cut(key: str) -> bool:
    """Whether ``key`` is one ``short_key`` cut (its last 17 characters: ``~`` and a digest)."""
    return len(key) == MAX_TEXT_CHARS and key[-17] == "~"


def _copy(state: dict[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    copied: dict[str, Any] = {kind: dict(state.get(kind) or {}) for kind in KINDS}
    copied[DROPPED] = state.get(DROPPED, 0)
    return copied


class ProductsSection(ProfileSection):
    name: ClassVar[str] = "products"
    topics: ClassVar[tuple[TopicSpec, ...]] = (BUSINESS_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset(
        NS + name for name in ("AccountOpened", "AccountClosed", "ProductSubscribed", "ProductCancelled",
                               "OrderStatusChanged", "PaymentOverdue", "BillIssued")
    )
    render_schema: ClassVar[dict[str, Any]] = closed({
        "accounts": list_of(closed(
            {"account_number": TEXT, "status": TEXT, "account_type": TEXT, "service_tier": nullable(TEXT),
             "closed_at": nullable(TIME)},
            required=["account_number", "status"]),
            "Open accounts (status OPEN) by number, then closed ones (status CLOSED, closed_at: when), the latest "
            "closed first; account_number masked."),
        "products": list_of(closed(
            {"subscription_id": TEXT, "status": TEXT, "product_code": TEXT, "product_name": nullable(TEXT),
             "account_number": TEXT, "since": nullable(TIME), "closed_at": nullable(TIME)},
            required=["subscription_id", "status", "since"]),
            "Active subscriptions (status ACTIVE) by id, then cancelled ones (status CANCELLED, closed_at: when the "
            "cancellation took effect), the latest cancelled first."),
        "open_orders": list_of(closed(
            {"order_id": TEXT, "status": TEXT, "product_code": nullable(TEXT), "note": TEXT},
            required=["order_id", "status"]),
            "Orders not in a final status; one whose status is UNKNOWN (a word of the order system no list maps) "
            "carries a note for the agent naming the word: it may be finished."),
        "overdue_bills": list_of(closed(
            {"bill_id": TEXT, "status": TEXT, "account_number": TEXT, "amount": MONEY, "due_date": TEXT,
             "days_overdue": {"type": "integer"}}, required=["bill_id", "status"]), "Bills overdue now."),
    })

    def account_number(self, value: str) -> str:
        """``value`` as the accounts are keyed (``about.account_number`` in ``account_format``)."""
        return about.account_number(value, self.account_format)

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        identifiers = list(event.value.get("customer_identifiers") or [])
        account = event.value.get("account_number")
        if account:
            identifiers.append({"type": "ACCOUNT", "value": account})
        return identifiers

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        state = self._copy(state)
        value, at, kind = event.value, occurred_micros(event), event.schema.removeprefix(NS)
        undated = bool(value.get(UNDATED))
        number = self.account_number(str(value.get("account_number") or ""))
        if kind == "AccountOpened":
            upsert(state["accounts"], number, at, {
                "status": "OPEN", "account_type": value["account_type"], "service_tier": value.get("service_tier"),
            }, forget=(CLOSED_AT,), undated=undated)
        elif kind == "AccountClosed":
            upsert(state["accounts"], number, at, {"status": "CLOSED", CLOSED_AT: at}, undated=undated)
        elif kind == "ProductSubscribed":
            upsert(state["products"], value["subscription_id"], at, {
                "status": "ACTIVE", "product_code": value["product_code"], "product_name": value.get("product_name"),
                "account_number": number, "since": micros(value.get("effective_at")) or at,
            }, forget=(CLOSED_AT,), undated=undated)
        elif kind == "ProductCancelled":
            upsert(state["products"], value["subscription_id"], at, {
                "status": "CANCELLED", "product_code": value["product_code"], "account_number": number,
                CLOSED_AT: micros(value.get("effective_at")) or at,
            }, undated=undated)
        elif kind == "OrderStatusChanged":
            unknown = value["status"] == UNKNOWN_ORDER_STATUS and value.get(SOURCE_STATUS)
            upsert(state["orders"], value["order_id"], at, {
                "status": value["status"], "product_code": value.get("product_code"),
                **({SOURCE_STATUS: value[SOURCE_STATUS]} if unknown else {}),
            }, forget=(SOURCE_STATUS,), undated=undated)
        elif kind == "BillIssued":
            upsert(state["bills"], value["bill_id"], at, {
                "status": "ISSUED", "account_number": number, "amount": dict(value["amount"]),
                "due_date": value["due_date"].isoformat(),
            }, undated=undated)
        elif kind == "PaymentOverdue":
            upsert(state["bills"], value["bill_id"], at, {
                "status": "OVERDUE", "account_number": number, "amount": dict(value["amount_due"]),
                "days_overdue": value["days_overdue"],
            }, undated=undated)
        return self._bounded(state)

    def _copy(self, state: dict[str, Any] | None) -> dict[str, Any]:
        """A copy of ``state`` with its accounts keyed in ``account_format`` (``_respelled``)."""
        copied = _copy(state)
        copied["accounts"] = self._respelled(copied["accounts"])
        return copied

    def _respelled(self, accounts: dict[str, Any]) -> dict[str, Any]:
        """``accounts`` keyed by their numbers' normal form; two spellings of one number kept before keep the entry
        that ranks first (``rank``)."""
        result: dict[str, Any] = {}
        for key, entry in accounts.items():
            # a key ``short_key`` cut keeps it: its digest is no number to spell
            number = key if _cut(key) else short_key(self.account_number(key))
            if number not in result or rank(entry) > rank(result[number]):
                result[number] = entry
        return result

    def entries(self, event: Event) -> list[str]:
        kind, field = ENTRY_OF[event.schema.removeprefix(NS)]
        name = event.value[field]
        return [f"{kind}/{short_key(self.account_number(name) if field == 'account_number' else name)}"]

    def holds(self, state: dict[str, Any]) -> set[str]:
        state = self._copy(state)
        return {f"{kind}/{key}" for kind in KINDS for key in state.get(kind) or {}}

    def before(self, state: dict[str, Any] | None, entry: str, since: int) -> bool:
        """Whether the fact that last changed ``entry`` (``<kind>/<id>``) occurred before ``since`` (epoch µs): an
        account's bill of the tenant who left stays on her screen pop at the next tenant's move-in."""
        kind, _, key = entry.partition("/")
        found = ((state or {}).get(kind) or {}).get(key)
        return isinstance(found, dict) and found.get("at", since) < since

    def part(self, state: dict[str, Any] | None,
             going: set[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The entries ``going`` (``<kind>/<id>``) to the new customer, the rest (and ``dropped``) stay."""
        if not state:
            return state, None
        kept, moved = self._copy(state), _copy(None)
        for kind in KINDS:
            for key in list(kept[kind]):
                if f"{kind}/{key}" in going:
                    moved[kind][key] = kept[kind].pop(key)
        has = any(moved[kind] for kind in KINDS)
        return (kept if any(kept[kind] for kind in KINDS) or kept[DROPPED] else None), (moved if has else None)

    def _bounded(self, state: dict[str, Any]) -> dict[str, Any]:
        for kind in KINDS:
            state[kind], dropped = keep_newest(
                state[kind], self.limits.products_per_kind,
                lambda key, entry, kind=kind: (_live(kind, entry), entry.get("at", 0), key),
            )
            state[DROPPED] += dropped
        return state

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        if survivor is None or merged is None:
            return survivor if merged is None else merged
        result, other = self._copy(survivor), self._copy(merged)
        result[DROPPED] += other[DROPPED]
        for kind in KINDS:
            target = result[kind]
            for key, entry in other[kind].items():
                if key not in target or rank(entry) > rank(target[key]):
                    target[key] = entry
        return self._bounded(result)

    def render(self, state: dict[str, Any]) -> Any:
        return {
            "accounts": [
                {"account_number": mask("ACCOUNT", k), **_public(v), CLOSED_AT: closed_at}
                for k, v, closed_at in _open_then_closed("accounts", state)
            ],
            "products": [
                {"subscription_id": k, **_public(v), "since": iso(v.get("since")), CLOSED_AT: closed_at}
                for k, v, closed_at in _open_then_closed("products", state)
            ],
            "open_orders": [
                {"order_id": k, **_public(v), **_unknown_status_note(v)}
                for k, v in sorted(state.get("orders", {}).items()) if v["status"] not in FINAL_ORDER_STATUSES
            ],
            "overdue_bills": [
                {"bill_id": k, **_public(v)} for k, v in sorted(state.get("bills", {}).items())
                if v["status"] == "OVERDUE"
            ],
        }


def _open_then_closed(kind: str, state: dict[str, Any]) -> list[tuple[str, dict[str, Any], str | None]]:
    """The entries of ``kind`` as the screen pop lists them, each with when it closed (ISO 8601, None while open):
    the open ones by id, then the closed ones, the latest closed first (then by id). As many as the state keeps
    (``ProfileLimits.products_per_kind``, closed ones dropped first)."""
    entries = state.get(kind) or {}
    live = [(key, entry, None) for key, entry in sorted(entries.items()) if _live(kind, entry)]
    ended = sorted(((key, entry, entry.get(CLOSED_AT) or entry.get("at", 0)) for key, entry in entries.items()
                    if not _live(kind, entry)), key=lambda item: (-item[2], item[0]))
    return live + [(key, entry, iso(closed)) for key, entry, closed in ended]


def accounts_named(state: dict[str, Any] | None) -> set[str]:
    """The account numbers (as the business events spell them) the products section's ``state`` names: its
    accounts' and those its products and bills name. A customer's own business line put them there: a joint
    account's holder whose own line named the account (the screen pop's note on it, ``identity/pop_hints.py``)."""
    state = state or {}
    named = set(state.get("accounts") or {})
    for kind in ("products", "bills"):
        named.update(str(entry["account_number"]) for entry in (state.get(kind) or {}).values()
                     if entry.get("account_number"))
    return named


def _unknown_status_note(entry: dict[str, Any]) -> dict[str, str]:
    """``{"note": ...}`` for an order whose status is UNKNOWN, else nothing: listed among the open orders (it may be),
    it must not read as open (an executed disconnection, ``executada``, showed as an open order)."""
    if entry.get("status") != UNKNOWN_ORDER_STATUS:
        return {}
    word = f" {entry[SOURCE_STATUS]!r}" if entry.get(SOURCE_STATUS) else ""
    return {"note": f"status not known: the order system's word{word} maps to no common status, so this order may "
                    "be finished or cancelled; check it in the order system before telling the customer it is open"}


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as shown on screen: account numbers masked like every identifier."""
    shown = {k: v for k, v in entry.items() if k not in ("at", "since", CLOSED_AT, UNDATED, SOURCE_STATUS)}
    if shown.get("account_number"):
        shown["account_number"] = mask("ACCOUNT", shown["account_number"])
    return shown
