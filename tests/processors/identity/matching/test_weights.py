import math

import pytest

from processors.identity.matching.compare import Level
from processors.identity.matching.weights import Decision, MatchModel, bayes_factor_bits

MU = {"given_name": {"exact": (0.9, 0.1), "different": (0.1, 0.9)},
      "birth_date": {"exact": (0.8, 0.01), "close": (0.1, 0.01), "different": (0.1, 0.98)},
      "NATIONAL_ID": {"agree": (0.99, 0.0001), "different": (0.0005, 0.99)},
      "PHONE": {"agree": (0.8, 0.1)}}


def test_bayes_factor_is_log2_m_over_u() -> None:
    assert bayes_factor_bits(0.8, 0.1) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        bayes_factor_bits(0.0, 0.1)


def test_weight_is_prior_plus_the_bayes_factors_and_missing_counts_nothing() -> None:
    model = MatchModel(MU, prior=-2.0)
    score = model.weigh({"given_name": Level.EXACT, "birth_date": Level.CLOSE, "PHONE": Level.AGREE,
                         "NATIONAL_ID": Level.MISSING})
    assert score.weight == pytest.approx(-2.0 + math.log2(9) + math.log2(10) + 3.0)
    assert set(score.bits) == {"given_name", "birth_date", "PHONE"}
    assert score.probability == pytest.approx(2**score.weight / (1 + 2**score.weight))


def test_score_compares_traits_and_identifiers() -> None:
    model = MatchModel(MU)
    score = model.score({"gn": ["ann"], "bd": ["1990-01-02"]}, {"gn": ["ann"], "bd": ["1990-02-01"]},
                        ["PHONE:+331", "NATIONAL_ID:nid1:a"], ["PHONE:+331", "NATIONAL_ID:nid1:b"])
    assert score.levels["birth_date"] is Level.CLOSE and score.levels["NATIONAL_ID"] is Level.DIFFERENT
    assert score.weight < 0  # two national IDs outweigh a phone, a name and a close birth date


@pytest.mark.parametrize(("weight", "decision"), [
    (6.0, Decision.MERGE), (12.0, Decision.MERGE), (5.99, Decision.REVIEW), (0.0, Decision.REVIEW),
    (-0.01, Decision.REFUSE),
])
def test_threshold_bands(weight: float, decision: Decision) -> None:
    assert MatchModel(MU, merge_at=6.0, refuse_below=0.0).decide_weight(weight) is decision


def test_a_vetoed_field_that_differs_refuses_whatever_the_weight() -> None:
    model = MatchModel(MU, prior=8.0, merge_at=6.0, vetoes=("birth_date",))
    score = model.weigh({"given_name": Level.EXACT, "PHONE": Level.AGREE, "birth_date": Level.DIFFERENT})
    assert score.weight > 6.0 and model.veto(score.levels) == "birth_date"
    assert model.decide(score) is Decision.REFUSE
    # ... unless an identifier one person never holds two of agrees (a national ID: one person, a mistyped date)
    assert model.veto({**score.levels, "NATIONAL_ID": Level.AGREE}) is None
    assert model.decide(model.weigh({"birth_date": Level.CLOSE, "NATIONAL_ID": Level.AGREE})) is Decision.MERGE


def test_invalid_models_are_rejected() -> None:
    with pytest.raises(ValueError):
        MatchModel(MU, merge_at=0.0, refuse_below=1.0)
    with pytest.raises(ValueError):
        MatchModel({"given_name": {"nearly": (0.5, 0.5)}})


def shipped() -> MatchModel:
    from processors.identity.rules import LinkPolicy
    from tests.processors.identity.support import matcher_settings

    return LinkPolicy(matcher_settings()).matcher


TWIN = {"fn": ["martin"], "bd": ["1990-04-05"], "ad": ["1 main st"], "pc": ["75001"]}


