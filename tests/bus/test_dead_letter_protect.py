"""An adapter's dead letter keeps refused input whole except its national IDs and card numbers (issue #13 build 7)."""

from __future__ import annotations

from typing import Any

from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord
from bus.identifiers.protect import SecretScrubber
from tests.bus.identifiers.support import normaliser


class Recorder:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def publish(self, outgoing: Any) -> None:
        self.published.append(outgoing)


async def test_the_original_bytes_are_kept_with_tokens_for_the_secrets() -> None:
    producer = Recorder()
    tokens = normaliser()
    writer = DeadLetterWriter(producer, "dl", "adapter.web", protect=SecretScrubber(tokens).scrub)  # type: ignore[arg-type]
    body = b'{"traits": {"email": "ann@example.com", "national_id": "11010519491231002X"}, "card": "4111111111111111"}'
    await writer.write(RawRecord(body, key=b"4111111111111111", headers=(("x-card", b"4111-1111-1111-1111"),)),
                       reason="no userId", error_type="RejectedInput")
    (outgoing,) = producer.published
    letter = outgoing.event.value
    card = tokens.normalise("CARD", "4111111111111111").value.encode()
    assert letter["value"] == body.replace(b"11010519491231002X", tokens.normalise(
        "NATIONAL_ID", "11010519491231002X").value.encode()).replace(b"4111111111111111", card)
    assert letter["key"] == card and letter["headers"][0]["value"] == card
    assert outgoing.key == card.decode()


async def test_without_protection_the_bytes_are_kept_as_they_came() -> None:
    producer = Recorder()
    await DeadLetterWriter(producer, "dl", "identity").write(  # type: ignore[arg-type]
        RawRecord(b"4111111111111111"), reason="poison", error_type="DeserializationError")
    assert producer.published[0].event.value["value"] == b"4111111111111111"
