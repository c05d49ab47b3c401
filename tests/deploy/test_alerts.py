"""The alert rules: valid for Prometheus, each one covered by a `promtool test rules` case that passes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from deploy.monitoring import alerts, runbook
from deploy.outputs import ROOT

RULE_FILE = ROOT / "deploy/monitoring/prometheus/omnibus-alerts.yaml"
PROMTOOL_TESTS = Path(__file__).with_name("alerts.promtool.yaml")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/bootstrap.sh installs Debian's prometheus package"
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_rule_file_is_valid_prometheus() -> None:
    result = promtool("check", "rules", str(RULE_FILE), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_as_its_promtool_case_expects() -> None:
    result = promtool("test", "rules", PROMTOOL_TESTS.name, cwd=PROMTOOL_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_promtool_case() -> None:
    cases = yaml.safe_load(PROMTOOL_TESTS.read_text())["tests"]
    tested = {check["alertname"] for case in cases for check in case["alert_rule_test"] if check["exp_alerts"]}
    declared = {alert.name for group in alerts.GROUPS.values() for alert in group}
    assert declared == tested, f"alerts without a firing case: {declared - tested}; unknown: {tested - declared}"


def test_the_prometheus_rule_carries_the_same_groups_as_the_rule_file() -> None:
    resource = yaml.safe_load((ROOT / "deploy/k8s/base/monitoring/prometheusrule.yaml").read_text())
    assert resource["kind"] == "PrometheusRule"
    assert resource["spec"]["groups"] == yaml.safe_load(RULE_FILE.read_text())["groups"]


def _anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown`` (lower case, punctuation but - and _ dropped, spaces as
    -), written out here rather than taken from ``deploy.monitoring.runbook.anchor``, which this checks."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S), flags=re.M)
    return {re.sub(r"[^a-z0-9_\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_rule_has_a_runbook_url_whose_section_exists() -> None:
    """tester35 F9: no rule had a runbook_url. Each points at its alert's section of the runbook, and the runbook's
    links to other docs name sections that exist."""
    rules = [rule for group in yaml.safe_load(RULE_FILE.read_text())["groups"] for rule in group["rules"]]
    missing = []
    for rule in rules:
        url = rule["annotations"].get("runbook_url", "")
        path, _, anchor = url.removeprefix(runbook.RUNBOOK_BASE).partition("#")
        target = ROOT / path
        if not path or not anchor or not target.is_file() or anchor not in _anchors(target.read_text()):
            missing.append(f"{rule['alert']}: {url!r}")
        elif anchor != rule["alert"].lower():
            missing.append(f"{rule['alert']}: {url!r} is not its own section")
    for alert in (alert for group in alerts.GROUPS.values() for alert in group if alert.see):
        path, _, anchor = alert.see.partition("#")
        if not (ROOT / path).is_file() or anchor not in _anchors((ROOT / path).read_text()):
            missing.append(f"{alert.name}: see {alert.see!r}")
    assert rules and not missing, missing


def test_the_credentials_alerts_say_where_to_look_and_name_every_reason() -> None:
    """tester35 F9: the text left out the reason malformed and did not say where the refused requests are logged."""
    from bus.refused_credentials import CredentialRefusal

    for name in ("OmnibusRefusingCredentials", "OmnibusCredentialsKeptRefused"):
        (alert,) = [alert for group in alerts.GROUPS.values() for alert in group if alert.name == name]
        for words in ("bus.refused_credentials", "route", "peer", "forwarded_for", "refused",
                      *(reason.value for reason in CredentialRefusal)):
            assert words in alert.description, (name, words)
