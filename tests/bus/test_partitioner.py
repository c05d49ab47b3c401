"""The cached partitioner partitions exactly as Kafka's Java client (and aiokafka's default) does."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.partitioner import CachedMurmur2Partitioner, key_hash

# org.apache.kafka.common.utils.UtilsTest#testMurmur2: Utils.murmur2 of these bytes (signed 32-bit).
JAVA_MURMUR2 = {
    b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829, b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}
# The Java DefaultPartitioner's partition of these keys among 1000 partitions (kafka-python's
# Java-compatibility vectors, test_partitioner.py).
JAVA_PARTITIONS_OF_1000 = {b"": 681, b"a": 524, b"ab": 434, b"abc": 107, b"123456789": 566, b"\x00 ": 742}


@pytest.mark.parametrize(("key", "java"), JAVA_MURMUR2.items())
def test_the_hash_is_the_java_clients(key: bytes, java: int) -> None:
    assert key_hash(key) == java & 0x7FFFFFFF  # Utils.toPositive
    assert key_hash(key) == java & 0x7FFFFFFF  # and again from the cache


@pytest.mark.parametrize(("key", "partition"), JAVA_PARTITIONS_OF_1000.items())
def test_the_partition_is_the_java_clients(key: bytes, partition: int) -> None:
    assert CachedMurmur2Partitioner()(key, list(range(1000)), list(range(1000))) == partition


@given(st.binary(max_size=64), st.integers(1, 64))
@settings(max_examples=300, deadline=None)
def test_the_partition_is_aiokafkas_default(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert CachedMurmur2Partitioner()(key, every, every) == DefaultPartitioner()(key, every, every)


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert CachedMurmur2Partitioner()(None, [0, 1, 2], [2]) == 2
