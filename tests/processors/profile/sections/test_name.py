"""The screen pop's name: given name and surname as last observed, with the channel (#8, traits on every channel)."""

from __future__ import annotations

from typing import Any

from bus.serde import Event
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from processors.profile.sections.name import NameSection
from tests.processors.identity.support import envelope

SECTION = NameSection()


def named(traits: dict[str, str] | None, *, minutes: int = 0, channel: str = "WEB", event_id: str | None = None,
          identifiers: Any = (("EMAIL", "celine@example.org"),)) -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope(channel, event_id=event_id, minutes=minutes),
        "identifiers": [{"type": k, "value": v} for k, v in identifiers], "traits": traits,
    })


def fold(*events: Event, section: NameSection = SECTION) -> dict[str, Any] | None:
    state = None
    for event in events:
        if section.wants(event):
            state = section.apply(state, event)
    return state


def test_the_latest_name_by_event_time_is_shown_with_its_channel_whatever_the_arrival_order() -> None:
    old = named({"given_name": "Celine", "family_name": "Valette"}, minutes=1, channel="WEB")
    new = named({"given_name": "Céline", "family_name": "Valette-Roy"}, minutes=5, channel="CALL_CENTER")
    for order in ((old, new), (new, old), (new, old, new)):
        view = SECTION.render(fold(*order) or {})
        assert view["given_name"] == "Céline" and view["family_name"] == "Valette-Roy"
        assert view["channel"] == "CALL_CENTER" and view["observed_at"].startswith("2026") or view["observed_at"]


def test_a_full_name_is_split_and_events_without_a_name_are_not_wanted() -> None:
    full = named({"full_name": "Dr. Jonathan Q. Doe"})
    assert SECTION.wants(full) and not SECTION.wants(named(None)) and not SECTION.wants(named({"postcode": "75011"}))
    view = SECTION.render(fold(full) or {})
    assert (view["given_name"], view["family_name"]) == ("Jonathan", "Doe")
    only_given = SECTION.render(fold(named({"given_name": "Ana"})) or {})
    assert only_given["given_name"] == "Ana" and "family_name" not in only_given  # never null
    assert SECTION.render({}) == {}


def test_a_merge_shows_the_latest_of_both_and_the_state_stays_bounded() -> None:
    section = NameSection(ProfileLimits(name_observations=2))
    a = fold(named({"given_name": "A"}, minutes=1), named({"given_name": "B"}, minutes=2), section=section)
    b = fold(named({"given_name": "C"}, minutes=3), section=section)
    merged = section.merge(a, b)
    assert section.render(merged)["given_name"] == "C" and len(merged["seen"]) == 2
    assert section.render(section.merge(b, a))["given_name"] == "C"


def test_the_book_reads_the_name_on_the_side_an_observation_is_no_contact() -> None:
    """Identity still treats an observation as before: it need not name a customer to be refused, and it is no
    contact on the screen pop (``ProfileBook.reads``); only an observation with a name travels with its record."""
    book = ProfileBook.from_registry()
    assert not book.reads("omnibus.contact.IdentifiersObserved") and book.takes("omnibus.contact.IdentifiersObserved")
    assert book.wants(named({"given_name": "Ana"})) and not book.wants(named({"postcode": "75011"}))
    assert book.apply(None, named({"postcode": "75011"})) == {}
    assert book.render(None)["name"] == {}


def test_a_split_takes_the_moved_persons_name_away_and_the_source_shows_its_own_again() -> None:
    """The father's name, observed last through the moved account, must not stay on the son's screen pop."""
    book = ProfileBook.from_registry()
    son = named({"given_name": "Jonathan", "family_name": "Doe"}, minutes=1)
    father = named({"given_name": "Robert", "family_name": "Doe"}, minutes=9, channel="BRANCH")
    profile = book.apply(book.apply(None, son, ["EMAIL:jonathan@x.org"]), father, ["ACCOUNT:7718"])
    assert book.render(profile)["name"]["given_name"] == "Robert"
    kept, moved = book.split(profile, [], ["ACCOUNT:7718"], ["EMAIL:jonathan@x.org"])
    assert book.render(kept)["name"]["given_name"] == "Jonathan"
    assert book.render(moved)["name"] == {"given_name": "Robert", "family_name": "Doe", "channel": "BRANCH",
                                          "observed_at": book.render(profile)["name"]["observed_at"]}
