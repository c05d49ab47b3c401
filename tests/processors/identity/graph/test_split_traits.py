"""``split_traits.divide``: which values of a trait summary leave with a split's name observations."""

from __future__ import annotations

from processors.identity.graph.split_traits import divide

UNION = {"gn": ["c", "claire"], "fn": ["petit", "petitdurand"], "bd": ["1990-05-05"], "ad": ["12 r des lilas"]}
COUNTER = {"given_name": "C.", "family_name": "Petit-Durand"}
CLAIRE = {"given_name": "Claire", "family_name": "Petit", "born": 1990}


def test_only_what_moved_observations_alone_gave_leaves_and_the_new_summary_is_theirs() -> None:
    source, new = divide(UNION, [COUNTER], [CLAIRE])
    assert source == {"gn": ["c"], "fn": ["petitdurand"], "ad": ["12 r des lilas"]}  # the address: no evidence
    assert new == {"gn": ["claire"], "fn": ["petit"], "bd": ["1990-05-05"]}


def test_a_value_both_sides_observed_stays_and_goes() -> None:
    source, new = divide(UNION, [{**COUNTER, "family_name": "Petit", "born": 1990}], [CLAIRE])
    assert source is not None and new is not None
    assert "petit" in source["fn"] and source["bd"] == ["1990-05-05"]
    assert new == {"gn": ["claire"], "fn": ["petit"], "bd": ["1990-05-05"]}


def test_nothing_moved_leaves_the_summary_as_it_was() -> None:
    assert divide(UNION, [COUNTER], []) == (UNION, None)
    assert divide(None, [COUNTER], [CLAIRE]) == (None, None)
