"""An address line is compared where it is (issue #8, point 1): the same line in another town is no exact address.

"12 rue de la République" is in most French towns. Two namesakes born the same day (Luc Moreau, 1988-08-08), each with
an account and a phone of their own, at that line in Toulouse (31000) and in Bordeaux (33000): the line used to compare
as *exact* (+13.7 bits) whatever the postcode, and the pair merged on traits alone at +13.2 bits. The line now agrees
only where the place does (``compare.place_level``: the postcodes, else the towns, or the countries); in another place
it is ``elsewhere``, 0 bits, and the pair weighs as any two namesakes with different postcodes do (−0.47 bits,
``test_postcodes.py``): a review.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.matching.compare import Level, place_level, trait_levels
from processors.identity.matching.defaults import DEFAULT_MU
from processors.identity.matching.traits import summarize
from tests.adapters.branch.support import branch_settings
from tests.adapters.web.support import web_settings
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

LUC = {"given_name": "Luc", "family_name": "Moreau", "birth_date": "1988-08-08"}
LINE = "12 rue de la République"
TOULOUSE = {"address_line": LINE, "postcode": "31000", "city": "Toulouse"}
BORDEAUX = {"address_line": LINE, "postcode": "33000", "city": "Bordeaux"}
RECEIVED = datetime(2026, 12, 1, 10, 50, tzinfo=UTC)
FIRST, SECOND = "ACC-31000111", "ACC-33000222"


def counter_visit(event_id: str, account: str, phone: str, place: dict[str, str], minute: int) -> dict[str, Any]:
    """A counter transaction (``POST /v1/counter/events``) of Luc Moreau with his account, phone and address."""
    return {"event_id": event_id, "kind": "transaction", "occurred_at": f"2026-12-01T10:{minute:02d}:00+01:00",
            "agent_id": "E-1",
            "identifiers": [{"type": "ACCOUNT", "value": account}, {"type": "PHONE", "value": phone}],
            "customer": {**LUC, **place},
            "transaction": {"id": f"TX-{event_id}", "type": "payment", "status": "completed", "counter_id": "C1"}}


def web_identify(place: dict[str, str]) -> dict[str, Any]:
    """A Segment ``identify`` of a web login, the address as Segment's nested ``address`` trait."""
    address = {"street": place.get("address_line"), "postalCode": place.get("postcode"), "city": place.get("city"),
               "country": place.get("country")}
    return {"type": "identify", "userId": "u-luc-33", "messageId": "m-luc-33",
            "traits": {"firstName": "Luc", "lastName": "Moreau", "birthday": "1988-08-08", "phone": "+33670102031",
                       "address": {key: value for key, value in address.items() if value}}}


def two_records(first: dict[str, str], second: dict[str, str], *, channel: str = "branch") -> Harness:
    """Luc Moreau at the counter (account ``FIRST``) at ``first``, then another record at ``second``: a counter visit
    with another account and phone (``channel="branch"``) or a web login with a user id and another phone ("web")."""
    h = Harness(settings(default_region="FR"))
    branch = CounterMapper(branch_settings(), TopicSettings())
    results = [branch(counter_visit("v-lm-1", FIRST, "06 70 10 20 30", first, 0), terminal_id="CT-0142-01",
                      branch_id="0142", received_at=RECEIVED)]
    if channel == "branch":
        results.append(branch(counter_visit("v-lm-2", SECOND, "06 70 10 20 31", second, 5), terminal_id="CT-0142-01",
                              branch_id="0142", received_at=RECEIVED))
    else:
        web = SegmentMapper(web_settings(), TopicSettings())
        results.append(web(web_identify(second), source="portal-web", received_at=RECEIVED))
    for result in results:
        for outgoing in result.events:
            h.feed(outgoing.event, topic=outgoing.topic.removeprefix("omnibus."))
    h.local.check_consistent()
    return h


