import json

import pytest

from bus.dead_letter import MAX_KEPT_VALUE_BYTES, MAX_REASON_CHARS, dead_letter_event
from bus.errors import RawRecord
from bus.serde import SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from schemas.catalog import default_catalog

CTX = SerdeContext(topic="omnibus.deadletter.v1")


def test_dead_letter_keeps_the_original_bytes_and_coordinates() -> None:
    record = RawRecord(value=b"\x00\xff raw", key=b"key-1", headers=(("h", b"v"), ("empty", None)),
                       topic="omnibus.contact.events.v1", partition=2, offset=17)
    event = dead_letter_event(record, reason="bad", error_type="DeserializationError", component="processor.identity")
    catalog = default_catalog()
    decoded = SingleObjectDeserializer(catalog)(SingleObjectSerializer(catalog)(event, CTX), CTX).value
    assert decoded["value"] == b"\x00\xff raw" and decoded["key"] == b"key-1"
    assert decoded["headers"] == [{"key": "h", "value": b"v", "key_bytes": None},
                                  {"key": "empty", "value": None, "key_bytes": None}]
    assert (decoded["source_topic"], decoded["source_partition"], decoded["source_offset"]) == (
        "omnibus.contact.events.v1", 2, 17)
    assert decoded["source_component"] == "processor.identity" and decoded["error_type"] == "DeserializationError"


def test_overlong_reasons_are_cut() -> None:
    event = dead_letter_event(RawRecord(value=None), reason="x" * 10_000, error_type="E", component="c")
    assert len(event.value["reason"]) == MAX_REASON_CHARS


def test_a_header_key_that_is_not_utf8_keeps_its_original_bytes() -> None:
    """#13 case 5: the key arrives decoded with surrogateescape (bus.record_headers)."""
    record = RawRecord(value=b"v", headers=((b"\xff\xfe".decode("utf-8", "surrogateescape"), b"x"),))
    event = dead_letter_event(record, reason="a header key is not UTF-8", error_type="DeserializationError",
                              component="identity")
    catalog = default_catalog()
    decoded = SingleObjectDeserializer(catalog)(SingleObjectSerializer(catalog)(event, CTX), CTX).value
    assert decoded["headers"] == [{"key": "\ufffd\ufffd", "value": b"x", "key_bytes": b"\xff\xfe"}]


def test_a_record_dead_lettered_again_after_a_redelivery_keeps_its_id() -> None:
    """At-least-once: a batch replayed after a rebalance dead-letters its poison again; the copy has the first's
    id (readers drop it, ``tests.support.kafka_io.read_dead_letters``), as every processor output has."""
    at = {"topic": "omnibus.contact.events.v1", "partition": 2, "offset": 17}

    def letter_id(component: str = "kpis", error_type: str = "DeserializationError", **where: object) -> str:
        record = RawRecord(value=b"\x00 poison", **{**at, **where})  # type: ignore[arg-type]
        return dead_letter_event(record, reason="bad", error_type=error_type, component=component).value[
            "dead_letter_id"]

    assert letter_id() == letter_id()
    others = {letter_id(component="offers"), letter_id(offset=18), letter_id(partition=1),
              letter_id(topic="omnibus.business.events.v1"), letter_id(error_type="EventTooLarge")}
    assert len(others) == 5 and letter_id() not in others
    http = RawRecord(value=b"{bad json")  # no offset: each refusal of a body is its own
    ids = {dead_letter_event(http, reason="r", error_type="E", component="web").value["dead_letter_id"] for _ in "ab"}
    assert len(ids) == 2


