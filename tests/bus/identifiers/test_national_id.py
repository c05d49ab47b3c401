"""NATIONAL_ID: validated by the deployment's python-stdnum schemes, kept only as a token (issue #10 case 4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import Identifier, IdentifierNormaliser, Rejected
from bus.identifiers.national_id import (
    DIGIT_COUNTS,
    NO_SCHEME_CODE,
    canonical_national_id,
    digit_counts,
    is_national_id,
    national_id_check_char,
)
from tests.bus.identifiers.support import TEST_KEY, identifier_settings

# Valid numbers (python-stdnum's own documented examples), as people write them, with their canonical form.
VALID = [
    ("fr.nir", "1 85 05 78 006 084 91", "185057800608491"),
    ("es.dni", "54362315-K", "54362315K"),
    ("it.codicefiscale", "RCCMNL83S18D969H", "RCCMNL83S18D969H"),
    ("us.ssn", "536-90-4399", "536904399"),
    ("br.cpf", "390.533.447-05", "39053344705"),
    ("in_.aadhaar", "2341 2341 2346", "234123412346"),
    ("cn.ric", "11010519491231002x", "11010519491231002X"),
    ("gb.nino", "ab 12 34 56 c", "AB123456C"),  # ours (HMRC NIM39110): python-stdnum has no module for it
]
NO_CHECK_CHARACTER = ("us.ssn", "gb.nino")


def normaliser(*schemes: str) -> IdentifierNormaliser:
    return IdentifierNormaliser(identifier_settings(national_id_schemes=schemes or ("cn.ric",)))


def test_the_issue_sample_a_french_number_is_refused_by_default_and_accepted_when_configured() -> None:
    assert isinstance(normaliser().normalise("NATIONAL_ID", "1 85 05 78 006 084 91"), Rejected)
    accepted = normaliser("cn.ric", "fr.nir").normalise("NATIONAL_ID", "1 85 05 78 006 084 91")
    assert isinstance(accepted, Identifier) and accepted.value.startswith("nid1:")
    assert "185057800608491" not in accepted.value


def test_a_refusal_names_the_setting_that_chose_the_schemes() -> None:
    """New-user finding #7: a French NIR refused as "not valid (cn.ric)", the default, with no word of the setting."""
    refused = normaliser().normalise("NATIONAL_ID", "1 85 05 78 006 084 36")
    assert isinstance(refused, Rejected)
    assert "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in refused.reason and "(now cn.ric)" in refused.reason
    with pytest.raises(ValueError, match=r"\(now fr.nir, es.dni\)$"):
        canonical_national_id("12345", ("fr.nir", "es.dni"))


def test_the_default_schemes_are_the_default_regions() -> None:
    """New-user finding #7: with ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION=FR`` a French NIR was refused as not a
    Chinese resident ID. The region's own scheme is the default; set schemes win; a region without a known
    scheme must set them; no region keeps cn.ric (the tokens issued so far)."""
    from bus.config import load_settings
    from bus.errors import ConfigError
    from bus.identifiers.settings import NATIONAL_ID_SCHEMES_BY_REGION, IdentifierSettings

    french = IdentifierNormaliser(identifier_settings(default_region="FR"))
    assert isinstance(french.normalise("NATIONAL_ID", "1 85 05 78 006 084 91"), Identifier)
    assert isinstance(french.normalise("NATIONAL_ID", "11010519491231002X"), Rejected)
    assert IdentifierSettings(default_region="es").national_id_schemes == ("es.dni", "es.nie")
    assert IdentifierSettings(default_region="FR", national_id_schemes=("cn.ric",)).national_id_schemes == ("cn.ric",)
    assert IdentifierSettings().national_id_schemes == ("cn.ric",)
    assert IdentifierSettings(default_region="GB").national_id_schemes == ("gb.nino",)
    with pytest.raises(ValueError, match="OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES"):
        IdentifierSettings(default_region="JP")
    for schemes in NATIONAL_ID_SCHEMES_BY_REGION.values():  # every listed scheme is an installed stdnum module
        IdentifierSettings(national_id_schemes=schemes)
    with pytest.MonkeyPatch.context() as env:  # as a deployment sets it
        env.setenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", "FR")
        assert load_settings(kafka={"bootstrap_servers": "127.0.0.1:9"}).identifiers.national_id_schemes == ("fr.nir",)
        env.setenv("OMNIBUS_IDENTIFIERS__DEFAULT_REGION", "JP")
        with pytest.raises(ConfigError, match="NATIONAL_ID_SCHEMES"):
            load_settings(kafka={"bootstrap_servers": "127.0.0.1:9"})


