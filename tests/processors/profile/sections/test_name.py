"""The screen pop's name: given name and surname as last observed, with the channel (#8, traits on every channel)."""

from __future__ import annotations

import itertools
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
    old = named({"given_name": "Celine", "family_name": "Valette"}, minutes=1, channel="BRANCH")  # as trusted
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
    son = named({"given_name": "Jonathan", "family_name": "Doe"}, minutes=1, channel="BRANCH")
    father = named({"given_name": "Robert", "family_name": "Doe"}, minutes=9, channel="BRANCH")
    profile = book.apply(book.apply(None, son, ["EMAIL:jonathan@x.org"]), father, ["ACCOUNT:7718"])
    assert book.render(profile)["name"]["given_name"] == "Robert"
    kept, moved = book.split(profile, [], ["ACCOUNT:7718"], ["EMAIL:jonathan@x.org"])
    assert book.render(kept)["name"]["given_name"] == "Jonathan"
    assert book.render(moved)["name"] == {"given_name": "Robert", "family_name": "Doe", "channel": "BRANCH",
                                          "observed_at": book.render(profile)["name"]["observed_at"]}


def test_a_one_off_typo_does_not_replace_the_name_most_observations_support() -> None:
    """tester12 (minor): Sophie's later visit typed "Durnad": the spelling most observations support is shown (case
    and accents aside), in every arrival order; a partial observation supports the full name it agrees with."""
    right = [named({"given_name": "Sophie", "family_name": "Durand"}, minutes=1, channel="WEB"),
             named({"given_name": "sophie", "family_name": "DURAND"}, minutes=2, channel="BRANCH"),
             named({"given_name": "Sophie"}, minutes=3, channel="CALL_CENTER")]
    typo = named({"given_name": "Sophie", "family_name": "Durnad"}, minutes=9, channel="BRANCH")
    for order in itertools.permutations([*right, typo]):
        view = SECTION.render(fold(*order) or {})
        assert (view["given_name"], view["family_name"], view["channel"]) == ("sophie", "DURAND", "BRANCH")


def test_one_observation_each_shows_the_latest_a_new_name_wins_at_once() -> None:
    old = named({"given_name": "Anne", "family_name": "Morel"}, minutes=1)
    new = named({"given_name": "Anne", "family_name": "Morel-Ricard"}, minutes=5)
    for order in ((old, new), (new, old)):
        assert SECTION.render(fold(*order) or {})["family_name"] == "Morel-Ricard"


def test_a_name_never_follows_a_claim_nor_comes_from_another_persons_record() -> None:
    """tester12 S1: a claim moves the family phone to the customer of its earliest event (``claim=True``): the IVR
    name that came through the phone stays where the matcher put it; and a record the matcher does not take as the
    customer's person (``person=False``) feeds no name."""
    book = ProfileBook.from_registry()
    marie = named({"given_name": "Marie", "family_name": "Dumas"}, minutes=60, channel="CALL_CENTER")
    profile = book.apply(None, marie, ["PHONE:+33679000001"])
    kept, moved = book.split(profile, [], ["PHONE:+33679000001"], ["USER_ID:marie-I"], claim=True)
    assert book.render(kept)["name"]["given_name"] == "Marie" and book.render(moved)["name"] == {}
    kept, moved = book.split(profile, [], ["PHONE:+33679000001"], ["USER_ID:marie-I"])  # an operator's split
    assert book.render(kept)["name"] == {} and book.render(moved)["name"]["given_name"] == "Marie"
    assert book.render(book.apply(None, marie, ["PHONE:+33679000001"], person=False))["name"] == {}
    assert "name" not in book.impersonal(profile) and "_via" not in book.impersonal(profile)


def test_a_contact_leaving_takes_the_record_it_named_for_its_traits() -> None:
    ivr = named({"given_name": "Bob", "family_name": "Lee"}, minutes=10, channel="CALL_CENTER", event_id="ivr-1")
    own = named({"given_name": "Ann", "family_name": "Lee"}, minutes=1, event_id="web-1")
    state = fold(own, ivr)
    call = Event("omnibus.contact.InteractionRecorded", {"envelope": envelope("CALL_CENTER"), "traits_event_id": "ivr-1"})
    stays, goes = SECTION.split(state, [call])
    assert SECTION.render(stays or {})["given_name"] == "Ann" and SECTION.render(goes or {})["given_name"] == "Bob"
    assert SECTION.split(state, []) == (state, None)


FOURNIER = {"given_name": "Claire", "family_name": "Fournier"}


