"""Reading what the JSON protocol (before typed messages and states) left behind, so an upgrade needs no replay.

Node states and profiles in the tables' changelogs, and graph records still on the graph topic, were
JSON objects with short keys (``{"k": "visit", "saga": {...}}``, ``{"o": ..., "v": ...}``). A worker
that reads one converts it to the typed form (``messages/``, ``state.py``); the next write stores the
msgpack form. The short keys below exist only here, as the old format's field names.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import EventRef, Member, Saga
from processors.identity.graph.messages.commands import SplitCustomer, SplitInit
from processors.identity.graph.messages.steps import (
    Apply,
    Assign,
    Block,
    Create,
    Evict,
    Join,
    Link,
    Note,
    Offer,
    OfferResult,
    Rejoin,
    Rekey,
    Release,
    Unblock,
    Visit,
)
from processors.identity.graph.profile_codec import decode_profile, encode_profile
from processors.identity.graph.state import (
    BlockEntry,
    BlockState,
    CustomerState,
    IdentifierState,
    NodeState,
    decode_state,
)
from processors.profile.book import ProfileState

OldJson = dict[str, Any]  # the JSON protocol's objects, as decoded
OLD_VERSION_BITS = 24  # the old one-int member: rank << 24 | version


def member(value: int) -> Member:
    return (value & ((1 << OLD_VERSION_BITS) - 1), value >> OLD_VERSION_BITS)


def members(old: dict[str, int] | None) -> dict[str, Member]:
    return {key: member(value) for key, value in (old or {}).items()}


def hashes(value: str | None) -> bytes:
    """The old dedupe windows: 12 hex digits per token (the same 48 bits as the new 6 bytes)."""
    return bytes.fromhex(value or "")


def event_ref(old: OldJson | None) -> EventRef | None:
    return None if old is None else EventRef(old["t"], old["s"], base64.b64decode(old["b"]))


def saga(old: OldJson) -> Saga:
    return Saga(
        old["e"], old["ch"], old["at"], old.get("t0", 0.0), list(old["ids"]), event=event_ref(old.get("ev")),
        traits=old.get("tr"), lookup_only=list(old.get("lo", [])), visited=old.get("i", 0),
        seen=dict(old.get("seen", {})), plan=list(old.get("plan", [])), step=old.get("j", 0), current=old.get("cur"),
        pending=list(old.get("pend", [])), node_ranks=dict(old.get("nr", {})), node_versions=dict(old.get("nv", {})),
        proposal=bool(old.get("nb")), rule=old.get("rl"), force=bool(old.get("force")), reject=bool(old.get("reject")),
    )


def message(old: OldJson) -> AnyMessage:
    """One message of the JSON protocol as its Struct; ``ValueError`` for an unknown kind."""
    kind = old.get("k")
    if kind == "visit":
        return Visit(saga(old["saga"]))
    if kind == "assign":
        return Assign(old["o"], old["v"], old.get("tok"))
    if kind == "release":
        return Release(old["tok"], old.get("with"))
    if kind == "note":
        return Note(old["with"])
    if kind == "evict":
        return Evict(old["c"], old["v"], old["r"], old["e"], old["ch"], old["why"])
    if kind == "join":
        return Join(list(old["add"]), old["cul"], old["new"], old["tok"], saga(old["saga"]))
    if kind == "link":
        return Link(old["y"], old["cx"], old.get("cul"), old["tok"], saga(old["saga"]))
    if kind == "offer":
        return Offer(old["x"], members(old.get("m")), encode_profile(old["pf"]) if old.get("pf") else None,
                     list(old.get("dn", [])), list(old.get("al", [])), old.get("tr"), old["tok"], old["cx"],
                     old.get("cul"), saga(old["saga"]))
    if kind == "offer_result":
        return OfferResult(old["tok"], old["ok"], old.get("p"), list(old.get("dn", [])))
    if kind == "create":
        return Create(list(old["add"]), saga(old["saga"]))
    if kind == "apply":
        carried = saga(old["saga"])
        return Apply(carried.event_id, carried.started_at, carried.traits, carried.event)
    if kind == "split":
        return SplitCustomer(list(old["ids"]), old.get("reason"), old["tok"], old["at"], old.get("ch", "BACK_OFFICE"))
    if kind == "split_init":
        return SplitInit(members(old.get("m")), list(old.get("dn", [])), old["at"])
    if kind == "rekey":
        return Rekey(old["id"], old["r"])
    if kind == "rejoin":
        return Rejoin(old["id"], old["r"], old["v"], old["e"], old["ch"], old["tok"])
    if kind == "block":
        return Block(old["c"], old["tr"], list(old["kn"]))
    if kind == "unblock":
        return Unblock(old["c"])
    raise ValueError(f"not a message of the JSON graph protocol: kind {kind!r}")


def record(key: str, old: OldJson) -> list[tuple[str, AnyMessage]]:
    """A JSON graph record (one message, or a ``bundle`` of ``[node, message]`` pairs) as typed pairs."""
    if old.get("k") == "bundle":
        return [(node, message(inner)) for node, inner in old["m"]]
    return [(key, message(old))]


def node_state(old: OldJson) -> NodeState:
    """A node state of the JSON protocol (``o``/``v``/``lk``/``q``... or ``init``/``m``/``p``... or ``e``)."""
    if isinstance(old.get("e"), dict):
        return BlockState({c: BlockEntry(traits, kinds) for c, (traits, kinds) in old["e"].items()})
    waiting = [message(queued) for queued in old.get("q", [])]
    if "init" in old:
        return CustomerState(
            created=bool(old["init"]), members=members(old.get("m")), born=old.get("b", 0), traits=old.get("tr"),
            done=hashes(old.get("d")), parent=old.get("p"), lock=old.get("lk"), waiting=waiting,
            waiting_bytes=old.get("qb", 0),
            do_not_merge=list(old.get("dn", [])), aliases=list(old.get("al", [])))
    return IdentifierState(
        owner=old.get("o"), version=old.get("v", 0), recent=hashes(old.get("r")), first_rank=old.get("f"),
        reserved_by=old.get("lk"), waiting=waiting, waiting_bytes=old.get("qb", 0), shared=bool(old.get("sh")),
        refused_with=list(old.get("as", [])))


def decode_any_state(data: bytes) -> NodeState:
    """A stored node state, msgpack or (written before it) JSON; ``ValueError`` / ``msgspec.DecodeError``."""
    return node_state(json.loads(data)) if data[:1] == b"{" else decode_state(data)


def decode_any_profile(data: bytes) -> ProfileState:
    """A stored profile, msgpack or (written before it) JSON."""
    return dict(json.loads(data)) if data[:1] == b"{" else decode_profile(data)
