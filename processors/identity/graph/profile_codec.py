"""Profiles as the tables store them: a one-byte format mark, then a compressed msgpack map.

A profile is ``{section name: section state}`` (``processors.profile.book``), JSON-compatible values; the identity
graph keeps one per customer and moves parts of it with a merge, a split or a moved contact. ``encode_profile``
writes the current format (``PROFILE_ZSTD_V4``); ``decode_profile`` reads every format ever written (V1, V2
deflated, V3 and V4 zstd) and plain msgpack.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import msgspec
import zstandard

from processors.profile.book import ProfileState
from processors.profile.sections.recent_contacts import RecentContactsSection

_ENCODER = msgspec.msgpack.Encoder()


# Profiles were stored deflated (V1, V2: raw deflate, zlib level 1; V3 below replaced it) with a preset dictionary
# of the strings every profile repeats (section, channel and field names), behind a one-byte format mark: ~185 ->
# ~104 bytes for a one-contact profile, for ~15 µs to deflate and ~3 µs to inflate (tests/bench/identity_memory.py). The
# dictionary of a mark never changes (stored profiles need it to inflate); a better one gets a new mark, and
# the old mark stays readable.
PROFILE_DEFLATE_V1 = 0x01
PROFILE_WINDOW_BITS = 10  # a 1 KiB window (and a small hash table): a few KiB of zlib state to set up, not 256
_PROFILE_ZDICT_V1 = b"".join(_ENCODER.encode(word) for word in (
    "recent_contacts", "products", "CALL_CENTER", "WEB", "BRANCH", "BACK_OFFICE", "BUSINESS_SYSTEM", "id", "at",
    "site", "kind", "name", "outcome", "agent_id", "duration_ms", "abandoned", "queue", "CALL", "RESOLVED",
    "COUNTER_TRANSACTION", "product_code", "product_name", "subscription_id", "account_number", "status", "since",
    "ACTIVE", "CANCELLED",
))


# V2 (same dictionary): a recent contact's id that is a UUID, as 32 lowercase hex digits or in the dashed
# lowercase form, is stored as its 16 bytes (msgpack ext type ``_HEX_ID`` / ``_DASHED_ID``): hex digits hardly
# deflate, so this is 15 bytes less per contact (~105 -> ~90 bytes for a one-contact profile).
PROFILE_DEFLATE_V2 = 0x02
_HEX_ID, _DASHED_ID = 1, 2
_HEX_UUID = re.compile(r"[0-9a-f]{32}")
_DASHED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# V3 (ids packed as in V2): a zstd frame (level 3, with the content size, no checksum or dictionary id, and without
# its 4-byte magic number, which the mark stands for: any zstd reads it with the magic put back) with a raw content
# dictionary: V1's words, then a recent contact's entry of each kind in the order the section writes its keys
# (``recent_contacts._entry``). #9: deflate cost ~15 µs to write a 560-byte profile (most of it zlib building Huffman
# trees for a few hundred bytes) and ~3.5 µs to read it; zstd ~5 and ~1. Values: ~10 % smaller than V2 for a profile
# of a few contacts, ~6 bytes larger for a one-contact one (the frame's header; tests/bench/identity_profile_codec.py).
# The dictionary is frozen like V1's (its hash is pinned by a test): what the section writes may change later, the
# stored profiles still need these bytes.
PROFILE_ZSTD_V3 = 0x03
_SOME_MICROS = 1_750_000_000_000_000  # a time in µs as the entries keep it (8 bytes: the leading ones match)
_PROFILE_ENTRY_TEMPLATES = (
    {"id": None, "at": _SOME_MICROS, "site": None, "kind": None, "name": None, "outcome": None, "agent_id": None,
     "duration_ms": None, "disposition": None},
    {"id": None, "at": _SOME_MICROS, "site": None, "kind": "CALL", "name": None, "agent_id": None, "duration_ms": None,
     "abandoned": False, "queue": None, "disposition": None},
    {"id": None, "at": _SOME_MICROS, "site": None, "kind": "COUNTER_TRANSACTION", "name": None, "outcome": None,
     "agent_id": None},
)
_PROFILE_ZDICT_V3 = _PROFILE_ZDICT_V1 + b"".join(_ENCODER.encode(entry) for entry in _PROFILE_ENTRY_TEMPLATES)


def zstd_codec(dictionary: bytes, level: int = 3) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    """The compressor and decompressor of V3's frame format with the raw content ``dictionary``: zstd at ``level``
    (any level writes a frame the decompressor reads), the content size written, no checksum, no dictionary id, no
    magic number (a one-byte mark stands for it). One context each, set up once with the digested dictionary and
    reused: not for concurrent use (every caller is a worker's event loop). Also the contacts table's format
    (``contact_codec.CONTACT_ZSTD_V1``)."""
    digested = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    params = zstandard.ZstdCompressionParameters.from_level(
        level, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_content_size=1, write_checksum=0, write_dict_id=0)
    return (zstandard.ZstdCompressor(dict_data=digested, compression_params=params),
            zstandard.ZstdDecompressor(dict_data=digested, format=zstandard.FORMAT_ZSTD1_MAGICLESS))


_V3_DECOMPRESSOR = zstd_codec(_PROFILE_ZDICT_V3)[1]

# V4 (ids packed as in V2, V3's frame format and level): V3's dictionary followed by a whole one-contact profile of
# each channel as the section writes it (``{"recent_contacts": {channel: [entry]}}``, the entry's keys in the
# section's order with its ``version``, the id a zeroed packed UUID, the values that vary left None), the likeliest
# last: zstd then matches a profile's head and its entries' keys as one run. ~118 -> ~86 bytes a one-contact
# profile of tests/bench/identity_memory.py (a 124-byte object instead of 156: #9 point 5). Frozen like V3's.
PROFILE_ZSTD_V4 = 0x04
_ZEROED_ID = msgspec.msgpack.Ext(_HEX_ID, bytes(16))
_VERSION_TEMPLATE = [_SOME_MICROS, 0]  # recent_contacts._mark: when its event was received (µs), a crc32
_PROFILE_TEMPLATES_V4 = (
    ("BRANCH", {"id": _ZEROED_ID, "at": _SOME_MICROS, "site": None, "kind": "COUNTER_TRANSACTION", "name": None,
                "outcome": None, "agent_id": None, "version": _VERSION_TEMPLATE}),
    ("CALL_CENTER", {"id": _ZEROED_ID, "at": _SOME_MICROS, "site": None, "kind": "CALL", "name": None,
                     "agent_id": None, "duration_ms": None, "abandoned": False, "queue": None, "disposition": None,
                     "version": _VERSION_TEMPLATE}),
    ("CALL_CENTER", {"id": _ZEROED_ID, "at": _SOME_MICROS, "site": None, "kind": "CALL", "name": None,
                     "outcome": "RESOLVED", "agent_id": None, "duration_ms": None, "disposition": None,
                     "version": _VERSION_TEMPLATE}),
)
_PROFILE_ZDICT_V4 = _PROFILE_ZDICT_V3 + b"".join(
    _ENCODER.encode({RecentContactsSection.name: {channel: [entry]}}) for channel, entry in _PROFILE_TEMPLATES_V4)
_ZSTD_COMPRESSOR, _ZSTD_DECOMPRESSOR = zstd_codec(_PROFILE_ZDICT_V4)

# Ids unpacked or packed lately, id -> its packed form: a profile is read, changed and written back within a batch,
# and re-packing each kept id cost ~1.5 µs (#9); emptied when full (a batch's ids fit).
_PACKED_IDS: dict[str, msgspec.msgpack.Ext] = {}
PACKED_IDS_KEPT = 16_384


_UUID_LENGTHS = (32, 36)  # hex and dashed: no regex, no look-up for an id of another length


def _packed_id(contact_id: Any) -> Any:
    if not isinstance(contact_id, str) or len(contact_id) not in _UUID_LENGTHS:
        return contact_id
    packed = _PACKED_IDS.get(contact_id)
    if packed is not None:
        return packed
    if _HEX_UUID.fullmatch(contact_id):
        packed = msgspec.msgpack.Ext(_HEX_ID, bytes.fromhex(contact_id))
    elif _DASHED_UUID.fullmatch(contact_id):
        packed = msgspec.msgpack.Ext(_DASHED_ID, bytes.fromhex(contact_id.replace("-", "")))
    else:
        return contact_id
    _remember(contact_id, packed)
    return packed


def _remember(contact_id: str, packed: msgspec.msgpack.Ext) -> None:
    if len(_PACKED_IDS) >= PACKED_IDS_KEPT:
        _PACKED_IDS.clear()
    _PACKED_IDS[contact_id] = packed


def _with_packed_ids(profile: ProfileState) -> ProfileState:
    """``profile`` with its recent contacts' UUID ids as ``Ext`` values: copies of what changes only, ``profile``
    itself when no id packs (#9: no new lists and maps at each save of a profile whose ids are not UUIDs)."""
    contacts = profile.get(RecentContactsSection.name)
    if not isinstance(contacts, dict):
        return profile
    packed: dict[str, Any] | None = None
    for channel, entries in contacts.items():
        if isinstance(entries, list) and (channel_packed := _channel_with_packed_ids(entries)) is not None:
            if packed is None:
                packed = dict(contacts)  # the channels in their order: the same bytes as a map built anew
            packed[channel] = channel_packed
    return profile if packed is None else {**profile, RecentContactsSection.name: packed}


def _channel_with_packed_ids(entries: list[Any]) -> list[Any] | None:
    """A copy of a channel's ``entries`` with each UUID id packed, or None when none packs (an entry whose id is not a
    UUID is itself, #9). One loop, without a call for an id of another length than a UUID's or packed before (in
    ``_PACKED_IDS``): a profile is saved with all its kept contacts, ~8 an event (#9)."""
    found: list[Any] | None = None
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and "id" in entry:
            contact_id = entry["id"]
            if isinstance(contact_id, str) and len(contact_id) in _UUID_LENGTHS:
                packed = _PACKED_IDS.get(contact_id)
                if packed is None:
                    packed = _packed_id(contact_id)
                if packed is not contact_id:
                    if found is None:
                        found = list(entries)
                    found[index] = {**entry, "id": packed}
    return found


def _unpacked_id(code: int, data: memoryview) -> str:
    if code == _HEX_ID and len(data) == 16:
        contact_id = data.hex()
    elif code == _DASHED_ID and len(data) == 16:  # str(uuid.UUID(bytes=...)), in a third of the time
        digits = data.hex()
        contact_id = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
    else:
        raise msgspec.DecodeError(f"unknown packed id (ext type {code}, {len(data)} bytes)")
    _remember(contact_id, msgspec.msgpack.Ext(code, bytes(data)))  # the profile's next save packs it again
    return contact_id


_PROFILE_DECODER = msgspec.msgpack.Decoder(dict[str, Any], ext_hook=_unpacked_id)
_DEFLATED = (bytes((PROFILE_DEFLATE_V1,)), bytes((PROFILE_DEFLATE_V2,)))
_V3_MARK = bytes((PROFILE_ZSTD_V3,))
_ZSTD_MARK = bytes((PROFILE_ZSTD_V4,))


def encode_profile(profile: ProfileState) -> bytes:
    """A profile (``{section name: section state}``, JSON-compatible values): mark + compressed msgpack map
    (``PROFILE_ZSTD_V4``: recent contacts' UUID ids as 16 bytes, zstd with a preset dictionary)."""
    return _ZSTD_MARK + _ZSTD_COMPRESSOR.compress(_ENCODER.encode(_with_packed_ids(profile)))


def decode_profile(data: bytes) -> ProfileState:
    """The profile in ``data`` (compressed with a known mark: V4/V3 zstd, V1/V2 deflate; or a plain msgpack map).

    Raises ``msgspec.DecodeError``, ``zstandard.ZstdError`` or ``zlib.error`` if it is none of them.
    """
    mark = data[:1]
    if mark == _ZSTD_MARK:
        data = _ZSTD_DECOMPRESSOR.decompress(data[1:])
    elif mark == _V3_MARK:
        data = _V3_DECOMPRESSOR.decompress(data[1:])
    elif mark in _DEFLATED:
        inflate = zlib.decompressobj(-PROFILE_WINDOW_BITS, _PROFILE_ZDICT_V1)
        data = inflate.decompress(data[1:]) + inflate.flush()
    return _PROFILE_DECODER.decode(data)
