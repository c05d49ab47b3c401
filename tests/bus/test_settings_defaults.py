"""A list or mapping setting written with a leading ``+`` adds to its default; one written without it replaces it and
the replacement is named (F5 of session 20: one web identifier trait set removed the e-mail and phone traits)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.call_center.config import ENV_PREFIX as CALL_CENTER
from adapters.call_center.config import CallCenterSettings
from adapters.legacy.config import ENV_PREFIX as LEGACY
from adapters.legacy.config import LegacySettings
from adapters.web.config import DEFAULT_IDENTIFIER_TRAITS, WebSettings
from adapters.web.config import ENV_PREFIX as WEB
from bus.config import load_component_settings
from bus.errors import ConfigError
from bus.settings_defaults import added, replaced_defaults

TRAITS = f"{WEB}IDENTIFIER_TRAITS"


def web(monkeypatch: pytest.MonkeyPatch, **variables: str) -> WebSettings:
    for name, value in variables.items():
        monkeypatch.setenv(f"{WEB}{name}", value)
    return load_component_settings(WebSettings, WEB)


def test_the_samples_customer_number_trait_added_keeps_the_email_and_phone_traits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = web(monkeypatch, IDENTIFIER_TRAITS='+{"CUSTOMER_NUMBER": ["customerNumber"]}')
    assert settings.identifier_traits == {**DEFAULT_IDENTIFIER_TRAITS, "CUSTOMER_NUMBER": ("customerNumber",)}
    assert list(replaced_defaults(settings, WEB)) == []


def test_a_name_added_to_a_default_type_keeps_the_types_other_names(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = web(monkeypatch, IDENTIFIER_TRAITS='+{"PHONE": ["tel", "mobile"]}')
    assert settings.identifier_traits["PHONE"] == (*DEFAULT_IDENTIFIER_TRAITS["PHONE"], "tel")
    assert settings.identifier_traits["EMAIL"] == ("email",)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("SERVICE_REQUEST_EVENTS", ' +["Callback Requested"]', ("Service Request Submitted", "Callback Requested")),
    ("OFFER_EVENTS", '+{"Offer Clicked": "PRESENTED", "Offer Viewed": "PRESENTED"}',
     {"Offer Viewed": "PRESENTED", "Offer Accepted": "ACCEPTED", "Offer Declined": "DECLINED",
      "Offer Clicked": "PRESENTED"}),
    ("REFERENCE_FIELDS", '+["meter_point_id"]', ("meter_point_id",)),  # an empty default: the value itself
    ("WRITE_KEYS", '+{"portal-web": "wk-1"}', None),
])
def test_every_list_or_mapping_setting_adds_to_its_default_with_a_plus(
        monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: Any) -> None:
    settings = web(monkeypatch, **{name: value})
    if expected is not None:
        assert getattr(settings, name.lower()) == expected
    assert settings.write_keys.keys() <= {"portal-web"}


def test_without_a_plus_the_value_replaces_the_default_and_what_it_left_out_is_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The tester's setting, as written in F5: it still replaces (a deployment may mean it), no longer silently."""
    settings = web(monkeypatch, IDENTIFIER_TRAITS='{"CUSTOMER_NUMBER": ["customerNumber"]}')
    assert settings.identifier_traits == {"CUSTOMER_NUMBER": ("customerNumber",)}
    assert list(replaced_defaults(settings, WEB)) == [(TRAITS, list(DEFAULT_IDENTIFIER_TRAITS))]
    narrowed = web(monkeypatch, IDENTIFIER_TRAITS='{"EMAIL": ["email"], "PHONE": ["phone"]}')
    (named,) = replaced_defaults(narrowed, WEB)
    assert "PHONE: mobile" in named[1] and "DEVICE" in named[1] and "EMAIL" not in named[1]


def test_a_setting_meant_to_replace_its_default_is_not_named(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = web(monkeypatch, CORS_ORIGINS='["https://portal.example.com"]')
    assert list(replaced_defaults(settings, WEB)) == []


def test_a_call_center_sites_contexts_add_to_the_default_inside_the_sites_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{CALL_CENTER}SITES", '{"paris": {"asterisk_outbound_contexts": "+[\\"from-agents\\"]"}, '
                                              '"lyon": {"asterisk_outbound_contexts": ["outbound"]}}')
    settings = load_component_settings(CallCenterSettings, CALL_CENTER)
    assert settings.sites["paris"].asterisk_outbound_contexts == ("from-internal", "from-agents")
    assert list(replaced_defaults(settings, CALL_CENTER)) == [
        (f"{CALL_CENTER}SITES (lyon.asterisk_outbound_contexts)", ["from-internal"])]


def test_a_nested_section_is_named_by_its_variable_and_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv(f"{LEGACY}STATE_DIR", str(tmp_path))
    settings = load_component_settings(LegacySettings, LEGACY, reference_fields=["meter_serial"])
    assert list(replaced_defaults(settings, LEGACY)) == []  # an empty default leaves nothing out


@pytest.mark.parametrize(("value", "message"), [
    ('+["Callback"', "after '\\+', a JSON list or object"),
    ('+{"Callback": "x"}', "its default is a list"),
])
def test_a_bad_addition_is_refused_at_start_up_naming_the_setting(
        monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"service_request_events.*{message}"):
        web(monkeypatch, SERVICE_REQUEST_EVENTS=value)


def test_a_text_setting_may_start_with_a_plus() -> None:
    assert WebSettings(source_system="+segment").source_system == "+segment"


def test_added_keeps_the_defaults_order_and_drops_repeats() -> None:
    assert added(("a", "b"), ["b", "c"]) == ["a", "b", "c"]
    assert added({"K": ("a",), "L": 1}, {"K": ["a", "b"], "L": 2, "M": ["x"]}) == {"K": ["a", "b"], "L": 2, "M": ["x"]}
    with pytest.raises(ValueError, match="its default is an object"):
        added({"K": 1}, ["K"])
