"""``holder_role`` (``omnibus.common.HolderRole``) on AccountOpened, ProductSubscribed and IdentifiersObserved: added
optional, so events of either side of the change read on the other (tester32 F3)."""

from __future__ import annotations

import copy
from io import BytesIO
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many

from schemas.catalog import default_catalog
from schemas.enums import HOLDER_ROLE, HOLDER_ROLES, MEMBER, PAYER

CARRIERS = ("omnibus.business.AccountOpened", "omnibus.business.ProductSubscribed",
            "omnibus.contact.IdentifiersObserved")


def _without_role(parsed: dict[str, Any]) -> dict[str, Any]:
    """The schema as it was before the field (its other fields unchanged)."""
    older = copy.deepcopy(parsed)
    older["fields"] = [field for field in older["fields"] if field["name"] != HOLDER_ROLE]
    return older


def _round(value: dict[str, Any], writer: Any, reader: Any) -> dict[str, Any]:
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, writer, value)
    buffer.seek(0)
    return fastavro.schemaless_reader(buffer, writer, reader)  # type: ignore[no-any-return]


def test_the_standard_roles_are_the_contract_s() -> None:
    assert HOLDER_ROLES == {PAYER, MEMBER}


@pytest.mark.parametrize("name", CARRIERS)
def test_an_event_written_before_the_field_reads_as_no_role(name: str) -> None:
    parsed = default_catalog().get(name).parsed
    older = fastavro.parse_schema(_without_role(parsed))
    for value in generate_many(older, 5):
        assert _round(value, older, parsed)[HOLDER_ROLE] is None


@pytest.mark.parametrize("name", CARRIERS)
def test_a_reader_of_before_the_field_reads_a_member_s_event_without_it(name: str) -> None:
    parsed = default_catalog().get(name).parsed
    older = fastavro.parse_schema(_without_role(parsed))
    for value in generate_many(parsed, 5):
        read = _round({**value, HOLDER_ROLE: MEMBER}, parsed, older)
        assert HOLDER_ROLE not in read and read["envelope"]["event_id"] == value["envelope"]["event_id"]


def test_a_reader_that_knows_no_newer_role_reads_unknown() -> None:
    """A role added later (say ``GUARANTOR``) reads as the enum's default on today's readers."""
    parsed = default_catalog().get("omnibus.common.HolderRole").schema
    newer = {**parsed, "symbols": [*parsed["symbols"], "GUARANTOR"]}
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(newer), "GUARANTOR")
    buffer.seek(0)
    assert fastavro.schemaless_reader(buffer, fastavro.parse_schema(newer), fastavro.parse_schema(parsed)) == "UNKNOWN"
