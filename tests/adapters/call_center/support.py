"""Settings, samples and an HTTP delivery helper shared by the call-center tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from adapters.call_center.config import CallCenterSettings
from adapters.call_center.mapper import MapContext, Topics
from bus.config import TopicSettings
from tests.adapters.contract import Delivery

SAMPLES = Path(__file__).parent / "samples"
PARIS_KEY, LYON_KEY = "paris-firehose-key-3f9a", "lyon-cdr-key-81c2"
LYON_WORKSPACE = "WS7d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a"
LYON_TWILIO_TOKEN = "12345678901234567890123456789012"


def call_center_settings(**overrides: Any) -> CallCenterSettings:
    values: dict[str, Any] = {
        "port": 0,
        "twilio_max_age_s": 0,  # the TaskRouter samples were recorded in 2024; freshness: test_twilio_replay.py
        "sites": {
            "paris": {"access_keys": [PARIS_KEY], "timezone": "Europe/Paris", "phone_region": "FR",
                      "queue_sla_threshold_s": {"billing": 30}},
            "lyon": {"access_keys": [LYON_KEY], "twilio_workspace_sids": [LYON_WORKSPACE],
                     "twilio_auth_token": LYON_TWILIO_TOKEN, "phone_region": "FR", "sla_threshold_s": 15},
        },
    }
    return CallCenterSettings.model_validate({**values, **overrides})


def context(site: str = "paris", **overrides: Any) -> MapContext:
    settings = call_center_settings(**overrides)
    return MapContext(site, settings.sites[site], Topics.of(TopicSettings()), settings)


def sample(name: str) -> Any:
    path = SAMPLES / name
    return json.loads(path.read_text()) if path.suffix == ".json" else path.read_text()


def master_lines() -> list[str]:
    return [line for line in sample("master.csv").splitlines() if line.strip()]


async def delivery_of(response: aiohttp.ClientResponse) -> Delivery:
    text = await response.text()
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = {"error": text}
    return Delivery(
        accepted=200 <= response.status < 300,
        status=response.status,
        reason=body.get("error") if isinstance(body, dict) else None,
        retry_after=response.headers.get("Retry-After"),
        extra=body if isinstance(body, dict) else {"body": body},
    )