@pytest.mark.parametrize(("scheme", "written", "canonical"), VALID)
def test_each_scheme_accepts_its_numbers_in_any_spelling_and_tokenises_them(
    scheme: str, written: str, canonical: str
) -> None:
    assert canonical_national_id(written, (scheme,)) == (scheme, canonical)
    result = normaliser(scheme).normalise("NATIONAL_ID", written)
    again = normaliser(scheme).normalise("NATIONAL_ID", canonical)
    assert isinstance(result, Identifier) and result == again
    assert canonical not in result.value and result.value.startswith("nid1:")
    assert normaliser(scheme).normalise("NATIONAL_ID", result.value) == result  # a token is kept as it is


@pytest.mark.parametrize(("scheme", "written", "canonical"), [v for v in VALID if v[0] not in NO_CHECK_CHARACTER])
def test_a_wrong_check_character_is_refused_and_never_echoed(scheme: str, written: str, canonical: str) -> None:
    last = canonical[-1]
    wrong = canonical[:-1] + (str((int(last) + 1) % 10) if last.isdigit() else "A" if last != "A" else "B")
    result = normaliser(scheme).normalise("NATIONAL_ID", wrong)
    assert isinstance(result, Rejected) and result.masked == "[national id]"
    assert wrong not in result.reason and scheme in result.reason


def test_the_first_configured_scheme_that_accepts_the_number_wins_and_schemes_do_not_share_tokens() -> None:
    ssn = normaliser("us.ssn").normalise("NATIONAL_ID", "536-90-4399")
    both = normaliser("cn.ric", "us.ssn").normalise("NATIONAL_ID", "536-90-4399")
    assert ssn == both
    assert ssn != normaliser("cn.ric").normalise("NATIONAL_ID", "536904399")


def test_cn_tokens_are_the_ones_identity_issued_before_schemes() -> None:
    import hashlib
    import hmac

    digest = hmac.new(TEST_KEY.encode(), b"NATIONAL_ID:11010519491231002X", hashlib.sha256).hexdigest()[:32]
    assert normaliser().normalise("NATIONAL_ID", "11010519491231002X") == Identifier("NATIONAL_ID", f"nid1:{digest}")


def test_unknown_schemes_are_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="unknown national ID scheme"):
        identifier_settings(national_id_schemes=("xx.nothing",))


DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1))


@settings(max_examples=200, deadline=None)
@given(born=DAYS, sequence=st.integers(0, 999), separator=st.sampled_from(["", " ", "-"]))
def test_any_resident_id_with_a_right_check_character_is_one_token_and_any_other_is_refused(
    born: date, sequence: int, separator: str
) -> None:
    first17 = f"110105{born:%Y%m%d}{sequence:03d}"
    number = first17 + national_id_check_char(first17)
    written = separator.join([number[:6], number[6:14], number[14:]]).lower()
    good = normaliser().normalise("NATIONAL_ID", written)
    assert good == normaliser().normalise("NATIONAL_ID", number) and isinstance(good, Identifier)
    wrong_check = first17 + next(c for c in "0123456789X" if c != number[-1])
    assert isinstance(normaliser().normalise("NATIONAL_ID", wrong_check), Rejected)


# Valid numbers of each scheme in DIGIT_COUNTS with the fewest and the most digits it allows: its range is not too
# narrow (the property test below: not too wide).
BOUNDS = [("cn.ric", "110105491231002", "110105194912310011"),
          ("fr.nir", "285022A00412355", "185057800608491"), ("es.dni", "54362315-K", "54362315K"),
          ("us.ssn", "536-90-4399", "536904399"), ("br.cpf", "390.533.447-05", "39053344705"),
          ("in_.aadhaar", "2341 2341 2346", "234123412346"), ("gb.nino", "AB 12 34 56 C", "ab123456d")]


def _digits(text: str) -> int:
    return sum(character.isdigit() for character in text)


