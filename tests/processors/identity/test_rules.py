import json
import re
from pathlib import Path

from bus.identifiers.model import BLOCKED, INVALID
from processors.identity.rules import LINEAGE_RULES, LinkPolicy
from tests.processors.identity.support import settings

POLICY = LinkPolicy(settings(max_per_customer={"EMAIL": 2}, shared_after={"PHONE": 3}))


def test_plan_order_is_priority_then_key() -> None:
    keys = ["PHONE:+2", "EMAIL:b", "NATIONAL_ID:nid1:x", "PHONE:+1", "DEVICE:d"]
    assert POLICY.plan_order(keys) == ["NATIONAL_ID:nid1:x", "EMAIL:b", "PHONE:+1", "PHONE:+2", "DEVICE:d"]


def test_only_an_addition_breaches_a_limit() -> None:
    assert POLICY.breach(["EMAIL:a"], ["EMAIL:b"]) is None
    breach = POLICY.breach(["EMAIL:a", "EMAIL:b"], ["EMAIL:c", "PHONE:+1"])
    assert breach is not None and (breach.kind, breach.count, breach.limit) == ("EMAIL", 3, 2)
    assert "3 EMAIL identifiers (limit 2)" in breach.reason
    assert POLICY.breach(["EMAIL:a", "EMAIL:b", "EMAIL:c"], ["PHONE:+1"]) is None  # already over: keeps what it has
    assert POLICY.breach(["EMAIL:a"], ["EMAIL:a"]) is None


def test_shared_after_the_threshold() -> None:
    assert not POLICY.is_shared("PHONE", 3) and POLICY.is_shared("PHONE", 4)


def test_the_lineage_schema_explains_every_rule_lineage_names() -> None:
    """One list of rules (``rules.LINEAGE_RULES``), explained in schemas/identity/Lineage.avsc's doc of ``rule``:
    ``corrected-version`` was carried in lineage and missing from the doc subscribers read."""
    schema = json.loads((Path(__file__).parents[3] / "schemas" / "identity" / "Lineage.avsc").read_text())
    (doc,) = [field["doc"] for field in schema["fields"] if field["name"] == "rule"]
    named = set(re.findall(r"[a-z]+(?:-[a-z]+)*", doc))
    assert not {*LINEAGE_RULES, INVALID, BLOCKED} - named
