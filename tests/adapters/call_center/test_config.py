from __future__ import annotations

import re

import pytest

from adapters.call_center.config import ENV_PREFIX, PUBLIC_BASE_URL_PLACEHOLDER, CallCenterSettings
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


@pytest.mark.parametrize("written", ['{"ACCOUNT": ["accountNumber"]}', '+{"ACCOUNT": ["accountNumber"]}'])
def test_no_record_key_is_read_unless_the_deployment_names_the_attribute_its_flow_verified(
        monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    """tester24 F3, tester25 F2: an account or customer number typed on the keypad is the caller's claim; the
    deployment names, per record key kind, the attributes whose value its contact flow checked (the leading + form
    adds to the default, which is empty)."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    assert load_component_settings(CallCenterSettings, ENV_PREFIX).verified_record_attributes == {}
    monkeypatch.setenv(f"{ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES", written)
    settings = load_component_settings(CallCenterSettings, ENV_PREFIX)
    assert settings.verified_record_attributes == {"ACCOUNT": ("accountNumber",)}


def test_only_claimable_key_kinds_are_verified_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    monkeypatch.setenv(f"{ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES", '{"PHONE": ["callback"]}')
    with pytest.raises(ConfigError, match=r"not claimable key kinds \['PHONE'\]; known: \['ACCOUNT', 'CARD', "
                       r"'CUSTOMER_NUMBER', 'NATIONAL_ID'\]"):
        load_component_settings(CallCenterSettings, ENV_PREFIX)


def test_tester29_f10_a_national_id_the_ivr_verified_may_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """F10: a Spanish bank's IVR identifies callers by DNI + PIN; the deployment names the attribute its flow stores
    a DNI it checked against core banking in (refused before: only ACCOUNT, CARD, CUSTOMER_NUMBER)."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    monkeypatch.setenv(f"{ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES", '+{"NATIONAL_ID": ["verifiedDni"]}')
    settings = load_component_settings(CallCenterSettings, ENV_PREFIX)
    assert settings.verified_record_attributes == {"NATIONAL_ID": ("verifiedDni",)}


@pytest.mark.parametrize(("former", "says"), [
    ("CONNECT_CUSTOMER_NUMBER_ATTRIBUTE", "under CUSTOMER_NUMBER"),
    ("CONNECT_ACCOUNT_ATTRIBUTE", "under ACCOUNT, none by default"),
    ("VERIFIED_CUSTOMER_NUMBER_ATTRIBUTES", "renamed"),
])
def test_a_former_record_key_setting_is_refused_by_name_with_what_replaced_it(
        monkeypatch: pytest.MonkeyPatch, former: str, says: str) -> None:
    """A deployment that set an attribute read before (by default ``accountNumber``, ``customerNumber``) learns at
    start-up that the setting changed, rather than silently no longer reading its verified number (exit 2)."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"a": {}}')
    monkeypatch.setenv(f"{ENV_PREFIX}{former}", "accountNumber")
    with pytest.raises(ConfigError, match=f"{ENV_PREFIX}{former} \\(.*{says}.*VERIFIED_RECORD_ATTRIBUTES|"
                       f"{ENV_PREFIX}{former} \\(.*VERIFIED_RECORD_ATTRIBUTES.*{says}"):
        load_component_settings(CallCenterSettings, ENV_PREFIX)


@pytest.mark.parametrize(("value", "message"), [
    (PUBLIC_BASE_URL_PLACEHOLDER, "still the placeholder deploy/k8s/overlays/prod/kustomization.yaml ships"),
    ("call-center.acme.com", "not the scheme and host"),  # no scheme
    ("ftp://call-center.acme.com", "not the scheme and host"),
    ("https://", "not the scheme and host"),
    ("https://call-center.acme.com/?x=1", "not the scheme and host"),
])
def test_tester35_f12_a_public_base_url_that_twilio_cannot_have_signed_stops_the_start(
        monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    """The prod overlay shipped an example host: applied as is, the adapter started and refused every TaskRouter
    callback. Its placeholder, or any value that is no http(s) URL with a host, is now a setting error (exit 2)."""
    monkeypatch.setenv(f"{ENV_PREFIX}SITES", '{"paris": {"access_keys": ["k1"]}}')
    monkeypatch.setenv(f"{ENV_PREFIX}PUBLIC_BASE_URL", value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_component_settings(CallCenterSettings, ENV_PREFIX)


@pytest.mark.parametrize("value", ["https://call-center.acme.com", "http://10.0.0.5:8080", "https://acme.com/cc/"])
def test_a_public_base_url_with_a_scheme_and_host_and_maybe_a_path_prefix_is_taken(value: str) -> None:
    assert call_center_settings(public_base_url=value).public_base_url == value
    assert call_center_settings(public_base_url="").public_base_url is None  # set empty: unset
