"""Contact records as the contacts table stores them (``split_contacts.py``): a one-byte format mark, then a zstd frame.

A ``ContactRecord`` (the event's id, instant, channel, identifier keys and its whole input record) is one entry of the
``identity-contacts`` table per contact a customer keeps: the largest part of identity's state (#9 memory). Its msgpack
array repeats what every record holds (the topic and schema names, the channel, the identifier types) and, inside
the input record, the event id and the identifier values it also keeps apart. ``encode_contact`` writes the current
format (``CONTACT_ZSTD_V1``: the array compressed with a preset dictionary of those words, V3's zstd frame of
``profile_codec``); ``decode_contact`` reads it and the plain msgpack array the table held before.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.profile_codec import zstd_codec

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(ContactRecord)

# The mark of a compressed record. A plain record is a msgpack array (0x90-0x9F, 0xDC, 0xDD), never 0x01.
CONTACT_ZSTD_V1 = 0x01
# V1's raw content dictionary: the words every record repeats (channels, identifier key prefixes, the contact topic's
# suffix and the contact schemas: ``bus.topics.CONTACT_EVENTS``), the likeliest last (zstd reaches the end of a
# dictionary cheapest). ~390 -> ~276 bytes for a one-contact record of ``tests.bench.identity_memory``. Frozen (a test
# pins its hash): stored records need these bytes; a better dictionary gets a new mark, and this one stays readable.
_CONTACT_ZDICT_V1 = b"".join(_ENCODER.encode(word) for word in (
    "WEB", "CALL_CENTER", "BRANCH", "BUSINESS_SYSTEM", "BACK_OFFICE",
    "PHONE:", "EMAIL:", "NATIONAL_ID:", "ACCOUNT:", "CARD:", "DEVICE:", "ANONYMOUS_ID:", "USER_ID:", "CUSTOMER_NUMBER:",
    "contact.events.v1", "omnibus.contact.CallCompleted", "omnibus.contact.CounterTransaction",
    "omnibus.contact.InteractionRecorded", "omnibus.contact.QueueTicketChanged",
))
# zstd's fast level -1: ~33,500 instructions a record of the memory bench instead of ~68,000 at level 3 (cachegrind,
# 1,000 compressions), ~276 bytes instead of ~262; the frame and its reading are the same at every level.
CONTACT_LEVEL = -1
_COMPRESSOR, _DECOMPRESSOR = zstd_codec(_CONTACT_ZDICT_V1, CONTACT_LEVEL)
_MARK = bytes((CONTACT_ZSTD_V1,))


def encode_contact(record: ContactRecord) -> bytes:
    """``record`` as the contacts table keeps it: ``CONTACT_ZSTD_V1`` and its msgpack array compressed."""
    return _MARK + _COMPRESSOR.compress(_ENCODER.encode(record))


def decode_contact(data: bytes) -> ContactRecord:
    """The record in ``data``: the compressed form (``CONTACT_ZSTD_V1``) or the plain msgpack array written before it.

    Raises ``msgspec.DecodeError`` or ``zstandard.ZstdError`` if it is neither.
    """
    if data[:1] == _MARK:
        data = _DECOMPRESSOR.decompress(data[1:])
    return _DECODER.decode(data)
