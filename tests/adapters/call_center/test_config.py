from __future__ import annotations

import pytest

from adapters.call_center.config import ENV_PREFIX, CallCenterSettings
from bus.config import load_component_settings
from bus.errors import ConfigError
from tests.adapters.call_center.support import LYON_WORKSPACE, PARIS_KEY, call_center_settings


def test_sites_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"paris": {"access_keys": ["k1"], "sla_threshold_s": 30}}')
    monkeypatch.setenv(f"{ENV_PREFIX}PORT", "0")
    settings = load_component_settings(CallCenterSettings, ENV_PREFIX)
    assert settings.site_for_key("k1") == "paris" and settings.sites["paris"].sla_threshold_ms(None) == 30_000
    assert "k1" not in repr(settings)  # keys are secrets


def test_credentials_name_exactly_one_site() -> None:
    settings = call_center_settings()
    assert settings.site_for_key(PARIS_KEY) == "paris" and settings.site_for_key("nope") is None
    assert settings.site_for_workspace(LYON_WORKSPACE) == "lyon"
    with pytest.raises(ValueError, match="shared by sites"):
        call_center_settings(sites={"a": {"access_keys": ["same"]}, "b": {"access_keys": ["same"]}})


@pytest.mark.parametrize(("sites", "message"), [
    ({"a": {"twilio_workspace_sids": ["WS1"]}}, "no twilio_auth_token"),
    ({"a": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
    ({}, "at least 1"),
])
def test_bad_site_settings_are_refused(sites: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call_center_settings(sites=sites)


def test_unknown_optional_columns_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    monkeypatch.setenv(f"{ENV_PREFIX}ASTERISK_OPTIONAL_COLUMNS", '["uniqueid", "recordingfile"]')
    with pytest.raises(ConfigError, match="recordingfile"):
        load_component_settings(CallCenterSettings, ENV_PREFIX)


@pytest.mark.parametrize("written", ['["customerNumber"]', '+["customerNumber"]'])
def test_no_customer_number_is_read_unless_the_deployment_names_the_attribute_its_flow_verified(
        monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    """tester24 F3: a number typed on the keypad is the caller's claim; the deployment names the attributes whose
    number its contact flow checked (the leading + form adds to the default, which is empty)."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    assert load_component_settings(CallCenterSettings, ENV_PREFIX).verified_customer_number_attributes == ()
    monkeypatch.setenv(f"{ENV_PREFIX}VERIFIED_CUSTOMER_NUMBER_ATTRIBUTES", written)
    settings = load_component_settings(CallCenterSettings, ENV_PREFIX)
    assert settings.verified_customer_number_attributes == ("customerNumber",)


def test_the_former_customer_number_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment that set the attribute read before (by default ``customerNumber``) learns at start-up that the
    setting changed, rather than silently no longer reading its verified number."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    monkeypatch.setenv(f"{ENV_PREFIX}CONNECT_CUSTOMER_NUMBER_ATTRIBUTE", "customerNumber")
    with pytest.raises(ConfigError, match="CONNECT_CUSTOMER_NUMBER_ATTRIBUTE"):
        load_component_settings(CallCenterSettings, ENV_PREFIX)
