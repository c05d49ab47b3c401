"""The recent-token window a node keeps (``remember`` / ``recalls``): 6-byte hashes, matched only where one starts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from processors.identity.graph.context import (
    TOKEN_HASH_BYTES,
    recalls,
    recalls_hash,
    remember,
    remember_hash,
    token_hash,
)


def _by_slices(kept: bytes, wanted: bytes) -> bool:
    """The rule as first written: one slice per kept hash compared with ``wanted``."""
    return any(kept[i:i + TOKEN_HASH_BYTES] == wanted for i in range(0, len(kept), TOKEN_HASH_BYTES))


def test_a_remembered_token_is_recalled_until_the_window_drops_it() -> None:
    kept = b""
    for number in range(5):
        kept = remember(kept, f"e-{number}", 3)
    assert len(kept) == 3 * TOKEN_HASH_BYTES
    assert [recalls(kept, f"e-{number}") for number in range(5)] == [False, False, True, True, True]
    assert remember_hash(b"", token_hash("e-9"), 3) == remember(b"", "e-9", 3)


def test_a_match_across_two_kept_hashes_is_not_a_recall() -> None:
    wanted = token_hash("e-1")
    straddling = b"\x00\x00\x00" + wanted + b"\x00\x00\x00"  # the hash's bytes from offset 3: no hash starts there
    assert not recalls_hash(straddling, wanted)
    assert recalls_hash(straddling + wanted, wanted)  # unaligned at 3, then a kept hash at 12
    assert not recalls_hash(b"\x00" * 5 + wanted + wanted, wanted)  # at 5 and 11: neither starts a kept hash
    assert not recalls_hash(wanted[:5], wanted)  # a hash cut short matches nothing


@given(st.binary(max_size=8 * TOKEN_HASH_BYTES + 5), st.binary(min_size=TOKEN_HASH_BYTES, max_size=TOKEN_HASH_BYTES),
       st.integers(min_value=0, max_value=8 * TOKEN_HASH_BYTES))
def test_recalls_hash_answers_as_one_slice_per_kept_hash(noise: bytes, wanted: bytes, at: int) -> None:
    for kept in (noise, noise[:at] + wanted + noise[at:]):
        assert recalls_hash(kept, wanted) == _by_slices(kept, wanted)
