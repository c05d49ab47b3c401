"""Two real, different first names are two people; a misspelling, a diminutive or a compound's part is not."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.identity.matching.given_names import distinct, folded, is_known, known_names, spelling, variants


@pytest.mark.parametrize(("a", "b"), [
    ("jean", "jeanne"), ("louis", "lucas"), ("marie", "maria"), ("lucie", "lucas"), ("louis", "louise"),
    ("julie", "julia"), ("lucy", "luc"),
])
def test_two_real_names_are_distinct_however_close(a: str, b: str) -> None:
    assert distinct(a, b) and distinct(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("lucy", "lncy"),  # a typing slip: not a name
    ("pierre", "pierrre"),
    ("gilbert", "gilbent"),  # "gil" + "bent" are two names, but a compound counts only when the list has it
    ("jean", "jean"),
])
def test_a_real_name_and_a_misspelling_of_it_are_not_distinct(a: str, b: str) -> None:
    assert not distinct(a, b) and not distinct(b, a)


@pytest.mark.parametrize(("short", "long"), [("bob", "robert"), ("liz", "elizabeth"), ("marie", "mary")])
def test_a_diminutive_from_the_nicknames_list_is_a_variant(short: str, long: str) -> None:
    assert variants(short, long) and variants(long, short)
    assert not distinct(short, long)


def test_a_compound_name_and_its_part_are_one_person() -> None:
    assert is_known("jeanpierre") and variants("jean", "jeanpierre") and not distinct("jeanpierre", "jean")
    assert distinct("jeanpierre", "marie")


def test_names_are_folded_as_the_trait_summary_keeps_them() -> None:
    assert folded("Jean-Pierre") == "jeanpierre" and folded(" Zoë ") == "zoe"
    assert {"jean", "jeanne", "lucas", "marie", "maria", "robert", "zoe"} <= known_names()
    assert not is_known("lncy")


_NAMES = st.sampled_from(sorted(known_names())[:400:3]) | st.text("abcdeilnorstu", min_size=3, max_size=7)


@given(_NAMES, _NAMES)
def test_distinct_is_symmetric(a: str, b: str) -> None:
    """A pure, symmetric function of the two values: decisions taken from it cannot depend on arrival order."""
    assert distinct(a, b) is distinct(b, a)
    assert variants(a, b) is variants(b, a)


@pytest.mark.parametrize(("a", "b"), [("matthieu", "mathieu"), ("isaac", "isac"), ("zacharie", "zacarie"),
                                      ("catherine", "katherine"), ("elisabeth", "elizabeth"), ("franck", "frank")])
def test_two_spellings_of_one_name_are_variants(a: str, b: str) -> None:
    """Doubled letters and a silent "h": one person's records carry both, parents do not name twins so."""
    assert variants(a, b) and not distinct(a, b)


@pytest.mark.parametrize(("a", "b"), [("sara", "zara"), ("lucie", "lukie"), ("jean", "jeanne")])
def test_a_first_z_and_a_soft_c_are_no_other_spelling(a: str, b: str) -> None:
    """Only a hard "c" is a "k", and a "z" after the first letter an "s": "Sara" and "Zara" are two names."""
    assert spelling(a) != spelling(b)
