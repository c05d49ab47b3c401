"""Who gives way when a per-customer limit decides: the largest rank (earliest event first), not the last arrival."""

from processors.identity.graph.limits import HASH_BITS, event_rank, key_rank, loser
from processors.identity.graph.outputs import Refused, Unassigned
from processors.identity.rules import MAX_PER_CUSTOMER, RECORD_CHANNEL, claims_record
from tests.processors.identity.support import Harness, settings


def test_an_earlier_event_ranks_first_and_the_event_id_breaks_a_tie_within_a_microsecond() -> None:
    assert event_rank(1_000, "z") < event_rank(1_001, "a")
    assert event_rank(1_000, "a") != event_rank(1_000, "b")  # distinct low bits (for these two ids)
    assert event_rank(1_000, "a") == event_rank(1_000, "a")
    assert event_rank(1_000, "a") >> HASH_BITS == 1_000
    assert event_rank((1 << 53) - 1, "x") < 1 << 63  # fits a signed 64-bit int until the year 2255


def test_a_system_of_record_ranks_first_on_what_it_gives_its_holder_and_last_on_the_rest() -> None:
    """``key_rank``: a record's account, IBAN and card before every other channel's event, whatever the times
    (tester21 F9); its mobile after them (tester18 F4); a fixed line by its time (tester20 F1)."""
    record, later_web = event_rank(2_000, "record"), event_rank(1_000_000, "web")
    earlier_web = event_rank(1_000, "web")
    for own in ("ACCOUNT:ACC-1001", "ACCOUNT:FR7630004000031234567890143", "CARD:card1:ab"):
        for web in (earlier_web, later_web):
            for channel in ("WEB", "BRANCH", "CALL_CENTER"):
                assert key_rank(record, RECORD_CHANNEL, own) < key_rank(web, channel, own), (own, channel)
        assert key_rank(record, RECORD_CHANNEL, own) < key_rank(event_rank(3_000, "r2"), RECORD_CHANNEL, own)
        assert key_rank(earlier_web, "WEB", own) < key_rank(later_web, "BRANCH", own)  # by time among the others
    mobile, landline = "PHONE:+33612345671", "PHONE:+33140000000"
    assert key_rank(earlier_web, "WEB", mobile) < key_rank(record, RECORD_CHANNEL, mobile)
    assert key_rank(later_web, "WEB", mobile) < key_rank(record, RECORD_CHANNEL, mobile)
    assert key_rank(record, RECORD_CHANNEL, landline) < key_rank(later_web, "WEB", landline)
    assert key_rank(earlier_web, "WEB", landline) < key_rank(record, RECORD_CHANNEL, landline)


def test_an_event_that_claims_a_records_key_ranks_its_other_identifiers_after_every_record_and_event() -> None:
    """``key_rank`` with ``claims``: a call or an identify that carried an account, a card or a customer number typed
    on a keypad or in a form (``rules.claims_record``) ranks its phone, e-mail or login after a record's mobile and
    after any other event's, whatever the times (tester25 F2); the typed key itself ranks as any other channel's."""
    record, earlier, later = event_rank(2_000, "record"), event_rank(1_000, "call"), event_rank(1_000_000, "web")
    for typed in ("ACCOUNT:ACC-T25-0004", "CARD:card1:ab", "CUSTOMER_NUMBER:C-770004"):
        assert claims_record("CALL_CENTER", ["PHONE:+33612345005", typed])
        assert not claims_record(RECORD_CHANNEL, ["PHONE:+33612345005", typed])
        assert key_rank(earlier, "WEB", typed, True) == key_rank(earlier, "WEB", typed)
    assert not claims_record("WEB", ["PHONE:+33612345005", "EMAIL:a@example.org"])
    for own in ("PHONE:+33612345005", "PHONE:+33140000000", "EMAIL:didier@example.org", "USER_ID:t25-mallory"):
        assert key_rank(record, RECORD_CHANNEL, own) < key_rank(earlier, "CALL_CENTER", own, True), own
        assert key_rank(later, "WEB", own) < key_rank(earlier, "CALL_CENTER", own, True), own
        assert key_rank(earlier, "WEB", own, True) < key_rank(later, "CALL_CENTER", own, True), own  # by time
        assert key_rank(later, "WEB", own, True) < 1 << 64  # an unsigned 64-bit int


def test_the_largest_rank_gives_way_then_the_largest_key() -> None:
    assert loser({"EMAIL:a": 5, "EMAIL:b": 7}, "EMAIL:c", 6) == "EMAIL:b"
    assert loser({"EMAIL:a": 5, "EMAIL:b": 7}, "EMAIL:c", 9) == "EMAIL:c"
    assert loser({"EMAIL:a": 5, "EMAIL:b": 5}, "EMAIL:c", 5) == "EMAIL:c"
    assert loser({"EMAIL:b": 5, "EMAIL:c": 5}, "EMAIL:a", 5) == "EMAIL:c"


