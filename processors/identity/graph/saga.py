"""One event's way through the graph: visit its identifiers, then link them greedily by priority.

Phase 1 visits the identifiers in key order (a global order, so two sagas never wait on each other in
a cycle), reading each one's owner and reserving the new ones. Phase 2 walks them by priority (highest
first) and grows the event's cluster one identifier at a time; a step that would break a limit drops
that (lower-priority) identifier and carries on with the rest. The saga travels inside the messages,
so it survives restarts like any other record.
"""

from __future__ import annotations

import hashlib
from typing import Any

from processors.identity.graph.limits import loser, rank_of
from processors.identity.graph.outputs import Lineage, Output, Refused, Send, Unresolved
from processors.identity.rules import CO_OBSERVED, MAX_PER_CUSTOMER, LinkPolicy, kind_of

Saga = dict[str, Any]

NEW = ""  # phase-1 status of an identifier nobody owns (reserved by the saga)
SHARED = "!"  # phase-1 status of a shared identifier (not linked)
UNKNOWN = "-"  # phase-1 status of a look-up-only identifier nobody owns (an alias's previousId): skipped


def customer_id(birth_micros: int, seed: str) -> str:
    """``cus_`` + 13 hex digits of the birth instant + 11 of a hash: sorting ids sorts customers by age."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:11]
    return f"cus_{max(birth_micros, 0):013x}{digest}"


def new_saga(
    event_id: str, channel: str, occurred_micros: int, keys: list[str], event_ref: dict[str, Any] | None,
    started_at: float, *, traits: dict[str, list[str]] | None = None, lookup_only: list[str] | None = None,
) -> Saga:
    """``traits``: the event's trait summary (``matching.traits``); ``lookup_only``: keys that link when
    somebody owns them but are never reserved nor create a customer (an alias's previous id)."""
    saga: Saga = {
        "e": event_id, "ch": channel, "at": occurred_micros, "t0": started_at, "ids": sorted({*keys, *(lookup_only or ())}),
        "i": 0, "seen": {}, "plan": [], "j": 0, "cur": None, "pend": [], "ev": event_ref,
    }
    if traits:
        saga["tr"] = traits
    if lookup_only:
        saga["lo"] = sorted(set(lookup_only))
    return saga


def command_saga(token: str, channel: str, rule: str, **flags: Any) -> Saga:
    """A saga that carries a merge proposal (blocking, review) rather than an event: nothing to apply."""
    return {"e": token, "ch": channel, "at": 0, "t0": 0.0, "ids": [], "i": 0, "seen": {}, "plan": [], "j": 0,
            "cur": None, "pend": [], "ev": None, "nb": True, "rl": rule, **flags}


def review_saga(token: str, identifiers: list[str], *, accept: bool, rule: str) -> Saga:
    """An operator's review decision: link (``accept``) or keep apart for good the customers of ``identifiers``.

    Both identifiers are look-up only (never reserved, never a new customer); an accepted merge skips
    the weight, a rejected one records each customer in the other's do-not-merge list.
    """
    saga = new_saga(token, "BACK_OFFICE", 0, [], None, 0.0, lookup_only=identifiers)
    saga.update(nb=True, rl=rule, **({"force": True} if accept else {"reject": True}))
    return saga


def copy_saga(saga: Saga) -> Saga:
    """A copy safe to change (messages kept in a node's queue share their saga otherwise)."""
    return {**saga, "seen": dict(saga["seen"]), "pend": list(saga["pend"])}


def pending_customer_id(saga: Saga) -> str:
    """The id the event's new customer gets, if its identifiers belong to nobody yet."""
    return customer_id(saga["at"], saga["e"])


def lineage(saga: Saga, rule: str | None = None) -> Lineage:
    return Lineage(saga["e"], saga["ch"], rule or saga.get("rl") or CO_OBSERVED)


def step_token(saga: Saga) -> str:
    return f"{saga['e']}#{saga['j']}"


def advance(saga: Saga, policy: LinkPolicy) -> list[Output]:
    """Run phase 2 from step ``saga['j']`` up to the next step another node must decide."""
    outputs: list[Output] = []
    plan, seen, event_id = saga["plan"], saga["seen"], saga["e"]
    while saga["j"] < len(plan):
        key = plan[saga["j"]]
        status = seen[key]
        current = saga["cur"]
        if status in (SHARED, UNKNOWN):
            saga["j"] += 1
        elif status == NEW and current is None:
            breach = policy.breach(saga["pend"], [key])
            dropped = None
            if breach is not None:  # the limit keeps the smallest ranks (limits.py), not the first planned
                ranks = {k: rank_of(saga, k) for k in saga["pend"] if kind_of(k) == breach.kind}
                dropped = loser(ranks, key, rank_of(saga, key))
                outputs.append(Refused(dropped, breach.reason, lineage(saga, MAX_PER_CUSTOMER),
                                       customer_id=pending_customer_id(saga)))
                outputs.append(Send(dropped, {"k": "release", "tok": event_id, "with": None}))
            if dropped != key:
                saga["pend"] = [k for k in saga["pend"] if k != dropped] + [key]
            saga["j"] += 1
        elif status == NEW:
            outputs.append(Send(current, {"k": "join", "add": [key], "cul": key, "new": True,
                                          "tok": step_token(saga), "saga": saga}))
            return outputs
        elif current is None and not saga["pend"]:
            saga["cur"] = status
            saga["j"] += 1
        elif current is None:
            outputs.append(Send(status, {"k": "join", "add": list(saga["pend"]), "cul": key, "new": False,
                                         "tok": step_token(saga), "saga": saga}))
            return outputs
        elif status == current:
            saga["j"] += 1
        else:
            outputs.append(Send(status, {"k": "link", "y": current, "cx": False, "cul": key,
                                         "tok": step_token(saga), "saga": saga}))
            return outputs
    if saga.get("nb"):
        return outputs  # a merge proposal: no event to apply
    if saga["cur"] is None and saga["pend"]:
        new_id = pending_customer_id(saga)
        outputs.append(Send(new_id, {"k": "create", "add": list(saga["pend"]), "saga": saga}))
    elif saga["cur"] is not None:
        outputs.append(Send(saga["cur"], {"k": "apply", "saga": saga}))
    else:
        outputs.append(Unresolved(event_id, saga["t0"]))
    return outputs
