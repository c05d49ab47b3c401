"""Node states and profiles as the tables store them: compact msgpack, decoded to the same values."""

from __future__ import annotations

import msgspec
import pytest

from processors.identity.graph.messages.steps import Assign
from processors.identity.graph.state import (
    PROFILE_ZSTD_V3,
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


def test_profiles_are_stored_compressed_and_plain_msgpack_is_read_too() -> None:
    stored = encode_profile(PROFILE)
    assert stored[0] == PROFILE_ZSTD_V3
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


# Written by the V2 format (raw deflate, ids packed) before V3: a dashed and a hex UUID id and one that is neither.
V2_STORED = bytes.fromhex(
    "026b5c8f160e4dc8fe9fd401f4da0da6452a362976bcde3b9649cc352bddf16a17d0b3e719d8f45d541fb830807d7d00e26d9027c07edf90"
    "949993939997ae00f45c31c859f0c08079111e2acbc1c1a36b8e1c3ae71818af1c680159cd8866f56e98d5f2af9231ac06c5d6c426a0b6c5"
    "99ba8640858c00")
V2_PROFILE = {"recent_contacts": {"CALL_CENTER": [
    {"id": "a2243c64-3e0d-4bb8-a618-9d3675b8eaba", "at": 1_740_819_600_000_000, "site": None, "kind": "CALL",
     "name": "billing question", "outcome": "RESOLVED", "agent_id": "agent-7", "duration_ms": 120_000},
    {"id": "a2243c643e0d4bb8a6189d3675b8eabb", "at": 1_740_819_500_000_000, "site": None, "kind": "CALL"}],
    "WEB": [{"id": "i-1", "at": 1}]}}


def test_profiles_of_the_deflated_v2_format_still_decode_and_are_written_back_as_v3() -> None:
    assert decode_profile(V2_STORED) == V2_PROFILE
    again = encode_profile(V2_PROFILE)
    assert again[0] == PROFILE_ZSTD_V3
    assert decode_profile(again) == V2_PROFILE


def test_the_v3_dictionary_never_changes_and_a_v3_value_is_a_zstd_frame_without_its_magic_number() -> None:
    import hashlib

    import zstandard

    from processors.identity.graph.state import _PROFILE_ZDICT_V3

    # Stored profiles need these very bytes: a better dictionary is a new mark, this one stays readable.
    assert hashlib.sha256(_PROFILE_ZDICT_V3).hexdigest() == \
        "bf63ea816631d735b5085f05b01dca11535bc7386bce94d2c469da8ccda88665"
    frame = b"\x28\xb5\x2f\xfd" + encode_profile(V2_PROFILE)[1:]
    raw_content = zstandard.ZstdCompressionDict(_PROFILE_ZDICT_V3, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert msgspec.msgpack.decode(zstandard.ZstdDecompressor(dict_data=raw_content).decompress(frame),
                                  ext_hook=lambda code, data: (code, bytes(data)))["recent_contacts"]["WEB"] == \
        [{"id": "i-1", "at": 1}]


def test_ids_a_decode_unpacked_are_packed_again_to_the_same_bytes_and_the_ids_kept_are_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from processors.identity.graph import state

    monkeypatch.setattr(state, "_PACKED_IDS", {})
    cold = encode_profile(V2_PROFILE)
    state._PACKED_IDS.clear()
    assert decode_profile(V2_STORED) == V2_PROFILE and len(state._PACKED_IDS) == 2  # the two UUIDs
    assert encode_profile(V2_PROFILE) == cold
    monkeypatch.setattr(state, "PACKED_IDS_KEPT", 3)
    for n in range(10):
        encode_profile({"recent_contacts": {"WEB": [{"id": f"{n:032x}"}]}})
        assert len(state._PACKED_IDS) <= 3
