"""Decimals as legacy systems write them (``adapters.legacy.numbers``, tester33 F5)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.numbers import UNDECLARED, DecimalFormat, declared_format, read_decimal

PT_BR = declared_format(None, None, "pt_BR")


@pytest.mark.parametrize(("written", "number"), [
    ("1234.56", "1234.56"), ("1234,56", "1234.56"), ("59,99", "59.99"), ("-12,50", "-12.50"), ("12", "12"),
    ("0.500", "0.500"), ("1234.567", "1234.567"), (".5", "0.5"), ("1e3", "1E+3"),  # read as before
    ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("1.234.567", "1234567"), ("1.234.567,89", "1234567.89"),
])
def test_undeclared_numbers_read_as_before_and_both_separators_read_one_way(written: str, number: str) -> None:
    assert str(read_decimal(written, "amount")) == number


@pytest.mark.parametrize("written", ["1.500", "1,500", "-999.000", "12.345", "+1,000"])
def test_tester33_f5_an_undeclared_number_that_reads_two_ways_is_refused_with_the_fix(written: str) -> None:
    """``1.500`` was read 1.5: R$ 1.500 published as R$ 1,50 without a word."""
    with pytest.raises(RejectedInput, match="is ambiguous .* declare the layout's number_locale") as refused:
        read_decimal(written, "amount_due")
    assert refused.value.code == "malformed_field"


def test_three_decimals_are_a_three_decimal_currencys_own_writing() -> None:
    assert read_decimal("1.250", "amount", minor_digits=3) == Decimal("1.25")


@pytest.mark.parametrize("written", ["12x", "1.2.3", "1,23,456.7", "1.23,4.5", ","])
def test_undeclared_text_that_is_no_number_is_left_to_the_caller_to_word(written: str) -> None:
    with pytest.raises(InvalidOperation):
        read_decimal(written, "amount")


@pytest.mark.parametrize(("written", "number"), [
    ("1.500", "1500"), ("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("1,5", "1.5"), ("1.234.567,8", "1234567.8"),
])
def test_a_declared_locale_reads_its_own_writing(written: str, number: str) -> None:
    assert str(read_decimal(written, "amount_due", PT_BR)) == number


@pytest.mark.parametrize("written", ["1.5", "12.34.567", "1.2345,6", "1,234.56", "0.123"])
def test_a_declared_format_refuses_what_it_does_not_write(written: str) -> None:
    with pytest.raises(RejectedInput, match=r"is malformed \(expected decimal with decimal comma and thousands point, "):
        read_decimal(written, "amount_due", PT_BR)


def test_a_thousands_space_is_any_space_an_export_writes() -> None:
    french = declared_format(None, None, "fr_FR")
    assert french == DecimalFormat(",", "\u202f")
    assert {read_decimal(written, "amount", french) for written in ("1 234,56", "1\u00a0234,56", "1\u202f234,56")} \
        == {Decimal("1234.56")}


def test_separators_without_a_locale() -> None:
    assert declared_format(None, ".") == DecimalFormat(",", ".")  # a thousands point implies a decimal comma
    assert declared_format(",", None) == DecimalFormat(",", None)
    assert declared_format(".", "'", "pt_BR") == DecimalFormat(".", "'")  # explicit separators over the locale
    assert declared_format(None, None) == UNDECLARED


@pytest.mark.parametrize(("decimal", "thousands", "locale", "reason"), [
    (";", None, None, "decimal_separator"), (",", ",", None, "thousands_separator"),
    (None, "x", None, "thousands_separator"), (None, None, "xx_QQ", "number_locale 'xx_QQ' is no known locale"),
])
def test_a_format_that_cannot_be_is_refused(decimal: str | None, thousands: str | None, locale: str | None,
                                            reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        declared_format(decimal, thousands, locale)
