"""What a mapper produces: the events of one native record, the source's own id for dedupe and, for sources that may
reuse an id for another record, the digest of the record's content its event ids derive from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from adapters.base.errors import RejectedInput
from bus.producer import Outgoing
from bus.topic import KafkaRecord

NativeT = TypeVar("NativeT", contravariant=True)
# Hex digits of a record's content digest that a business id built from a reusable source id ends with (``content_id``).
CONTENT_ID_HEX = 8


@dataclass(slots=True)  # not frozen: built per service request on the hot path (object.__setattr__ costs)
class Claim:
    """Another id a record names that must not name other content: ``id`` in the dedupe store's namespace (it must
    not look like a source id), ``digest`` of what the record says under it, ``refusal`` builds the answer when that
    id was published with another digest (built only then: a web service request's ``request_id`` reused for another
    request)."""

    id: str
    digest: bytes
    refusal: Callable[[], RejectedInput]


# The optional parts a record may carry besides what it reports, each published as events of its own: the back-office
# handoff a call or a counter visit asked for, the follow-up on a case already open a counter visit recorded
# (``HandoffFollowedUp``), the answer to an offer its agent or clerk recorded. The sender's answer lists a refused one
# under ``dropped_<part>s`` (``adapters.base.identifiers.dropped_fields``); its dead letter's reason and its re-drive's
# answer name it in words (``bus.dead_letter.part_words``: ``follow-up``).
HANDOFF, FOLLOW_UP, OFFER, CARD_PART = "handoff", "follow_up", "offer", "card"  # CARD_PART: a card status
PARTS = (HANDOFF, FOLLOW_UP, OFFER, CARD_PART)


@dataclass(frozen=True, slots=True)
class DroppedPart:
    """An optional part of a record (``part``: one of ``PARTS``) refused while the rest of the record is published,
    and why (``refusal``, whose reason names the field, never its value). ``adapters.base.ingest`` dead-letters it
    with the record's bytes and the answer lists it; a CTR whose agent gave a handoff summary without the
    kind, or a malformed offer answer, was refused whole, and Connect (through Firehose) never reads the answer, so
    the call was lost for want of an optional part. ``key``: the id the part would have had (a handoff's id, an offer
    answer's presentation id), the same for every delivery and every version of the record: its dead letter is written
    once per key and reason (``AdapterPublisher.reject_part``; at-least-once senders re-deliver, Connect re-sends a
    contact's CTR as it is updated)."""

    part: str
    refusal: RejectedInput
    key: str


@dataclass(slots=True)  # not frozen: two are built per record on the hot path (object.__setattr__ costs)
class MappedRecord:
    """``dedupe_id`` is the source's own id (Segment messageId, Connect ContactId, outbox id, ...);
    ``encoded``: the events' wire bytes once ``AdapterPublisher.encode`` checked them against their
    schemas (empty until then), so nothing is Avro-encoded twice; ``dropped_traits``: the person's traits left off
    (standard key -> reason, never the value; ``bus.identifiers.traits.standard_traits``), for the sender's answer;
    ``content_digest``: the record's ``content_digest`` when its source chooses ids it may reuse for another record
    (a Segment ``messageId``, a counter event's ``event_id``): its events' ids derive from it
    (``bus.envelope.event_id``), and ``AdapterPublisher.submit`` refuses another content under a published id;
    ``claims``: other ids the record names, refused the same way (``Claim``); ``dropped_parts``: the optional parts
    refused while the record itself is published (``DroppedPart``)."""

    dedupe_id: str
    events: tuple[Outgoing, ...]
    encoded: tuple[KafkaRecord, ...] = ()
    dropped_traits: Mapping[str, str] | None = None
    content_digest: bytes | None = None
    claims: tuple[Claim, ...] = ()
    dropped_parts: tuple[DroppedPart, ...] = ()


class Mapper(Protocol, Generic[NativeT]):
    """A pure function from one native record to its events; raises ``RejectedInput`` for bad input."""

    def __call__(self, native: NativeT) -> MappedRecord: ...


def content_digest(native: Any, *, leave_out: Collection[str] = (), kind: str | None = None) -> bytes | None:
    """SHA-256 (32 bytes) of ``native`` (a JSON object) as JSON with sorted keys, without its top-level fields
    ``leave_out`` (what a sender changes at each retry: Segment's ``sentAt``) and with ``kind`` (what the path named, a
    web call type); None for anything but an object. A ``MappedRecord``'s ``content_digest``: a re-send is a duplicate
    with the same event ids, another record under its id a conflict with ids of its own (a counter reused
    an id for a refund; a portal reused a ``messageId``, and the other event was dropped as a duplicate;
    F1: on another adapter replica it was published under the first one's event ids)."""
    if not isinstance(native, dict):
        return None
    content = {name: value for name, value in native.items() if name not in leave_out} if leave_out else native
    tree = [kind, content] if kind else content
    if _msgspec_writes_it_alike(tree):
        try:
            return hashlib.sha256(_encode_sorted(tree)).digest()
        except UnicodeEncodeError:  # a lone surrogate: json.dumps's text, backslash-replaced, as always
            pass
    text = json.dumps(tree, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).digest()


# The digest's text is ``json.dumps``'s, which every event id derived from a digest depends on: it must not change.
# msgspec writes the same bytes four times faster (8.3 -> 2.1 µs for a 670-byte Segment track call, #9 build 6) for a
# tree of dicts with text keys, lists, text, integers, booleans, null and floats Python writes without an exponent
# (0 and 1e-4 <= |x| < 1e16): its floats outside that range differ (``1e16``, not ``1e+16``), non-finite ones become
# ``null``, and a lone surrogate raises. Held to ``json.dumps`` on every code point, 2 million floats and
# generated trees (tests/adapters/base/test_mapper.py); any other tree goes through ``json.dumps``.
_encode_sorted = msgspec.json.Encoder(order="sorted").encode
_SAME_SCALARS = frozenset((str, int, bool, type(None)))
_FIXED_FLOATS = (1e-4, 1e16)  # repr writes a finite float without an exponent in this range of magnitudes, and 0
_MAX_WALK_DEPTH = 64  # deeper: json.dumps decides (and words a recursion error as it always did)


def _msgspec_writes_it_alike(tree: Any) -> bool:
    """Whether ``tree`` holds only what msgspec writes as ``json.dumps`` does (see above), containers no deeper than
    ``_MAX_WALK_DEPTH``. Walked a level at a time in one frame, the scalars of a container tested where it is read:
    a call per node cost a fifth more on a Segment track call (#9 build 6)."""
    level, depth = [tree], 0
    while level:
        deeper: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is dict:
                for key in node:
                    if type(key) is not str:
                        return False
                children = node.values()
            elif kind is list:
                children = node
            elif kind is float:
                if not _fixed(node):
                    return False
                continue
            elif kind in _SAME_SCALARS:
                continue
            else:
                return False  # a tuple, a subclass, anything json.dumps writes through ``default``
            if depth >= _MAX_WALK_DEPTH:
                return False
            for value in children:
                if type(value) in _SAME_SCALARS:
                    continue
                if type(value) is float:
                    if not _fixed(value):
                        return False
                else:
                    deeper.append(value)
        level, depth = deeper, depth + 1
    return True


def _fixed(number: float) -> bool:
    """Whether ``repr`` writes ``number`` without an exponent, as msgspec does: 0, or a magnitude in ``_FIXED_FLOATS``
    (NaN and the infinities compare false)."""
    return number == 0 or _FIXED_FLOATS[0] <= abs(number) < _FIXED_FLOATS[1]


def content_id(record_id: str, digest: bytes | None) -> str:
    """``<record_id>:<the first CONTENT_ID_HEX hex digits of digest>``, e.g. ``web:portal-web:m-1:b119d09e``: the
    business id (a handoff's, an offer presentation's) of a record whose source id a sender chose and may reuse for
    another record (a Segment ``messageId``, a counter event's ``event_id``). A re-send (same ``content_digest``) keeps
    it; another record under the reused source id gets its own, whichever adapter replica maps it (F1's kind: one id
    for two service requests made the handoff tracker refuse the second). ``digest`` None: ``record_id`` as it is.
    Two contents under one source id share a suffix with a chance of 2**-32; the per-process ``id_conflict`` refusal
    keeps their number to a few."""
    return f"{record_id}:{digest.hex()[:CONTENT_ID_HEX]}" if digest is not None else record_id
