"""``omnibus adapter branch``: settings from the environment, the OpenAPI description."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adapters.branch.cli import app
from adapters.branch.config import ENV_PREFIX, BranchSettings
from bus.config import load_component_settings

runner = CliRunner()


def test_openapi_prints_the_description() -> None:
    result = runner.invoke(app, ["openapi"])
    assert result.exit_code == 0 and "/v1/counter/events" in json.loads(result.stdout)["paths"]


def test_terminal_tokens_come_from_the_environment_and_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}TERMINAL_TOKENS", '{"CT-1": "tok-secret"}')
    settings = load_component_settings(BranchSettings, ENV_PREFIX, port=0)
    assert settings.terminal_tokens["CT-1"].get_secret_value() == "tok-secret"
    assert "tok-secret" not in repr(settings)