@pytest.mark.parametrize(("scheme", "fewest", "most"), BOUNDS, ids=[bound[2] for bound in BOUNDS])
def test_a_scheme_s_digit_counts_run_from_its_shortest_valid_number_to_its_longest(
        scheme: str, fewest: str, most: str) -> None:
    assert is_national_id(fewest, (scheme,)) and is_national_id(most, (scheme,))
    assert DIGIT_COUNTS[scheme] == range(_digits(fewest), max(_digits(most), _digits(fewest)) + 1)
    assert {bound[0] for bound in BOUNDS} == set(DIGIT_COUNTS)


@settings(max_examples=300)
@given(scheme=st.sampled_from(sorted(DIGIT_COUNTS)), text=st.text("0123456789 -.XxK2AB\uff11", max_size=24))
def test_no_text_with_a_digit_count_outside_its_scheme_s_is_valid(scheme: str, text: str) -> None:
    if _digits(text) not in DIGIT_COUNTS[scheme]:
        assert not is_national_id(text, (scheme,))


def test_the_digit_counts_of_several_schemes_are_their_union_and_an_unlisted_scheme_s_any() -> None:
    assert digit_counts(("cn.ric", "es.dni")) == {8, 15, 16, 17, 18}
    assert digit_counts(("fr.nir", "it.codicefiscale")) is None  # omocodia: a codice fiscale may hold no digit
    assert digit_counts(()) == frozenset()


# UK National Insurance numbers (``gb.nino``, bus.identifiers.gb_nino; HMRC NIM39110): what HMRC never issues is
# refused with the reason's kind, never the number.
NINO_REFUSED = [
    ("DA123456A", "national-id-component"),  # D is never a first prefix letter
    ("AO123456A", "national-id-component"),  # O is never a second prefix letter
    ("GB123456A", "national-id-component"),  # an unallocated prefix
    ("TN123456A", "national-id-component"),  # a temporary reference number, not a person's
    ("AB123456E", "national-id-component"),  # a suffix beyond D
    ("AB12345C", "national-id-length"),
    ("AB1234567", "national-id-format"),
]


@pytest.mark.parametrize(("written", "code"), NINO_REFUSED)
def test_a_national_insurance_number_hmrc_never_issues_is_refused(written: str, code: str) -> None:
    result = normaliser("gb.nino").normalise("NATIONAL_ID", written)
    assert isinstance(result, Rejected) and result.code == code, result
    assert written not in result.reason and "gb.nino" in result.reason


def test_a_uk_deployment_checks_national_insurance_numbers_without_setting_schemes() -> None:
    """A UK operator set ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION=GB`` and every component refused to start: "no national
    ID scheme is known for the default region GB" (python-stdnum has none for the National Insurance number)."""
    uk = IdentifierNormaliser(identifier_settings(default_region="GB"))
    accepted = uk.normalise("NATIONAL_ID", "AB 12 34 56 C")
    assert isinstance(accepted, Identifier) and accepted == uk.normalise("NATIONAL_ID", "ab123456c")
    assert "AB123456C" not in accepted.value


@pytest.mark.parametrize("written", ["12345678Z", "X1234567L", "110101199003077", "11010119900307711X"])
def test_a_national_id_refused_while_no_scheme_is_set_says_the_setting_is_missing(written: str) -> None:
    """tester50 F16: valid DNIs were counted "NATIONAL_ID 3 malformed" when the deployment set no scheme (the default
    cn.ric checked them). A refusal under the default scheme now has its own code and names the setting; a refusal
    under a scheme the deployment set (or its region chose) keeps its own code."""
    unset = IdentifierNormaliser(identifier_settings())
    refused = unset.normalise("NATIONAL_ID", written)
    assert isinstance(refused, Rejected) and refused.code == NO_SCHEME_CODE, refused
    assert "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in refused.reason and written not in refused.reason
    for chosen in (identifier_settings(national_id_schemes=["cn.ric"]), identifier_settings(default_region="CN")):
        result = IdentifierNormaliser(chosen).normalise("NATIONAL_ID", written)
        assert isinstance(result, Rejected) and result.code != NO_SCHEME_CODE and result.code.startswith("national-id")


def test_a_national_id_valid_under_the_default_scheme_is_kept_while_no_scheme_is_set() -> None:
    accepted = IdentifierNormaliser(identifier_settings()).normalise("NATIONAL_ID", "11010519491231002X")
    assert isinstance(accepted, Identifier)
    spanish = IdentifierNormaliser(identifier_settings(default_region="ES")).normalise("NATIONAL_ID", "12345678Z")
    assert isinstance(spanish, Identifier)
