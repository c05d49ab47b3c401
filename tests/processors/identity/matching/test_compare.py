import pytest

from processors.identity.matching.compare import (
    Level, Thresholds, address_level, best_level, date_level, given_level, given_values, identifier_levels,
    name_level, postcode_level, trait_levels,
)

LIMITS = Thresholds()


@pytest.mark.parametrize(("a", "b", "level"), [
    ("catherine", "catherine", Level.EXACT),
    ("catherine", "catherin", Level.CLOSE),  # a dropped letter
    ("jonathan", "jonahtan", Level.CLOSE),  # transposed letters
    ("catherine", "margaret", Level.DIFFERENT),
    ("marine", "marthe", Level.DIFFERENT),  # two people of one household, two letters apart
])
def test_name_levels(a: str, b: str, level: Level) -> None:
    assert name_level(a, b, LIMITS) is level


@pytest.mark.parametrize(("a", "b", "level"), [
    ("jean", "jean", Level.EXACT),
    ("jean", "jeanne", Level.DIFFERENT),  # two real first names (Jaro-Winkler 0.93): twins, not a typo
    ("marie", "maria", Level.DIFFERENT),  # one slip, but both real names
    ("louis", "lucas", Level.DIFFERENT),
    ("catherine", "catherin", Level.CLOSE),  # a real name and a misspelling of it
    ("jonathan", "jonahtan", Level.CLOSE),
    ("robert", "bob", Level.CLOSE),  # a nickname is the name, however unlike its spelling (tester15 F8)
    ("jean", "jeanpierre", Level.CLOSE),  # a compound and its part: not made different (Jaro-Winkler 0.88)
    ("jean", "jeannot", Level.CLOSE),  # "jeannot" is in no name list: Jaro-Winkler decides
])
def test_given_name_levels(a: str, b: str, level: Level) -> None:
    assert given_level(a, b, LIMITS) is level is given_level(b, a, LIMITS)


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1984-07-02", "1984-07-02", Level.EXACT),
    ("1984-07-02", "1984-02-07", Level.CLOSE),  # day and month transposed
    ("1984-07-02", "1985-07-02", Level.CLOSE),  # one digit mistyped
    ("1957-03-14", "1975-03-14", Level.CLOSE),  # two neighbouring digits of the year swapped (tester18 F10)
    ("1990-03-14", "1909-03-14", Level.CLOSE),
    ("1984-07-12", "1984-07-21", Level.CLOSE),  # the day's digits swapped
    ("1957-03-14", "1795-03-14", Level.DIFFERENT),  # two swaps
    ("1957-03-14", "1977-03-14", Level.CLOSE),  # one digit mistyped (not a swap)
    ("1957-03-14", "1975-03-15", Level.DIFFERENT),  # a swap and a mistyped digit
    ("1984-07-02", "1991-11-23", Level.DIFFERENT),
])
def test_date_levels(a: str, b: str, level: Level) -> None:
    assert date_level(a, b, LIMITS) is level is date_level(b, a, LIMITS)


@pytest.mark.parametrize(("a", "b", "level"), [
    ("12 main st", "12 main st", Level.EXACT),
    ("12 main st", "12 mian st", Level.CLOSE),
    ("12 main st", "7 rue de la paix", Level.DIFFERENT),
])
def test_address_levels(a: str, b: str, level: Level) -> None:
    assert address_level(a, b, LIMITS) is level


@pytest.mark.parametrize(("a", "b", "level"), [
    ("75001", "75001", Level.EXACT), ("75001", "75002", Level.DIFFERENT), ("31000", "33000", Level.DIFFERENT),
    ("75001", "7501", Level.DIFFERENT), ("75001", "13008", Level.DIFFERENT),
])
def test_postcode_levels(a: str, b: str, level: Level) -> None:
    assert postcode_level(a, b, LIMITS) is level


def test_missing_when_either_side_has_no_value_and_best_over_known_values() -> None:
    assert best_level("gn", [], ["ann"], LIMITS) is Level.MISSING
    assert best_level("gn", ["bob", "ann"], ["ann"], LIMITS) is Level.EXACT


def test_swapped_given_and_family_names_are_close() -> None:
    levels = trait_levels({"gn": ["smith"], "fn": ["john"]}, {"gn": ["john"], "fn": ["smith"]})
    assert levels["given_name"] is levels["family_name"] is Level.CLOSE


def test_a_name_swapped_on_one_side_with_the_other_missing_is_close_but_a_shared_surname_is_not() -> None:
    assert trait_levels({"gn": ["martin"]}, {"gn": ["ann"], "fn": ["martin"]})["given_name"] is Level.CLOSE
    household = trait_levels({"gn": ["martin"], "fn": ["bob"]}, {"gn": ["ann"], "fn": ["martin"]})
    assert household["given_name"] is Level.DIFFERENT


def test_identifier_levels_agree_conflict_missing() -> None:
    first = ["NATIONAL_ID:nid1:aaa", "PHONE:+331", "EMAIL:a@x.org"]
    second = ["NATIONAL_ID:nid1:bbb", "PHONE:+331"]
    assert identifier_levels(first, second, ["NATIONAL_ID", "PHONE", "EMAIL", "ACCOUNT"]) == {
        "NATIONAL_ID": Level.DIFFERENT, "PHONE": Level.AGREE, "EMAIL": Level.MISSING, "ACCOUNT": Level.MISSING,
    }


