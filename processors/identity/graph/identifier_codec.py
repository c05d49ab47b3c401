"""Identifier node states owned by a customer, as the node table stores them: packed behind a one-byte mark.

An identifier node is the largest part of identity's memory (#9 point 5: ~159–180 B per identifier, a third of it its
value as a ``bytes`` object). Most hold only an owner, the assignment's version, one dedupe hash and their first rank
(``state.IdentifierState``); the plain form (``["i", owner, version, recent, first_rank]``, msgpack) takes 50 bytes.
Two packed forms, for an owner of ``saga.customer_id``'s form (``cus_`` + 24 lowercase hex digits), kept as 12 bytes:

* ``OWNED_IDENTIFIER_V1 + n`` (0xE0-0xFF, msgpack negative fixints): the owner, then the ``n`` fields after it, each
  msgpack-encoded (31 bytes for the usual state: a 64-byte ``bytes`` object). Written for every other shape.
* ``OWNED_IDENTIFIER_V2`` (0x01): exactly those four fields, as varints (LEB128): the owner, the version, the length and
  bytes of ``recent``, and the first rank as its zigzag difference to the owner's birth instant in rank units (the id
  begins with it, ``saga.customer_id``; a rank begins with its event's instant, ``limits.event_rank``): an
  identifier whose first event made its customer differs by its 10 hash bits only. 23 bytes for the usual state: a
  56-byte object, 8 bytes less per identifier. Any value encodes (a distant rank takes more bytes).
* ``OWNED_IDENTIFIER_V2_LATE`` (0x03) and ``OWNED_IDENTIFIER_V2_CLAIMED`` (0x05): V2 for a first rank in
  ``limits.LATE_BAND`` or ``limits.CLAIMED_BAND`` (``limits.key_rank``: a record's key another channel has better
  evidence for, an event's identifiers once it claims a record's key), its band named by the mark and taken off the
  rank before the difference: 23 bytes again instead of the band's 9 varint bytes more (31, a 64-byte object).

None of these marks begins a plain state (a msgpack array), a compressed customer (``customer_codec.CUSTOMER_ZSTD_V1``)
or a JSON one (``{``). ``pack_owned`` writes, ``owned_fields`` / ``plain_owned`` read.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

OWNED_IDENTIFIER_V1 = 0xE0
OWNED_IDENTIFIER_V2 = 0x01
OWNED_IDENTIFIER_V2_LATE = 0x03
OWNED_IDENTIFIER_V2_CLAIMED = 0x05
# each V2 mark -> the band its first rank is in (limits.LATE_BAND, limits.CLAIMED_BAND: checked by a test; limits
# imports the states, which import this module)
V2_BANDS = {OWNED_IDENTIFIER_V2: 0, OWNED_IDENTIFIER_V2_LATE: 1 << 62, OWNED_IDENTIFIER_V2_CLAIMED: 1 << 63}
_BANDS_MARK = {band >> 62: bytes((mark,)) for mark, band in V2_BANDS.items()}  # rank >> 62 -> its mark
_V1_MOST_FIELDS = 0xFF - OWNED_IDENTIFIER_V1  # the mark stays a negative fixint
_PACKABLE_OWNER = re.compile(r"cus_[0-9a-f]{24}")
_OWNER_BYTES = 12
_BIRTH_SHIFT = 4  # the id's first 13 hex digits are its birth instant (µs): its first 7 bytes less their last 4 bits
_RANK_SHIFT = 10  # limits.HASH_BITS: a rank is its event's instant shifted by the hash bits (checked by a test)
_IDENTIFIER_HEAD = b"\xa1i\xbc"  # the plain form's tag "i" and the header of a 28-character string
_ENCODER = msgspec.msgpack.Encoder()


def pack_owned(values: tuple[Any, ...]) -> bytes | None:
    """An identifier state's fields from ``owner`` on (``msgspec.structs.astuple``, trailing defaults left out) in a
    packed form: V2 for ``(owner, version, recent, first_rank)`` with ints and bytes (marked by the rank's band,
    ``V2_BANDS``), V1 for any other; None when the owner is not of ``saga.customer_id``'s form (the state stays
    plain)."""
    if not values or not isinstance(owner := values[0], str) or not _PACKABLE_OWNER.fullmatch(owner):
        return None
    owner_bytes = bytes.fromhex(owner[4:])
    if len(values) == 4:
        _, version, recent, first_rank = values
        if type(version) is int and version >= 0 and type(recent) is bytes and type(first_rank) is int:
            mark = _BANDS_MARK.get(first_rank >> 62, _BANDS_MARK[0])  # both bands, < 0 or >= 2**64: unbanded
            difference = first_rank - V2_BANDS[mark[0]] - (_birth(owner_bytes) << _RANK_SHIFT)
            zigzag = difference * 2 if difference >= 0 else -difference * 2 - 1
            return b"".join((mark, owner_bytes, _varint(version), _varint(len(recent)), recent, _varint(zigzag)))
    return b"".join((bytes((OWNED_IDENTIFIER_V1 + len(values) - 1,)), owner_bytes, *map(_ENCODER.encode, values[1:])))


def owned_fields(data: bytes) -> tuple[str, int, bytes, int] | None:
    """``(owner, version, recent, first_rank)`` of a V2 packed state (any of ``V2_BANDS``' marks); None for any other
    value.

    Raises ``msgspec.DecodeError`` if ``data`` is marked V2 but cut short or longer than its fields."""
    band = V2_BANDS.get(data[0]) if data else None
    if band is None:
        return None
    owner_bytes = data[1:1 + _OWNER_BYTES]
    if len(owner_bytes) < _OWNER_BYTES:
        raise msgspec.DecodeError("a packed identifier state cut short")
    version, at = _read_varint(data, 1 + _OWNER_BYTES)
    length, at = _read_varint(data, at)
    recent, at = data[at:at + length], at + length
    zigzag, at = _read_varint(data, at)
    if len(recent) != length or at != len(data):
        raise msgspec.DecodeError("a packed identifier state of the wrong length")
    difference = zigzag >> 1 if not zigzag & 1 else -((zigzag + 1) >> 1)
    return f"cus_{owner_bytes.hex()}", version, recent, band + (_birth(owner_bytes) << _RANK_SHIFT) + difference


def plain_owned(data: bytes) -> bytes:
    """The plain form (``["i", owner, field, ...]``, msgpack) of a V1 packed state; any other value as it is.

    Raises ``msgspec.DecodeError`` if a V1 state is cut short."""
    fields = data[0] - OWNED_IDENTIFIER_V1 if data else -1
    if not 0 <= fields <= _V1_MOST_FIELDS:
        return data
    if len(data) < 1 + _OWNER_BYTES + fields:
        raise msgspec.DecodeError("a packed identifier state cut short")
    owner = b"cus_" + data[1:1 + _OWNER_BYTES].hex().encode()
    return _array_header(fields + 2) + _IDENTIFIER_HEAD + owner + data[1 + _OWNER_BYTES:]


def _birth(owner_bytes: bytes) -> int:
    return int.from_bytes(owner_bytes[:7], "big") >> _BIRTH_SHIFT


_ONE_BYTE = [bytes((value,)) for value in range(0x80)]  # the varints of one byte (a version, a hash's length)


def _varint(value: int) -> bytes:
    """``value`` (>= 0) as LEB128: 7 bits a byte, the high bit set on all but the last."""
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The LEB128 value at ``at`` and the offset after it; ``msgspec.DecodeError`` past the end."""
    if at < len(data) and data[at] < 0x80:  # one byte: the usual version and length
        return data[at], at + 1
    value = shift = 0
    while True:
        if at >= len(data):
            raise msgspec.DecodeError("a packed identifier state cut short")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def _array_header(length: int) -> bytes:
    """The msgpack header of an array of ``length`` items: a fixarray up to 15, else an array 16 (tag and owner with
    14 fields or more)."""
    return bytes((0x90 + length,)) if length < 16 else b"\xdc" + length.to_bytes(2, "big")
