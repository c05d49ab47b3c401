"""The branch adapter's OpenAPI describes every section the mapper reads (tester10 #9: the ``offer`` section of a
counter event was read and published but missing from ``/openapi.json``).

The kind: every upload the adapter accepts must validate against its description with no property left
undescribed. Each accepted sample (and the sections the mapper reads on top of them) is validated against the
upload schema with ``additionalProperties: false`` added wherever the description lists properties; a section the
mapper reads but the description omits fails here. ``tests/adapters/fuzz/test_openapi.py`` fuzzes the same schema.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from adapters.branch.fields import TEXT_OR_NUMBER_FIELDS
from adapters.branch.openapi import EVENT as OPENAPI_EVENT
from adapters.branch.openapi import OPENAPI
from tests.adapters.branch.support import SAMPLES, sample
from tests.adapters.branch.test_mapper import mapped

UPLOAD = OPENAPI["paths"]["/v1/counter/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def closed(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: closed(value) for key, value in schema.items()}
    if "properties" in copied and "additionalProperties" not in copied:
        copied["additionalProperties"] = False
    return copied


def with_event(name: str, **sections: Any) -> dict[str, Any]:
    upload = copy.deepcopy(sample(name))
    upload["events"][0].update(sections)
    return upload


def with_transaction(name: str, **fields: Any) -> dict[str, Any]:
    upload = copy.deepcopy(sample(name))
    upload["events"][0]["transaction"].update(fields)
    return upload


ACCEPTED = {
    **{path.stem: sample(path.stem) for path in sorted(SAMPLES.glob("*.json"))},
    "offer answered at the counter (the reported case)": with_event(
        "transaction_with_identifiers", offer={"offer_id": "fibre-upgrade", "offer_version": 2, "response": "accepted"}),
    "offer pitched while a ticket was served": with_event(
        "ticket_issued_machine", offer={"offer_id": "tv", "offer_version": "1", "response": "PRESENTED"}),
    "no offer (null)": with_event("transaction_with_identifiers", offer=None),
    "handoff to the back office": with_transaction(
        "transaction_with_identifiers", handoff={"kind": "meter-dispute", "summary": "Bill twice", "team": "metering"}),
    "the customer as the counter saw them": with_event(
        "transaction_with_identifiers", customer={"given_name": "Ana", "family_name": "Lima"}),
}


@pytest.mark.parametrize("upload", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_every_accepted_upload_is_described_field_for_field(upload: dict[str, Any]) -> None:
    assert mapped(copy.deepcopy(upload)).events  # the adapter accepts it
    jsonschema.Draft202012Validator(closed(UPLOAD)).validate(upload)


def test_the_offer_section_is_described_with_the_answers_the_mapper_takes() -> None:
    offer = UPLOAD["properties"]["events"]["items"]["properties"]["offer"]
    assert offer["required"] == ["offer_id", "offer_version", "response"]
    assert {"accepted", "declined", "not_now", "opted_out", "presented"} <= set(offer["properties"]["response"]["enum"])
    validator = jsonschema.Draft202012Validator(offer)
    assert not validator.is_valid({"offer_id": "tv", "offer_version": 0, "response": "accepted"})
    assert not validator.is_valid({"offer_id": "tv", "offer_version": 1, "response": "perhaps"})


def test_tester50_f15_the_counters_ids_are_typed_as_the_mapper_reads_them() -> None:
    """tester50 F15: the contract said ``event_id`` ``{"type": "string"}`` while the adapter took 5550001; it now
    types every id the mapper reads a whole number of as its text (``fields.TEXT_OR_NUMBER_FIELDS``) string or
    integer, as the web adapter's contract does."""
    event = OPENAPI_EVENT
    for section, names in TEXT_OR_NUMBER_FIELDS.items():
        properties = (event if not section else event["properties"][section])["properties"]
        for name in names:
            assert properties[name]["type"] == ["string", "integer"], (section, name)
    assert "5550001" in event["properties"]["event_id"]["description"]
