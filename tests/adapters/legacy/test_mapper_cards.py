"""A card system's row says a card was blocked or replaced (tester29 F3: no card event existed, so a card reported
stolen stayed on the screen pop as any other card)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import fastavro
import pytest

from adapters.base.card_status import card_status, own_status_words
from adapters.base.errors import RejectedInput
from adapters.legacy.mapper import BusinessRecord, canonical_event_type, map_business
from adapters.legacy.reads import event_fields
from schemas.catalog import default_catalog
from tests.adapters.legacy.test_mapper_identifiers import by_schema, ctx
from tests.bus.identifiers.support import normaliser

AT = datetime(2026, 12, 3, 10, tzinfo=UTC)
STOLEN, NEW = "4111111111111111", "5555555555554444"


def card_row(**fields: object) -> BusinessRecord:
    return BusinessRecord("card.status.changed", {"card_number": STOLEN, "national_id": "11010519491231002X",
                                                  **fields}, "cards:row-7", AT)


def test_a_blocked_card_is_published_as_its_token_with_the_common_status(tmp_path: Path) -> None:
    mapped = map_business(card_row(card_status="Stolen", reason="reported by phone"), ctx(tmp_path))
    out = mapped.events[0]
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(out.event.schema).parsed, out.event.value, strict=True)
    value, token = out.event.value, normaliser().token("CARD", STOLEN)
    assert out.event.schema == "omnibus.business.CardStatusChanged" and out.topic.endswith("business.events.v1")
    assert out.key == token  # no account named: keyed by the card
    assert (value["card"], value["status"], value["source_status"], value["reason"]) == (
        {"type": "CARD", "value": token}, "BLOCKED", "Stolen", "reported by phone")
    assert {"type": "CARD", "value": token} in value["customer_identifiers"]
    assert STOLEN not in repr(mapped.events)  # the number never leaves the adapter


def test_a_replacement_names_the_new_card_which_is_the_same_holders(tmp_path: Path) -> None:
    value = by_schema(map_business(card_row(card_status="reissued", new_card_number=NEW, account_number="ACC-1"),
                                   ctx(tmp_path)))["CardStatusChanged"]
    new = {"type": "CARD", "value": normaliser().token("CARD", NEW)}
    assert (value["status"], value["replaced_by"], value["account_number"]) == ("REPLACED", new, "ACC-1")
    assert new in value["customer_identifiers"]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"card_number": None, "card_status": "blocked"}, "card_number is missing"),
    ({"card_status": None}, "card_status is missing"),
    ({"card_number": "4111 1111 1111 1112", "card_status": "blocked"}, "field card_number is not a card number"),
    ({"card_status": "blocked", "new_card_number": "5555 5555 5555 4445"}, "field new_card_number is not a card number"),
])
def test_a_row_that_names_no_card_or_no_status_is_refused(tmp_path: Path, fields: dict, reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason) as refused:
        map_business(card_row(**fields), ctx(tmp_path))
    assert "4111" not in refused.value.reason


@pytest.mark.parametrize(("word", "status"), [
    ("blocked", "BLOCKED"), ("LOST", "BLOCKED"), ("card-blocked", "BLOCKED"), ("hot carded", "BLOCKED"),
    ("replaced", "REPLACED"), ("Renewed", "REPLACED"), ("canceled", "CANCELLED"), ("expired", "CANCELLED"),
    ("active", "ACTIVE"), ("unblocked", "ACTIVE"), ("en revisión", "UNKNOWN"),
    ("Robada", "BLOCKED"), ("bloqueada", "BLOCKED"), ("volée", "BLOCKED"), ("Opposition", "BLOCKED"),
    ("reemplazada", "REPLACED"), ("remplacée", "REPLACED"), ("anulada", "CANCELLED"), ("résiliée", "CANCELLED"),
])
def test_a_card_systems_words_map_to_the_common_statuses(word: str, status: str) -> None:
    assert card_status(word) == status


def test_a_layout_can_map_the_card_columns() -> None:
    assert canonical_event_type("CARD_STATUS_CHANGED") == "CardStatusChanged"
    assert {"card_number", "card_status", "new_card_number", "reason", "account_number"} <= event_fields(
        "CardStatusChanged")


@pytest.mark.parametrize(("word", "status"), [
    ("BLOQUEO POR FRAUDE", "BLOCKED"), ("BLOQUEADA FRAUDE", "BLOCKED"), ("robo", "BLOCKED"), ("extravío", "BLOCKED"),
    ("bloqueo temporal", "BLOCKED"), ("Bloqueo por extravío", "BLOCKED"), ("baja", "CANCELLED"),
    ("dada de baja", "CANCELLED"), ("duplicado", "UNKNOWN"),
])
def test_tester32_f12_common_spanish_core_banking_words(word: str, status: str) -> None:
    """tester32 F12: these were UNKNOWN. ``duplicado`` stays so: the row may name the duplicate issued (active) or
    the card it duplicates (replaced); the layout says which (``status_words``)."""
    assert card_status(word) == status


def test_a_systems_own_words_come_before_the_built_in_ones() -> None:
    own = own_status_words({"Duplicado": "replaced", "BLOQ-FRAUDE": "BLOCKED", "robo": "cancelled"})
    assert own == {"DUPLICADO": "REPLACED", "BLOQ_FRAUDE": "BLOCKED", "ROBO": "CANCELLED"}
    assert [card_status(word, own) for word in ("duplicado", "bloq fraude", "Robo", "robada", "raro")] == [
        "REPLACED", "BLOCKED", "CANCELLED", "BLOCKED", "UNKNOWN"]


@pytest.mark.parametrize(("words", "problem"), [
    ({"duplicado": "replacd"}, "'duplicado' is mapped to 'replacd', which is no card status (one of ACTIVE, BLOCKED, "
                               "CANCELLED, REPLACED)"),
    ({"duplicado": "UNKNOWN"}, "which is no card status"),
    ({"Baja": "CANCELLED", "BAJA!": "BLOCKED"}, "'BAJA!' is given BLOCKED and CANCELLED"),
    ({"--": "BLOCKED"}, "'--' has no letters"),
])
def test_own_words_that_say_nothing_clear_are_refused(words: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        own_status_words(words)


def test_a_layouts_own_words_reach_the_event_and_keep_the_systems_word(tmp_path: Path) -> None:
    mapped = map_business(card_row(card_status="DUPLICADO"),
                          replace(ctx(tmp_path), status_words=own_status_words({"duplicado": "REPLACED"})))
    value = mapped.events[0].event.value
    assert (value["status"], value["source_status"]) == ("REPLACED", "DUPLICADO")
