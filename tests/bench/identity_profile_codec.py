"""What the identity profile's changelog value costs to write and read (#9): bytes and µs per encode/decode.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_profile_codec

Synthetic profiles of 1, 3 and 10 recent contacts (UUID ids, as the contacts' event ids; entries as the section
writes them: until 2026-12-01 the contacts here had ISO times and no ``recent_contacts`` key order); CPU time
(``time.process_time``), best of 7 × 20,000 calls. Prints a markdown table: plain msgpack (ids packed as
``encode_profile`` packs them), the V2 format (the same msgpack deflated with the V1 dictionary, as profiles were
written before V3) and ``encode_profile``/``decode_profile`` (the current format: zstd with a preset dictionary,
V4 since #9 point 5, V3 before it). The decode of a profile keeps its ids for the next encode
(``profile_codec._PACKED_IDS``), so encode is timed after a decode, as a worker reads a profile, changes it and writes
it back.
"""

from __future__ import annotations

import functools
import os
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

from processors.identity.graph import profile_codec as codec

CALLS, REPEAT = 20_000, 7


def _contact(second: int) -> dict[str, Any]:
    """An ``InteractionRecorded`` call's entry as ``recent_contacts`` keeps it (its keys in that order, µs times)."""
    return {"id": str(uuid.uuid4()), "at": 1_764_496_800_000_000 + second * 1_000_000, "site": None, "kind": "CALL",
            "name": "billing question", "outcome": "RESOLVED", "agent_id": f"agent-{second}",
            "duration_ms": 60_000 + second, "disposition": None}


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
    best = float("inf")
    for _ in range(REPEAT):
        started = time.process_time()
        for _ in range(CALLS):
            call()
        best = min(best, time.process_time() - started)
    return best / CALLS * 1e6


def _pack(profile: dict[str, Any]) -> bytes:
    return codec._ENCODER.encode(codec._with_packed_ids(profile))  # noqa: SLF001 - encode_profile's own steps


def encode_v2(profile: dict[str, Any]) -> bytes:
    """``profile`` as the V2 format wrote it (deflate, V1 dictionary): what V3 replaced."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, -codec.PROFILE_WINDOW_BITS, 2, zlib.Z_DEFAULT_STRATEGY,
                               codec._PROFILE_ZDICT_V1)  # noqa: SLF001
    return bytes((codec.PROFILE_DEFLATE_V2,)) + deflate.compress(_pack(profile)) + deflate.flush()


def row(name: str, profile: dict[str, Any]) -> str:
    """One markdown row for ``profile``."""
    plain, v2, v3 = _pack(profile), encode_v2(profile), codec.encode_profile(profile)
    assert codec.decode_profile(plain) == codec.decode_profile(v2) == codec.decode_profile(v3) == profile
    return (f"| {name} | {len(plain)} | {len(v2)} | {len(v3)} "
            f"| {_us(functools.partial(encode_v2, profile)):.1f} "
            f"| {_us(functools.partial(codec.encode_profile, profile)):.1f} "
            f"| {_us(functools.partial(codec.decode_profile, v2)):.1f} "
            f"| {_us(functools.partial(codec.decode_profile, v3)):.1f} |")


def main() -> None:
    print(f"load average: {os.getloadavg()}")
    print("| profile | msgpack bytes | V2 bytes | current bytes | V2 encode µs | current encode µs | V2 decode µs "
          "| current decode µs |")
    print("|---|---|---|---|---|---|---|---|")
    for name, profile in profiles().items():
        print(row(name, profile))


if __name__ == "__main__":
    main()
