"""The contract of an id sent as text or number (``adapters.base.whole_ids``) is never looser than its reader.

tester50 F3: the web ``/openapi.json`` typed every id ``{"type": ["string", "integer"], "exclusiveMaximum": 1e40}``;
JSON Schema 2020-12 calls ``1e20`` and ``9007199254740993.0`` integers inside those bounds, yet the adapter refuses
them (a double does not hold the digits of a whole number from 2^53 up), and only the end of the description said so.
Every such field of every channel's contract (web, branch counter) now bounds a number below 2^53, where each
spelling JSON Schema calls an integer is read alike, and its description starts with the rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from adapters.base.whole_ids import WHOLE_NUMBER_RULE, whole_text
from adapters.branch.openapi import EVENT
from adapters.web.openapi import OPENAPI

WEB = OPENAPI["components"]["schemas"]["Message"]["properties"]


def _text_or_number_fields() -> list[tuple[str, dict[str, Any]]]:
    found = [(f"web {name}", spec) for name, spec in WEB.items() if spec.get("type") == ["string", "integer"]]
    sections = {"": EVENT, "ticket": EVENT["properties"]["ticket"], "transaction": EVENT["properties"]["transaction"]}
    for section, schema in sections.items():
        properties = schema["properties"] if "properties" in schema else schema["anyOf"][0]["properties"]
        found += [(f"branch {section}.{name}", spec) for name, spec in properties.items()
                  if spec.get("type") == ["string", "integer"]]
    return found


FIELDS = _text_or_number_fields()
# as the wire reads them: ``json.loads`` of 9007199254740993.0 is the double 9007199254740992.0
SPELLINGS = [json.loads(text) for text in (
    "1e20", "9007199254740993.0", "9007199254740992.0", "-9007199254740992.0", "9007199254740991.0", "770002.0",
    "4.24242e5", "424242", "1e3", "-7", "0.0", "9007199254740992", "1" + "0" * 39)]


def test_the_web_and_branch_contracts_type_their_ids_so() -> None:
    names = {name for name, _ in FIELDS}
    assert {"web messageId", "web userId", "web anonymousId", "web previousId", "branch .event_id"} <= names


@pytest.mark.parametrize(("name", "spec"), FIELDS, ids=[name for name, _ in FIELDS])
def test_every_number_the_contract_accepts_the_reader_reads(name: str, spec: dict[str, Any]) -> None:
    validator = Draft202012Validator({key: value for key, value in spec.items() if key != "description"})
    accepted = [value for value in SPELLINGS if validator.is_valid(value)]
    assert [value for value in accepted if whole_text(value) is None] == []
    assert not validator.is_valid(1e20) and not validator.is_valid(json.loads("9007199254740993.0"))
    assert validator.is_valid(770002.0) and validator.is_valid(424242) and validator.is_valid("424242")


@pytest.mark.parametrize(("name", "spec"), FIELDS, ids=[name for name, _ in FIELDS])
def test_the_rule_is_the_first_sentence_of_the_fields_description(name: str, spec: dict[str, Any]) -> None:
    assert spec["description"].startswith(WHOLE_NUMBER_RULE), spec["description"][:200]
