"""Profiles as the tables store them: a format mark and compressed msgpack; every format ever written still reads."""

from __future__ import annotations

import msgspec
import pytest

from processors.identity.graph.profile_codec import PROFILE_ZSTD_V3, PROFILE_ZSTD_V4, decode_profile, encode_profile

PROFILE = {"recent_contacts": {"CALL_CENTER": [
    {"id": "a2243c643e0d4bb8a6189d3675b8eaba", "at": 1_740_819_600_000_000, "site": None, "kind": "CALL",
     "name": "billing question", "outcome": "RESOLVED", "agent_id": "agent-7", "duration_ms": 120_000}]}}


def test_profiles_are_stored_compressed_and_plain_msgpack_is_read_too() -> None:
    stored = encode_profile(PROFILE)
    assert stored[0] == PROFILE_ZSTD_V4
    assert decode_profile(stored) == PROFILE
    assert len(stored) < 0.7 * len(msgspec.msgpack.encode(PROFILE))
    assert decode_profile(msgspec.msgpack.encode(PROFILE)) == PROFILE


def test_recent_contacts_uuid_ids_are_stored_as_16_bytes_and_profiles_of_the_first_deflated_format_still_decode(
) -> None:
    import zlib

    from processors.identity.graph.profile_codec import _PROFILE_ZDICT_V1, PROFILE_DEFLATE_V1, PROFILE_WINDOW_BITS

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


def test_profiles_of_the_deflated_v2_format_still_decode_and_are_written_back_as_v4() -> None:
    assert decode_profile(V2_STORED) == V2_PROFILE
    again = encode_profile(V2_PROFILE)
    assert again[0] == PROFILE_ZSTD_V4
    assert decode_profile(again) == V2_PROFILE


