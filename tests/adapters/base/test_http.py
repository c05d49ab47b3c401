"""Decoding request bodies by their Content-Encoding: every failure a 4xx with a reason, no bombs."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from adapters.base.errors import RejectedInput
from adapters.base.http import decode_body

BODY = b'{"userId": "u", "event": "e"}'


@pytest.mark.parametrize(("encoding", "encoded"), [
    ("gzip", gzip.compress(BODY)), ("x-gzip", gzip.compress(BODY)), ("deflate", zlib.compress(BODY)),
    ("br", brotli.compress(BODY)), ("", BODY), ("identity", BODY), ("gzip, br", brotli.compress(gzip.compress(BODY))),
])
def test_supported_encodings_decode(encoding: str, encoded: bytes) -> None:
    assert decode_body(encoded, encoding, max_bytes=1024) == BODY


@pytest.mark.parametrize(("encoding", "encoded", "status", "code"), [
    ("br", b"\x00not brotli", 400, "bad_encoding"),
    ("gzip", b"not gzip", 400, "bad_encoding"),
    ("deflate", b"zz", 400, "bad_encoding"),
    ("gzip", gzip.compress(BODY)[:-9], 400, "bad_encoding"),  # truncated
    ("zstd", b"xx", 415, "unsupported_encoding"),
    ("gzip", gzip.compress(b"0" * 10_000_000), 413, "too_large"),  # 10 MB from 10 KB: a bomb
    ("br", brotli.compress(b"0" * 10_000_000), 413, "too_large"),
])
def test_bad_encodings_are_refused_with_a_status_and_a_code(encoding: str, encoded: bytes, status: int, code: str) -> None:
    with pytest.raises(RejectedInput) as refused:
        decode_body(encoded, encoding, max_bytes=500 * 1024)
    assert (refused.value.status, refused.value.code) == (status, code)
