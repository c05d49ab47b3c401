"""What the offer processor reads from an event: the order identifiers decide in (tester15 F3)."""

from __future__ import annotations

from processors.offers.intake import ranked_keys


def test_the_most_specific_identifier_comes_first_and_ties_keep_the_events_order() -> None:
    keys = ["PHONE:+33478998877", "EMAIL:a@x.org", "ACCOUNT:42", "USER_ID:u1", "PHONE:+33600000000", "UNKNOWN:x"]
    assert ranked_keys(keys) == ["USER_ID:u1", "ACCOUNT:42", "EMAIL:a@x.org", "PHONE:+33478998877",
                                 "PHONE:+33600000000", "UNKNOWN:x"]
