"""The example handoff policy docs/integrating.md offers a Spanish bank knows the service tiers of the example
customer master (docs/examples/layouts/clientes_layout.yaml): with the default policy, whose tiers are English
words, the tracker warned that ``estándar`` is not in ``tiers.order``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from adapters.legacy.batch_lines import file_records, header_columns, line_id
from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings
from adapters.legacy.layout import load_layout
from adapters.legacy.mapper import BusinessRecord, map_business
from processors.handoffs.config import HandoffPolicy, load_policy, tier_key
from tests.adapters.legacy.support import EXAMPLES
from tests.docs.test_layout_examples import SETTINGS

DOCS = Path(__file__).parents[2] / "docs"
SPANISH_POLICY = DOCS / "examples" / "policies" / "handoff_policy_es.yaml"


def example_tiers(tmp_path: Path) -> set[str]:
    """The service tiers (``tier_key`` form) of the example customer master's ``AccountOpened`` events, mapped as
    ``import-batch`` maps them."""
    layout = load_layout(EXAMPLES / "clientes_layout.yaml")
    ctx = context(SETTINGS, LegacySettings(state_dir=tmp_path), layout.phone_region, layout)
    tiers: set[str] = set()
    with open(EXAMPLES / "clientes.csv", "rb") as handle:
        columns = header_columns(handle, layout)
        for record in file_records(handle, layout, 1 if layout.header else 0, columns):
            assert record.text is not None
            fields = layout.parse(record.text, columns, {})
            dedupe_id = line_id(layout, fields, "0" * 64, record.line, ctx.normaliser)
            mapped = map_business(BusinessRecord(layout.event, fields, dedupe_id, datetime.now(UTC)), ctx)
            tiers |= {tier_key(outgoing.event.value["service_tier"]) for outgoing in mapped.events
                      if outgoing.event.schema.endswith("AccountOpened") and outgoing.event.value.get("service_tier")}
    return tiers


def test_the_spanish_policy_knows_every_tier_of_the_example_customer_master(tmp_path: Path) -> None:
    tiers = example_tiers(tmp_path)
    assert tiers == {"estándar", "premium"}
    policy = load_policy(SPANISH_POLICY)
    assert all(policy.tiers.rank(tier) >= 0 for tier in tiers)  # no "service tier not in ... tiers.order" warning
    assert policy.tiers.rank("premium") > policy.tiers.rank("estándar")
    assert policy.resolve_within_hours("line-repair", "premium") < policy.resolve_within_hours("x", "estándar")
    assert policy.tiers.rank(policy.default_service_tier) >= 0
    assert policy.notifications.default_language == "es"
    assert HandoffPolicy().tiers.rank("estándar") == -1  # why the example needs it: the default's tiers are English


def test_the_integration_guide_offers_the_spanish_policy_as_the_file_says_it() -> None:
    """The guide shows the example's lines: the block it shows reads as the file does (one policy, two copies)."""
    guide = (DOCS / "integrating.md").read_text()
    link = "(examples/policies/handoff_policy_es.yaml)"
    assert link in guide
    shown = guide.split(link, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(shown) == yaml.safe_load(SPANISH_POLICY.read_text(encoding="utf-8"))
