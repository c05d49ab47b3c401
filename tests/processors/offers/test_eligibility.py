import subprocess
import sys
from pathlib import Path

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


def test_importing_the_module_builds_no_cel_parser() -> None:
    # Every `omnibus` command imports this module through the CLI; celpy's Lark parser costs a second of CPU on a
    # loaded machine, so it is built by the first rule compiled, not at import (a fresh interpreter: this one
    # has compiled rules already).
    count_parsers = (
        "import lark\n"
        "built = []\n"
        "init = lark.Lark.__init__\n"
        "def counted(self, *args, **kwargs):\n"
        "    built.append(1)\n"
        "    init(self, *args, **kwargs)\n"
        "lark.Lark.__init__ = counted\n"
        "import processors.offers.eligibility\n"
        "print(len(built))\n"
    )
    result = subprocess.run([sys.executable, "-c", count_parsers], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "0"
