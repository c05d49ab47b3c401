"""Customer nodes: the members of a customer and the decisions that change them.

State (fields left out when empty): ``init`` (false for a stub that only holds early messages), ``p``
the customer it was merged into, ``m`` members ``{identifier key: assignment version, with the rank above
it for a limited type (limits.member: who gives way when a limit is exceeded)}``, ``lk`` the
token of its outstanding merge offer, ``q`` messages waiting for the offer or the creation, ``dn``
customers it must never merge with (splits, rejected reviews), ``al`` ids merged into it, ``d`` short
hashes of recent step tokens (duplicate guard), ``b`` birth instant (epoch microseconds), ``tr`` the
trait summary the matcher compares (``matching.traits``).

Every decision about a customer is taken at its root, one message at a time, with the full member
list at hand: limits are exact. A merge locks the loser (larger id) while the survivor decides, so the
loser's members cannot change under the decision; waits only ever point to smaller ids, so they end.
"""

from __future__ import annotations

from processors.identity.graph.engine import Ctx, Message
from processors.identity.graph.evidence import absorb_traits, consistent_traits, judge, kept_apart
from processors.identity.graph.limits import (
    conflict,
    evict,
    eviction,
    give_way,
    member,
    member_rank,
    member_version,
    rank_of,
    version_of,
)
from processors.identity.graph.outputs import Assigned, Created, Lineage, Linked, Merged, Refused, Resolved, Split
from processors.identity.graph.saga import advance, copy_saga, customer_id, lineage, pending_customer_id
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.traits import combine
from processors.identity.matching.weights import Decision
from processors.identity.rules import MANUAL_SPLIT, MAX_PER_CUSTOMER, REVIEW_REJECTED, SPLIT_DO_NOT_MERGE, kind_of

DONE_TOKENS = 32


def _route(ctx: Ctx, message: Message, token: str | None = None) -> bool:
    """True when this node must decide now; otherwise the message was deferred, forwarded or dropped."""
    state = ctx.state
    if token is not None and (ctx.recalls("d", token) or state.get("lk") == token):
        return False  # duplicate of a step already taken (or in progress) here
    if not state.get("init"):
        state["init"] = False
        ctx.defer(message)
    elif state.get("p"):
        ctx.send(state["p"], message)
    elif state.get("lk"):
        ctx.defer(message)
    else:
        return True
    return False


def _assign(ctx: Ctx, keys: list[str], members: dict[str, int], owner: str, by_event_id: str,
            token: str | None) -> None:
    """Tell each identifier (and the compacted topic) its new owner; ``by_event_id``: the announcement."""
    for key in keys:
        version = member_version(members[key])
        ctx.emit(Assigned(key, owner, version, by_event_id))
        ctx.send(key, {"k": "assign", "o": owner, "v": version, "tok": token})


def _continue(ctx: Ctx, saga: dict, token: str | None) -> None:
    if token is not None:
        ctx.remember("d", token, DONE_TOKENS)
    saga["j"] += 1
    ctx.emit(*advance(saga, ctx.policy))


