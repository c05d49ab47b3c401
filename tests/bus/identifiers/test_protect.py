"""Raw input kept as a dead letter loses its national IDs and card numbers to the adapter's tokens, and only them."""

from __future__ import annotations

import json

from pydantic import SecretStr

from bus.identifiers import IdentifierNormaliser, IdentifierSettings
from bus.identifiers.protect import SecretScrubber
from tests.bus.identifiers.support import normaliser

NATIONAL_ID, CARD, CARD_SPACED = "11010519491231002X", "4111111111111111", "4111 1111 1111 1111"


def test_national_ids_and_cards_become_the_tokens_the_adapter_publishes() -> None:
    tokens = normaliser()
    body = json.dumps({"traits": {"national_id": NATIONAL_ID, "email": "ann@example.com"},
                       "card": CARD_SPACED, "pan": f"x-{CARD}"}).encode()
    scrubbed = SecretScrubber(tokens).scrub(body)
    assert scrubbed is not None
    text = scrubbed.decode()
    assert NATIONAL_ID not in text and CARD not in text and CARD_SPACED not in text
    assert tokens.normalise("NATIONAL_ID", NATIONAL_ID).value in text
    assert text.count(tokens.normalise("CARD", CARD).value) == 2
    assert "ann@example.com" in text  # phones and e-mails travel normalised on topics anyway
    assert SecretScrubber(tokens).scrub(scrubbed) == scrubbed  # tokens are left alone: a replay finds the same


def test_numbers_that_are_not_secrets_are_kept_byte_for_byte() -> None:
    body = ("ts=1732912345678901 ms=1732912345678 phone=+4915112345678 order=2024-03-05 amount=4111.11 "
            "ref=ACC-100001 near=11010519491231002Y luhnless=4111111111111112 ip=10.1.2.3:9092").encode()
    assert SecretScrubber(normaliser()).scrub(body) == body


def test_bytes_that_are_not_text_survive_the_round_trip() -> None:
    body = b"\xff\xfe\x00" + CARD.encode() + b"\x80"
    scrubbed = SecretScrubber(normaliser()).scrub(body)
    assert scrubbed is not None and scrubbed.startswith(b"\xff\xfe\x00card1:") and scrubbed.endswith(b"\x80")


def test_without_a_token_key_the_numbers_are_masked() -> None:
    keyless = IdentifierNormaliser(IdentifierSettings(hmac_key=None))
    assert SecretScrubber(keyless).scrub(f"{NATIONAL_ID} {CARD}".encode()) == b"[national id] [card]"


def test_other_schemes_are_found_too() -> None:
    french = IdentifierNormaliser(IdentifierSettings(hmac_key=SecretStr("test-hmac-key-0123456789"),
                                                     national_id_schemes=["fr.nir"]))
    scrubbed = SecretScrubber(french).scrub(b"nir=295109912611193;")
    assert scrubbed is not None and b"295109912611193" not in scrubbed and scrubbed.startswith(b"nir=nid1:")


def test_national_ids_written_with_spaces_inside_become_tokens_too() -> None:
    """A NIR as printed on the French card (``2 95 10 99 126 111 93``) or a DNI with a space before its letter went onto
    ``deadletter.v1`` raw: only unspaced IDs were found. Each becomes the token of its unspaced form, inside a run of
    other words and numbers too, and what is no ID keeps every byte."""
    both = IdentifierNormaliser(IdentifierSettings(hmac_key=SecretStr("test-hmac-key-0123456789"),
                                                   national_id_schemes=["fr.nir", "es.dni"]))
    scrubber = SecretScrubber(both)
    nir, dni = both.normalise("NATIONAL_ID", "295109912611193").value, both.normalise("NATIONAL_ID", "12345678Z").value
    body = '{"nir": "2 95 10 99 126 111 93", "note": "DNI 12345678 Z; tel 06 12 34 56 78, 2 a 3 12 34"}'.encode()
    scrubbed = scrubber.scrub(body)
    assert scrubbed is not None
    text = scrubbed.decode()
    assert text == f'{{"nir": "{nir}", "note": "DNI {dni}; tel 06 12 34 56 78, 2 a 3 12 34"}}'
    assert scrubber.scrub(scrubbed) == scrubbed  # a token is found again as itself
    embedded = scrubber.scrub(b"ref 7 2 95 10 99 126 111 93 9 end")  # the ID is a span of a longer run
    assert embedded == f"ref 7 {nir} 9 end".encode()
    plain = b"lines 1 2 3 4 5 6 7 8 9 10 11 12 13 14 and 12345 678 and A B C"
    assert scrubber.scrub(plain) == plain
