import json
from datetime import date
from pathlib import Path

import pytest

from bus.errors import ConfigError
from processors.handoffs.config import (
    EscalationStep, HandoffPolicy, HandoffsSettings, RoutingRule, SlaPolicy, Team, load_handoffs_settings, load_policy,
    tier_key,
)

POLICY_YAML = """
calendars:
  default: {}
  paris-office:
    timezone: Europe/Paris
    working_days: [mon, tue, wed, thu, fri]
    opens: "08:30"
    closes: "17:30"
    holidays: [2026-11-11]
teams:
  - name: back-office
  - name: finance
    calendar: paris-office
    receiving_system: finance-desk
    escalation_chain:
      - {role: team-lead, resolve_within_hours: 4}
      - {role: manager, team: finance-managers, owner_id: m-1, resolve_within_hours: 8}
routing:
  - {name: billing, case_types: ["billing-*"], team: finance}
sla:
  - {case_types: ["billing-*"], service_tiers: [gold], resolve_within_hours: 4}
  - {case_types: ["*"], service_tiers: [standard], resolve_within_hours: 20}
warning_percents: [50, 75]
acknowledgement: {timeout_minutes: 15, max_resends: 2}
"""


def test_defaults_are_the_classic_rule() -> None:
    policy = HandoffPolicy()
    assert policy.route("anything", "standard") == ("back-office", None)
    assert policy.resolve_within_hours("anything", "gold") == 20
    assert [s.resolve_within_hours for s in policy.chain("back-office")] == [20, 20, 20]
    assert [s.role for s in policy.chain("back-office")] == ["team-lead", "manager", "head"]
    assert policy.calendar_of("back-office").always_open
    assert policy.warning_percents == (50, 75)


def test_yaml_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML)
    policy = load_policy(path)
    assert policy.route("billing-dispute", "standard") == ("finance", "billing")
    assert policy.route("line-repair", "gold") == ("back-office", None)
    assert policy.resolve_within_hours("billing-dispute", "gold") == 4
    assert policy.resolve_within_hours("billing-dispute", "standard") == 20
    assert policy.resolve_within_hours("line-repair", "silver") == 20  # the default
    finance = policy.team("finance")
    assert finance.receiving_system == "finance-desk" and finance.escalation_chain[1].owner_id == "m-1"
    calendar = policy.calendar_of("finance")
    assert calendar.opens_minute == 510 and calendar.closes_minute == 1050 and calendar.working_days == set(range(5))
    assert policy.acknowledgement.timeout_minutes == 15


def test_json_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"sla": [{"resolve_within_hours": 8}]}))
    assert load_policy(path).resolve_within_hours("x", "y") == 8
    assert load_policy(None) == HandoffPolicy()


