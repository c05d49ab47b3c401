"""``content_id``: a business id from a reusable source id, named with the record's content."""

from __future__ import annotations

from adapters.base.mapper import CONTENT_ID_HEX, content_digest, content_id


def test_a_content_id_is_the_record_id_and_the_digests_first_hex_digits() -> None:
    digest = content_digest({"event": "Service Request Submitted", "messageId": "m-1"})
    assert digest is not None
    assert content_id("web:portal-web:m-1", digest) == f"web:portal-web:m-1:{digest.hex()[:CONTENT_ID_HEX]}"
    assert CONTENT_ID_HEX == 8  # the suffix users see in the CRM and in `omnibus handoffs show`: kept short


def test_another_content_gets_another_id_and_the_same_content_the_same() -> None:
    one, other = ({"event": name, "messageId": "m-1"} for name in ("Bill Viewed", "Bill Paid"))
    assert content_id("r", content_digest(one)) == content_id("r", content_digest(dict(reversed(one.items()))))
    assert content_id("r", content_digest(one)) != content_id("r", content_digest(other))


def test_without_a_digest_the_record_id_is_kept() -> None:
    assert content_id("counter:T1:e-1", None) == "counter:T1:e-1"