@pytest.mark.parametrize(("mine", "theirs", "decision"), [
    ([], [], Decision.MERGE),  # nothing tells them apart: one person's typo ("jxan" for "jean")
    (["ACCOUNT:1000001"], ["ACCOUNT:2000002"], Decision.REFUSE),  # twins, each with an account of their own
    (["USER_ID:u-1", "PHONE:+331"], ["USER_ID:u-2", "PHONE:+331"], Decision.REFUSE),
    (["ACCOUNT:1000001"], ["ACCOUNT:1000001"], Decision.MERGE),  # one account: one person's typo
    (["EMAIL:a@x.org"], ["EMAIL:b@x.org"], Decision.MERGE),  # a person has several e-mails: not telling
])
def test_a_given_name_slip_with_one_birth_date_is_one_person_unless_an_account_or_user_id_differs(
        mine: list[str], theirs: list[str], decision: Decision) -> None:
    """Twins born the same day, "jean" and a slip of it: the given-name slip rule took them for one person (issue #8).
    ("jxan" is no real name; two real first names are the next test.)"""
    model = shipped()
    assert model.decide(model.score({**TWIN, "gn": ["jean"]}, {**TWIN, "gn": ["jxan"]}, mine, theirs)) is decision


@pytest.mark.parametrize(("mine", "theirs", "decision"), [
    ([], [], Decision.REFUSE),  # the family phone alone, or nothing: two people
    (["PHONE:+331"], ["PHONE:+331"], Decision.REFUSE),
    (["EMAIL:a@x.org"], ["EMAIL:a@x.org"], Decision.REFUSE),  # a family e-mail
    (["ACCOUNT:1000001"], ["ACCOUNT:1000001"], Decision.REFUSE),  # a joint account
    (["USER_ID:u-1"], ["USER_ID:u-1"], Decision.MERGE),  # one login: one person (the veto yields, as before)
])
@pytest.mark.parametrize(("name", "twin"), [("jean", "joan"), ("jean", "jeanne"), ("marie", "maria"),
                                            ("louis", "lucas")])
def test_twins_with_two_real_first_names_are_two_people_whatever_they_share(
        mine: list[str], theirs: list[str], decision: Decision, name: str, twin: str) -> None:
    """Twins' names are often close ("jean"/"jeanne" Jaro-Winkler 0.93, "marie"/"maria" one slip): two real first
    names are two people (``given_names.distinct``), in either order (issue #8)."""
    model = shipped()
    for first, second in (({**TWIN, "gn": [name]}, {**TWIN, "gn": [twin]}), ({**TWIN, "gn": [twin]}, {**TWIN, "gn": [name]})):
        score = model.score(first, second, mine, theirs)
        assert score.levels["given_name"] is Level.DIFFERENT
        assert model.decide(score) is decision


@pytest.mark.parametrize(("mine", "theirs", "decision"), [
    (["USER_ID:u-1"], ["USER_ID:u-1"], Decision.MERGE),  # one login: one person's spoilt records
    (["NATIONAL_ID:nid1:a"], ["NATIONAL_ID:nid1:a"], Decision.MERGE),
    (["CUSTOMER_NUMBER:C-5001"], ["CUSTOMER_NUMBER:C-5001"], Decision.MERGE),  # as when it was a USER_ID (tester21 F5)
    (["ACCOUNT:1000001"], ["ACCOUNT:1000001"], Decision.REFUSE),  # a joint account: two people may share one
    (["USER_ID:u-1", "NATIONAL_ID:nid1:a"], ["USER_ID:u-1", "NATIONAL_ID:nid1:b"], Decision.REFUSE),
    ([], [], Decision.REFUSE),
])
def test_a_given_names_veto_yields_to_a_shared_user_id_or_national_id(
        mine: list[str], theirs: list[str], decision: Decision) -> None:
    """"xob" born 1951 and "Bob" without a birth date, one login: the veto made the cluster depend on which
    record came first (issue #8 build 5); an identifier's veto (two national IDs) never yields."""
    model = shipped()
    xob = {"gn": ["xob"], "fn": ["martin"], "bd": ["1951-02-11"], "ad": ["1 main st"], "pc": ["75001"]}
    bob = {"gn": ["bob"], "fn": ["martin"], "ad": ["1 main st"], "pc": ["75001"]}
    assert model.decide(model.score(xob, bob, mine, theirs)) is decision
    assert model.one_per_person_kinds == ["USER_ID", "CUSTOMER_NUMBER", "NATIONAL_ID"]
