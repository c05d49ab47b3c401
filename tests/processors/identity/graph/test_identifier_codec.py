"""Owned identifier states packed behind a mark (V2: varints, the first rank against the owner's birth)."""

from __future__ import annotations

import msgspec
import pytest

from processors.identity.graph import identifier_codec
from processors.identity.graph.identifier_codec import (
    OWNED_IDENTIFIER_V1,
    OWNED_IDENTIFIER_V2,
    OWNED_IDENTIFIER_V2_CLAIMED,
    OWNED_IDENTIFIER_V2_LATE,
    V2_BANDS,
    owned_fields,
    pack_owned,
    plain_owned,
)
from processors.identity.graph.limits import CLAIMED_BAND, HASH_BITS, LATE_BAND, event_rank, key_rank
from processors.identity.graph.saga import born_at, customer_id
from processors.identity.graph.state import IdentifierState, decode_state, encode_state

BORN = 1_740_819_600_000_000
OWNER = customer_id(BORN, "seed")
HASH = b"h\x80\xe7R\xd1\xeb"


def test_the_usual_owned_identifier_takes_23_bytes_a_56_byte_object() -> None:
    # its first event made its customer: the rank differs from the owner's birth by the event's hash bits alone
    state = IdentifierState(owner=OWNER, version=1, recent=HASH, first_rank=event_rank(BORN, "event-1"))
    stored = encode_state(state)
    assert stored[0] == OWNED_IDENTIFIER_V2 and len(stored) == 23  # V1: 31 bytes, a 64-byte object
    assert owned_fields(stored) == (OWNER, 1, HASH, state.first_rank)
    assert decode_state(stored) == state


@pytest.mark.parametrize("first_rank", [0, 1, event_rank(BORN - 1, "e"), event_rank(BORN + 10**12, "e"), 1 << 62,
                                        (1 << 63) - 1, 1 << 63, (3 << 62) - 1, 3 << 62, (1 << 64) - 1, 1 << 64, -5,
                                        -(1 << 62), event_rank(BORN, "e") | LATE_BAND | CLAIMED_BAND])
@pytest.mark.parametrize("recent", [b"", HASH, HASH * 16])
def test_any_rank_version_and_dedupe_window_round_trip(first_rank: int, recent: bytes) -> None:
    for version in (0, 1, 127, 128, 2**40):
        state = IdentifierState(owner=OWNER, version=version, recent=recent, first_rank=first_rank)
        assert encode_state(state)[0] in V2_BANDS
        assert decode_state(encode_state(state)) == state


@pytest.mark.parametrize(("band", "mark"), [(LATE_BAND, OWNED_IDENTIFIER_V2_LATE),
                                            (CLAIMED_BAND, OWNED_IDENTIFIER_V2_CLAIMED)])
def test_a_first_rank_in_a_band_takes_23_bytes_too_its_band_in_the_mark(band: int, mark: int) -> None:
    # limits.key_rank: a record's key ranked late, or an event's identifiers once it claims a record's key
    first_rank = event_rank(BORN, "event-1") | band
    state = IdentifierState(owner=OWNER, version=1, recent=HASH, first_rank=first_rank)
    stored = encode_state(state)
    assert stored[0] == mark and len(stored) == 23  # unbanded V2: 31 bytes, a 64-byte object
    assert owned_fields(stored) == (OWNER, 1, HASH, first_rank) and decode_state(stored) == state


def test_the_bands_are_the_ones_key_rank_ranks_in() -> None:
    rank = event_rank(BORN, "event-1")
    assert set(V2_BANDS.values()) == {0, LATE_BAND, CLAIMED_BAND}
    assert {key_rank(rank, "web", "PHONE:+1"), key_rank(rank, "web", "PHONE:+1", claims=True)} <= {
        rank | band for band in V2_BANDS.values()}


def test_a_state_packed_before_the_band_marks_still_reads() -> None:
    # the unbanded V2 form of a LATE_BAND rank, as every version before the band marks wrote it: 9 varint bytes more
    first_rank = event_rank(BORN, "event-1") | LATE_BAND
    difference = first_rank - (identifier_codec._birth(bytes.fromhex(OWNER[4:])) << HASH_BITS)
    stored = (bytes((OWNED_IDENTIFIER_V2,)) + bytes.fromhex(OWNER[4:]) + b"\x01\x06" + HASH
              + identifier_codec._varint(difference * 2))
    assert len(stored) == 31
    assert decode_state(stored) == IdentifierState(owner=OWNER, version=1, recent=HASH, first_rank=first_rank)


def test_other_shapes_keep_the_first_packed_form_or_the_plain_one() -> None:
    for state in (IdentifierState(owner=OWNER, version=3), IdentifierState(owner=OWNER, version=1, shared=True),
                  IdentifierState(owner=OWNER, version=1, recent=HASH, first_rank=7, reserved_by="e-1")):
        assert encode_state(state)[0] >= OWNED_IDENTIFIER_V1
        assert decode_state(encode_state(state)) == state
    assert pack_owned(("cus_legacy-7", 1, HASH, 7)) is None


def test_the_owner_birth_and_the_rank_shift_are_the_ones_ids_and_ranks_are_made_of() -> None:
    assert identifier_codec._RANK_SHIFT == HASH_BITS
    assert identifier_codec._birth(bytes.fromhex(OWNER[4:])) == born_at(OWNER) == BORN


def test_the_marks_begin_no_plain_customer_or_json_state() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.msgpack.Decoder(list).decode(bytes((OWNED_IDENTIFIER_V2,)))  # an int, never a state's array
    assert plain_owned(b"\x93\xa1i\xa5cus_1\x02") == b"\x93\xa1i\xa5cus_1\x02"
    assert owned_fields(b"\x93\xa1i\xa5cus_1\x02") is None
    for mark in V2_BANDS:
        with pytest.raises(msgspec.ValidationError):
            msgspec.msgpack.Decoder(list).decode(bytes((mark,)))
        assert mark != ord("{")


@pytest.mark.parametrize("body", [b"", bytes(12), bytes(12) + b"\x01\x06" + HASH,
                                  bytes(12) + b"\x01\x06" + HASH + b"\x80",
                                  bytes(12) + b"\x01\x06" + HASH + b"\x00\x00"])
@pytest.mark.parametrize("mark", sorted(V2_BANDS))
def test_a_v2_state_cut_short_or_too_long_is_a_decode_error(mark: int, body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_state(bytes((mark,)) + body)
