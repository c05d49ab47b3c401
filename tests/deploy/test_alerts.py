"""The alert rules: valid for Prometheus, each one covered by a `promtool test rules` case that passes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from deploy.monitoring import alerts
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
