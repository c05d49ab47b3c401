"""Customer node states as the node table stores them: a format mark and a zstd frame; plain ones still read."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from processors.identity.graph import customer_codec
from processors.identity.graph.customer_codec import CUSTOMER_ZSTD_V1, compress_customer, plain_customer
from processors.identity.graph.identifier_codec import OWNED_IDENTIFIER_V1
from processors.identity.graph.messages.base import Unweighed
from processors.identity.graph.messages.steps import Assign
from processors.identity.graph.state import (
    BlockEntry,
    BlockState,
    CustomerState,
    IdentifierState,
    decode_state,
    encode_state,
)

RANK = 1_782_599_270_400_000_284
# A customer of ``tests.bench.identity_memory`` (a person's first contact: a phone and an e-mail, one unweighed event).
CUSTOMER = CustomerState(
    created=True, members={"EMAIL:p0@example.org": (1, RANK), "PHONE:+8613900000000": (1, RANK)},
    born=1_740_819_600_000_000, contacts=2, contact_index={"CALL_CENTER": b"\xa3\xc3\xc7Q7\xff"},
    made_for=b"\xa4\x94;fR>", ranks_applied=b"\xd9+\xb1\x8d\x11\xb6", came_with=b"\x15\xdb\xe0F7\xe1\x91YS\x16\xa6Z",
    unweighed=[Unweighed("63c7f176-a24f-45a1-aa4b-4eeacf9f0f83", "CALL_CENTER",
                         {"EMAIL:p0@example.org": RANK, "PHONE:+8613900000000": RANK})])
# CUSTOMER as the node table held it before the mark: its plain msgpack array (state.py up to this format).
PLAIN = bytes.fromhex(
    "dc001ea163c382b4454d41494c3a7030406578616d706c652e6f72679201cf18bd10978110011cb450484f4e453a2b383631333930303030"
    "303030309201cf18bd10978110011ccf00062f4425e04400c0c400c0c09000909090c4009090028080c40081ab43414c4c5f43454e544552"
    "c406a3c3c75137ffc406a4943b66523e80c406d92bb18d11b68090c40c15dbe04637e191595316a65a90909195d92436336337663137362d"
    "613234662d343561312d616134622d346565616366396630663833ab43414c4c5f43454e54455282b4454d41494c3a7030406578616d706c"
    "652e6f7267cf18bd10978110011cb450484f4e453a2b38363133393030303030303030cf18bd10978110011cc090")


def test_a_customer_state_written_before_the_mark_still_decodes() -> None:
    assert decode_state(PLAIN) == CUSTOMER
    assert plain_customer(PLAIN) is PLAIN  # read as it is, no copy


def test_a_customer_state_is_stored_compressed_in_under_two_thirds_of_its_plain_bytes() -> None:
    stored = encode_state(CUSTOMER)
    assert stored[0] == CUSTOMER_ZSTD_V1
    # the frame holds the plain form, byte for byte: today's layout's (PLAIN is older: fields were added last since),
    # without the trailing fields that hold their defaults
    values, defaults = msgspec.structs.astuple(CUSTOMER), msgspec.structs.astuple(CustomerState())
    end = max(at for at, (value, default) in enumerate(zip(values, defaults, strict=True)) if value != default) + 1
    assert plain_customer(stored) == msgspec.msgpack.encode(("c", *values[:end]))
    assert decode_state(stored) == CUSTOMER
    assert len(stored) <= len(PLAIN) * 2 // 3  # 167 of 270 bytes: a 200-byte bytes object instead of 304


def test_every_customer_state_round_trips_and_the_other_nodes_keep_their_forms() -> None:
    customers = [CustomerState(), CustomerState(created=True, members={"EMAIL:a@x.org": (3, 2**61)},
                                                waiting=[Assign("cus_2", 1)], parent="cus_9"),
                 CustomerState(created=True, members={f"PHONE:+86139{n:08d}": (n, RANK + n) for n in range(400)})]
    for state in customers:
        assert encode_state(state)[0] == CUSTOMER_ZSTD_V1
        assert decode_state(encode_state(state)) == state
    owned = IdentifierState(owner="cus_62f4425e044002ad85f3884e", version=1)
    assert encode_state(owned)[0] == OWNED_IDENTIFIER_V1 + 1
    block = BlockState({"cus_1": BlockEntry({"gn": ["ann"]}, ["EMAIL"])})
    for state in (owned, IdentifierState(owner="cus_1"), block):
        assert encode_state(state)[0] != CUSTOMER_ZSTD_V1
        assert decode_state(encode_state(state)) == state


def test_the_mark_begins_no_other_form() -> None:
    with pytest.raises(msgspec.DecodeError):
        msgspec.msgpack.decode(bytes((CUSTOMER_ZSTD_V1,)))  # the byte msgpack never uses: no plain state
    assert CUSTOMER_ZSTD_V1 < OWNED_IDENTIFIER_V1 and CUSTOMER_ZSTD_V1 != ord("{")


@pytest.mark.parametrize("data", [bytes((CUSTOMER_ZSTD_V1,)), bytes((CUSTOMER_ZSTD_V1,)) + PLAIN,
                                  compress_customer(PLAIN)[:-3]])
def test_a_mark_on_anything_but_a_whole_frame_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_state(data)


def test_the_dictionary_of_v1_is_frozen() -> None:
    # stored states need these bytes to decompress: a better dictionary gets a new mark, this one stays
    digest = hashlib.sha256(customer_codec._CUSTOMER_ZDICT_V1).hexdigest()
    assert digest == "05f6ca9cd8f9011104c3c16026c3f88cf96563e4ca8e33b88112c5d81f21965a"


def test_a_customer_with_its_profile_reads_back_both_parts_and_decodes_as_the_customer_alone() -> None:
    """#9 point 5 (memory33): a customer's profile is kept inside its node value, no row of its own."""
    from processors.identity.graph.customer_codec import (
        CUSTOMER_WITH_PROFILE,
        customer_part,
        profile_part,
        with_profile,
    )

    profile = b"\x04a profile frame"
    for state in (CUSTOMER, CustomerState(created=True, members={f"PHONE:+86139{n:08d}": (n, RANK + n)
                                                                 for n in range(2000)})):  # a 2- and a 3-byte length
        stored = encode_state(state)
        held = with_profile(stored, profile)
        assert held[0] == CUSTOMER_WITH_PROFILE and len(held) <= len(stored) + len(profile) + 4
        assert customer_part(held) == stored and profile_part(held) == profile
        assert decode_state(held) == state and plain_customer(held) == plain_customer(stored)
        assert with_profile(held, b"\x04another") == with_profile(stored, b"\x04another")  # its customer part taken
    assert profile_part(encode_state(CUSTOMER)) is None and profile_part(PLAIN) is None
    assert customer_part(PLAIN) is PLAIN


def test_the_mark_of_a_customer_with_its_profile_begins_no_other_form() -> None:
    from processors.identity.graph.customer_codec import CUSTOMER_WITH_PROFILE
    from processors.identity.graph.identifier_codec import V2_BANDS

    with pytest.raises(msgspec.ValidationError):
        msgspec.msgpack.Decoder(list).decode(bytes((CUSTOMER_WITH_PROFILE,)))  # an int, never a state's array
    assert CUSTOMER_WITH_PROFILE not in (CUSTOMER_ZSTD_V1, *V2_BANDS, ord("{"))
    assert CUSTOMER_WITH_PROFILE < OWNED_IDENTIFIER_V1


@pytest.mark.parametrize("data", [b"\x02", b"\x02\x80", b"\x02\x05\xc1\x00"])
def test_a_customer_with_its_profile_cut_short_is_a_decode_error(data: bytes) -> None:
    from processors.identity.graph.customer_codec import profile_part

    with pytest.raises(msgspec.DecodeError):
        decode_state(data)
    with pytest.raises(msgspec.DecodeError):
        profile_part(data)