# Two namesakes in two places: the names and birth date +30.5 bits, the population's prior −20.4, the place −4.6, the
# line 0; at the counter their accounts (−3.2) and phones (−2.7) differ, on the web the phones only.
WEIGHTS = {"branch": -0.47, "web": 2.70}


def other(channel: str) -> tuple[str, str]:
    return ("ACCOUNT", SECOND) if channel == "branch" else ("USER_ID", "u-luc-33")


@pytest.mark.parametrize("channel", ["branch", "web"])
def test_namesakes_on_one_address_line_in_two_towns_are_not_merged(channel: str) -> None:
    """The reported pair: the line is ``elsewhere`` and weighs nothing; the postcodes' −4.6 bits keep it a review."""
    h = two_records(TOULOUSE, BORDEAUX, channel=channel)
    assert h.customer("ACCOUNT", FIRST) != h.customer(*other(channel))
    (review,) = h.decisions(ReviewRequested)
    assert not h.decisions(Merged)
    assert review.levels["address"] == "elsewhere" and review.levels["postcode"] == "different"
    assert review.match_weight == pytest.approx(WEIGHTS[channel], abs=0.01)


@pytest.mark.parametrize("channel", ["branch", "web"])
def test_namesakes_on_one_address_line_in_two_towns_without_postcodes_are_not_merged(channel: str) -> None:
    """Town only (the channel sends a city and no postcode): the towns are the place, and their ``different`` weighs
    what the postcodes' would (−4.6 bits, ``defaults.py``)."""
    h = two_records({"address_line": LINE, "city": "Toulouse"}, {"address_line": LINE, "city": "Bordeaux"},
                    channel=channel)
    assert h.customer("ACCOUNT", FIRST) != h.customer(*other(channel))
    (review,) = h.decisions(ReviewRequested)
    assert not h.decisions(Merged) and review.match_weight == pytest.approx(WEIGHTS[channel], abs=0.01)
    assert (review.levels["address"], review.levels["postcode"], review.levels["city"]) == (
        "elsewhere", "missing", "different")


def test_towns_count_only_where_postcodes_cannot_be_compared() -> None:
    """One place's disagreement counts once: with two postcodes, the towns are not weighed (a town's other spelling or
    a district is no other place); with one postcode missing, the towns are."""
    luc = summarize({**LUC, **TOULOUSE})
    assert trait_levels(luc, summarize({**LUC, **BORDEAUX}))["city"] is Level.MISSING
    assert trait_levels(luc, summarize({**LUC, "address_line": LINE, "city": "Bordeaux"}))["city"] is Level.DIFFERENT
    assert trait_levels(luc, summarize({**LUC, "address_line": LINE, "city": "Toulouse"}))["city"] is Level.EXACT
    assert "exact" not in DEFAULT_MU["city"]  # a town's agreement is no evidence of one person: 0 bits


@pytest.mark.parametrize("channel", ["branch", "web"])
@pytest.mark.parametrize("second", [
    TOULOUSE,  # the same place, all told
    {"address_line": "12, Rue de la Republique", "postcode": "31000", "city": "TOULOUSE CEDEX 9"},  # other spellings
    {"address_line": LINE, "city": "Toulouse"},  # no postcode on one side: the towns agree
    {"address_line": LINE, "postcode": "31000"},  # no town on one side: the postcodes agree
])
def test_namesakes_on_one_address_line_in_one_town_still_merge(channel: str, second: dict[str, str]) -> None:
    h = two_records(TOULOUSE, second, channel=channel)
    assert h.customer("ACCOUNT", FIRST) == h.customer(*other(channel))
    (merged,) = h.decisions(Merged)
    assert merged.lineage.rule == "blocking-candidate"


def test_the_same_line_and_postcode_weigh_as_the_readme_says() -> None:
    """The README's row: the same postcode (+17.8 bits) and the same line, +13.8 more (the two weighed apart)."""
    h = two_records(TOULOUSE, TOULOUSE)
    (merged,) = h.decisions(Merged)
    assert merged.match_weight == pytest.approx(31.6, abs=0.05)


