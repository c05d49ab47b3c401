"""The offers pull query's contract (tester12 M3): ``/openapi.json`` declares the answer ``web.answer`` builds; the
real answer is validated against it in ``test_broker.py``."""

from __future__ import annotations

import json

import jsonschema
import pytest
from typer.testing import CliRunner

from processors.offers.caps import Suppression
from processors.offers.cli import app
from processors.offers.openapi import OPENAPI, schema_of

ANSWER = {"customer_id": "cus_1", "channel": "WEB",
          "offers": [{"offer_id": "fibre", "version": 2, "title": "Fibre", "content": "Twice the speed",
                      "priority": 10, "valid_until": None}],
          "suppressed": [{"offer_id": "tv", "reason": Suppression.QUIET_HOURS.value}]}


def test_an_answer_is_described_and_a_field_not_declared_fails() -> None:
    validator = jsonschema.Draft202012Validator(schema_of("Offers"))
    validator.validate(ANSWER)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**ANSWER, "offers": [{**ANSWER["offers"][0], "undeclared": 1}]})
    jsonschema.Draft202012Validator(schema_of("Error")).validate({"error": "unknown customer id"})


def test_the_cli_prints_the_document_the_worker_serves() -> None:
    result = CliRunner().invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(OPENAPI))
    assert {"/customers/{customer_id}/offers", "/customers/lookup/offers"} <= set(OPENAPI["paths"])
