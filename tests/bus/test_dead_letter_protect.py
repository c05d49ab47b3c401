"""An adapter's dead letter keeps refused input as its clear copy: secrets as tokens (issue #13 build 7), phones and
e-mails masked, free text scrubbed (``bus.dead_letter_clear``)."""

from __future__ import annotations

import json
from typing import Any

from bus.dead_letter import DeadLetterWriter
from bus.dead_letter_clear import CLEAR_COPY_HEADER, ClearCopy
from bus.errors import RawRecord
from bus.identifiers import IdentifierNormaliser
from bus.identifiers.protect import SecretScrubber
from bus.references import References
from tests.bus.identifiers.support import normaliser


class Recorder:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def publish(self, outgoing: Any) -> None:
        self.published.append(outgoing)


def clear_copy(tokens: IdentifierNormaliser | None = None) -> ClearCopy:
    """An adapter's clear copy under the tests' token key."""
    tokens = tokens or normaliser()
    return ClearCopy(SecretScrubber(tokens), References.deployment(tokens.settings))


async def test_the_secrets_become_tokens_and_the_e_mail_its_mask() -> None:
    producer = Recorder()
    tokens = normaliser()
    writer = DeadLetterWriter(producer, "dl", "adapter.web", clear=clear_copy(tokens))  # type: ignore[arg-type]
    body = b'{"traits": {"email": "ann@example.com", "national_id": "11010519491231002X"}, "card": "4111111111111111"}'
    await writer.write(RawRecord(body, key=b"4111111111111111", headers=(("x-card", b"4111-1111-1111-1111"),)),
                       reason="no userId", error_type="RejectedInput")
    (outgoing,) = producer.published
    letter = outgoing.event.value
    card = tokens.normalise("CARD", "4111111111111111").value
    national_id = tokens.normalise("NATIONAL_ID", "11010519491231002X").value
    assert json.loads(letter["value"]) == {"traits": {"email": "a***@example.com", "national_id": national_id},
                                           "card": card}
    assert letter["key"] == card.encode() and letter["headers"][0]["value"] == card.encode()
    assert (CLEAR_COPY_HEADER, b"masked") in [(h["key"], h["value"]) for h in letter["headers"]]
    assert outgoing.key == card


async def test_without_protection_the_bytes_are_kept_as_they_came() -> None:
    producer = Recorder()
    await DeadLetterWriter(producer, "dl", "identity").write(  # type: ignore[arg-type]
        RawRecord(b"4111111111111111"), reason="poison", error_type="DeserializationError")
    assert producer.published[0].event.value["value"] == b"4111111111111111"
