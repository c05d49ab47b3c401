"""An adapter's dead letter keeps the refused body sealed when the deployment sets a seal key (tester29 F5)."""

from __future__ import annotations

from bus.dead_letter import MAX_KEPT_VALUE_BYTES, SEAL_KEY_ID_HEADER, SEALED_BODY_HEADER, DeadLetterWriter
from bus.errors import RawRecord
from bus.identifiers.protect import SecretScrubber
from bus.sealing import Sealer
from tests.bus.identifiers.support import normaliser
from tests.bus.test_dead_letter_protect import Recorder

SEALER = Sealer("s" * 32)
BODY = b'{"ContactId": "c-1", "Attributes": {"dni": "11010519491231002X"}, "CustomerEndpoint": {"Address": "+34612345678"}}'


def headers(letter: dict) -> dict[str, bytes]:
    return {h["key"]: h["value"] for h in letter["headers"]}


async def test_a_refused_http_body_is_kept_sealed_beside_its_protected_copy() -> None:
    """tester29 F5: the dead letter's copy had the DNI as its token and nothing to re-drive from; the sealed body is
    the body as it came, and only the deployment's key opens it."""
    producer = Recorder()
    writer = DeadLetterWriter(producer, "dl", "adapter.call_center",  # type: ignore[arg-type]
                              protect=SecretScrubber(normaliser()).scrub, sealer=SEALER)
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
