"""Node states and profiles as the tables store them: compact msgpack, decoded to the same values."""

from __future__ import annotations

import msgspec
import pytest

from processors.identity.graph.messages import Assign
from processors.identity.graph.state import (
    BlockEntry,
    BlockState,
    CustomerState,
    IdentifierState,
    Person,
    decode_profile,
    decode_state,
    encode_profile,
    encode_state,
)

PROFILE = {"recent_contacts": {"CALL_CENTER": [
    {"id": "a2243c643e0d4bb8a6189d3675b8eaba", "at": 1_740_819_600_000_000, "site": None, "kind": "CALL",
     "name": "billing question", "outcome": "RESOLVED", "agent_id": "agent-7", "duration_ms": 120_000}]}}


def test_states_round_trip_and_trailing_defaults_are_left_out() -> None:
    states = [
        IdentifierState(), IdentifierState(owner="cus_1", version=2, recent=b"\x01" * 6, first_rank=2**61),
        CustomerState(created=True, members={"EMAIL:a@x.org": (3, 2**61)}, waiting=[Assign("cus_2", 1)]),
        BlockState({"cus_1": BlockEntry({"gn": ["ann"]}, ["EMAIL"])}),
    ]
    for state in states:
        assert decode_state(encode_state(state)) == state
    assert encode_state(IdentifierState(owner="cus_1", version=2)) == b"\x93\xa1i\xa5cus_1\x02"


OWNER = "cus_62f4425e044002ad85f3884e"  # saga.customer_id's form: cus_ + 24 lowercase hex digits


def test_an_identifier_owned_by_a_usual_customer_id_is_packed_and_its_plain_form_still_decodes() -> None:
    owned = IdentifierState(owner=OWNER, version=1, recent=b"h\x80\xe7R\xd1\xeb", first_rank=1_782_599_270_400_000_820)
    packed, plain = encode_state(owned), msgspec.msgpack.encode(["i", OWNER, 1, b"h\x80\xe7R\xd1\xeb",
                                                                   1_782_599_270_400_000_820])
    assert len(packed) == 31 and len(plain) == 50  # a 64-byte bytes object instead of an 88-byte one
    assert decode_state(packed) == decode_state(plain) == owned  # states written before the packing decode
    busy = IdentifierState(owner=OWNER, version=7, reserved_by="e-1", waiting=[Assign("cus_2", 1)], waiting_bytes=9,
                           shared=True, refused_with=["cus_3"], people=[Person({"gn": ["ann"]}, ["USER_ID:u-1"])])
    for state in (busy, IdentifierState(owner=OWNER), IdentifierState(owner=OWNER.upper()),
                  IdentifierState(owner=OWNER + "0"), IdentifierState(owner="cus_legacy-7")):
        assert decode_state(encode_state(state)) == state
    assert encode_state(IdentifierState(owner=OWNER.upper()))[:1] == b"\x92"  # not the usual form: plain


@pytest.mark.parametrize("data", [b"\xe0", b"\xe1" + bytes(12), b"\xe2" + bytes(12) + b"\x01",
                                  b"\xe1" + bytes(12) + b"\xc1"])
def test_a_packed_identifier_cut_short_or_malformed_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_state(data)


def test_the_people_counted_towards_shared_after_round_trip_and_older_states_decode_without_them() -> None:
    counted = IdentifierState(owner="cus_1", version=1, people=[Person({"gn": ["ann"]}, ["USER_ID:u-1"]), Person()])
    assert decode_state(encode_state(counted)) == counted
    older = msgspec.msgpack.encode(["i", "cus_1", 1, b"", None, None, [], 0, False, ["cus_2"]])  # before ``people``
    assert decode_state(older) == IdentifierState(owner="cus_1", version=1, refused_with=["cus_2"])


def test_profiles_are_stored_deflated_and_plain_msgpack_is_read_too() -> None:
    stored = encode_profile(PROFILE)
    assert decode_profile(stored) == PROFILE
    assert len(stored) < 0.7 * len(msgspec.msgpack.encode(PROFILE))
    assert decode_profile(msgspec.msgpack.encode(PROFILE)) == PROFILE


def test_recent_contacts_uuid_ids_are_stored_as_16_bytes_and_profiles_of_the_first_deflated_format_still_decode(
) -> None:
    import zlib

    from processors.identity.graph.state import _PROFILE_ZDICT_V1, PROFILE_DEFLATE_V1, PROFILE_WINDOW_BITS

    contacts = [{"id": "a2243c643e0d4bb8a6189d3675b8eaba", "at": 1}, {"id": "a2243c64-3e0d-4bb8-a618-9d3675b8eaba"},
                {"id": "A2243C643E0D4BB8A6189D3675B8EABA"}, {"id": "WT0123456789abcdef"}, {"id": None}, {"at": 2}]
    profile = {"recent_contacts": {"CALL_CENTER": contacts, "WEB": []}, "products": {"id": "a2243c643e0d4bb8a6189d3675b8eaba"}}
    assert decode_profile(encode_profile(profile)) == profile  # every id back as it was written
    assert len(encode_profile(PROFILE)) <= 95  # ~105 bytes when the id was deflated as 32 hex digits
    deflate = zlib.compressobj(1, zlib.DEFLATED, -PROFILE_WINDOW_BITS, 2, zlib.Z_DEFAULT_STRATEGY, _PROFILE_ZDICT_V1)
    first_format = bytes((PROFILE_DEFLATE_V1,)) + deflate.compress(msgspec.msgpack.encode(PROFILE)) + deflate.flush()
    assert decode_profile(first_format) == PROFILE
