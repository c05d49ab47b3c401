"""What deflate costs and saves in the identity profile's changelog value (#9): bytes and µs per encode/decode.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_profile_codec

Synthetic profiles of 1, 3 and 10 recent contacts (UUID ids, as the contacts' event ids); ``timeit``, best of 7 ×
20,000 calls. Prints a markdown table: plain msgpack (``pack``/``unpack``, ids packed as ``encode_profile`` packs
them) beside ``encode_profile``/``decode_profile`` (the same msgpack, deflated with the preset dictionary).
"""

from __future__ import annotations

import functools
import os
import timeit
import uuid
from collections.abc import Callable
from typing import Any

from processors.identity.graph import state

CALLS, REPEAT = 20_000, 7


def _contact(second: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "at": f"2026-11-30T10:00:0{second}Z", "site": None, "kind": "CALL",
            "outcome": "RESOLVED"}


def profiles() -> dict[str, dict[str, Any]]:
    return {
        "1 contact": {"recent_contacts": {"WEB": [_contact(0)]}},
        "3 contacts": {"recent_contacts": {"WEB": [_contact(0), _contact(1)], "CALL_CENTER": [_contact(3)]}},
        "10 contacts + product": {
            "recent_contacts": {channel: [_contact(n) for n in range(4 if channel == "WEB" else 3)]
                                for channel in ("WEB", "CALL_CENTER", "BRANCH")},
            "products": {"p1": {"product_code": "X1", "product_name": "Current account", "status": "ACTIVE",
                                "since": "2020-01-01"}}},
    }


def _us(call: Callable[[], Any]) -> float:
    return min(timeit.repeat(call, number=CALLS, repeat=REPEAT)) / CALLS * 1e6


def _pack(profile: dict[str, Any]) -> bytes:
    return state._ENCODER.encode(state._with_packed_ids(profile))  # noqa: SLF001 - encode_profile's own steps


def row(name: str, profile: dict[str, Any]) -> str:
    """One markdown row for ``profile``."""
    plain, deflated = _pack(profile), state.encode_profile(profile)
    assert state.decode_profile(plain) == state.decode_profile(deflated) == profile
    unpack = state._PROFILE_DECODER.decode  # noqa: SLF001
    return (f"| {name} | {len(plain)} | {len(deflated)} | {_us(functools.partial(_pack, profile)):.1f} "
            f"| {_us(functools.partial(state.encode_profile, profile)):.1f} "
            f"| {_us(functools.partial(unpack, plain)):.1f} "
            f"| {_us(functools.partial(state.decode_profile, deflated)):.1f} |")


def main() -> None:
    print(f"load average: {os.getloadavg()}")
    print("| profile | msgpack bytes | deflated bytes | pack µs | encode_profile µs | unpack µs | decode_profile µs |")
    print("|---|---|---|---|---|---|---|")
    for name, profile in profiles().items():
        print(row(name, profile))


if __name__ == "__main__":
    main()
