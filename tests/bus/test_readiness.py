"""The one probe body (``bus.readiness``): every field in every answer, and its OpenAPI schema agrees."""

from __future__ import annotations

import jsonschema
import pytest

from bus.readiness import PROBE_SCHEMA, ProbeBody, probe_body


def test_a_ready_body_has_every_field_and_no_reason() -> None:
    body = probe_body("adapter.web", reason="ignored when ready")
    assert body == {"component": "adapter.web", "status": "ok", "live": True, "ready": True, "reason": None,
                    "partitions": None, "max_lag": None, "lag_age_s": None, "behind": {}, "stalled": {}}
    jsonschema.validate(body, PROBE_SCHEMA)


def test_a_body_that_is_not_ready_says_why_and_validates() -> None:
    body = probe_body("kpis", ready=False, reason="consumer lag above 1000 records", partitions=4, max_lag=1500,
                      behind={"omnibus.contact.events.v1[2]": 1500})
    assert (body["status"], body["ready"], body["live"]) == ("unavailable", False, True)
    jsonschema.validate(body, PROBE_SCHEMA)
    with pytest.raises(ValueError, match="must say why"):
        probe_body("kpis", ready=False)


def test_the_schema_requires_exactly_the_fields_of_the_body() -> None:
    assert PROBE_SCHEMA["required"] == list(ProbeBody.__annotations__) == list(PROBE_SCHEMA["properties"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": "ok"}, PROBE_SCHEMA)  # the adapters' old body
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"ready": True, "partitions": 19, "max_lag": 0}, PROBE_SCHEMA)  # the processors' old one
