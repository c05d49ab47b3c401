"""tester28 F5: a meter point number is an identifier (SUPPLY_POINT), one spelling per number, checked where its scheme
has a check digit (python-stdnum), masked like an account; its value never in a refusal's text."""

from __future__ import annotations

import pytest

from bus.identifiers import Identifier, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.kinds import IDENTIFIER_TYPES, SUPPLY_POINT, label
from bus.identifiers.masking import mask

NORMALISER = IdentifierNormaliser(IdentifierSettings(), block_placeholders=True)


def test_the_contract_has_the_symbol_and_a_sentence_names_it() -> None:
    assert SUPPLY_POINT in IDENTIFIER_TYPES
    assert label(SUPPLY_POINT) == "a supply point number"


@pytest.mark.parametrize(("raw", "expected"), [
    ("14500000000003", "14500000000003"),  # the tester's PRM (France, 14 digits, no check digit)
    ("145 000 000 000 03", "14500000000003"),  # as printed on a bill
    ("14500-000.000/003", "14500000000003"),
    ("541449000000000126", "541449000000000126"),  # Belgian EAN-18 (GSRN), GS1 check digit right
    ("871 620 000 000 123 451", "871620000000123451"),  # Dutch EAN-18
    ("22xwattplus----g", "22XWATTPLUS----G"),  # an EIC, its check character right
    ("es 1234-123456789012-jy", "ES1234123456789012JY"),  # a Spanish CUPS, its check letters right
    ("ftth-0034-77812", "FTTH-0034-77812"),  # a telecom's installation number: kept, upper case
    ("it001e00000001", "IT001E00000001"),  # an Italian POD (tester30 F10)
    ("IT 012 E 123456789", "IT012E123456789"),  # a POD with 9 digits after the E, as printed with spaces
    ("IT001-E-0000-0001", "IT001E00000001"),
    ("08012345678901", "08012345678901"),  # an Italian PDR (gas, 14 digits): taken as written
])
def test_every_spelling_of_one_number_is_one_key(raw: str, expected: str) -> None:
    assert NORMALISER.normalise("SUPPLY_POINT", raw) == Identifier("SUPPLY_POINT", expected)


@pytest.mark.parametrize(("raw", "code"), [
    ("541449000000000127", "supply-point-checksum"),  # EAN-18 with a wrong check digit
    ("22XWATTPLUS----X", "supply-point-checksum"),  # EIC with a wrong check character
    ("ES1234123456789012XY", "supply-point-checksum"),  # CUPS with wrong check letters
    ("97213", "supply-point-format"),  # too short to be a place's number
    ("PRM #14500000000003", "supply-point-format"),  # a character no scheme has
    ("IT001X0001", "supply-point-format"),  # tester30 F10: not a POD's shape, taken as any string before
    ("IT001E123", "supply-point-format"),  # a POD cut short
    ("IT1234E12345678", "supply-point-format"),  # four digits for the distributor
])
def test_a_wrong_number_is_refused_with_its_scheme_never_its_value(raw: str, code: str) -> None:
    result = NORMALISER.normalise("SUPPLY_POINT", raw)
    assert isinstance(result, Rejected) and result.code == code
    assert "14500000000003" not in result.reason and raw not in result.reason
    assert raw not in result.masked


@pytest.mark.parametrize("raw", ["00000000000000", "11111111111111"])
def test_a_filler_is_a_placeholder(raw: str) -> None:
    result = NORMALISER.normalise("SUPPLY_POINT", raw)
    assert isinstance(result, Rejected) and result.code == "placeholder"


def test_it_is_masked_by_its_last_four_as_an_account() -> None:
    assert mask("SUPPLY_POINT", "14500000000003") == "****0003"
    assert mask("SUPPLY_POINT", "541449000000000126") == "****0126"


def test_normalising_a_normalised_value_returns_it() -> None:
    for value in ("14500000000003", "22XWATTPLUS----G", "ES1234123456789012JY", "FTTH-0034-77812"):
        assert NORMALISER.normalise("SUPPLY_POINT", value) == Identifier("SUPPLY_POINT", value)
