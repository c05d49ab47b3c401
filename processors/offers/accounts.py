"""A customer's accounts as the offer processor keeps them: which are open, and the facts only open ones give (pure).

A tenant who moved out (her only contract closed by billing's ``AccountClosed``) is no "electricity customer" any
more, and a former gold customer no gold one (tester22 F1). ``CustomerState.accounts`` maps the account number in
its normal form (``processors.profile.about.account_number`` in the deployment's
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``: ``intake.apply_business`` gives every number so) to an entry::

    {"status": "OPEN" | "CLOSED" | "", "at": us, "segment": str, "service_tier": str, "products": [code], "via": [key]}

* ``status`` and ``at`` (``envelope.occurred_at``, microseconds) come from the latest ``AccountOpened`` /
  ``AccountClosed``; an older fact changes nothing and at the same instant a close wins, so a close delivered before
  its open, or a redelivered open, leaves the account closed; a later ``AccountOpened`` reopens it. ``""``: the
  account is known only from a product subscribed on it.
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


def _stale(entry: dict[str, Any], at_us: int, closing: bool) -> bool:
    return (at_us, closing) < (entry["at"], entry["status"] == CLOSED)


def opened(accounts: Accounts, number: str, at_us: int, facts: dict[str, str], via: list[str]) -> None:
    """``AccountOpened`` of ``number`` at ``at_us`` with its ``facts`` (``ACCOUNT_FACTS`` -> text, blank: unknown)."""
    entry = _entry(accounts, number)
    if not _stale(entry, at_us, closing=False):
        entry.update(status=OPEN, at=at_us, via=list(via), **{f: facts.get(f) or "" for f in ACCOUNT_FACTS})


def closed(accounts: Accounts, number: str, at_us: int) -> None:
    """``AccountClosed`` of ``number`` at ``at_us``: its segment, tier and products no longer count."""
    entry = _entry(accounts, number)
    if not _stale(entry, at_us, closing=True):
        entry.update(status=CLOSED, at=at_us)


def subscribed(accounts: Accounts, number: str, code: str, via: list[str]) -> None:
    """``ProductSubscribed`` of ``code`` on ``number`` (an account not opened yet is recorded with ``via``)."""
    entry = _entry(accounts, number)
    entry["products"] = list(dict.fromkeys([*entry["products"], code]))
    entry["via"] = entry["via"] or list(via)


def cancelled(accounts: Accounts, number: str, code: str) -> bool:
    """``ProductCancelled`` of ``code`` on ``number``; True when no other account holds ``code`` (it goes)."""
    entry = accounts.get(number)
    if entry is not None:
        entry["products"] = [c for c in entry["products"] if c != code]
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
    copied = {number: {**entry, "products": list(entry["products"])} for number, entry in accounts.items()}
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


def merged(survivor: Accounts, other: Accounts) -> Accounts:
    """Both customers' accounts: the later fact of an account wins (a close at the same instant); products add."""
    result = {number: {**entry, "products": list(entry["products"])} for number, entry in survivor.items()}
    for number, entry in other.items():
        mine = result.get(number)
        winner = entry if mine is None or not _stale(mine, entry["at"], entry["status"] == CLOSED) else mine
        products = [*(mine["products"] if mine else []), *entry["products"]]
        result[number] = {**winner, "products": list(dict.fromkeys(products))}
    return result
