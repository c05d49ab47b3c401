"""An eligibility rule comparing a fact with a literal of another kind is refused when loaded: cel-python evaluates
``days_overdue == "zero"`` to false without an error, so the offer would have reached no one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibus.cli import app
from processors.offers.eligibility import Rule, RuleError


@pytest.mark.parametrize(("source", "says"), [
    ('days_overdue == "zero"', 'days_overdue is a whole number, "zero" is text: never equal'),
    ('days_overdue != "0"', 'days_overdue is a whole number, "0" is text: never equal'),
    ('contacts_7d > "3"', 'contacts_7d is a whole number, "3" is text: not comparable'),
    ("region == 34", "region is text, 34 is a whole number: never equal"),
    ("service_tier == true", "service_tier is text, true is true or false: never equal"),
    ('service_tier in ["GOLD", 1]', "service_tier is text, 1 in its list is not: it never matches"),
    ("days_overdue in [0, \"none\"]", 'days_overdue is a whole number, "none" in its list is not: it never matches'),
    ("1 in products", "products is a list of text, 1 is a whole number: it is never in it"),
    ('products == "FIBRE"', 'products is a list of text, "FIBRE" is text: never equal'),
    ('"A" in service_tier', 'service_tier is text, not a list'),
    ('segment == "x" && (region == "FR" || days_overdue == "0")', 'days_overdue is a whole number, "0" is text'),
    ("contacts_7d < 5.5", "contacts_7d is a whole number, 5.5 is a decimal number"),
    ("days_overdue == 1u", "days_overdue is a whole number, 1u is an unsigned number"),
])
def test_a_fact_compared_with_a_literal_of_another_kind_is_refused_naming_both(source: str, says: str) -> None:
    with pytest.raises(RuleError, match="eligibility compares values of different kinds") as raised:
        Rule(source)
    assert says in str(raised.value)


@pytest.mark.parametrize("source", [
    "days_overdue == 0", '"FIBRE" in products', 'service_tier in ["GOLD", "SILVER"]', "size(products) > 0",
    'products.exists(p, p == "X")', 'contact_channels_7d.exists(c, c == "WEB") && contacts_7d <= 4',
    "region == segment", 'r"GOLD" == service_tier', "true",
])
def test_comparisons_of_one_kind_still_load(source: str) -> None:
    Rule(source)


def test_offers_publish_check_refuses_the_example_with_a_number_compared_with_text(tmp_path: Path) -> None:
    """As reported: the example offer file with ``days_overdue == "zero"`` passed ``--check`` (exit 0)."""
    from processors.offers import offer_file

    example = Path(offer_file.__file__).with_name("offer.example.yaml").read_text(encoding="utf-8")
    assert "days_overdue == 0" in example
    broken = tmp_path / "offer.yaml"
    broken.write_text(example.replace("days_overdue == 0", 'days_overdue == "zero"'), encoding="utf-8")
    result = CliRunner().invoke(app, ["offers", "publish", "--check", str(broken)])
    assert result.exit_code == 2, result.output
    assert "days_overdue is a whole number" in result.output
