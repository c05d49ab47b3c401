"""What a handler works with: one node's typed state, its outputs, and where states live.

``engine.py`` builds a ``Ctx`` per message and dispatches; the node modules import only this module
(and ``messages`` / ``state``), so nothing imports the engine back.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol

import msgspec

from bus.envelope import key_digest
from bus.issued_ids import CUSTOMER_ID_PREFIX
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph.state import BlockState, CustomerState, IdentifierState, NodeState, S, thaw

if TYPE_CHECKING:
    from bus.serde import Event
    from processors.identity.rules import LinkPolicy
    from processors.profile.book import ProfileBook, ProfileState

CUSTOMER_PREFIX = CUSTOMER_ID_PREFIX  # the graph's name for it (engine exports it); declared in bus.issued_ids
SHORT_HASH_CHARS = 12  # 48 bits: a collision inside one node's window of a few dozen tokens is negligible
TOKEN_HASH_BYTES = SHORT_HASH_CHARS // 2
# Deferred messages a node keeps in its state (``waiting``, their encoded size in ``waiting_bytes``); beyond
# it they are parked on the graph topic and come back later. A state record must stay far below Kafka's
# 1 MiB (``message.max.bytes``): 10,000 events of a new customer in one batch queued ~5 MB on its identifier (#13).
MAX_DEFERRED_BYTES = 256 * 1024
IDENTIFIER_NODE_SCOPE = "identity.node"  # ``node_digest``'s scope: its digests are no batch key's


_ENCODER = msgspec.msgpack.Encoder()
# One empty state per node type, compared with (never changed): a saved state equal to it is no state at all.
_EMPTY: dict[type, NodeState] = {cls: cls() for cls in (IdentifierState, CustomerState, BlockState)}


def node_digest(key: str) -> str:
    """What a token or lineage carries in place of identifier node ``key`` (``TYPE:value``): ``key-`` and 32 hex
    digits (``bus.envelope.key_digest``), the same for the same key (a copy of a message keeps its token). Tokens
    become the ``lineage.triggering_event_id`` of announcements and the ``correlation_id`` / ``causation_id`` of
    re-keyed records, printed by ``omnibus topics read`` and kept by every subscriber (README, "Ids never carry an
    identifier value"; tester28 F1: ``hm:EMAIL:<address>:...``)."""
    return key_digest(IDENTIFIER_NODE_SCOPE, [key])


def short_hash(token: str) -> str:
    return hashlib.blake2b(token.encode(), digest_size=TOKEN_HASH_BYTES).hexdigest()


# One event's id is hashed 3-4 times on its way (its contact mark, the fast path's dedupe, its contact record, an
# identifier's visit), often by handlers of one batch in a row: recent hashes are kept (#9).
TOKEN_HASHES_KEPT = 4096


@functools.lru_cache(maxsize=TOKEN_HASHES_KEPT)
def token_hash(token: str) -> bytes:
    """The 6-byte (48-bit) hash a node keeps of a token it must recognise again."""
    return hashlib.blake2b(token.encode(), digest_size=TOKEN_HASH_BYTES).digest()


def remember(kept: bytes, token: str, limit: int) -> bytes:
    """``kept`` (recent tokens' 6-byte hashes) with ``token`` added; the oldest beyond ``limit`` go."""
    return remember_hash(kept, token_hash(token), limit)


def remember_hash(kept: bytes, hashed: bytes, limit: int) -> bytes:
    """``remember`` of a token whose ``token_hash`` is ``hashed`` (a caller that also asked ``recalls_hash``)."""
    return (kept + hashed)[-limit * TOKEN_HASH_BYTES:]


def recalls(kept: bytes, token: str) -> bool:
    """Whether ``token``'s hash is one of the 6-byte hashes in ``kept`` (``remember``)."""
    return recalls_hash(kept, token_hash(token))


def recalls_hash(kept: bytes, wanted: bytes) -> bool:
    """``recalls`` of the token whose ``token_hash`` is ``wanted``: a match only at a multiple of 6 bytes (a hash's
    start), found by ``bytes.find`` rather than a slice per kept hash (#9)."""
    found = kept.find(wanted)
    while found >= 0:
        if found % TOKEN_HASH_BYTES == 0:
            return True
        found = kept.find(wanted, found + 1)
    return False


def is_customer(key: str) -> bool:
    return key.startswith(CUSTOMER_PREFIX)


class NodeStore(Protocol):
    def get_node(self, key: str) -> NodeState | None: ...
    def put_node(self, key: str, state: NodeState | None) -> None: ...
    def get_profile(self, key: str) -> ProfileState | None: ...
    def put_profile(self, key: str, profile: ProfileState | None) -> None: ...
    def get_contact(self, key: str) -> ContactRecord | None: ...
    def put_contact(self, key: str, record: ContactRecord | None) -> None: ...


@dataclass(frozen=True, slots=True)
class GraphConfig:
    """What every handler may read: the link rules, the profile book, how to read an event's record."""

    policy: LinkPolicy
    book: ProfileBook
    load_event: Callable[[EventRef], Event]
    dedupe_window: int = 16
    clock: Callable[[], float] = field(default=time.time)


class Ctx(Generic[S]):
    """One node while it handles one message: a copy of its state, changed in place, saved at the end."""

    def __init__(self, config: GraphConfig, store: NodeStore, key: str, original: S | None, empty: S) -> None:
        self.graph, self.store, self.key = config, store, key
        self.original: S | None = original
        self.state: S = thaw(original) if original is not None else empty
        self.outputs: list[Output] = []
        self.unblocked: list[AnyMessage] = []

    @property
    def policy(self) -> LinkPolicy:
        return self.graph.policy

    def emit(self, *outputs: Output) -> None:
        self.outputs.extend(outputs)

    def send(self, node: str, message: AnyMessage) -> None:
        self.outputs.append(Send(node, message))

    def defer(self, message: AnyMessage) -> None:
        """Keep ``message`` until the node is released; when ``MAX_DEFERRED_BYTES`` are kept, park it on the
        topic instead (it returns after the messages already waiting, and is deferred again if still blocked)."""
        state = self.state
        if isinstance(state, BlockState):
            raise TypeError("a blocking node does not queue messages")
        size = len(_ENCODER.encode(message))
        if state.waiting and state.waiting_bytes + size > MAX_DEFERRED_BYTES:
            self.outputs.append(Send(self.key, message, parked=True))
            return
        state.waiting.append(message)
        state.waiting_bytes += size

    def release_queue(self) -> None:
        """Hand every deferred message back for handling on this node, oldest first."""
        state = self.state
        if not isinstance(state, BlockState):
            self.unblocked.extend(state.waiting)
            state.waiting, state.waiting_bytes = [], 0

    def save(self) -> None:
        state: NodeState | None = self.state
        if state == _EMPTY[type(self.state)]:
            state = None
        if state != self.original:
            self.store.put_node(self.key, state)
