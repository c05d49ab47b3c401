"""Customer node states as the node table stores them: a one-byte format mark, then a zstd frame of the plain form.

A customer's plain state (``state.encode_state``: the msgpack array ``["c", field, ...]``) is the second largest part
of identity's memory (#9 point 5): ~309 bytes a customer of ``tests.bench.identity_memory`` (its members' keys and
ranks, which its ``unweighed`` events repeat, an event id, six-byte hashes and a run of one-byte defaults). Inside one
state zstd finds the repeated keys and ranks; a preset dictionary gives it what every state repeats: the array's
head, the run of defaults, the identifier-type prefixes and the channels. ``compress_customer`` writes the current
format (``CUSTOMER_ZSTD_V1``); ``plain_customer`` gives back the plain form, which ``state.decode_state`` reads, and
returns any other value as it is (states written before the mark, identifiers, blocking nodes).

A customer's profile (``profile_codec``, keyed by the same customer id) is kept inside its node value
(``CUSTOMER_WITH_PROFILE``, ``with_profile`` / ``profile_part``) rather than as a row of its own: the row's key, its
``bytes`` object and its dict entry were ~58 B per identifier of the memory bench (#9 point 5).
"""

from __future__ import annotations

import msgspec
import zstandard

from processors.identity.graph.profile_codec import zstd_codec

_ENCODER = msgspec.msgpack.Encoder()

# The mark of a compressed customer state: 0xC1, the one byte msgpack never uses. A plain state is a msgpack array
# (0x90-0x9F, 0xDC, 0xDD), a packed identifier 0xE0-0xFF (``state.OWNED_IDENTIFIER_V1``), a JSON one ``{``.
CUSTOMER_ZSTD_V1 = 0xC1
# V1's raw content dictionary. First the words states repeat (identifier-type prefixes, channels), then the plain
# form of a usual customer of the layout at this format (two members with their ranks, its birth, a channel's
# contact index, the six-byte hashes zeroed, one unweighed event with a zero UUID: 30 fields), the likeliest last
# (zstd reaches the end of a dictionary cheapest). Frozen (a test pins its hash): stored states need these bytes; a
# better dictionary gets a new mark, and this one stays readable. A layout with more fields only matches less of it.
_CUSTOMER_TEMPLATE_V1 = bytes.fromhex(
    "dc001ea163c382a650484f4e453a9201cf0006379da05b6000a6454d41494c3a9201cf0006379da05b6000cf0006379da05b6000c0c400c0"
    "c09000909090c4009090028080c40082ab43414c4c5f43454e544552c406000000000000a3574542c406000000000000c406000000000000"
    "80c4060000000000008090c40c00000000000000000000000090909195d92430303030303030302d303030302d303030302d303030302d30"
    "3030303030303030303030ab43414c4c5f43454e54455282a650484f4e453acf0006379da05b6000a6454d41494c3acf0006379da05b6000"
    "c090")
_CUSTOMER_ZDICT_V1 = b"".join(_ENCODER.encode(word) for word in (
    "WEB", "CALL_CENTER", "BRANCH", "BUSINESS_SYSTEM", "BACK_OFFICE",
    "NATIONAL_ID:", "ACCOUNT:", "CARD:", "DEVICE:", "ANONYMOUS_ID:", "USER_ID:", "CUSTOMER_NUMBER:", "PHONE:", "EMAIL:",
)) + _CUSTOMER_TEMPLATE_V1
# zstd's fast level -1, as the contact records (``contact_codec.CONTACT_LEVEL``): a customer is written at every event
# applied to it, so the compressor's CPU counts on the hot path.
CUSTOMER_LEVEL = -1
_COMPRESSOR, _DECOMPRESSOR = zstd_codec(_CUSTOMER_ZDICT_V1, CUSTOMER_LEVEL)
_MARK = bytes((CUSTOMER_ZSTD_V1,))


# A compressed customer state with its profile: the byte 0x02 (a msgpack positive fixint: no plain state, JSON state or
# packed identifier begins so, ``identifier_codec.V2_BANDS``' marks are 0x01, 0x03 and 0x05), the length of the
# customer's value as a LEB128 varint, that value (``CUSTOMER_ZSTD_V1``), then the profile as
# ``profile_codec.encode_profile`` wrote it (its own mark and frame). The two stay separate frames: an event that
# changes only one re-encodes only that one.
CUSTOMER_WITH_PROFILE = 0x02
_WITH_PROFILE_MARK = bytes((CUSTOMER_WITH_PROFILE,))
_LENGTH_BITS, _MORE = 7, 0x80


def with_profile(customer: bytes, profile: bytes) -> bytes:
    """The node value holding ``customer`` (a node value as ``state.encode_state`` writes a customer, or one this
    function wrote: its customer part is taken) and ``profile`` (``encode_profile``'s bytes, not empty)."""
    customer = customer_part(customer)
    length, head = len(customer), bytearray(_WITH_PROFILE_MARK)
    while length >= _MORE:
        head.append(length & (_MORE - 1) | _MORE)
        length >>= _LENGTH_BITS
    head.append(length)
    return b"".join((head, customer, profile))


def _parts(data: bytes) -> tuple[int, int]:
    """(where the customer's value begins, where it ends) in a ``CUSTOMER_WITH_PROFILE`` value.

    Raises ``msgspec.DecodeError`` if the length runs past the value."""
    length = shift = 0
    at = 1
    while True:
        if at >= len(data):
            raise msgspec.DecodeError("a customer with its profile cut short")
        byte = data[at]
        length |= (byte & (_MORE - 1)) << shift
        at += 1
        if not byte & _MORE:
            break
        shift += _LENGTH_BITS
    if at + length > len(data):
        raise msgspec.DecodeError("a customer with its profile cut short")
    return at, at + length


def customer_part(data: bytes) -> bytes:
    """The customer's own value in a node value: without its profile if it holds one, else ``data`` as it is."""
    if data[:1] != _WITH_PROFILE_MARK:
        return data
    begin, end = _parts(data)
    return data[begin:end]


def profile_part(data: bytes) -> bytes | None:
    """The profile's bytes (``profile_codec.decode_profile`` reads them) held in a node value, or None if ``data`` holds
    none (then the profile, if any, is a row of the profile table: values written before ``CUSTOMER_WITH_PROFILE``,
    and the profiles of keys without a compressed customer state)."""
    if data[:1] != _WITH_PROFILE_MARK:
        return None
    return data[_parts(data)[1]:]


def compress_customer(plain: bytes) -> bytes:
    """A customer state's plain form (``["c", field, ...]``, msgpack) as the node table keeps it: ``CUSTOMER_ZSTD_V1``
    and the zstd frame."""
    return _MARK + _COMPRESSOR.compress(plain)


def plain_customer(data: bytes) -> bytes:
    """The plain form of a stored node state: a compressed customer state (``CUSTOMER_ZSTD_V1``, alone or with its
    profile) decompressed, any other value as it is.

    Raises ``msgspec.DecodeError`` if a marked value is not a zstd frame of this format."""
    if data[:1] == _WITH_PROFILE_MARK:
        data = customer_part(data)
    if data[:1] != _MARK:
        return data
    try:
        return _DECOMPRESSOR.decompress(data[1:])
    except zstandard.ZstdError as error:  # a mark on something else
        raise msgspec.DecodeError("a compressed customer state that is not a zstd frame") from error
