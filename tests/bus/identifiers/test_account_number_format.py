"""tester26 F5: a utility's contract number typed as ``900001`` or ``CA900001`` is billing's ``CA-900001`` under
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT`` (the ``NumberFormat`` customer numbers have), IBANs untouched."""

from __future__ import annotations

from typing import Any

import pytest

from bus.identifiers import Identifier, IdentifierNormaliser, Rejected
from bus.identifiers.account import UNSTABLE_FORMAT, normalise_account
from bus.identifiers.customer_number import CustomerNumberFormat
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.normaliser import load_identifier_settings
from bus.identifiers.number_format import NumberFormat
from tests.bus.identifiers.support import identifier_settings

BILLING = {"prefix": "CA-"}  # the utility's contract numbers: CA-900001
IBAN = "FR7630006000011234567890189"


def account(raw: str, system_format: dict[str, Any] | None = BILLING, *, block: bool = False) -> Identifier | Rejected:
    normaliser = IdentifierNormaliser(identifier_settings(account_number_format=system_format),
                                      block_placeholders=block)
    return normaliser.normalise("ACCOUNT", raw)


@pytest.mark.parametrize("raw", [
    "900001", "CA900001",  # the tester's: typed at a counter and on a keypad
    "CA-900001", "ca 900001", " ca-900-001 ", "CA-0900001", "0900001", "CA.900001", "ＣＡ９００００１",
])
def test_every_house_style_of_one_contract_number_is_billings_spelling(raw: str) -> None:
    assert account(raw) == Identifier("ACCOUNT", "CA-900001")


@pytest.mark.parametrize("raw", [IBAN, "fr76 3000 6000 0112 3456 7890 189", "FR76-3000-6000-0112-3456-7890-189"])
def test_an_iban_stays_its_electronic_form_whatever_the_format(raw: str) -> None:
    assert account(raw) == Identifier("ACCOUNT", IBAN)
    assert account(raw, {"prefix": "CA-", "pattern": "(?P<number>[A-Z0-9]+)"}) == Identifier("ACCOUNT", IBAN)


def test_another_systems_prefixed_numbers_and_unset_format_keep_todays_spelling() -> None:
    assert account("CB-900001") == Identifier("ACCOUNT", "CB-900001")
    assert account("acc-100 234", None) == Identifier("ACCOUNT", "ACC-100234")
    assert account("900001", None) == Identifier("ACCOUNT", "900001")
    assert load_identifier_settings(hmac_key="k" * 32).account_number_format is None


@pytest.mark.parametrize("raw", ["900001", "ca 900-001", IBAN, "CB-1", "ＣＡ９００００１"])
def test_normalising_twice_changes_nothing(raw: str) -> None:
    once = normalise_account(raw, NumberFormat(prefix="CA-", width=8))
    assert normalise_account(once, NumberFormat(prefix="CA-", width=8)) == once


def test_a_format_that_reads_its_own_output_as_another_number_is_refused_naming_the_setting() -> None:
    unstable = NumberFormat(prefix="X", pattern="(?:12)?(?P<number>[0-9]+)")
    with pytest.raises(NotAnIdentifier) as refused:
        normalise_account("X12123", unstable)
    assert refused.value.code == UNSTABLE_FORMAT and "OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT" in str(refused.value)
    result = account("X12123", {"prefix": "X", "pattern": "(?:12)?(?P<number>[0-9]+)"})
    assert isinstance(result, Rejected) and result.code == UNSTABLE_FORMAT and "12123" not in result.reason


def test_a_placeholder_is_refused_as_written_though_the_format_rewrites_it() -> None:
    for written in ("0000000", "1234567890"):
        rejected = account(written, block=True)
        assert isinstance(rejected, Rejected) and rejected.code == "placeholder", written


def test_the_setting_is_read_from_the_environment_and_customer_numbers_keep_their_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT", '{"prefix": "CA-"}')
    loaded = load_identifier_settings(hmac_key="k" * 32)
    assert loaded.account_number_format == NumberFormat(prefix="CA-") and loaded.customer_number_format is None
    assert CustomerNumberFormat is NumberFormat  # the old name, one declaration
