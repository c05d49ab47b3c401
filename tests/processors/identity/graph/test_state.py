"""Node states as the tables store them: compact msgpack, decoded to the same values."""

from __future__ import annotations

import msgspec
import pytest

from processors.identity.graph.messages.steps import Assign
from processors.identity.graph.state import (
    BlockEntry,
    BlockState,
    CustomerState,
    IdentifierState,
    decode_state,
    encode_state,
)
from processors.identity.graph.state_parts import Person


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
# The state below as ``identifier_codec.OWNED_IDENTIFIER_V1`` packed it (mark + 3 fields, the owner's 12 bytes, msgpack)
PACKED_V1 = bytes.fromhex("e362f4425e044002ad85f3884e01c4066880e752d1ebcf18bd109781100334")


def test_an_identifier_owned_by_a_usual_customer_id_is_packed_and_its_plain_form_still_decodes() -> None:
    owned = IdentifierState(owner=OWNER, version=1, recent=b"h\x80\xe7R\xd1\xeb", first_rank=1_782_599_270_400_000_820)
    packed, plain = encode_state(owned), msgspec.msgpack.encode(["i", OWNER, 1, b"h\x80\xe7R\xd1\xeb",
                                                                   1_782_599_270_400_000_820])
    assert len(packed) == 23 and len(plain) == 50  # a 56-byte bytes object instead of an 88-byte one
    # states written before the packing, and packed in the first packed form (V1, 31 bytes), decode
    assert decode_state(packed) == decode_state(plain) == decode_state(PACKED_V1) == owned
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
