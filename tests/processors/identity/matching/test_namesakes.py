"""Namesakes: one full name and birth date, two people (tester8's finding 3, issue #8).

A name and a birth date agreeing weigh about +30 bits; among the 3 000 people the m/u values were trained on that
is one person for sure, among a bank's millions a namesake born the same day is to be expected. A pair met on
traits alone (no identifier in common) therefore starts from the population's prior (``MatchModel.prior_of``):
with an account, a phone and a postcode of their own, two Jean Duponts go to review instead of merging (with the
same postcode they merge: tester12 S2, the tests at the end). Nor does a name and a birth date alone merge a pair
with no identifier in common, whatever it weighs: they are no secret (``MATCH_UNLINKED_FIELDS``, tester21 F18,
``test_public_traits.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.matching.compare import Level
from processors.identity.matching.defaults import (
    DEFAULT_MU,
    DEFAULT_POPULATION,
    DEFAULT_PRIOR,
    DEFAULT_UNLINKED_FIELDS,
    TRAINED_POPULATION,
)
from processors.identity.matching.weights import Decision, MatchModel, population_bits
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import Harness, observed
from tests.processors.identity.support import matcher_settings as settings

JEAN = {"given_name": "Jean", "family_name": "Dupont", "birth_date": "1965-11-30"}


def with_traits(identifiers: Any, traits: dict[str, str], *, channel: str = "BRANCH", minutes: int = 0) -> Event:
    event = observed(identifiers, channel=channel, minutes=minutes)
    return Event(event.schema, {**event.value, "traits": traits})


def jean(h: Harness) -> None:
    """Tester8's Jean Dupont: a web login with his phone and no address, then two counter visits: his account
    with his phone, and a second account of his by name and birth date alone (a review: no address to agree on)."""
    h.feed(with_traits([("USER_ID", "t8-jean"), ("PHONE", "+33612000001")], JEAN, channel="WEB"))
    h.feed(with_traits([("ACCOUNT", "ACC-T8-555"), ("PHONE", "+33612000001")], JEAN, minutes=1))
    h.feed(with_traits([("ACCOUNT", "ACC-T8-556")], JEAN, minutes=2))


def test_the_testers_namesake_with_his_own_account_phone_and_address_is_reviewed_not_merged() -> None:
    h = Harness(settings(default_region="FR"))
    jean(h)
    # his second account by name and birth date alone: +6.9 bits, but public traits only (tester21 F18): a review
    assert h.customer("ACCOUNT", "ACC-T8-556") != h.customer("USER_ID", "t8-jean")
    h.feed(with_traits([("ACCOUNT", "ACC-T8-999"), ("PHONE", "+33699999999")],
                       {**JEAN, "address_line": "12 rue de Lyon", "postcode": "13001"}, minutes=3))
    jean_customer = h.customer("USER_ID", "t8-jean")
    assert h.customer("ACCOUNT", "ACC-T8-999") not in (jean_customer, h.customer("ACCOUNT", "ACC-T8-556"))
    assert not h.decisions(Merged)
    (review,) = [r for r in h.decisions(ReviewRequested) if jean_customer in (r.customer_id, r.other_customer_id)
                 and h.key("ACCOUNT", "ACC-T8-999") in r.identifiers]
    assert 0 < review.match_weight < 6.0
    h.local.check_consistent()


def test_in_a_population_the_size_of_the_training_set_the_namesake_weighs_a_merge_and_still_waits_for_review() -> None:
    """What the finding saw (the prior trained on 3 000 people): the records weigh a merge, as then, but with no
    identifier and no address in common (his namesake's is in another town, Jean gave none) they wait for an
    operator (``MATCH_UNLINKED_FIELDS``); with the fields' rule off they merge as then."""
    for unlinked_fields, merged in (((), True), (DEFAULT_UNLINKED_FIELDS, False)):
        h = Harness(settings(default_region="FR", match_population=TRAINED_POPULATION,
                             match_unlinked_fields=unlinked_fields))
        jean(h)
        h.feed(with_traits([("ACCOUNT", "ACC-T8-999"), ("PHONE", "+33699999999")],
                           {**JEAN, "address_line": "12 rue de Lyon", "postcode": "13001"}, minutes=3))
        assert (h.customer("ACCOUNT", "ACC-T8-999") == h.customer("USER_ID", "t8-jean")) is merged
        assert merged or min(r.match_weight for r in h.decisions(ReviewRequested)) >= 6.0


MATCHER = LinkPolicy(settings()).matcher
NAME_AND_BIRTH = {"gn": ["jean"], "fn": ["dupont"], "bd": ["1965-11-30"]}


@pytest.mark.parametrize(("other_ids", "other_traits", "decision"), [
    # nothing else known on either side: a namesake, or anyone who knows his name and birth date, would be
    # indistinguishable: ask (MATCH_UNLINKED_FIELDS, tester21 F18)
    ([], {}, Decision.REVIEW),
    # a second account found by name and birth date alone: the same
    (["ACCOUNT:2"], {}, Decision.REVIEW),
    # an account and a phone of his own: a namesake as likely as one person with two of each: ask
    (["ACCOUNT:2", "PHONE:+33699999999"], {}, Decision.REVIEW),
    # and another address as well: two people
    (["ACCOUNT:2", "PHONE:+33699999999"], {"ad": ["12 r de lyon"], "pc": ["13001"]}, Decision.REFUSE),
    # the same address with a new account and phone: one person who moved bank and phone, not house
    (["ACCOUNT:2", "PHONE:+33699999999"], {"ad": ["3 pl du marche"], "pc": ["75011"]}, Decision.MERGE),
])
def test_name_and_birth_date_alone_against_identifiers_missing_or_different(
        other_ids: list[str], other_traits: dict[str, list[str]], decision: Decision) -> None:
    mine = {**NAME_AND_BIRTH, "ad": ["3 pl du marche"], "pc": ["75011"]} if other_traits else NAME_AND_BIRTH
    ids = ["ACCOUNT:1", "PHONE:+33612000001"] if other_ids else ["ACCOUNT:1"]
    score = MATCHER.score(mine, {**NAME_AND_BIRTH, **other_traits}, ids, other_ids)
    assert MATCHER.decide(score) is decision, score


def test_a_shared_identifier_keeps_the_trained_prior_whatever_the_population() -> None:
    """The prior and an identifier's u fall together with the population: a pair sharing one weighs the same."""
    small, large = (MatchModel(DEFAULT_MU, prior=DEFAULT_PRIOR, population_bits=population_bits(n, TRAINED_POPULATION))
                    for n in (TRAINED_POPULATION, DEFAULT_POPULATION))
    for model in (small, large):
        assert model.prior_of({"PHONE": Level.AGREE, "given_name": Level.EXACT}) == DEFAULT_PRIOR
    shared = (NAME_AND_BIRTH, NAME_AND_BIRTH, ["PHONE:+331"], ["PHONE:+331"])
    assert small.score(*shared).weight == large.score(*shared).weight
    apart = (NAME_AND_BIRTH, NAME_AND_BIRTH, ["PHONE:+331"], ["PHONE:+332"])
    assert small.score(*apart).weight - large.score(*apart).weight == pytest.approx(
        population_bits(DEFAULT_POPULATION, TRAINED_POPULATION))
    with pytest.raises(ValueError):
        population_bits(0, TRAINED_POPULATION)


def test_the_namesakes_review_adds_up_from_the_populations_prior() -> None:
    """``review list``: prior plus the fields' weights is the review's weight, the prior the pair started from."""
    from processors.identity.review import as_json, open_reviews
    from tests.processors.identity.test_review import queued

    h = Harness(settings(default_region="FR"))
    jean(h)
    h.feed(with_traits([("ACCOUNT", "ACC-T8-999"), ("PHONE", "+33699999999")],
                       {**JEAN, "address_line": "12 rue de Lyon", "postcode": "13001"}, minutes=3))
    (review,) = [r for r in open_reviews(queued(h)) if h.customer("USER_ID", "t8-jean") in (r.customer_id,
                 r.other_customer_id) and h.customer("ACCOUNT", "ACC-T8-999") in (r.customer_id, r.other_customer_id)]
    shown = as_json(review, MATCHER)
    assert shown["identifiers_in_common"] == []  # a blocking candidate
    assert shown["prior"] == pytest.approx(DEFAULT_PRIOR - population_bits(DEFAULT_POPULATION, TRAINED_POPULATION),
                                           abs=0.01)
    assert shown["prior"] + sum(item["weight"] for item in shown["fields"]) == pytest.approx(review.match_weight,
                                                                                             abs=0.1)


LUC = {"given_name": "Luc", "family_name": "Fontaine", "birth_date": "1966-05-05", "postcode": "31000"}


def luc_and_namesake(h: Harness, namesake_postcode: str) -> None:
    """tester12 S2: two counter transactions 5 min apart, each with its own account and phone (one digit apart), the
    same name and birth date; the second with ``namesake_postcode``."""
    h.feed(with_traits([("ACCOUNT", "FR7669990001"), ("PHONE", "+33669990001")], LUC))
    h.feed(with_traits([("ACCOUNT", "FR7669990002"), ("PHONE", "+33669990002")],
                       {**LUC, "postcode": namesake_postcode}, minutes=5))


def test_namesakes_with_the_same_postcode_merge_on_traits_alone_and_the_merge_carries_its_weight() -> None:
    """What the defaults do (the README's example): name, birth date and postcode agreeing outweigh the population's
    prior and two different accounts and phones: an automatic merge, rule blocking-candidate, weighing +17.8 bits
    (birth date +14.2, postcode +13.7, family name +8.6, given name +7.7, prior -20.4, account -3.2, phone -2.7).
    ``CustomerMerged.match_weight`` says so, so that a CRM can tell it from a merge through a shared identifier."""
    h = Harness(settings(default_region="FR"))
    luc_and_namesake(h, "31000")
    assert h.customer("ACCOUNT", "FR7669990001") == h.customer("ACCOUNT", "FR7669990002")
    (merged,) = h.decisions(Merged)
    assert merged.lineage.rule == "blocking-candidate" and merged.match_weight == pytest.approx(17.82, abs=0.01)
    h.local.check_consistent()


def test_namesakes_with_different_postcodes_go_to_review() -> None:
    h = Harness(settings(default_region="FR"))
    luc_and_namesake(h, "75001")
    assert h.customer("ACCOUNT", "FR7669990001") != h.customer("ACCOUNT", "FR7669990002")
    (review,) = h.decisions(ReviewRequested)
    assert not h.decisions(Merged) and review.match_weight == pytest.approx(-0.47, abs=0.01)


def test_a_bank_can_send_every_traits_only_merge_to_review() -> None:
    """``MATCH_REVIEW_UNLINKED``: no identifier in common, however well the traits agree, is an operator's call; a
    pair that shares an identifier still merges on its weight."""
    h = Harness(settings(default_region="FR", match_review_unlinked=True))
    luc_and_namesake(h, "31000")
    assert h.customer("ACCOUNT", "FR7669990001") != h.customer("ACCOUNT", "FR7669990002")
    (review,) = h.decisions(ReviewRequested)
    assert not h.decisions(Merged) and review.match_weight == pytest.approx(17.82, abs=0.01)
    h.feed(with_traits([("USER_ID", "luc-web"), ("EMAIL", "luc@x.org")], LUC, channel="WEB", minutes=9))
    assert not h.decisions(Merged)  # his web login, on traits alone: reviewed too
    h.feed(with_traits([("ACCOUNT", "FR7669990001"), ("EMAIL", "luc@x.org")], LUC, minutes=10))
    assert h.customer("USER_ID", "luc-web") == h.customer("ACCOUNT", "FR7669990001")  # a shared e-mail: merged
    assert [m.match_weight is not None for m in h.decisions(Merged)] == [True]


def test_a_merge_through_a_shared_identifier_carries_its_weight() -> None:
    h = Harness(settings(default_region="FR"))
    h.feed(with_traits([("USER_ID", "luc-web"), ("EMAIL", "luc@x.org")], LUC, channel="WEB"))
    h.feed(with_traits([("ACCOUNT", "FR7669990001"), ("PHONE", "+33669990001")], LUC, minutes=1))
    h.feed(with_traits([("ACCOUNT", "FR7669990001"), ("EMAIL", "luc@x.org")], LUC, minutes=2))
    merges = h.decisions(Merged)
    assert merges and all(m.match_weight is not None for m in merges)
    assert h.customer("USER_ID", "luc-web") == h.customer("PHONE", "+33669990001")
