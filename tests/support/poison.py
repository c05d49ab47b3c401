"""Poison records the normal clients refuse to write: header keys that are not UTF-8 (#13 case 5)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy


class RawKey(str):
    """A header key that encodes to arbitrary bytes (aiokafka's pure-Python builder calls ``encode``)."""

    raw: bytes

    def __new__(cls, raw: bytes) -> RawKey:
        key = super().__new__(cls, "k" * len(raw))
        key.raw = raw
        return key

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:  # type: ignore[override]
        return self.raw


def batch_bytes(records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]) -> bytes:
    """A v2 record batch (uncompressed) of ``(key, value, headers)``, offsets from 0."""
    builder = _DefaultRecordBatchBuilderPy(2, 0, is_transactional=0, producer_id=-1, producer_epoch=-1,
                                           base_sequence=0, batch_size=16 * 1024 * 1024)
    for offset, (key, value, headers) in enumerate(records):
        builder.append(offset, None, key=key, value=value, headers=headers)
    return bytes(builder.build())


async def send_with_header_key(bootstrap_servers: str, topic: str, partition: int, key: bytes | None, value: bytes,
                               header_key: bytes) -> int:
    """Write one record whose only header key is ``header_key``, byte for byte; its offset, once acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        batch = producer.create_batch()
        batch._builder = _DefaultRecordBatchBuilderPy(  # noqa: SLF001 - the C builder encodes keys itself
            2, 0, is_transactional=0, producer_id=-1, producer_epoch=-1, base_sequence=0, batch_size=16 * 1024 * 1024)
        batch.append(timestamp=None, key=key, value=value, headers=[(RawKey(header_key), b"v")])
        return (await (await producer.send_batch(batch, topic, partition=partition))).offset
    finally:
        await producer.stop()
