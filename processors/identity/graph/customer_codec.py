"""Customer node states as the node table stores them: a one-byte format mark, then a zstd frame of the plain form.

A customer's plain state (``state.encode_state``: the msgpack array ``["c", field, ...]``) is the second largest part
of identity's memory (#9 point 5): ~309 bytes a customer of ``tests.bench.identity_memory`` (its members' keys and
ranks, which its ``unweighed`` events repeat, an event id, six-byte hashes and a run of one-byte defaults). Inside one
state zstd finds the repeated keys and ranks; a preset dictionary gives it what every state repeats: the array's
head, the run of defaults, the identifier-type prefixes and the channels. ``compress_customer`` writes the current
format (``CUSTOMER_ZSTD_V1``); ``plain_customer`` gives back the plain form, which ``state.decode_state`` reads, and
returns any other value as it is (states written before the mark, identifiers, blocking nodes).
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


def compress_customer(plain: bytes) -> bytes:
    """A customer state's plain form (``["c", field, ...]``, msgpack) as the node table keeps it: ``CUSTOMER_ZSTD_V1``
    and the zstd frame."""
    return _MARK + _COMPRESSOR.compress(plain)


def plain_customer(data: bytes) -> bytes:
    """The plain form of a stored node state: a compressed customer state (``CUSTOMER_ZSTD_V1``) decompressed, any
    other value as it is.

    Raises ``msgspec.DecodeError`` if a marked value is not a zstd frame of this format."""
    if data[:1] != _MARK:
        return data
    try:
        return _DECOMPRESSOR.decompress(data[1:])
    except zstandard.ZstdError as error:  # a mark on something else
        raise msgspec.DecodeError("a compressed customer state that is not a zstd frame") from error