def test_the_v3_dictionary_never_changes_and_a_v3_value_is_a_zstd_frame_without_its_magic_number() -> None:
    import hashlib

    import zstandard

    from processors.identity.graph.profile_codec import _PROFILE_ZDICT_V3

    # Stored profiles need these very bytes: a better dictionary is a new mark, this one stays readable.
    assert hashlib.sha256(_PROFILE_ZDICT_V3).hexdigest() == \
        "bf63ea816631d735b5085f05b01dca11535bc7386bce94d2c469da8ccda88665"
    frame = b"\x28\xb5\x2f\xfd" + V3_STORED[1:]
    raw_content = zstandard.ZstdCompressionDict(_PROFILE_ZDICT_V3, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert msgspec.msgpack.decode(zstandard.ZstdDecompressor(dict_data=raw_content).decompress(frame),
                                  ext_hook=lambda code, data: (code, bytes(data)))["recent_contacts"]["CALL_CENTER"][0][
        "name"] == "billing question"


def test_ids_a_decode_unpacked_are_packed_again_to_the_same_bytes_and_the_ids_kept_are_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from processors.identity.graph import profile_codec

    monkeypatch.setattr(profile_codec, "_PACKED_IDS", {})
    cold = encode_profile(V2_PROFILE)
    profile_codec._PACKED_IDS.clear()
    assert decode_profile(V2_STORED) == V2_PROFILE and len(profile_codec._PACKED_IDS) == 2  # the two UUIDs
    assert encode_profile(V2_PROFILE) == cold
    monkeypatch.setattr(profile_codec, "PACKED_IDS_KEPT", 3)
    for n in range(10):
        encode_profile({"recent_contacts": {"WEB": [{"id": f"{n:032x}"}]}})
        assert len(profile_codec._PACKED_IDS) <= 3


def test_an_encode_with_the_ids_packed_before_writes_what_a_cold_one_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept packed ids answer without a call (#9): the same bytes as packing each id anew, for every kind of id."""
    from processors.identity.graph import profile_codec

    contacts = [{"id": "a2243c643e0d4bb8a6189d3675b8eaba", "at": 1}, {"id": "a2243c64-3e0d-4bb8-a618-9d3675b8eaba"},
                {"id": "WT0123456789abcdef"}, {"id": 7}, {"id": ["not", "an", "id"]}, {"id": None}, {"at": 2},
                "not an entry"]
    profile = {"recent_contacts": {"CALL_CENTER": contacts, "WEB": "not a list"}}
    monkeypatch.setattr(profile_codec, "_PACKED_IDS", {})
    cold = encode_profile(profile)
    assert len(profile_codec._PACKED_IDS) == 2  # the two UUIDs, kept
    assert encode_profile(profile) == cold and decode_profile(cold) == profile


# PROFILE as V3 wrote it (zstd, V3's dictionary), before V4.
V3_STORED = bytes.fromhex(
    "03209acd0200c40381819188a26964d801a2243c643e0d4bb8a6189d3675b8eaba2f4425e044b062696c6c696e67207175657374696f6ea7"
    "6167656e742d37ce0001d4c009001704e70752827b11d08094cd9a0d00d7f9183a7f711700116c")


def test_profiles_of_the_v3_format_still_decode_and_v4_takes_a_fifth_less() -> None:
    assert V3_STORED[0] == PROFILE_ZSTD_V3 and decode_profile(V3_STORED) == PROFILE
    stored = encode_profile(PROFILE)
    assert decode_profile(stored) == PROFILE
    assert len(stored) <= 0.8 * len(V3_STORED)  # 74 bytes instead of 95: a 112-byte object instead of 128


def test_the_v4_dictionary_never_changes_and_a_v4_value_is_a_zstd_frame_without_its_magic_number() -> None:
    import hashlib

    import zstandard

    from processors.identity.graph.profile_codec import _PROFILE_ZDICT_V4

    # Stored profiles need these very bytes: a better dictionary is a new mark, this one stays readable.
    assert hashlib.sha256(_PROFILE_ZDICT_V4).hexdigest() == \
        "ec3d8752b9568787f1670bb6c826aa3106491454d98e8817719f2edfaede9cc7"
    frame = b"\x28\xb5\x2f\xfd" + encode_profile(V2_PROFILE)[1:]  # V3's frame format: any zstd reads it
    raw_content = zstandard.ZstdCompressionDict(_PROFILE_ZDICT_V4, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert msgspec.msgpack.decode(zstandard.ZstdDecompressor(dict_data=raw_content).decompress(frame),
                                  ext_hook=lambda code, data: (code, bytes(data)))["recent_contacts"]["WEB"] == \
        [{"id": "i-1", "at": 1}]


def test_a_profile_whose_ids_do_not_pack_is_encoded_as_it_is_and_only_the_channels_with_uuids_are_copied() -> None:
    from processors.identity.graph.profile_codec import _with_packed_ids

    plain = {"recent_contacts": {"WEB": [{"id": "i-1", "at": 1}], "BRANCH": "not a list"}, "products": {}}
    assert _with_packed_ids(plain) is plain  # no new map or list at each save (#9)
    packed = _with_packed_ids(V2_PROFILE)
    assert packed["recent_contacts"]["WEB"] is V2_PROFILE["recent_contacts"]["WEB"]
    first, second = packed["recent_contacts"]["CALL_CENTER"]
    assert (first["id"].code, first["id"].data.hex(), second["id"].data.hex()) == (
        2, "a2243c643e0d4bb8a6189d3675b8eaba", "a2243c643e0d4bb8a6189d3675b8eabb")
    assert V2_PROFILE["recent_contacts"]["CALL_CENTER"][0]["id"] == "a2243c64-3e0d-4bb8-a618-9d3675b8eaba"
    assert msgspec.msgpack.encode(packed) == msgspec.msgpack.encode(
        {"recent_contacts": {"CALL_CENTER": [first, second], "WEB": [{"id": "i-1", "at": 1}]}})
