"""The screen pop's name: given name and surname chosen among the observations, with the channel (#8, traits on every
channel; the rule: ``processors/profile/sections/name.py`` and ``name_choice.py``)."""

from __future__ import annotations

import itertools
from typing import Any

from bus.serde import Event
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from processors.profile.sections.name import NameSection
from tests.processors.identity.support import envelope

SECTION = NameSection()
DAY = 24 * 60  # minutes: observations on other days are other contacts (what counts once: name_choice)


def named(traits: dict[str, str] | None, *, minutes: int = 0, channel: str = "WEB", event_id: str | None = None,
          identifiers: Any = (("EMAIL", "celine@example.org"),), site: str | None = None) -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": {**envelope(channel, event_id=event_id, minutes=minutes), "site": site},
        "identifiers": [{"type": k, "value": v} for k, v in identifiers], "traits": traits,
    })


def fold(*events: Event, section: NameSection = SECTION) -> dict[str, Any] | None:
    state = None
    for event in events:
        if section.wants(event):
            state = section.apply(state, event)
    return state


def shown(*events: Event) -> dict[str, Any]:
    return SECTION.render(fold(*events) or {})


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
    """tester12 (minor): Sophie's later visit typed "Durnad": her name is shown as she typed it on the web (case and
    accents aside the spellings are one), in every arrival order; an observation without a surname counts for the
    given name."""
    right = [named({"given_name": "Sophie", "family_name": "Durand"}, minutes=1, channel="WEB"),
             named({"given_name": "sophie", "family_name": "DURAND"}, minutes=2, channel="BRANCH"),
             named({"given_name": "Sophie"}, minutes=3, channel="CALL_CENTER")]
    typo = named({"given_name": "Sophie", "family_name": "Durnad"}, minutes=9, channel="BRANCH")
    for order in itertools.permutations([*right, typo]):
        view = SECTION.render(fold(*order) or {})
        assert (view["given_name"], view["family_name"], view["channel"]) == ("Sophie", "Durand", "WEB")


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
    each: the latest won). Close spellings count together and the more trusted source's is shown (``NAME_TRUST``), in
    every arrival order; the same for the legacy master record against an agent's typing."""
    own = named(FOURNIER, minutes=1, channel="WEB")
    typo = named({**FOURNIER, "family_name": "Fourneir"}, minutes=9, channel="BRANCH")
    for order in itertools.permutations([own, typo]):
        view = SECTION.render(fold(*order) or {})
        assert (view["family_name"], view["channel"]) == ("Fournier", "WEB")
    master = named(FOURNIER, minutes=1, channel="BUSINESS_SYSTEM")
    agent = named({**FOURNIER, "family_name": "Fournie"}, minutes=9, channel="CALL_CENTER")
    assert SECTION.render(fold(agent, master) or {})["family_name"] == "Fournier"
    # Tester F2: a typo counts with the spelling it is close to, so keying it again on another day does not win.
    again = named({**FOURNIER, "family_name": "Fourneir"}, minutes=DAY, channel="BRANCH")
    for order in itertools.permutations([own, typo, again]):
        assert SECTION.render(fold(*order) or {})["family_name"] == "Fournier"


def test_the_customers_own_spelling_stays_among_the_kept_observations_however_many_visits_follow() -> None:
    """The state keeps the latest ``name_observations``, one of them the latest from a verified source: a clerk's
    typo at five later visits does not push the web's spelling out and win."""
    own = named(FOURNIER, minutes=1, channel="WEB")
    visits = [named({**FOURNIER, "family_name": "Fourneir"}, minutes=day * DAY, channel="BRANCH") for day in range(1, 7)]
    state = fold(own, *visits) or {}
    assert len(state["seen"]) == SECTION.limits.name_observations
    assert SECTION.render(state)["family_name"] == "Fournier"
    assert SECTION.render(fold(*visits, own) or {})["family_name"] == "Fournier"


def test_a_new_family_name_wins_when_seen_on_more_days_or_from_a_verified_source() -> None:
    """A marriage: Claire Fournier becomes Claire Martin. Reported at the counter only, it wins once it is observed on
    more days or channels than the old name (one visit's records, or a clerk keying it three times that day, count
    once); typed by Claire on the web, or updated in the master record, it wins at once however often the old name
    was observed, and a clerk's later keying of the old name (an old card) does not undo it; any arrival order."""
    old = [named(FOURNIER, minutes=1, channel="WEB"), named(FOURNIER, minutes=2, channel="CALL_CENTER")]
    martin = [named({**FOURNIER, "family_name": "Martin"}, minutes=(i + 1) * DAY, channel="BRANCH") for i in range(3)]
    assert shown(*old, *martin[:2])["family_name"] == "Fournier"  # 2 against 2, the old one from the web
    for order in itertools.permutations([*old, *martin]):
        assert shown(*order)["family_name"] == "Martin"
    one_day = [named({**FOURNIER, "family_name": "Martin"}, minutes=DAY + i, channel="BRANCH") for i in range(3)]
    assert shown(*old, *one_day)["family_name"] == "Fournier"
    seen_often = [named(FOURNIER, minutes=i * DAY, channel=channel)
                  for i, channel in enumerate(("WEB", "CALL_CENTER", "BRANCH", "BRANCH"))]
    for channel in ("WEB", "BUSINESS_SYSTEM"):
        married = named({**FOURNIER, "family_name": "Martin"}, minutes=10 * DAY, channel=channel)
        for order in itertools.permutations([*seen_often, married]):
            assert shown(*order)["family_name"] == "Martin"
        old_card = named(FOURNIER, minutes=11 * DAY, channel="BRANCH")
        assert shown(old_card, *seen_often, married)["family_name"] == "Martin"
    # The same trust and one observation each: the latest (a web sign-up, then a web update after the marriage).
    web_old, web_new = named(FOURNIER, minutes=1), named({**FOURNIER, "family_name": "Martin"}, minutes=10)
    assert shown(web_new, web_old)["family_name"] == "Martin"


