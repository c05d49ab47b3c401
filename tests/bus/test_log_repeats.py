"""bus/log_repeats.py: repeated library lines fold into one line with a count (numbers in them aside, at INFO and
above), and the limiter never raises nor loses a count, whatever the threads that log."""

from __future__ import annotations

import logging
import threading

import pytest

from bus.log_repeats import RepeatLimiter


def _outage_record(template: str) -> logging.LogRecord:
    logger = logging.getLogger("aiokafka.producer.sender")
    return logger.makeRecord(logger.name, logging.WARNING, __file__, 1, template, (1,), None)


def test_expired_counts_written_by_two_callers_at_once_are_written_once_and_never_raise() -> None:
    """#13 broker fault, struck early: two threads wrote out the same expired count (``del`` of a key the other had
    taken) and the ``KeyError`` left the filter at aiokafka's log call, ending its producer sender task. Here the
    second caller comes in while the first writes (the same interleaving, in one thread)."""
    now = [0.0]
    written: list[logging.LogRecord] = []
    limiter = RepeatLimiter(window_s=10.0, clock=lambda: now[0])

    def emit(record: logging.LogRecord) -> None:
        written.append(record)
        limiter.filter(_outage_record("Connected to %s"))  # another thread's record, in the middle of the write

    limiter._emit = emit  # noqa: SLF001 - the handler's emit, as configure_logging passes it
    for template in ("Got error produce response: %s", "Unable connect to node with id %s"):
        for _ in range(3):
            limiter.filter(_outage_record(template))
    now[0] = 60.0
    assert limiter.filter(_outage_record("Unable to update metadata from %s"))
    assert sorted(getattr(record, "repeated", 0) for record in written) == [2, 2]


def test_a_failing_filter_lets_the_record_through() -> None:
    def broken_clock() -> float:
        raise RuntimeError("clock")

    assert RepeatLimiter(clock=broken_clock).filter(_outage_record("Got error produce response: %s"))


def test_threads_logging_the_same_outage_lose_no_count() -> None:
    ticks = iter(range(10**9))
    written: list[logging.LogRecord] = []
    limiter = RepeatLimiter(window_s=5.0, clock=lambda: float(next(ticks)), emit=written.append)
    kept: list[logging.LogRecord] = []

    def log_many() -> None:
        for _ in range(2000):
            record = _outage_record("Got error produce response: %s")
            if limiter.filter(record):
                kept.append(record)

    threads = [threading.Thread(target=log_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limiter.flush(written.append)
    assert len(kept) + sum(getattr(record, "repeated", 0) for record in written + kept) == 8000


def test_library_lines_that_differ_only_in_numbers_fold_and_the_folded_line_keeps_the_last_number() -> None:
    """tester17 N3: faust's ``producer buffer full size N`` (an f-string: a new text each time) was never folded,
    844 lines in 12 min; lines that differ in words are still apart."""
    now = [0.0]
    written: list[logging.LogRecord] = []
    limiter = RepeatLimiter(window_s=30.0, clock=lambda: now[0], emit=written.append)
    logger = logging.getLogger("faust.transport.producer")

    def record(message: str) -> logging.LogRecord:
        return logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, (), None)

    sizes = [104, 98, 2001, 7]
    let_through = [limiter.filter(record(f"producer buffer full size {size}")) for size in sizes]
    assert let_through == [True, False, False, False]
    assert limiter.filter(record("producer buffer full 104"))  # other words: a message of its own
    assert limiter.filter(record("producer buffer drained"))
    now[0] = 31.0
    limiter.filter(record("anything"))
    (folded,) = written
    assert folded.getMessage() == "producer buffer full size 7" and folded.repeated == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(("logger", "template"), [
    ("aiokafka.consumer.group_coordinator", "OffsetCommit failed for group %s because group is initializing (%s), "
                                            "will retry"),
    ("aiokafka.consumer.fetcher", "Fetch offset %s is out of range for partition %s, resetting offset"),
    ("faust.transport.consumer", "[^--Consumer]: Seek stream partitions to committed offsets."),
    ("mode.services", "[^Worker]: Restarting %r"),
])
def test_every_library_line_at_info_folds_not_only_warnings(logger: str, template: str) -> None:
    """The kind of tester28 F15: any library INFO line a fault repeats, whatever the library."""
    written: list[logging.LogRecord] = []
    limiter = RepeatLimiter(window_s=30.0, clock=lambda: 0.0, emit=written.append)
    source = logging.getLogger(logger)
    records = [source.makeRecord(source.name, logging.INFO, __file__, 1, template, ("x",) * template.count("%"),
                                 None) for _ in range(50)]
    assert [limiter.filter(record) for record in records].count(True) == 1
    limiter.flush(written.append)
    assert [getattr(record, "repeated", None) for record in written] == [49]
