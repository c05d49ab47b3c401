"""The contract of a source time (``adapters.base.clock.date_time_schema``) says the range the reader holds it to.

tester50 F3b: the web ``/openapi.json`` typed ``timestamp`` / ``originalTimestamp`` / ``sentAt``
``{"type": "string", "format": "date-time"}`` with no word of the 1970-2100 range (``2150-01-01T00:00:00Z`` -> 400
out_of_range) nor of a time without an offset, which the adapter reads as UTC. Every date-time of the web and branch
contracts now bounds the year by a pattern and says both in its description.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from adapters.base.clock import EARLIEST, LATEST
from adapters.branch.openapi import EVENT
from adapters.web.openapi import OPENAPI

WEB = OPENAPI["components"]["schemas"]["Message"]["properties"]
BATCH = OPENAPI["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]


def _date_times() -> list[tuple[str, dict[str, Any]]]:
    found = [(f"web {name}", spec) for name, spec in WEB.items() if spec.get("format") == "date-time"]
    found += [("web batch.sentAt", BATCH["sentAt"])]
    for section, schema in {"": EVENT, "ticket": EVENT["properties"]["ticket"]}.items():
        found += [(f"branch {section}.{name}", spec) for name, spec in schema["properties"].items()
                  if spec.get("format") == "date-time"]
    return found


DATE_TIMES = _date_times()


def test_the_contracts_date_times_are_found() -> None:
    assert {"web timestamp", "web originalTimestamp", "web sentAt", "web batch.sentAt", "branch .occurred_at",
            "branch ticket.issued_at"} <= {name for name, _ in DATE_TIMES}


@pytest.mark.parametrize(("name", "spec"), DATE_TIMES, ids=[name for name, _ in DATE_TIMES])
def test_a_year_outside_the_range_is_refused_by_the_contract_and_the_range_is_said(
        name: str, spec: dict[str, Any]) -> None:
    validator = Draft202012Validator(spec)
    assert not validator.is_valid("2150-01-01T00:00:00Z") and not validator.is_valid("1960-01-01T00:00:00Z")
    assert not validator.is_valid("2100-01-01T00:00:00Z")
    assert validator.is_valid("2026-12-05T08:00:00Z") and validator.is_valid("1970-01-01T00:00:00+00:00")
    assert validator.is_valid("2099-12-31T23:59:59Z")
    description = spec["description"]
    assert f"{EARLIEST.year}-01-01" in description and f"{LATEST.year}-01-01" in description
    assert "out_of_range" in description


def test_the_web_contract_says_a_time_without_an_offset_is_utc_and_the_branch_that_it_is_refused() -> None:
    assert "without a UTC offset is read as UTC" in WEB["timestamp"]["description"]
    assert "without a UTC offset is refused" in EVENT["properties"]["occurred_at"]["description"]
