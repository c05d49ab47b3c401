"""Consumer lag before judging (tester29 F11): the unread records per topic, from committed and end offsets."""

from __future__ import annotations

from aiokafka import TopicPartition

from processors.verify.lag import Reader, Unread, unread_of

READER = Reader("identity", "omnibus.identity", ("omnibus.identity.observed.v1", "omnibus.identity.graph.v1"))


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def test_records_past_the_committed_offset_are_unread_per_topic() -> None:
    observed, graph = READER.topics
    ends = {tp(observed, 0): 5000, tp(observed, 1): 5000, tp(graph, 0): 7}
    committed = {tp(observed, 0): 1, tp(observed, 1): 5000, tp(graph, 0): 7}
    assert unread_of(READER, committed, {}, ends) == [Unread("identity", "omnibus.identity", observed, 4999)]


def test_a_partition_the_group_never_committed_counts_from_its_log_start() -> None:
    observed, graph = READER.topics
    ends = {tp(observed, 0): 30, tp(graph, 0): 4}
    starts = {tp(observed, 0): 10, tp(graph, 0): 0}
    assert unread_of(READER, {}, starts, ends) == [Unread("identity", "omnibus.identity", observed, 20),
                                                   Unread("identity", "omnibus.identity", graph, 4)]


def test_a_caught_up_group_has_nothing_unread() -> None:
    observed, _ = READER.topics
    assert unread_of(READER, {tp(observed, 0): 9}, {tp(observed, 0): 0}, {tp(observed, 0): 9}) == []


def test_the_line_names_processor_count_topic_and_what_to_do_never_a_loss() -> None:
    line = Unread("identity", "omnibus.identity", "omnibus.identity.observed.v1", 9999).line()
    assert line.startswith("identity has 9999 records not read yet on omnibus.identity.observed.v1")
    assert "run again when its consumer lag is 0" in line and "--wait" in line and "lost" not in line