@pytest.mark.parametrize(("mine", "theirs", "birth", "level"), [
    ("xnn", "ann", "1980-01-01", Level.CLOSE),  # one letter replaced: Jaro-Winkler 0.78, a slip all the same
    ("annn", "ann", "1980-01-01", Level.CLOSE),  # a letter doubled
    ("ana", "ann", "1980-01-01", Level.DIFFERENT),  # one slip, but "ana" is a real name too: twins
    ("nan", "ann", "1980-01-01", Level.CLOSE),  # two neighbours swapped
    ("xnn", "ann", "1983-06-07", Level.DIFFERENT),  # another birth date: two people
    ("bob", "ann", "1980-01-01", Level.DIFFERENT),  # twins: the same birth date, names that are not a slip
    ("jean", "joan", "1983-06-07", Level.DIFFERENT),  # a household's two people, one letter apart
    ("lncy", "lucy", "1980-01-01", Level.CLOSE),  # a real name and a slip of it
    ("marie", "maria", "1980-01-01", Level.DIFFERENT),  # twins: one slip apart, but two real names
    ("jean", "joan", "1980-01-01", Level.DIFFERENT),  # twins: two real names
])
def test_a_given_name_one_slip_away_is_close_only_with_the_same_birth_date(mine: str, theirs: str, birth: str,
                                                                            level: Level) -> None:
    """One person's typo, whichever record carries it (issue #8 build 5): a veto here decided by arrival."""
    first = {"gn": [mine], "fn": ["lee"], "bd": [birth]}
    second = {"gn": [theirs], "fn": ["lee"], "bd": ["1980-01-01"]}
    assert trait_levels(first, second)["given_name"] is level is trait_levels(second, first)["given_name"]


def test_names_swapped_on_a_form_that_also_carries_a_typo_are_close() -> None:
    """The quality bench's "bathelemy alix" against "alix barthelemy": swapped, and one name misspelt."""
    levels = trait_levels({"gn": ["bathelemy"], "fn": ["alix"]}, {"gn": ["alix"], "fn": ["barthelemy"]})
    assert levels["given_name"] is Level.CLOSE
    household = trait_levels({"gn": ["martin"], "fn": ["bob"]}, {"gn": ["ann"], "fn": ["martin"]})
    assert household["given_name"] is Level.DIFFERENT


def test_a_customers_misspelling_of_its_own_name_is_not_close_to_a_twins_name() -> None:
    """Marie's customer holds "marie" and her typo "maie"; her twin Marine's record is close to the typo (0.89), not
    to Marie: the typo compares as the name it misspells, so the twins stay two people (issue #8)."""
    assert given_values(["maie", "marie"], LIMITS) == ["marie"]
    assert given_values(["lncy"], LIMITS) == ["lncy"]  # no real name beside it: it may be anything
    assert given_values(["bob", "zzz"], LIMITS) == ["bob", "zzz"]  # not a misspelling of "bob"
    marie = {"gn": ["maie", "marie"], "fn": ["lee"], "bd": ["1975-02-24"]}
    marine = {"gn": ["marine"], "fn": ["lee"], "bd": ["1975-02-24"]}
    assert trait_levels(marie, marine)["given_name"] is Level.DIFFERENT is trait_levels(marine, marie)["given_name"]
    assert trait_levels(marie, {**marine, "gn": ["mraie"]})["given_name"] is Level.CLOSE  # her typo again


@pytest.mark.parametrize(("record", "other", "level"), [
    # the twin's counter form: "Céline" in the surname's field, no given name, beside her twin Caroline Valette
    ({"fn": ["celine"], "bd": ["1984-11-10"]}, {"gn": ["caroline"], "fn": ["valette"], "bd": ["1984-11-10"]},
     Level.DIFFERENT),
    # the same form beside Céline's own record: her name, swapped (the family level is close), as before
    ({"fn": ["celine"], "bd": ["1984-11-10"]}, {"gn": ["celine"], "fn": ["valette"], "bd": ["1984-11-10"]},
     Level.MISSING),
    # a surname that is also a first name ("Martin") beside a record with that surname: a surname, no given level
    ({"fn": ["martin"]}, {"gn": ["paul"], "fn": ["martin"]}, Level.MISSING),
    # a surname that is no first name: nothing said about the given name
    ({"fn": ["valette"]}, {"gn": ["caroline"], "fn": ["dubois"]}, Level.MISSING),
    # a first name in the surname's field that is a variant of the other's given name (Bob / Robert): not two people
    ({"fn": ["bob"]}, {"gn": ["robert"], "fn": ["smith"]}, Level.MISSING),
])
def test_a_real_first_name_in_the_surnames_field_without_a_given_name_is_compared_as_one(
        record: dict, other: dict, level: Level) -> None:
    for first, second in ((record, other), (other, record)):
        assert trait_levels(first, second)["given_name"] is level
