from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy import values


@pytest.mark.parametrize(("value", "minor", "currency", "expected"), [
    ("59.99", None, "EUR", {"amount_minor": 5999, "currency": "EUR"}),
    ("59,99", None, "eur", {"amount_minor": 5999, "currency": "EUR"}),
    (Decimal("1200"), None, "JPY", {"amount_minor": 1200, "currency": "JPY"}),
    ("1.250", None, "BHD", {"amount_minor": 1250, "currency": "BHD"}),  # three decimals: BHD's own writing
    ("1.234,56", None, "BRL", {"amount_minor": 123456, "currency": "BRL"}),  # tester33 F5: an outbox's pt-BR text
    ("1,234.56", None, "USD", {"amount_minor": 123456, "currency": "USD"}),
    (None, "5999", "EUR", {"amount_minor": 5999, "currency": "EUR"}),
    ({"amount_minor": -500, "currency": "USD"}, None, "EUR", {"amount_minor": -500, "currency": "USD"}),
])
def test_amounts_become_exact_minor_units(value: object, minor: object, currency: str, expected: dict) -> None:
    assert values.money(value, minor, "amount", currency) == expected


@pytest.mark.parametrize(("value", "currency", "reason"), [
    ("12.3456", "EUR", "more decimals than EUR allows"),
    ("12.345", "EUR", "ambiguous"),  # 12.345 or 12345 (tester33 F5): refused either way, now with the fix
    ("12.5", "JPY", "more decimals than JPY allows"),
    ("douze", "EUR", "expected an amount"),
    (None, "EUR", "amount is missing"),
    ("1", "EURO", "ISO 4217"),
    ({"amount_minor": 1.5}, "EUR", "whole number"),
])
def test_bad_amounts_are_refused(value: object, currency: str, reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason):
        values.money(value, None, "amount", currency)


@pytest.mark.parametrize("written", ["1.500", "1,500", "-12.500"])
def test_tester33_f5_an_amount_that_reads_a_thousand_times_apart_is_refused_not_guessed(written: str) -> None:
    """tester33 F5: ``1.500`` (R$ 1.500 in pt-BR) was published as 1.50: a decimal point or a thousands one."""
    with pytest.raises(RejectedInput, match="is ambiguous .* thousands .*number_locale"):
        values.money(written, None, "amount_due", "BRL")


def test_dates_times_and_counts() -> None:
    assert str(values.day("2024-04-15T10:00:00", "d")) == "2024-04-15"
    assert values.moment("2024-04-15T10:00:00", "t").tzinfo is not None  # naive reads as UTC
    assert values.whole("12", "n") == 12 and values.whole("", "n") is None
    with pytest.raises(RejectedInput, match="whole number"):
        values.whole("1.5", "n")
    with pytest.raises(RejectedInput, match="field d is malformed"):
        values.day("15/04/2024", "d")
