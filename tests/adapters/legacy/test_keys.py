"""tester27 F3, F4: a legacy record key is one key however it is spelled, and no id carries its value."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.legacy.config import PollerSettings
from adapters.legacy.batch_lines import line_id
from adapters.legacy.ingress_poller import TablePoller
from adapters.legacy.keys import is_personal, key_spelling
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import IDENTIFIER_FIELD_KINDS, LegacyContext
from bus.envelope import KEY_DIGEST_HEX, key_digest
from bus.identifiers import IdentifierNormaliser, IdentifierSettings

SETTINGS = IdentifierSettings.model_validate({
    "hmac_key": "k" * 32, "default_region": "FR", "national_id_schemes": ["fr.nir"],
    "customer_number_format": {"prefix": "C-", "width": 7},
})
NORMALISER = IdentifierNormaliser(SETTINGS)
IBAN = "FR7630006000011234567890189"
# (key field, one spelling, another spelling of the same identifier), as two exports of one bank write them.
SPELLINGS = [
    ("account_number", IBAN, "fr76 3000 6000 0112 3456 7890 189"),
    ("iban", IBAN, "FR76-3000-6000-0112-3456-7890-189"),
    ("bank_account", IBAN, " fr7630006000011234567890189 "),
    ("account_number", "ACC-100234", "acc-100 234"),
    ("customer_id", "C-0770002", "770002"),  # the CIF re-padded: the deployment's customer number format
    ("customer_id", "C-770002", "c 0770002"),
    ("phone", "+33612345678", "06 12 34 56 78"),
    ("mobile", "+33612345679", "06 12 34 56 79"),  # a customer master's mobile column beside its landline
    ("landline", "+33145678901", "01 45 67 89 01"),
    ("email", "Paul.Martin@Example.FR", "paul.martin@example.fr"),
    ("national_id", "1 85 05 78 006 084 91", "1850578006084 91"),
    ("card_number", "4111 1111 1111 1111", "4111-1111-1111-1111"),
    ("supply_point", "14500000000003", "145 000 000 000 03"),  # a meter's PRM (tester28 F5)
    ("meter_point_id", "541449000000000126", "5414 4900 0000 0001 26"),  # an EAN-18
]
IDENTIFYING = re.compile(rf"^batch:accounts:key-[0-9a-f]{{{KEY_DIGEST_HEX}}}$")


def keyed_layout(*key: str) -> Layout:
    fields = {name: {"column": name.upper()} for name in {*key, "account_number"}}
    return Layout.model_validate({"name": "accounts", "format": "csv", "event": "AccountOpened", "key": key,
                                  "fields": {**fields, "account_type": {"value": "current"}}})


@pytest.mark.parametrize(("name", "written", "rewritten"), SPELLINGS)
def test_tester27_f3_every_identifier_key_column_is_one_key_however_the_export_spells_it(
    name: str, written: str, rewritten: str
) -> None:
    """A re-spelled IBAN or a re-padded CIF was another key: its lines were published again as new records, and a
    joint account's holders were ranked anew (the account, its e-mail and landline moved to the other holder)."""
    layout = keyed_layout(name)
    ids = {line_id(layout, {"account_number": "A-1", name: value}, "0" * 64, 2, NORMALISER)
           for value in (written, rewritten)}
    assert len(ids) == 1


def test_tester27_f3_every_field_holding_an_identifier_is_covered() -> None:
    assert {name for name, _, _ in SPELLINGS} == set(IDENTIFIER_FIELD_KINDS)


@pytest.mark.parametrize(("name", "written", "rewritten"), SPELLINGS)
def test_tester27_f4_a_line_id_carries_a_digest_never_the_identifier(name: str, written: str, rewritten: str) -> None:
    fields = {"account_number": "A-1", name: written}
    key = line_id(keyed_layout(name), fields, "0" * 64, 2, NORMALISER)
    assert IDENTIFYING.match(key), key
    spelled = key_spelling(name, written, NORMALISER)
    for value in (written, rewritten, spelled, re.sub(r"\D", "", written)):
        assert not value or value not in key


