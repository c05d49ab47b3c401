import pytest

from processors.offers.eligibility import Rule, RuleError
from processors.offers.facts import CustomerFacts


def test_rule_over_products_tier_region_and_contacts() -> None:
    rule = Rule('"DSL" in products && service_tier in ["GOLD", "SILVER"] && region == "FR" && contacts_7d < 3')
    fits = CustomerFacts(products=("DSL", "MOBILE"), service_tier="GOLD", region="FR", contacts_7d=1)
    assert rule.matches(fits)
    assert not rule.matches(CustomerFacts(products=("DSL",), service_tier="BASIC", region="FR"))
    assert not rule.matches(CustomerFacts(products=("DSL",), service_tier="GOLD", region="FR", contacts_7d=3))


def test_list_macros_and_segment() -> None:
    rule = Rule('segment == "residential" && contact_channels_7d.exists(c, c == "CALL_CENTER") && days_overdue == 0')
    assert rule.matches(CustomerFacts(segment="residential", contact_channels_7d=("CALL_CENTER", "WEB")))
    assert not rule.matches(CustomerFacts(segment="residential", days_overdue=30, contact_channels_7d=("CALL_CENTER",)))


@pytest.mark.parametrize(("source", "message"), [
    ('"DSL" in prodcts', "unknown fact 'prodcts'"),
    ("products.exists(p, p ==", "does not parse"),
    ("contacts_7d + 1", "true or false"),
    ("", "empty"),
])
def test_bad_rules_fail_when_loaded(source: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        Rule(source)


@pytest.mark.parametrize(("source", "pointed"), [
    ("tier ==", "line 1, column 6: tier ⟨here⟩=="),
    ("contacts_7d > > 3", "line 1, column 15: contacts_7d > ⟨here⟩> 3"),
    ('region == "FR" &&\nsegment ==', "line 2, column 9: segment ⟨here⟩=="),
])
def test_a_parse_error_points_at_where_the_parser_stopped_on_one_line(source: str, pointed: str) -> None:
    """A new user read only "eligibility does not parse:          ^": the caret line without its source line."""
    with pytest.raises(RuleError) as raised:
        Rule(source)
    assert str(raised.value) == f"eligibility does not parse: {pointed}"


def test_no_python_eval() -> None:
    with pytest.raises(RuleError):
        Rule('__import__("os").system("true")')
