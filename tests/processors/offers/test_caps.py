from datetime import timedelta

from processors.offers.caps import ContactPolicy, Suppression, not_before, suppression
from processors.offers.definition import Cap
from processors.offers.quiet_hours import QuietHours
from tests.processors.offers.factories import T0, customer, offer, us

POLICY = ContactPolicy(caps=(Cap(max=3, per="7d"), Cap(max=1, per="1d", channel="CALL_CENTER")), quiet_hours=None)
HOUR = timedelta(hours=1)


def ledger(*rows: tuple[timedelta, str, str]) -> list[list]:
    return [[us(T0 - ago), channel, offer_id, f"e{n}", []] for n, (ago, channel, offer_id) in enumerate(rows)]


def test_cap_counts_every_channel_together() -> None:
    person = customer(ledger=ledger((HOUR * 30, "WEB", "a"), (HOUR * 50, "BRANCH", "b"), (HOUR * 70, "CALL_CENTER", "c")))
    assert suppression(person, offer("d"), "WEB", T0, "UTC", POLICY) is Suppression.CONTACT_CAP
    assert suppression(person, offer("d"), "BRANCH", T0, "UTC", POLICY) is Suppression.CONTACT_CAP


def test_presentations_older_than_the_window_do_not_count() -> None:
    person = customer(ledger=ledger((HOUR * 30, "WEB", "a"), (HOUR * 50, "BRANCH", "b"), (timedelta(days=8), "WEB", "c")))
    assert suppression(person, offer("d"), "WEB", T0, "UTC", POLICY) is None


def test_channel_cap_counts_only_its_channel() -> None:
    person = customer(ledger=ledger((HOUR * 2, "CALL_CENTER", "a")))
    assert suppression(person, offer("d"), "CALL_CENTER", T0, "UTC", POLICY) is Suppression.CHANNEL_CAP
    assert suppression(person, offer("d"), "WEB", T0, "UTC", POLICY) is None


def test_offer_cap_counts_only_that_offer_across_channels() -> None:
    capped = offer("a", caps=[{"max": 1, "per": "2d"}])
    person = customer(ledger=ledger((HOUR * 30, "WEB", "a")))
    assert suppression(person, capped, "BRANCH", T0, "UTC", POLICY) is Suppression.OFFER_CAP
    assert suppression(person, offer("b", caps=[{"max": 1, "per": "2d"}]), "BRANCH", T0, "UTC", POLICY) is None


def test_quiet_hours_in_the_customers_zone_come_first() -> None:
    policy = ContactPolicy(caps=(), quiet_hours=QuietHours(start="21:00", end="08:00"))
    # 12:00 UTC is 20:00 in Shanghai (allowed) and 21:00 in Tokyo (quiet).
    assert suppression(customer(), offer(), "WEB", T0, "Asia/Shanghai", policy) is None
    assert suppression(customer(), offer(), "WEB", T0, "Asia/Tokyo", policy) is Suppression.QUIET_HOURS
    own = offer(quiet_hours={"start": "19:00", "end": "23:00"})
    assert suppression(customer(), own, "WEB", T0, "Asia/Shanghai", policy) is Suppression.QUIET_HOURS


def test_not_before_is_the_end_of_the_latest_quiet_span() -> None:
    policy = ContactPolicy(caps=(), quiet_hours=QuietHours(start="21:00", end="08:00"))
    late = offer(quiet_hours={"start": "07:00", "end": "10:00"})
    # 21:00 in Tokyo: the policy ends 08:00, then the offer's own span runs to 10:00 (01:00 UTC).
    assert not_before(late, T0, "Asia/Tokyo", policy) == T0.replace(hour=1) + timedelta(days=1)
    assert not_before(offer(), T0, "Asia/Shanghai", policy) == T0


def reserved(offer_id: str, channel: str, until: int | None = None) -> list:
    return [us(T0), channel, offer_id, f"show-{offer_id}-{channel}", "cus_1", until]


def test_tester32_f9_an_outbound_push_counts_the_pushes_reserved_on_other_channels_not_its_own() -> None:
    across = ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=None)
    person = customer(reserved=[reserved("a", "SMS")])
    assert suppression(person, offer("a"), "EMAIL", T0, "UTC", across) is Suppression.CONTACT_CAP
    assert suppression(person, offer("a"), "SMS", T0, "UTC", across) is None  # it holds its own room
    # a customer who is there comes first: the web, the counter and a call are not held back by a reservation
    assert suppression(person, offer("a"), "WEB", T0, "UTC", across) is None
    # an offer past its valid_until is sent by no gateway: its reservation no longer counts
    lapsed = customer(reserved=[reserved("a", "SMS", until=us(T0 - HOUR))])
    assert suppression(lapsed, offer("b"), "EMAIL", T0, "UTC", across) is None


def test_tester32_f9_a_cap_is_the_reason_before_quiet_hours_for_an_outbound_push() -> None:
    """The pull query for the SMS or e-mail channel names the cap holding the push back, not the night deferring it."""
    policy = ContactPolicy(caps=(Cap(max=1, per="1d"),), quiet_hours=QuietHours(start="21:00", end="08:00"))
    person = customer(ledger=ledger((HOUR, "BRANCH", "a")))
    assert suppression(person, offer("a"), "SMS", T0, "Asia/Tokyo", policy) is Suppression.CONTACT_CAP
    assert suppression(customer(), offer("a"), "SMS", T0, "Asia/Tokyo", policy) is Suppression.QUIET_HOURS
