"""A customer's accounts as the offer processor keeps them: which are open, and the facts only open ones give (pure).

A tenant who moved out (her only contract closed by billing's ``AccountClosed``) is no "electricity customer" any
more, and a former gold customer no gold one. ``CustomerState.accounts`` maps the account number in
its normal form (``processors.profile.about.account_number`` in the deployment's
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``: ``intake.apply_business`` gives every number so) to an entry::

    {"status": "OPEN" | "CLOSED" | "", "at": us, "undated": bool, "segment": str, "service_tier": str,
     "products": [code], "product_at": {code: [us, undated]}, "via": [key]}

* ``status``, ``at`` (``envelope.occurred_at``, microseconds) and ``undated`` (the business event's mark: its
  instant is only the export file's time) come from the ``AccountOpened`` / ``AccountClosed`` that ranks first: a
  dated fact above an undated one whatever their instants (an undated master export's open, stamped at
  the export, lost the account's close dated three days before), then the later instant, and at the same rank a
  close wins, so a close delivered before its open, or a redelivered open, leaves the account closed; a later
  ``AccountOpened`` reopens it. ``""``: the account is known only from a product subscribed or cancelled on it.
  State kept before the mark has none: dated.
* ``products`` are the codes held on the account; ``product_at`` the rank of the latest ``ProductSubscribed`` /
  ``ProductCancelled`` of each code (instant, undated), ranked as the account's facts (a cancellation wins at the
  same rank): a cancellation delivered before its subscription, or a subscription from an undated export after a
  dated cancellation, leaves the product cancelled. A code without one (state kept before) takes any fact.
* ``segment`` (the account type) and ``service_tier`` of the customer are those of the open account opened last
  that states them (``at``, then account number); none while no account is open. They are written to
  ``profile`` / ``fact_via`` (``refresh``), so that a split moves them with the account's identifiers.
* a product counts while one account it was subscribed on is not closed (``held_products``); a product on no
  known account (state kept before this rule) counts. ``ProductCancelled`` on one account leaves the product held
  on another.
* state kept before this rule has a segment or tier and no account: ``seeded`` records it as one open account,
  the one its ``fact_via`` names (``""`` when it names none: then no close takes it away).
"""

from __future__ import annotations

from typing import Any

from bus.identifiers.kinds import ACCOUNT
from processors.profile.about import account_number

OPEN, CLOSED = "OPEN", "CLOSED"
ACCOUNT_FACTS = ("segment", "service_tier")  # profile facts an account gives

Accounts = dict[str, dict[str, Any]]


def _entry(accounts: Accounts, number: str) -> dict[str, Any]:
    return accounts.setdefault(number, {
        "status": "", "at": 0, "segment": "", "service_tier": "", "products": [], "via": []})


def rank(at_us: int, undated: bool, closing: bool) -> tuple[bool, int, bool]:
    """How a fact ranks against another of the same account or product: dated above undated, then the later
    instant, then a close or cancellation above an open or subscription."""
    return not undated, at_us, closing


def _stale(entry: dict[str, Any], at_us: int, closing: bool, undated: bool) -> bool:
    """Whether a fact ranks below the entry's; an entry no open or close reached yet (``""``) holds none."""
    return bool(entry["status"]) and rank(at_us, undated, closing) < rank(
        entry["at"], entry.get("undated", False), entry["status"] == CLOSED)


def opened(accounts: Accounts, number: str, at_us: int, facts: dict[str, str], via: list[str],
           undated: bool = False) -> None:
    """``AccountOpened`` of ``number`` at ``at_us`` (``undated``: the event's mark) with its ``facts``
    (``ACCOUNT_FACTS`` -> text, blank: unknown)."""
    entry = _entry(accounts, number)
    if not _stale(entry, at_us, closing=False, undated=undated):
        entry.update(status=OPEN, at=at_us, undated=undated, via=list(via),
                     **{f: facts.get(f) or "" for f in ACCOUNT_FACTS})


def closed(accounts: Accounts, number: str, at_us: int, undated: bool = False) -> None:
    """``AccountClosed`` of ``number`` at ``at_us`` (``undated``: the event's mark): its segment, tier and products no
    longer count."""
    entry = _entry(accounts, number)
    if not _stale(entry, at_us, closing=True, undated=undated):
        entry.update(status=CLOSED, at=at_us, undated=undated)


def _product_fact(entry: dict[str, Any], code: str, at_us: int, undated: bool, cancelling: bool) -> bool:
    """Whether a fact about ``code`` on ``entry`` ranks above the one applied (recorded in ``product_at`` if so)."""
    facts = entry.setdefault("product_at", {})
    known = facts.get(code)
    if known is not None and rank(at_us, undated, cancelling) < rank(known[0], bool(known[1]),
                                                                     code not in entry["products"]):
        return False
    facts[code] = [at_us, int(undated)]
    return True


