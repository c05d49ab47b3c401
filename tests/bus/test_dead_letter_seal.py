"""An adapter's dead letter keeps the refused body sealed when the deployment sets a seal key (tester29 F5)."""

from __future__ import annotations

from bus.config import OmnibusSettings
from bus.dead_letter import MAX_KEPT_VALUE_BYTES, SEAL_KEY_ID_HEADER, SEALED_BODY_HEADER, DeadLetterWriter
from bus.errors import RawRecord
from bus.sealing import Sealer
from tests.bus.test_dead_letter_protect import Recorder, clear_copy

SEALER = Sealer("s" * 32)
BODY = b'{"ContactId": "c-1", "Attributes": {"dni": "11010519491231002X"}, "CustomerEndpoint": {"Address": "+34612345678"}}'


def headers(letter: dict) -> dict[str, bytes]:
    return {h["key"]: h["value"] for h in letter["headers"]}


async def test_a_refused_http_body_is_kept_sealed_beside_its_protected_copy() -> None:
    """tester29 F5: the dead letter's copy had the DNI as its token and nothing to re-drive from; the sealed body is
    the body as it came, and only the deployment's key opens it."""
    producer = Recorder()
    writer = DeadLetterWriter(producer, "dl", "adapter.call_center",  # type: ignore[arg-type]
                              clear=clear_copy(), sealer=SEALER)
    await writer.write(RawRecord(BODY, headers=(("http.path", b"/v1/connect/ctr"),)), reason="bad", error_type="x")
    (outgoing,) = producer.published
    letter = outgoing.event.value
    assert b"11010519491231002X" not in letter["value"] and b"nid1:" in letter["value"]  # protected as before
    kept = headers(letter)
    assert SEALER.open(kept[SEALED_BODY_HEADER], "adapter.call_center") == BODY
    assert kept[SEAL_KEY_ID_HEADER] == SEALER.key_id.encode() and b"11010519491231002X" not in kept[SEALED_BODY_HEADER]
    assert kept["http.path"] == b"/v1/connect/ctr"


async def test_no_key_a_record_read_from_a_topic_or_a_cut_body_is_not_sealed() -> None:
    producer = Recorder()
    await DeadLetterWriter(producer, "dl", "adapter.web").write(  # type: ignore[arg-type]
        RawRecord(BODY), reason="bad", error_type="x")
    await DeadLetterWriter(producer, "dl", "identity", sealer=SEALER).write(  # type: ignore[arg-type]
        RawRecord(BODY, topic="t", partition=0, offset=3), reason="poison", error_type="x")
    await DeadLetterWriter(producer, "dl", "adapter.web", sealer=SEALER).write(  # type: ignore[arg-type]
        RawRecord(b"x" * (MAX_KEPT_VALUE_BYTES + 1)), reason="too large", error_type="x")
    assert all(SEALED_BODY_HEADER not in headers(o.event.value) for o in producer.published)


async def test_a_file_line_is_never_sealed_and_show_lists_no_seal_an_older_release_kept() -> None:
    """A line refused by a file import is corrected in its file and imported again, never re-driven: ``show`` listed
    ``<sealed: 88 bytes; redrive opens it>`` on it, which redrive never opens. It is not sealed, and a seal kept by
    an older release is not shown."""
    from processors.deadletters import deserializer_for, original
    from tests.processors.deadletters.test_init import letter as as_letter

    line = RawRecord(b"ZG-0003;;602111222;Reklamacja", headers=(("file", b"cases.csv"), ("file.line", b"3")))
    producer = Recorder()
    await DeadLetterWriter(producer, "dl", "adapter.legacy", sealer=SEALER).write(  # type: ignore[arg-type]
        line, reason="cases.csv line 3: required field case_type is missing", error_type="x")
    (outgoing,) = producer.published
    assert SEALED_BODY_HEADER not in headers(outgoing.event.value)
    seal = ((SEALED_BODY_HEADER, SEALER.seal(line.value, "adapter.legacy")),
            (SEAL_KEY_ID_HEADER, SEALER.key_id.encode()))
    older = RawRecord(line.value, headers=(*line.headers, *seal))
    shown = original(as_letter(older, component="adapter.legacy"), deserializer_for(OmnibusSettings()))
    assert shown["headers"] == {"file": "cases.csv", "file.line": "3"} and shown["source"] == "file cases.csv line 3"