def on_join(ctx: Ctx, message: Message) -> None:
    """New identifiers join this customer; where a per-customer limit is exceeded, the largest ranks give way."""
    if not _route(ctx, message, message["tok"]):
        return
    saga, state = copy_saga(message["saga"]), ctx.state
    members: dict[str, int] = state.setdefault("m", {})
    added = [key for key in message["add"] if key not in members]
    culprit = message["cul"]
    giving = give_way(ctx.policy, members, {key: rank_of(saga, key) for key in added}, _waived(saga))
    if not message["new"] and (two := conflict(ctx.policy, members, dict.fromkeys(added, 0), _waived(saga))):
        giving = {culprit: two}  # two national IDs (a limit of one): two people, the linking identifier gives way
    decision, score = Decision.MERGE, None
    if culprit not in giving and not message["new"] and added:
        # The event's new identifiers (and its traits) meet an existing customer through ``culprit``.
        decision, score = judge(ctx, saga.get("tr"), state.get("tr"), [*added, culprit], members)
    if culprit in giving and message["new"]:  # the new identifier ranks last: dropped; the event stays here
        ctx.emit(Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
        ctx.send(culprit, {"k": "release", "tok": saga["e"], "with": ctx.key})
        saga["cur"] = ctx.key
    elif culprit in giving:  # this customer's identifier gives way: the event keeps its new ones apart
        pending = pending_customer_id(saga)
        ctx.emit(Refused(culprit, giving[culprit], lineage(saga, MAX_PER_CUSTOMER),
                         customer_id=pending, other_customer_id=ctx.key))
        # The pending customer exists only because of this refusal: it counts towards the identifier's
        # ``shared_after`` only if the evidence says two people (an alias's phantom never does).
        if judge(ctx, saga.get("tr"), state.get("tr"), [*added, culprit], members)[0] is Decision.REFUSE:
            ctx.send(culprit, {"k": "note", "with": pending})
    elif decision is not Decision.MERGE and score is not None:
        kept_apart(ctx, decision, score, lineage(saga), culprit, pending_customer_id(saga), ctx.key,
                   (min(added), culprit))
    else:  # they join; over a limit, the new ones that rank last are refused, the members that do are evicted
        for key in added:
            if key in giving:
                ctx.emit(Refused(key, giving[key], lineage(saga, MAX_PER_CUSTOMER), customer_id=ctx.key))
                ctx.send(key, {"k": "release", "tok": saga["e"], "with": ctx.key})
            else:
                _admit(ctx, key, version_of(saga, key), rank_of(saga, key), lineage(saga), saga["e"])
        for key in sorted(giving.keys() & members.keys()):
            ctx.send(*evict(state, ctx.key, key, saga["e"], saga["ch"], giving[key]))
        saga["cur"], saga["pend"] = ctx.key, []
    _continue(ctx, saga, message["tok"])


def _admit(ctx: Ctx, key: str, version: int, rank: int, link_lineage: Lineage, token: str | None) -> None:
    """``key`` becomes a member (its rank kept if its type is limited); announce and tell its node."""
    members: dict[str, int] = ctx.state.setdefault("m", {})
    members[key] = member(version, rank if ctx.policy.limit(kind_of(key)) is not None else 0)
    linked = Linked(ctx.key, key, link_lineage)
    ctx.emit(linked)
    _assign(ctx, [key], members, ctx.key, linked.event_id, token)


def on_link(ctx: Ctx, message: Message) -> None:
    """Two customers are one person: find both roots; the larger id offers itself to the smaller."""
    if not _route(ctx, message, message["tok"]):
        return
    other, saga = message["y"], message["saga"]
    if other == ctx.key:
        saga = copy_saga(saga)
        saga["cur"] = ctx.key
        _continue(ctx, saga, message["tok"])
    elif ctx.key < other:
        ctx.send(other, {**message, "y": ctx.key, "cx": not message["cx"]})
    else:
        state = ctx.state
        state["lk"] = message["tok"]
        ctx.send(other, {
            "k": "offer", "x": ctx.key, "m": state.get("m", {}), "pf": ctx.store.get_profile(ctx.key),
            "dn": state.get("dn", []), "al": state.get("al", []), "tr": state.get("tr"),
            "tok": message["tok"],
            "cx": message["cx"],
            "cul": message["cul"], "saga": saga,
        })


def on_offer(ctx: Ctx, message: Message) -> None:
    """The locked customer ``x`` offers to merge into this one; decide with both member lists at hand."""
    if ctx.recalls("d", message["tok"]):
        # Decided before: this copy comes from a duplicated step. Answer it, so whichever node sent it
        # (the original loser, or the node a late duplicate was forwarded to) does not stay locked.
        ctx.send(message["x"], {"k": "offer_result", "tok": message["tok"], "ok": False})
        return
    if not _route(ctx, message, message["tok"]):
        return
    saga, state, loser = copy_saga(message["saga"]), ctx.state, message["x"]
    members: dict[str, int] = state.setdefault("m", {})
    loser_aliases, own_aliases = {loser, *message["al"]}, {ctx.key, *state.get("al", [])}
    current, other = (loser, ctx.key) if message["cx"] else (ctx.key, loser)
    # Over a limit, the identifiers of both sides that rank last give way (evicted from the merged customer);
    # only when the linking identifier itself gives way is the merge refused.
    giving = give_way(ctx.policy, members, {key: member_rank(value) for key, value in message["m"].items()},
                      _waived(saga))
    culprit = message["cul"]
    # Two national IDs (a limit of one) are two people: the merge is refused; so it is when the linking
    # identifier itself ranks beyond a limit.
    limit_reason = conflict(ctx.policy, members, message["m"], _waived(saga)) or (
        giving.get(culprit) if culprit is not None else None)
    decision, score = Decision.MERGE, None
    rule: str | None = None  # set, with its reason, when a rule refuses the merge outright
    reason = ""
    if loser_aliases & set(state.get("dn", [])) or own_aliases & set(message["dn"]):
        rule, reason = SPLIT_DO_NOT_MERGE, "an operator split these customers apart (or rejected their merge)"
    elif limit_reason is not None:
        rule, reason = MAX_PER_CUSTOMER, limit_reason
    elif saga.get("reject"):
        rule, reason = REVIEW_REJECTED, "an operator rejected this merge"
    elif not saga.get("force"):  # an operator's accept skips the weight
        # The event saw ``culprit`` with the other side: it agrees on both (None for a blocking proposal).
        seen = [culprit] if culprit is not None else []
        # The event belongs to the ``current`` side: its traits count there.
        loser_traits, own_traits = message.get("tr"), state.get("tr")
        if message["cx"]:
            loser_traits = combine(loser_traits, saga.get("tr"))
        else:
            own_traits = combine(own_traits, saga.get("tr"))
        decision, score = judge(ctx, loser_traits, own_traits, [*message["m"], *seen], [*members, *seen])
    if rule == REVIEW_REJECTED:  # never merge these two again, on either side
        state["dn"] = sorted({*state.get("dn", []), *loser_aliases})
        ctx.send(loser, {"k": "offer_result", "tok": message["tok"], "ok": False, "dn": sorted(own_aliases)})
        saga["cur"] = current
    elif rule is not None:
        if culprit is not None:
            ctx.emit(Refused(culprit, reason, lineage(saga, rule), customer_id=current, other_customer_id=other))
            ctx.send(culprit, {"k": "note", "with": current})
        ctx.send(loser, {"k": "offer_result", "tok": message["tok"], "ok": False})
        saga["cur"] = current
    elif decision is not Decision.MERGE and score is not None:
        kept_apart(ctx, decision, score, lineage(saga), culprit, current, other, (min(message["m"]), min(members)))
        ctx.send(loser, {"k": "offer_result", "tok": message["tok"], "ok": False})
        saga["cur"] = current
    else:
        moved = sorted(key for key in message["m"] if key not in giving)
        for key in moved:
            members[key] = message["m"][key] + 1  # the version is in the low bits; the rank moves along
        for key in sorted(giving):  # the loser's are evicted on behalf of the survivor, which absorbs it
            if key in members:
                ctx.send(*evict(state, ctx.key, key, saga["e"], saga["ch"], giving[key]))
            else:
                ctx.send(*eviction(ctx.key, key, message["m"][key], saga["e"], saga["ch"], giving[key]))
        state["dn"] = sorted({*state.get("dn", []), *message["dn"]})
        state["al"] = sorted({*state.get("al", []), *loser_aliases})
        if message.get("pf"):
            ctx.store.put_profile(ctx.key, ctx.graph.book.merge(ctx.store.get_profile(ctx.key), message["pf"]))
        if message.get("tr"):
            for key in block_keys(message["tr"]):  # the loser's blocking entries go, the survivor's stay
                ctx.send(key, {"k": "unblock", "c": loser})
        absorb_traits(ctx, message.get("tr"))
        merged = Merged(ctx.key, loser, tuple(moved), lineage(saga))
        ctx.emit(merged)
        _assign(ctx, moved, members, ctx.key, merged.event_id, None)
        ctx.send(loser, {"k": "offer_result", "tok": message["tok"], "ok": True, "p": ctx.key})
        saga["cur"] = ctx.key
    _continue(ctx, saga, message["tok"])


def _waived(saga: dict) -> tuple[str, ...]:
    """An alias links an earlier user id to the new one: the one-USER_ID limit does not apply to it."""
    return ("USER_ID",) if saga.get("lo") else ()


def on_offer_result(ctx: Ctx, message: Message) -> None:
    state = ctx.state
    if state.get("lk") != message["tok"]:
        return  # a duplicate answer
    state["lk"] = None
    ctx.remember("d", message["tok"], DONE_TOKENS)
    if message["ok"]:
        state["p"] = message["p"]
        for field in ("m", "dn", "al", "tr"):
            state.pop(field, None)
        ctx.store.put_profile(ctx.key, None)
    elif message.get("dn"):
        state["dn"] = sorted({*state.get("dn", []), *message["dn"]})
    ctx.release_queue()


def on_create(ctx: Ctx, message: Message) -> None:
    """A new customer for identifiers nobody owned, reserved by the saga of ``message``."""
    if ctx.state.get("init"):
        return  # created already: a duplicate
    saga, state = copy_saga(message["saga"]), ctx.state
    state.update(init=True, b=saga["at"], m={
        key: member(version_of(saga, key), rank_of(saga, key) if ctx.policy.limit(kind_of(key)) is not None else 0)
        for key in message["add"]})
    created = Created(ctx.key, tuple(message["add"]), lineage(saga))
    ctx.emit(created)
    _assign(ctx, message["add"], state["m"], ctx.key, created.event_id, saga["e"])
    saga["cur"], saga["pend"] = ctx.key, []
    ctx.send(ctx.key, {"k": "apply", "saga": saga})
    ctx.release_queue()


def on_apply(ctx: Ctx, message: Message) -> None:
    """The event belongs to this customer: update the profile sections it feeds."""
    if not _route(ctx, message):
        return  # no duplicate guard: sections are idempotent, and a re-published contact keeps its event id
    saga = message["saga"]
    if consistent_traits(ctx, saga.get("tr")):  # a household member on the family phone: not this person
        absorb_traits(ctx, saga.get("tr"))
    event_ref = saga.get("ev")
    if event_ref is not None:
        event = ctx.graph.load_event(event_ref)
        if ctx.graph.book.reads(event.schema):
            ctx.store.put_profile(ctx.key, ctx.graph.book.apply(ctx.store.get_profile(ctx.key), event))
    ctx.emit(Resolved(ctx.key, event_ref, saga["e"], saga.get("t0", 0.0)))


def on_split(ctx: Ctx, message: Message) -> None:
    """An operator's unmerge: move some identifiers to a new customer, and never merge the two again."""
    if not _route(ctx, message, message["tok"]):
        return
    state = ctx.state
    members: dict[str, int] = state.setdefault("m", {})
    moving = sorted(key for key in set(message["ids"]) if key in members)
    ctx.remember("d", message["tok"], DONE_TOKENS)
    rule_lineage = lineage({"e": message["tok"], "ch": message.get("ch", "BACK_OFFICE")}, MANUAL_SPLIT)
    if not moving or len(moving) == len(members):
        ctx.emit(Refused(message["ids"][0], "a split must move some, but not all, identifiers of the customer",
                         rule_lineage, customer_id=ctx.key))
        return
    new_id = customer_id(message["at"], message["tok"])
    versions = {key: members.pop(key) + 1 for key in moving}  # the version is in the low bits
    state["dn"] = sorted({*state.get("dn", []), new_id})
    split = Split(ctx.key, new_id, tuple(moving), message.get("reason"), rule_lineage)
    ctx.emit(split)
    _assign(ctx, moving, versions, new_id, split.event_id, None)
    ctx.send(new_id, {"k": "split_init", "m": versions, "dn": [ctx.key], "at": message["at"]})


def on_split_init(ctx: Ctx, message: Message) -> None:
    if ctx.state.get("init"):
        return
    ctx.state.update(init=True, b=message["at"], m=dict(message["m"]), dn=list(message["dn"]))
    ctx.release_queue()


HANDLERS = {
    "join": on_join, "link": on_link, "offer": on_offer, "offer_result": on_offer_result, "create": on_create,
    "apply": on_apply, "split": on_split, "split_init": on_split_init,
}
