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
    model = MatchModel(MU, merge_at=6.0, vetoes=("birth_date",))
    score = model.weigh({"given_name": Level.EXACT, "PHONE": Level.AGREE, "NATIONAL_ID": Level.AGREE,
                         "birth_date": Level.DIFFERENT})
    assert score.weight > 6.0 and model.veto(score.levels) == "birth_date"
    assert model.decide(score) is Decision.REFUSE
    assert model.decide(model.weigh({"birth_date": Level.CLOSE, "NATIONAL_ID": Level.AGREE})) is Decision.MERGE


def test_invalid_models_are_rejected() -> None:
    with pytest.raises(ValueError):
        MatchModel(MU, merge_at=0.0, refuse_below=1.0)
    with pytest.raises(ValueError):
        MatchModel({"given_name": {"nearly": (0.5, 0.5)}})
