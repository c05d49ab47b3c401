"""The two framings Omnibus writes a value in, and whether a value is in either.

Confluent (with a registry): magic byte 0, a 4-byte big-endian schema id, then the Avro body. Single-object (the Avro
specification's encoding, registry-free): ``C3 01``, the 8-byte CRC-64-AVRO fingerprint of the writer schema, then
the body. A reader told the wrong registry mode reads the other framing: the registry hint of ``bus.undecodable``
fits it. A value in neither framing is a poison record of a producer outside Omnibus, whatever the settings.
"""

from __future__ import annotations

import struct

from schemas.catalog import SchemaCatalog
from schemas.errors import SchemaNotFound

CONFLUENT_MAGIC = 0
CONFLUENT_HEADER = struct.Struct(">bI")
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
SINGLE_OBJECT_HEADER_SIZE = len(SINGLE_OBJECT_MAGIC) + 8


def confluent_framed(data: bytes) -> bool:
    """``data`` starts with the Confluent header (the schema id is not checked: only a registry knows it)."""
    return len(data) >= CONFLUENT_HEADER.size and data[0] == CONFLUENT_MAGIC


def single_object_framed(data: bytes) -> bool:
    """``data`` starts with the single-object marker and has room for a fingerprint."""
    return len(data) >= SINGLE_OBJECT_HEADER_SIZE and data[:len(SINGLE_OBJECT_MAGIC)] == SINGLE_OBJECT_MAGIC


def catalog_single_object(data: bytes, catalog: SchemaCatalog) -> bool:
    """``data`` is single-object framed with the fingerprint of a schema of ``catalog``: written by a registry-free
    Omnibus (the marker and 8 arbitrary bytes alone would not say so: a poison record was ``C3 01``, 8 times
    ``11``, then ``body``)."""
    if not single_object_framed(data):
        return False
    try:
        catalog.by_fingerprint(data[len(SINGLE_OBJECT_MAGIC):SINGLE_OBJECT_HEADER_SIZE])
    except SchemaNotFound:
        return False
    return True
