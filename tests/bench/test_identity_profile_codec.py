"""The profile codec bench's profiles: what it compares decodes to the same profile every way."""

from __future__ import annotations

from processors.identity.graph import profile_codec as codec
from tests.bench.identity_profile_codec import _pack, encode_v2, profiles


def test_each_bench_profile_reads_back_from_plain_msgpack_and_from_both_compressed_forms() -> None:
    for profile in profiles().values():
        plain, v2, v3 = _pack(profile), encode_v2(profile), codec.encode_profile(profile)
        assert plain[0] not in (codec.PROFILE_DEFLATE_V1, codec.PROFILE_DEFLATE_V2, codec.PROFILE_ZSTD_V3,
                                codec.PROFILE_ZSTD_V4)
        assert (v2[0], v3[0]) == (codec.PROFILE_DEFLATE_V2, codec.PROFILE_ZSTD_V4)
        assert codec.decode_profile(plain) == codec.decode_profile(v2) == codec.decode_profile(v3) == profile
        assert len(v2) < len(plain) and len(v3) < len(plain)