def test_tester_f2_close_spellings_count_together_and_the_customers_own_typing_is_shown() -> None:
    """Tester F2 (#8): the customer typed "Catherine Durand" on the web, the IVR heard "Kate Durand", one clerk keyed
    "Katherine Durant" at two visits. The pop showed the clerk's typo (counted per exact spelling, twice). Given name
    and surname are chosen apart, close spellings and nicknames counted together, the customer's own spelling and
    the full name shown: Catherine Durand, from the web, in every arrival order."""
    web = named({"given_name": "Catherine", "family_name": "Durand"}, minutes=1, channel="WEB")
    ivr = named({"given_name": "Kate", "family_name": "Durand"}, minutes=DAY, channel="CALL_CENTER", site="lyon")
    visits = [named({"given_name": "Katherine", "family_name": "Durant"}, minutes=day * DAY, channel="BRANCH",
                    site="b-12") for day in (2, 3)]
    for order in itertools.permutations([web, ivr, *visits]):
        view = shown(*order)
        assert (view["given_name"], view["family_name"], view["channel"]) == ("Catherine", "Durand", "WEB")


def test_tester_f3_a_nickname_seen_more_often_does_not_replace_the_full_name() -> None:
    """Tester F3 (#8): twins Sophie and Catherine Lenoir; two "Kate Lenoir" observations (a call, a counter visit)
    renamed Catherine's pop "Kate". Full names before nicknames, whichever source gave which; a nickname alone is
    shown as it is."""
    full = named({"given_name": "Catherine", "family_name": "Lenoir"}, minutes=1, channel="BRANCH")
    kate = [named({"given_name": "Kate", "family_name": "Lenoir"}, minutes=DAY, channel="CALL_CENTER"),
            named({"given_name": "Kate", "family_name": "Lenoir"}, minutes=2 * DAY, channel="BRANCH")]
    for order in itertools.permutations([full, *kate]):
        assert shown(*order)["given_name"] == "Catherine"
    assert shown(*kate)["given_name"] == "Kate"
    bill = named({"given_name": "Bill", "family_name": "Bernard"}, minutes=5, channel="WEB")
    william = named({"given_name": "William", "family_name": "Bernard"}, minutes=1, channel="CALL_CENTER")
    for order in itertools.permutations([bill, william]):
        assert shown(*order)["given_name"] == "William"


def test_among_clerks_spellings_the_more_observed_one_is_shown() -> None:
    """One typo against two right spellings, and the reverse, from sources equally trusted: the spelling seen on more
    days or channels; a real first name before a typo of it, whoever typed it."""
    right = [named({"given_name": "Sophie", "family_name": "Durand"}, minutes=day * DAY, channel="BRANCH")
             for day in (1, 2)]
    typo = [named({"given_name": "Sophie", "family_name": "Durnad"}, minutes=day * DAY, channel="CALL_CENTER")
            for day in (3, 4)]
    for order in itertools.permutations([*right, typo[0]]):
        assert shown(*order)["family_name"] == "Durand"
    for order in itertools.permutations([right[0], *typo]):
        assert shown(*order)["family_name"] == "Durnad"  # a clerk's typo repeated, nothing else said otherwise
    own_slip = named({"given_name": "Sopihe", "family_name": "Durand"}, minutes=1, channel="WEB")
    for order in itertools.permutations([own_slip, right[0]]):
        view = shown(*order)
        assert (view["given_name"], view["family_name"]) == ("Sophie", "Durand")


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
    twice = named({**jean, "birth_date": "14/03/1926"}, minutes=DAY, channel="CALL_CENTER")
    assert shown(own, typed, twice)["birth_year"] == 1962  # a slip of it, counted with it (tester F2's kind)
    other = [named({**jean, "birth_date": "1958-03-14"}, minutes=day * DAY, channel="BRANCH") for day in (2, 3)]
    assert shown(own, *other)["birth_year"] == 1958  # another year, seen more often
    assert SECTION.render(fold(own, named(jean, minutes=20)) or {})["birth_year"] == 1962  # a later one without