def keep_two_emails(events: list[tuple[int, str]]) -> Harness:
    """Feed ``(minute, e-mail)`` events of user u-1 in the given order (max two e-mails)."""
    h = Harness(settings(max_per_customer={"EMAIL": 2}))
    for minute, email in events:
        h.observe(("USER_ID", "u-1"), ("EMAIL", email), minutes=minute, event_id=f"ev-{minute}")
    h.local.check_consistent()
    return h


def emails_of(h: Harness) -> set[str]:
    (members,) = [set(state.members) for state in h.local.roots().values()]
    return {key for key in members if key.startswith("EMAIL:")}


def test_a_late_arriving_earlier_email_evicts_the_member_seen_last() -> None:
    h = keep_two_emails([(5, "five@x.org"), (6, "six@x.org"), (1, "one@x.org")])
    assert emails_of(h) == {"EMAIL:one@x.org", "EMAIL:five@x.org"}
    assert h.customer("EMAIL", "six@x.org") is None  # evicted: it belongs to nobody, like a refused one
    (refused,) = h.decisions(Refused)
    assert (refused.identifier, refused.lineage.rule) == ("EMAIL:six@x.org", MAX_PER_CUSTOMER)
    assert refused.lineage.triggering_event_id == "ev-1" and refused.customer_id == h.customer("USER_ID", "u-1")
    assert refused.evicted  # it was taken off the customer: subscribers drop it, the compacted row goes
    (tombstone,) = h.decisions(Unassigned)
    assert tombstone.identifier == "EMAIL:six@x.org" and tombstone.version == 2  # it was assigned at version 1


def test_every_arrival_order_keeps_the_two_emails_seen_first() -> None:
    events = [(3, "c@x.org"), (1, "a@x.org"), (4, "d@x.org"), (2, "b@x.org")]
    for shift in range(len(events)):
        order = events[shift:] + events[:shift]
        assert emails_of(keep_two_emails(order)) == {"EMAIL:a@x.org", "EMAIL:b@x.org"}, order
        assert emails_of(keep_two_emails(order[::-1])) == {"EMAIL:a@x.org", "EMAIL:b@x.org"}, order[::-1]


def test_an_evicted_email_seen_again_earlier_comes_back_and_one_seen_later_stays_out() -> None:
    h = keep_two_emails([(5, "five@x.org"), (6, "six@x.org"), (1, "one@x.org"), (9, "six@x.org")])
    assert emails_of(h) == {"EMAIL:one@x.org", "EMAIL:five@x.org"}
    h.observe(("USER_ID", "u-1"), ("EMAIL", "six@x.org"), minutes=0, event_id="ev-0")
    assert emails_of(h) == {"EMAIL:one@x.org", "EMAIL:six@x.org"}
    assert h.customer("EMAIL", "five@x.org") is None
    h.local.check_consistent()


def test_an_evicted_email_alone_makes_a_customer_of_its_own() -> None:
    h = keep_two_emails([(5, "five@x.org"), (6, "six@x.org"), (1, "one@x.org")])
    h.observe(("EMAIL", "six@x.org"), minutes=7, event_id="ev-7")
    alone = h.customer("EMAIL", "six@x.org")
    assert alone is not None and alone != h.customer("USER_ID", "u-1")
    h.local.check_consistent()


def test_an_eviction_on_a_stale_rank_is_bounced_and_the_customer_decides_again() -> None:
    """The identifier knows an older event than its customer does (the rank update is still on its way)."""
    h = keep_two_emails([(5, "five@x.org"), (6, "six@x.org")])
    six = h.key("EMAIL", "six@x.org")
    h.local.store.nodes[six].first_rank = event_rank(0, "ev-older")  # type: ignore[union-attr]  # visited by an older event, rekey not yet delivered
    h.observe(("USER_ID", "u-1"), ("EMAIL", "one@x.org"), minutes=1, event_id="ev-1")
    assert emails_of(h) == {"EMAIL:one@x.org", "EMAIL:six@x.org"}  # five goes: six ranks first after all
    assert [r.identifier for r in h.decisions(Refused)] == ["EMAIL:five@x.org"]
    h.local.check_consistent()


def test_within_one_event_the_smaller_keys_are_kept() -> None:
    h = Harness(settings(max_per_customer={"EMAIL": 2}))
    h.observe(("USER_ID", "u-1"), ("EMAIL", "c@x.org"), ("EMAIL", "a@x.org"), ("EMAIL", "b@x.org"))
    assert emails_of(h) == {"EMAIL:a@x.org", "EMAIL:b@x.org"}
    assert h.customer("EMAIL", "c@x.org") is None
