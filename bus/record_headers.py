"""Records whose header keys are not UTF-8 reach the processors instead of killing the consumer.

Kafka's protocol calls a header key a String, and aiokafka decodes it strictly while it unpacks a
fetched batch (``DefaultRecord`` in its C extension and in ``aiokafka.record.default_records``). One
record with the key bytes ``FF FE`` made that raise ``UnicodeDecodeError`` inside the fetcher: the
worker exited, and on every restart fetched the same batch again (#13 case 5, a crash loop). Kafka's
Java client does the same (``new String(bytes, UTF_8)`` replaces instead of raising), so the record is
valid on the wire.

``install()`` swaps the fetcher's ``MemoryRecords`` for one whose batches fall back, only when the fast
parser raises ``UnicodeDecodeError``, to aiokafka's pure-Python parser reading header keys with
``surrogateescape``: the key then round-trips to its original bytes (``header_key_bytes``), and
``bus.consume.RecordDecoder`` dead-letters the record with them. The fast path is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsIndex

import aiokafka.consumer.fetcher as fetcher
from aiokafka.record.default_records import DefaultRecordBatch, _DefaultRecordBatchPy
from aiokafka.record.memory_records import _MemoryRecordsPy

HEADER_KEY_ERRORS = "surrogateescape"  # undecodable bytes become U+DC80..U+DCFF, reversible


def header_key_bytes(key: str) -> bytes:
    """The bytes a header key arrived as (also for keys decoded with ``surrogateescape``)."""
    return key.encode("utf-8", HEADER_KEY_ERRORS)


def is_utf8(key: str) -> bool:
    """False for a header key that arrived as bytes that are not UTF-8."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _LenientSlice(bytearray):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:  # type: ignore[override]
        return bytearray.decode(self, encoding, HEADER_KEY_ERRORS)


class _LenientBuffer(bytearray):
    """A record buffer whose slices decode leniently: ``_read_msg`` decodes a header key from a slice."""

    def __getitem__(self, index: SupportsIndex | slice) -> Any:  # type: ignore[override]
        item = bytearray.__getitem__(self, index)
        return _LenientSlice(item) if isinstance(index, slice) else item


class _LenientBatchPy(_DefaultRecordBatchPy):
    def __init__(self, buffer: Any) -> None:
        super().__init__(buffer)
        self._buffer = _LenientBuffer(self._buffer)

    def _maybe_uncompress(self) -> None:
        super()._maybe_uncompress()
        if not isinstance(self._buffer, _LenientBuffer):
            self._buffer = _LenientBuffer(self._buffer)


class _FallbackBatch:
    """A v2 batch read by the fast parser, and by the lenient one if a header key is not UTF-8."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._batch = DefaultRecordBatch(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def __next__(self) -> Any:  # control batches (abort markers) are read one record at a time
        return next(self._batch)

    def __iter__(self) -> Iterator[Any]:
        try:
            records = list(self._batch)
        except UnicodeDecodeError:
            records = list(_LenientBatchPy(self._data))
        return iter(records)


class LenientMemoryRecords(_MemoryRecordsPy):
    """aiokafka's ``MemoryRecords`` (pure-Python batch splitting), handing out ``_FallbackBatch``es."""

    def next_batch(self, *args: Any, **kwargs: Any) -> Any:
        next_slice = self._next_slice
        if next_slice is None or len(next_slice) < self.MIN_SLICE or next_slice[self.MAGIC_OFFSET] < 2:
            return super().next_batch(*args, **kwargs)  # end, a short slice (raises) or a legacy batch
        self._cache_next()
        return _FallbackBatch(next_slice)


def install() -> None:
    """Make every aiokafka consumer of this process (faust's included) tolerate non-UTF-8 header keys."""
    fetcher.MemoryRecords = LenientMemoryRecords  # type: ignore[misc]
