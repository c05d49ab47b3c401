"""The profile codec bench's profiles: what it compares decodes to the same profile both ways."""

from __future__ import annotations

from processors.identity.graph import state
from tests.bench.identity_profile_codec import _pack, profiles


def test_each_bench_profile_reads_back_from_plain_msgpack_and_from_its_compressed_form() -> None:
    for profile in profiles().values():
        plain, compressed = _pack(profile), state.encode_profile(profile)
        assert plain[0] not in (state.PROFILE_DEFLATE_V1, state.PROFILE_DEFLATE_V2, state.PROFILE_ZSTD_V3)
        assert state.decode_profile(plain) == state.decode_profile(compressed) == profile
        assert len(compressed) < len(plain)