def test_tester27_f4_other_keys_layouts_and_key_orders_give_other_ids() -> None:
    both = keyed_layout("iban", "customer_id")
    one = line_id(both, {"account_number": "A-1", "iban": IBAN, "customer_id": "C-1"}, "0" * 64, 2, NORMALISER)
    other = line_id(both, {"account_number": "A-1", "iban": IBAN, "customer_id": "C-2"}, "0" * 64, 2, NORMALISER)
    renamed = Layout.model_validate({**both.model_dump(), "name": "accounts-v2"})
    moved = line_id(renamed, {"account_number": "A-1", "iban": IBAN, "customer_id": "C-1"}, "0" * 64, 2, NORMALISER)
    assert len({one, other, moved}) == 3
    assert key_digest("accounts", ["a", "b"]) != key_digest("accounts", ["a\x1fb"]) != key_digest("accounts", ["ab"])


def test_a_key_column_holding_no_identifier_keeps_its_text_and_a_refused_value_its_text_too() -> None:
    assert key_spelling("bill_id", "  F-１２ ", NORMALISER) == "F-12"
    assert key_spelling("iban", " FR76 3000 6000 0112 3456 7890 188 ", NORMALISER) == \
        "FR76 3000 6000 0112 3456 7890 188"  # wrong check digits: no identifier, the text as written


def test_a_national_phone_is_read_in_the_records_own_country() -> None:
    layout = keyed_layout("phone")
    belgian = line_id(layout, {"account_number": "A", "phone": "0470 12 34 56", "country": "BE"}, "0" * 64, 2,
                      NORMALISER)
    assert belgian == line_id(layout, {"account_number": "A", "phone": "+32470123456"}, "0" * 64, 2, NORMALISER)


def _poller(primary_key: str, columns: dict[str, str], tmp_path: Path) -> TablePoller:
    spec = PollerSettings.model_validate({"name": "accounts", "table": "accounts", "primary_key": primary_key,
                                          "event_type": "AccountOpened", "columns": columns})
    ctx = LegacyContext("core", "business", identifiers=SETTINGS)
    return TablePoller(spec, ctx, None, Checkpoint(tmp_path / "accounts.json"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("primary_key", "columns", "values"), [
    ("iban", {}, (" fr76 3000 6000 0112 3456 7890 189", IBAN)),
    ("acct_no", {"account_number": "acct_no", "account_type": "kind"}, (" fr76 3000 6000 0112 3456 7890 189", IBAN)),
    ("msisdn", {}, ("06 12 34 56 78", "+33612345678")),  # a column name bus.redact knows holds a phone
    ("customer_id", {}, ("c-0770002", "770002")),
])
def test_tester27_f4_a_polled_rows_version_id_carries_a_digest_of_a_personal_primary_key(
    primary_key: str, columns: dict[str, str], values: tuple[str, str], tmp_path: Path
) -> None:
    updated = datetime(2026, 12, 1, 9, tzinfo=UTC)
    ids = []
    for value in values:
        row: dict[str, Any] = {primary_key: value, "kind": "current", "account_type": "current",
                               "updated_at": updated}
        ids.append(_poller(primary_key, columns, tmp_path)._record(row).dedupe_id)
    assert ids[0] == ids[1] and not any(value.strip() in ids[0] for value in values)
    assert re.fullmatch(rf"poll:accounts:key-[0-9a-f]{{{KEY_DIGEST_HEX}}}@{re.escape(updated.isoformat())}", ids[0])


def test_a_polled_rows_business_reference_stays_in_its_version_id(tmp_path: Path) -> None:
    updated = datetime(2026, 12, 1, 9, tzinfo=UTC)
    row = {"order_id": "ORD-1", "status": "open", "updated_at": updated}
    assert _poller("order_id", {}, tmp_path)._record(row).dedupe_id == f"poll:accounts:ORD-1@{updated.isoformat()}"


def test_personal_fields_are_identifiers_and_traits() -> None:
    assert all(map(is_personal, [*IDENTIFIER_FIELD_KINDS, "msisdn", "value", "birth_date", "last_name"]))
    assert not any(map(is_personal, ["bill_id", "order_id", "subscription_id", "amount"]))