def test_a_line_whose_place_one_side_does_not_give_compares_as_the_line() -> None:
    """Neither a postcode nor a town on one side: no other place is known, the line is what there is to compare
    (+13.8 bits; the labelled set's lines are as rare as a household's); the namesakes merge, as before."""
    h = two_records(TOULOUSE, {"address_line": LINE})
    assert h.customer("ACCOUNT", FIRST) == h.customer("ACCOUNT", SECOND)


def test_one_postcode_in_two_countries_is_another_place() -> None:
    """75001 is Paris 1er and Addison, Texas: the postcode is ``different`` and the line ``elsewhere``."""
    h = two_records({**TOULOUSE, "postcode": "75001", "country": "FR"},
                    {**TOULOUSE, "postcode": "75001", "country": "US"})
    assert h.customer("ACCOUNT", FIRST) != h.customer("ACCOUNT", SECOND)
    (review,) = h.decisions(ReviewRequested)
    assert review.levels["postcode"] == "different" and review.levels["address"] == "elsewhere"


@pytest.mark.parametrize(("first", "second", "place", "address"), [
    ({"postcode": "31000"}, {"postcode": "33000"}, Level.DIFFERENT, Level.ELSEWHERE),
    ({"postcode": "31000", "city": "Toulouse"}, {"postcode": "31000", "city": "Bordeaux"}, Level.EXACT, Level.EXACT),
    ({"postcode": "31000", "city": "Toulouse"}, {"postcode": "33000", "city": "Toulouse"}, Level.DIFFERENT,
     Level.ELSEWHERE),  # a postcode decides over a town
    ({"city": "Toulouse"}, {"city": "Toulose"}, Level.CLOSE, Level.EXACT),  # a town's typo is no other town
    ({"city": "Paris 15e"}, {"city": "Paris"}, Level.EXACT, Level.EXACT),  # nor is an arrondissement
    ({"city": "Saint-Étienne"}, {"city": "St Etienne"}, Level.EXACT, Level.EXACT),
    ({"city": "Toulouse"}, {"postcode": "33000"}, Level.MISSING, Level.EXACT),  # nothing to compare the place by
    ({"country": "FR"}, {"country": "BE"}, Level.DIFFERENT, Level.ELSEWHERE),
])
def test_place_level_of_one_line(first: dict[str, str], second: dict[str, str], place: Level, address: Level) -> None:
    a, b = summarize({"address_line": LINE, **first}), summarize({"address_line": LINE, **second})
    assert place_level(a, b) is place
    assert trait_levels(a, b)["address"] is address


def test_a_close_line_in_another_town_is_no_address_agreement_either() -> None:
    a = summarize({"address_line": "12 rue de la Republique", "postcode": "31000"})
    b = summarize({"address_line": "12 rue de la Repubique", "postcode": "33000"})
    assert trait_levels(a, b)["address"] is Level.ELSEWHERE


def test_a_line_in_another_place_weighs_nothing_and_a_different_line_stays_different() -> None:
    """``elsewhere`` is in no m/u table (0 bits: ``defaults.py``); lines that differ stay ``different`` in any place."""
    assert "elsewhere" not in DEFAULT_MU["address"]
    a = summarize({"address_line": LINE, "postcode": "31000"})
    b = summarize({"address_line": "3 allée des Pins", "postcode": "33000"})
    assert trait_levels(a, b)["address"] is Level.DIFFERENT


def test_a_town_or_country_alone_makes_no_summary() -> None:
    """City and country are the place of an address line or postcode, no evidence of a person of their own: an event
    with a town alone has no summary, as before (it is matched, filed and told apart as one without traits)."""
    assert summarize({"city": "Toulouse", "country": "FR"}) == {}
    assert summarize({"given_name": "Luc", "city": "Toulouse"}) == {"gn": ["luc"]}
    assert summarize({"postcode": "31000", "city": "Toulouse", "country": "FR"}) == {
        "pc": ["31000"], "ci": ["toulouse"], "co": ["FR"]}
