"""``omnibus adapter web``: settings from the environment, the OpenAPI description."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adapters.web.cli import app
from adapters.web.config import ENV_PREFIX, WebSettings
from bus.config import load_component_settings
from bus.errors import ConfigError

runner = CliRunner()


def test_openapi_prints_the_description() -> None:
    result = runner.invoke(app, ["openapi"])
    assert result.exit_code == 0 and "/v1/batch" in json.loads(result.stdout)["paths"]


def test_write_keys_and_lists_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}WRITE_KEYS", '{"portal-web": "wk-1"}')
    monkeypatch.setenv(f"{ENV_PREFIX}SERVICE_REQUEST_EVENTS", '["Repair Requested"]')
    settings = load_component_settings(WebSettings, ENV_PREFIX)
    assert settings.write_keys["portal-web"].get_secret_value() == "wk-1"
    assert "wk-1" not in repr(settings)
    assert settings.service_request_events == ("Repair Requested",)


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [("OFFER_EVENTS", '{"Offer Loved": "LOVED"}', "offer events"), ("GROUP_IDENTIFIER_TYPE", "SHOE", "unknown identifier"),
     ("WRITE_KEYZ", "{}", "WRITE_KEYZ")],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}{variable}", value)
    with pytest.raises(ConfigError) as caught:
        load_component_settings(WebSettings, ENV_PREFIX)
    assert fragment in str(caught.value)


def test_run_without_write_keys_exits_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}WRITE_KEYZ", "{}")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "WRITE_KEYZ" in result.output


def test_a_refused_workers_count_reads_like_every_bad_setting() -> None:
    """``error: ...`` and status 2, the shape of every refused setting (a new user saw a different prefix)."""
    result = runner.invoke(app, ["run", "--workers", "0"])
    assert result.exit_code == 2 and result.output.startswith("error: web hall: --workers must be at least 1")
    shown = runner.invoke(app, ["run", "--help"]).output.replace("│", " ")  # a help line may wrap inside its box
    assert "OMNIBUS_METRICS__PORT + i" in " ".join(shown.split())


def test_a_write_keys_value_that_is_not_json_says_the_expected_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}WRITE_KEYS", "portal-web=wk-1")
    with pytest.raises(ConfigError) as caught:
        load_component_settings(WebSettings, ENV_PREFIX)
    assert 'written as a JSON object, e.g. {"' in str(caught.value) and "wk-1" not in str(caught.value)