def test_a_clerks_one_off_typo_does_not_replace_the_customers_own_spelling() -> None:
    """testers: Claire Fournier's pop showed a counter clerk's "Fourneir" after one branch visit (one observation
    each: the latest won). A tie goes to the more trusted source (``NAME_TRUST``), in every arrival order; the same
    for the legacy master record against an agent's typing."""
    own = named(FOURNIER, minutes=1, channel="WEB")
    typo = named({**FOURNIER, "family_name": "Fourneir"}, minutes=9, channel="BRANCH")
    for order in itertools.permutations([own, typo]):
        view = SECTION.render(fold(*order) or {})
        assert (view["family_name"], view["channel"]) == ("Fournier", "WEB")
    master = named(FOURNIER, minutes=1, channel="BUSINESS_SYSTEM")
    agent = named({**FOURNIER, "family_name": "Fournie"}, minutes=9, channel="CALL_CENTER")
    assert SECTION.render(fold(agent, master) or {})["family_name"] == "Fournier"
    # Evidence first: a spelling observed more often wins whatever its source, and the right one seen again wins back.
    again = named({**FOURNIER, "family_name": "Fourneir"}, minutes=20, channel="BRANCH")
    assert SECTION.render(fold(own, typo, again) or {})["family_name"] == "Fourneir"
    assert SECTION.render(fold(own, typo, again, named(FOURNIER, minutes=30, channel="BRANCH")) or {})[
        "family_name"] == "Fournier"


def test_a_new_family_name_wins_when_seen_repeatedly_or_from_a_trusted_source() -> None:
    """A marriage: Claire Fournier becomes Claire Martin. Seen repeatedly at the counter, it wins once it is
    observed more often than the old name; typed by Claire on the web (or updated in the master record), it wins at
    once against an old name observed as often, whatever the arrival order."""
    old = [named(FOURNIER, minutes=1, channel="WEB"), named(FOURNIER, minutes=2, channel="CALL_CENTER")]
    martin = [named({**FOURNIER, "family_name": "Martin"}, minutes=10 + i, channel="BRANCH") for i in range(3)]
    assert SECTION.render(fold(*old, *martin[:2]) or {})["family_name"] == "Fournier"  # 2 against 2, less trusted
    for order in itertools.permutations([*old, *martin]):
        assert SECTION.render(fold(*order) or {})["family_name"] == "Martin"
    clerk_typed = named(FOURNIER, minutes=1, channel="BRANCH")
    for channel in ("WEB", "BUSINESS_SYSTEM"):
        married = named({**FOURNIER, "family_name": "Martin"}, minutes=10, channel=channel)
        for order in itertools.permutations([clerk_typed, married]):
            assert SECTION.render(fold(*order) or {})["family_name"] == "Martin"
    # The same trust and one observation each: the latest (a web sign-up, then a web update after the marriage).
    web_old, web_new = named(FOURNIER, minutes=1), named({**FOURNIER, "family_name": "Martin"}, minutes=10)
    assert SECTION.render(fold(web_new, web_old) or {})["family_name"] == "Martin"


def test_namesakes_are_told_apart_by_their_birth_year_never_the_whole_date() -> None:
    """testers: father and son "Jean Dupont" at one address both read JEAN DUPONT on their screen pops. Each shows
    the year of its own birth date, never the day or month (module doc); the year most observations give, then the
    most trusted source; none when no observation gave a birth date."""
    jean = {"given_name": "JEAN", "family_name": "DUPONT"}
    father = SECTION.render(fold(named({**jean, "birth_date": "1962-03-14"}, channel="BRANCH")) or {})
    son = SECTION.render(fold(named({**jean, "birth_date": "1991-07-02"}, channel="BRANCH")) or {})
    assert (father["birth_year"], son["birth_year"]) == (1962, 1991)
    assert set(father) == {"given_name", "family_name", "channel", "observed_at", "birth_year"}
    assert "03-14" not in str(father) and "14/03" not in str(father)
    assert "birth_year" not in SECTION.render(fold(named(jean)) or {})
    assert "birth_year" not in SECTION.render(fold(named({**jean, "birth_date": "31/02/1962"})) or {})  # no date
    typed = named({**jean, "birth_date": "1926-03-14"}, minutes=9, channel="BRANCH")  # a clerk's slip
    own = named({**jean, "birth_date": "1962-03-14"}, minutes=1, channel="WEB")
    for order in itertools.permutations([own, typed]):
        assert SECTION.render(fold(*order) or {})["birth_year"] == 1962
    twice = named({**jean, "birth_date": "14/03/1926"}, minutes=12, channel="CALL_CENTER")
    assert SECTION.render(fold(own, typed, twice) or {})["birth_year"] == 1926
    assert SECTION.render(fold(own, named(jean, minutes=20)) or {})["birth_year"] == 1962  # a later one without
