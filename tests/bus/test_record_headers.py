from __future__ import annotations

from bus.record_headers import LenientMemoryRecords, header_key_bytes, is_utf8
from tests.support.poison import RawKey, batch_bytes


def _records(data: bytes) -> list:
    records, found = LenientMemoryRecords(data), []
    while records.has_next():
        found.extend(records.next_batch())
    return found


def test_a_header_key_that_is_not_utf8_is_read_and_keeps_its_bytes() -> None:
    """#13 case 5: aiokafka raised UnicodeDecodeError in the fetcher on the key bytes FF FE."""
    data = batch_bytes([(b"a", b"first", [("ok", b"1")]), (b"b", b"poison", [(RawKey(b"\xff\xfe"), b"2")]),
                        (b"c", b"third", [])])
    first, poison, third = _records(data)
    assert [first.value, poison.value, third.value] == [b"first", b"poison", b"third"]
    (key, value), = poison.headers
    assert header_key_bytes(key) == b"\xff\xfe" and value == b"2" and not is_utf8(key)
    assert first.headers == [("ok", b"1")] and is_utf8("ok") and poison.offset == 1


def test_ordinary_batches_take_the_fast_parser() -> None:
    data = batch_bytes([(b"a", b"v", [("trace", b"x")])])
    records = LenientMemoryRecords(data)
    batch = records.next_batch()
    assert type(batch._batch).__module__.startswith("aiokafka.record._crecords")  # noqa: SLF001
    assert [r.value for r in batch] == [b"v"]