def test_a_record_read_from_a_topic_is_kept_whole_whatever_its_size() -> None:
    """A poison record of 900 KB fit its topic, so its dead letter keeps every byte (a re-drive needs them); only an
    HTTP body (no offset) over ``MAX_KEPT_VALUE_BYTES`` is kept as its first bytes."""
    big = bytes(range(256)) * ((MAX_KEPT_VALUE_BYTES * 3) // 256)
    from_topic = dead_letter_event(RawRecord(value=big, topic="omnibus.contact.events.v1", partition=0, offset=4),
                                   reason="bad", error_type="DeserializationError", component="c").value
    assert from_topic["value"] == big and not from_topic["value_truncated"] and from_topic["value_size"] == len(big)
    from_http = dead_letter_event(RawRecord(value=big), reason="too large", error_type="E", component="c").value
    assert from_http["value"] == big[:MAX_KEPT_VALUE_BYTES] and from_http["value_truncated"]
    assert from_http["value_size"] == len(big)


@pytest.mark.parametrize(("field", "shown"), [("opened_on", "'32/13/2026'"), ("birth_date", "'[date dd/dd/dddd]'")])
def test_tester19_f6_the_logged_reason_keeps_a_non_personal_date_as_deadletters_list_does(
    field: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """tester19 F6: ``dead-lettered a record`` logged ``got '[date dd/dd/dddd]'`` for the opening date (the layout's
    occurred_at), which ``deadletters list`` shows; a birth date keeps its shape in both, a phone is scrubbed."""
    from bus.dead_letter import scrubbed_reason
    from bus.logging import configure_logging, get_logger

    location = {"file": "bad1.csv", "file.line": "3", "layout": "t19-accounts"}
    reason = f"bad1.csv line 3: field {field} is malformed (expected date %d/%m/%Y, got '32/13/2026')"
    expected = f"bad1.csv line 3: field {field} is malformed (expected date %d/%m/%Y, got {shown})"
    phone = "bad1.csv line 4: field due_date is malformed (expected date %d/%m/%Y, got '0612345678')"
    configure_logging("INFO", json_output=True)
    log = get_logger("test")
    for text, where in ((reason, location), (reason, {"file": "bad1.csv"}), (phone, location)):
        log.warning("dead-lettered a record", reason=scrubbed_reason(text, where))
    logged = [json.loads(line)["reason"] for line in capsys.readouterr().err.strip().splitlines()]
    assert logged[0] == expected == scrubbed_reason(reason, location)
    assert "'[date dd/dd/dddd]'" in logged[1]  # no layout header: not a layout's field, every date masked
    assert logged[2].endswith("got '[digits]')")


def test_a_dead_letter_id_the_caller_derives_is_kept() -> None:
    """A refused part of a published record is dead-lettered under an id derived from the part
    (``AdapterPublisher.reject_part``), so readers keep one of its copies."""
    http = RawRecord(value=b"ctr")
    event = dead_letter_event(http, reason="r", error_type="E", component="call-center", given_id="fixed-id")
    assert event.value["dead_letter_id"] == "fixed-id"


@pytest.mark.parametrize("given_id", [None, "fixed-id"])
def test_the_log_line_of_a_dead_letter_names_its_id_as_the_deadletters_commands_do(
        monkeypatch: pytest.MonkeyPatch, given_id: str | None) -> None:
    """An operator went from a "dead-lettered a record" log line of an HTTP refusal (no topic, partition or offset) to
    the record by time and reason alone: the line names the dead letter's id (``omnibus deadletters show ID``)."""
    import asyncio

    from bus import dead_letter

    published: list = []
    lines: list[tuple[str, dict]] = []

    class Producer:
        async def publish(self, outgoing) -> None:  # type: ignore[no-untyped-def]
            published.append(outgoing)

    class Log:
        def warning(self, event: str, **fields: object) -> None:
            lines.append((event, fields))

    monkeypatch.setattr(dead_letter, "log", Log())
    writer = dead_letter.DeadLetterWriter(Producer(), "omnibus.deadletter.v1", "adapter.web")  # type: ignore[arg-type]
    asyncio.run(writer.write(RawRecord(value=b"{}"), reason="'userId' was refused", error_type="RejectedInput",
                             dead_letter_id=given_id))
    ((event, fields),) = lines
    assert event == "dead-lettered a record"
    assert fields["dead_letter_id"] == published[0].event.value["dead_letter_id"] == (given_id or fields["dead_letter_id"])