def subscribed(accounts: Accounts, number: str, code: str, via: list[str], at_us: int = 0,
               undated: bool = False) -> bool:
    """``ProductSubscribed`` of ``code`` on ``number`` at ``at_us`` (an account not opened yet is recorded with
    ``via``); False when a cancellation of ``code`` there ranks above it (it changes nothing)."""
    entry = _entry(accounts, number)
    if not _product_fact(entry, code, at_us, undated, cancelling=False):
        return False
    entry["products"] = list(dict.fromkeys([*entry["products"], code]))
    entry["via"] = entry["via"] or list(via)
    return True


def cancelled(accounts: Accounts, number: str, code: str, at_us: int = 0, undated: bool = False,
              via: list[str] | None = None) -> bool:
    """``ProductCancelled`` of ``code`` on ``number`` at ``at_us``; True when it goes: the cancellation ranks above
    the subscription there and no other account holds ``code``. Recorded on an account not known yet, so that its
    subscription delivered later changes nothing."""
    entry = _entry(accounts, number)
    if not _product_fact(entry, code, at_us, undated, cancelling=True):
        return False
    entry["products"] = [c for c in entry["products"] if c != code]
    entry["via"] = entry["via"] or list(via or ())
    return not any(code in other["products"] for other in accounts.values())


def held_products(products: dict[str, Any], accounts: Accounts) -> tuple[str, ...]:
    """The product codes of ``products`` that count, sorted: those with an account not closed, or with none known."""
    on: dict[str, list[bool]] = {}
    for entry in accounts.values():
        for code in entry["products"]:
            on.setdefault(code, []).append(entry["status"] != CLOSED)
    return tuple(sorted(code for code in products if any(on.get(code, [True]))))


def seeded(accounts: Accounts, profile: dict[str, str], fact_via: dict[str, list[str]]) -> Accounts:
    """A copy of ``accounts``; with state kept before this rule (a segment or tier, no account opened or closed),
    that segment and tier as one open account, the one their ``fact_via`` names (``""`` if none)."""
    copied = {number: copy_entry(entry) for number, entry in accounts.items()}
    if any(entry["status"] for entry in copied.values()) or not any(profile.get(f) for f in ACCOUNT_FACTS):
        return copied
    via = next((fact_via[f] for f in ACCOUNT_FACTS if profile.get(f) and f in fact_via), [])
    # its ACCOUNT key as the event carried it, spelled as every format keeps it (no format: state from before)
    numbers = [account_number(key.partition(":")[2], None) for key in via if key.partition(":")[0] == ACCOUNT]
    entry = _entry(copied, numbers[0] if len(numbers) == 1 else "")
    entry.update(status=OPEN, via=list(via), **{f: profile.get(f, "") for f in ACCOUNT_FACTS})
    return copied


def refresh(accounts: Accounts, profile: dict[str, str], fact_via: dict[str, list[str]]) -> None:
    """``profile``'s segment and tier (and their ``fact_via``) as the open accounts give them (see the module)."""
    ranked = sorted((entry["at"], number) for number, entry in accounts.items() if entry["status"] == OPEN)
    for fact in ACCOUNT_FACTS:
        profile.pop(fact, None)
        fact_via.pop(fact, None)
        for _, number in ranked:  # the last opened that states the fact wins
            if accounts[number][fact]:
                profile[fact], fact_via[fact] = accounts[number][fact], list(accounts[number]["via"])


def copy_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of an account entry that shares no list or table with it."""
    return {**entry, "products": list(entry["products"]),
            **({"product_at": dict(entry["product_at"])} if "product_at" in entry else {})}


def merged(survivor: Accounts, other: Accounts) -> Accounts:
    """Both customers' accounts: the fact of an account that ranks first wins (``rank``), and per product code the
    same; products without a rank (state kept before) add."""
    result = {number: copy_entry(entry) for number, entry in survivor.items()}
    for number, entry in other.items():
        mine = result.get(number)
        if mine is None:
            result[number] = copy_entry(entry)
            continue
        stale = _stale(mine, entry["at"], entry["status"] == CLOSED, entry.get("undated", False))
        winner = copy_entry(mine if stale else entry)
        winner["products"], winner["product_at"] = list(mine["products"]), dict(mine.get("product_at", {}))
        ranked = entry.get("product_at") or {}
        for code in dict.fromkeys([*entry["products"], *ranked]):
            known = ranked.get(code)
            if known is None:  # no rank (state kept before): held if either holds it
                if code in entry["products"]:
                    winner["products"] = list(dict.fromkeys([*winner["products"], code]))
            elif code in entry["products"]:
                subscribed({number: winner}, number, code, winner["via"], known[0], bool(known[1]))
            else:
                cancelled({number: winner}, number, code, known[0], bool(known[1]))
        result[number] = winner
    return result