def test_an_unknown_team_is_handled_with_the_default_rules() -> None:
    policy = HandoffPolicy()
    assert policy.team("field-repair").name == "field-repair"
    assert policy.calendar_of("field-repair").always_open
    assert not policy.is_known_team("field-repair")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"routing": [{"name": "r", "team": "ghost"}]}, "not defined"),
        ({"teams": [{"name": "back-office", "calendar": "nope"}]}, "undefined calendar"),
        ({"calendars": {"default": {"opens": "18:00", "closes": "08:00"}}}, "opens must be before closes"),
        ({"calendars": {"default": {"opens": "25:00"}}}, "time of day"),
        ({"calendars": {"default": {"timezone": "Mars/Olympus"}}}, "unknown time zone"),
        ({"warning_percents": [75, 50]}, "increasing"),
        ({"sla": [{"resolve_within_hours": 0}]}, "greater than 0"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_invalid_policies_are_refused_with_the_reason(tmp_path: Path, data: dict, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        load_policy(path)


def test_tester25_f4_an_invalid_policy_is_one_line_naming_the_field_without_pydantics_text(tmp_path: Path) -> None:
    """tester25 F4's kind: an invalid policy printed pydantic's own multi-line text (its error count, its input
    repeated, its documentation link)."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"sla": [{"resolve_within_hours": 0}], "surprise": 1}))
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith(f"invalid handoff policy {path}: ") and "\n" not in message, message
    assert "surprise: Extra inputs are not permitted" in message and "sla.0.resolve_within_hours: " in message, message
    assert "Value error" not in message and "validation error" not in message and "errors.pydantic.dev" not in message


def test_unreadable_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("teams: [unclosed")
    with pytest.raises(ConfigError, match="not valid"):
        load_policy(bad)


def test_first_matching_rule_wins() -> None:
    policy = HandoffPolicy(
        teams=(Team(name="back-office"), Team(name="vip")),
        routing=(RoutingRule(name="vip", team="vip", service_tiers=("gold",)),
                 RoutingRule(name="rest", team="back-office")),
        sla=(SlaPolicy(service_tiers=("gold",), resolve_within_hours=4), SlaPolicy(resolve_within_hours=12)),
    )
    assert policy.route("x", "gold") == ("vip", "vip")
    assert policy.route("x", "standard") == ("back-office", "rest")
    assert policy.resolve_within_hours("x", "gold") == 4 and policy.resolve_within_hours("x", "standard") == 12


def test_process_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE", str(tmp_path / "p.yaml"))
    monkeypatch.setenv("OMNIBUS_PROCESSOR_HANDOFFS__TICK_INTERVAL_S", "2.5")
    settings = load_handoffs_settings()
    assert settings.policy_file == tmp_path / "p.yaml" and settings.tick_interval_s == 2.5
    assert settings.source_system == HandoffsSettings().source_system
    monkeypatch.setenv("OMNIBUS_PROCESSOR_HANDOFFS__TYPO", "1")
    with pytest.raises(ConfigError, match="TYPO"):
        load_handoffs_settings()


def test_the_example_policy_is_valid() -> None:
    from processors.handoffs import config

    policy = load_policy(Path(config.__file__).with_name("policy.example.yaml"))
    assert policy.route("line-down", "standard") == ("field-repair", "repair")
    assert policy.resolve_within_hours("line-down", "gold") == 4
    assert policy.resolve_within_hours("line-down", "GOLD") == 4  # tester20 F5: a billing export's tier code
    assert policy.resolve_within_hours("payment-plan", "Vulnerable") == 2  # tester22 F11: how a utility declares it
    assert policy.tiers.rank("vulnerable") > policy.tiers.rank("platinum")
    assert policy.calendar_of("finance").is_holiday(date(2026, 12, 25))


@pytest.mark.parametrize("data", [
    {"tiers": {"trusted_channels": ["FAX"]}},
    {"notifications": {"fallback": ["PIGEON"]}},
    {"notifications": {"addresses": {"WEB": ["SHOE_SIZE"]}}},
    {"tiers": {"mid_case": "downgrade"}},
])
def test_tier_and_notification_rules_name_known_channels_and_types(data: dict) -> None:
    with pytest.raises(ValueError):
        HandoffPolicy.model_validate(data)


def test_the_policy_names_its_teams_and_their_escalation_queues_as_destinations() -> None:
    policy = HandoffPolicy(teams=(Team(name="back-office"), Team(name="finance", escalation_chain=(
        EscalationStep(role="lead", team="finance-leads"), EscalationStep(role="manager")))))
    assert policy.destinations == {"back-office", "back-office/team-lead", "back-office/manager", "back-office/head",
                                   "finance", "finance-leads", "finance/manager"}
    assert policy.knows_destination("finance/manager") and not policy.knows_destination("finanse")


def test_tier_names_are_compared_in_one_form_whatever_their_case() -> None:
    """tester20 F5: ``GOLD`` from a billing export missed the policy's ``gold`` rule; policy names are case-folded
    on load and every comparison (sla, routing, order rank, products) case-folds the tier it is given."""
    policy = HandoffPolicy.model_validate({
        "teams": [{"name": "back-office"}, {"name": "vip-desk"}],
        "routing": [{"name": "vip", "service_tiers": ["Gold"], "team": "vip-desk"}],
        "sla": [{"service_tiers": ["GOLD"], "resolve_within_hours": 4}],
        "default_service_tier": "Standard",
        "tiers": {"order": ["Standard", " GOLD "], "products": {"CARE-GOLD": "Gold"}},
    })
    assert policy.tiers.order == ("standard", "gold") and policy.tiers.products == {"CARE-GOLD": "gold"}
    assert policy.default_service_tier == "standard" and policy.sla[0].service_tiers == ("gold",)
    for spelling in ("gold", "GOLD", "Gold", " gold "):
        assert policy.resolve_within_hours("any", spelling) == 4, spelling
        assert policy.route("any", spelling) == ("vip-desk", "vip"), spelling
        assert policy.tiers.rank(spelling) == 1, spelling
    assert policy.resolve_within_hours("any", "STANDARD") == policy.default_resolve_within_hours
    assert policy.tiers.rank("VIP") == policy.tiers.rank(None) == -1
    assert tier_key(" GOLD ") == "gold"
