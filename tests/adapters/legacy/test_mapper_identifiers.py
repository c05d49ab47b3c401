"""Legacy systems: phone regions per system, poller and layout; tokens for secrets; rejections and traits to identity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings, PollerSettings
from adapters.legacy.ingress_outbox import outbox_record
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import BUILDERS, BusinessRecord, LegacyContext, map_business
from bus.config import OmnibusSettings
from bus.identifiers.traits import TRAIT_KEYS
from tests.adapters.legacy.support import outbox_rows
from tests.bus.identifiers.support import identifier_settings, normaliser

AT = datetime(2024, 4, 1, tzinfo=UTC)
SETTINGS = OmnibusSettings(identifiers=identifier_settings())


def ctx(tmp_path: Path, region: str | None = None, **adapter: Any) -> LegacyContext:
    return context(SETTINGS, LegacySettings(state_dir=tmp_path, **adapter), region)


def by_schema(record: MappedRecord) -> dict[str, dict[str, Any]]:
    return {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in record.events}


def bill(**fields: Any) -> BusinessRecord:
    base = {"account_number": "ACC-100234", "bill_id": "F-1", "amount": "59.99", "period_start_date": "2024-03-01",
            "period_end_date": "2024-03-31", "due_date": "2024-04-15"}
    return BusinessRecord("BillIssued", {**base, **fields}, "line-1", AT)


BILLS_WITH_PHONE = Layout.model_validate({
    "name": "bills", "format": "csv", "event": "BillIssued", "delimiter": ";", "phone_region": "FR",
    "fields": {name: {"column": name} for name in (
        "account_number", "bill_id", "amount", "period_start_date", "period_end_date", "due_date", "phone",
        "first_name", "last_name", "zip")},
})


def test_issue_10_case_2_a_national_number_in_a_billing_export_uses_the_layout_region(tmp_path: Path) -> None:
    header = ";".join(BILLS_WITH_PHONE.fields)
    line = "ACC-100234;F-1;59.99;2024-03-01;2024-03-31;2024-04-15;06 12 34 56 78;Zoë;Dupré;75002"
    fields = BILLS_WITH_PHONE.parse(line, BILLS_WITH_PHONE.columns_from(header))
    events = by_schema(map_business(BusinessRecord("BillIssued", fields, "l1", AT),
                                    ctx(tmp_path, BILLS_WITH_PHONE.phone_region)))
    assert {"type": "PHONE", "value": "+33612345678"} in events["BillIssued"]["customer_identifiers"]
    assert events["IdentifiersObserved"]["traits"] == {"given_name": "Zoë", "family_name": "Dupré", "postcode": "75002"}


def test_without_any_region_the_number_is_a_rejection_sent_to_identity_and_the_bill_still_flows(tmp_path: Path) -> None:
    events = by_schema(map_business(bill(phone="06 12 34 56 78"), ctx(tmp_path)))
    assert events["BillIssued"]["customer_identifiers"] == [{"type": "ACCOUNT", "value": "ACC-100234"}]
    assert [(r["type"], r["code"]) for r in events["IdentifiersObserved"]["rejected_identifiers"]] == [
        ("PHONE", "phone-invalid")]


def test_the_region_comes_from_the_poller_else_the_adapter(tmp_path: Path) -> None:
    poller = PollerSettings(name="bills", table="bills", primary_key="id", event_type="BillIssued", phone_region="BE")
    assert context(SETTINGS, LegacySettings(state_dir=tmp_path, phone_region="FR"), poller.phone_region).phone_region == "BE"
    events = by_schema(map_business(bill(phone="0470 12 34 56"), ctx(tmp_path, poller.phone_region)))
    assert {"type": "PHONE", "value": "+32470123456"} in events["BillIssued"]["customer_identifiers"]
    events = by_schema(map_business(bill(phone="06 12 34 56 78"), ctx(tmp_path, phone_region="FR")))
    assert {"type": "PHONE", "value": "+33612345678"} in events["BillIssued"]["customer_identifiers"]


def test_outbox_rows_pass_names_birth_dates_and_addresses_on_under_the_standard_keys(tmp_path: Path) -> None:
    row = outbox_rows()[0]
    row["payload"] |= {"first_name": "Marie", "last_name": "Dupont", "date_of_birth": "1985-03-12",
                       "street": "3 rue Lafayette", "postal_code": "75009", "city": "Paris", "country": "FR"}
    record = outbox_record(row["id"], row["aggregate_type"], row["aggregate_id"], row["event_type"], row["payload"], AT)
    observed = by_schema(map_business(record, ctx(tmp_path)))["IdentifiersObserved"]
    assert observed["traits"] == {"given_name": "Marie", "family_name": "Dupont", "birth_date": "1985-03-12",
                                  "address_line": "3 rue Lafayette", "postcode": "75009", "city": "Paris",
                                  "country": "FR"}
    assert set(observed["traits"]) <= set(TRAIT_KEYS)


def test_national_ids_and_card_numbers_leave_as_tokens(tmp_path: Path) -> None:
    events = by_schema(map_business(bill(national_id="11010519491231002X", card_number="4111111111111111"),
                                    ctx(tmp_path)))
    assert events["BillIssued"]["customer_identifiers"] == [
        {"type": "ACCOUNT", "value": "ACC-100234"},
        {"type": "NATIONAL_ID", "value": normaliser().token("NATIONAL_ID", "11010519491231002X")},
        {"type": "CARD", "value": normaliser().token("CARD", "4111111111111111")},
    ]


CUSTOMERS_LAYOUT = Layout.model_validate({  # tester21's core-banking export, the columns that matter here
    "name": "customers", "format": "csv", "event": "AccountOpened", "delimiter": ";", "phone_region": "FR",
    "key": ["account_number", "customer_id"],
    "fields": {"account_number": {"column": "ACCOUNT"}, "account_type": {"column": "TYPE"},
               "service_tier": {"column": "TIER"}, "customer_id": {"column": "CUST_NO"},
               "email": {"column": "EMAIL"}},
})


def test_a_layouts_customer_id_is_the_systems_customer_number_not_a_web_login(tmp_path: Path) -> None:
    """tester21 F5, F16: the core-banking customer number and the portal's Segment userId are two identifiers of two
    kinds, each with its own per-customer limit in identity; a number typed with spaces or in lower case is one."""
    fields = CUSTOMERS_LAYOUT.parse("ACC-1001;current;standard; c-5001 ;alice.martin@bank-test.fr",
                                    CUSTOMERS_LAYOUT.columns_from("ACCOUNT;TYPE;TIER;CUST_NO;EMAIL"))
    events = by_schema(map_business(BusinessRecord("AccountOpened", fields, "night1.csv:2", AT), ctx(tmp_path)))
    assert events["AccountOpened"]["customer_identifiers"] == [
        {"type": "ACCOUNT", "value": "ACC-1001"}, {"type": "EMAIL", "value": "alice.martin@bank-test.fr"},
        {"type": "CUSTOMER_NUMBER", "value": "C-5001"}]


def test_a_cdc_row_of_the_customer_table_names_its_customer_number(tmp_path: Path) -> None:
    """A CDC row (outbox) carries the customer number in its payload, or as the id of a ``customer`` aggregate."""
    for aggregate, payload in (("account", {"customer_id": "C-5001"}), ("customer", {"account_number": "ACC-1001"})):
        record = outbox_record(7, aggregate, "C-5001" if aggregate == "customer" else "ACC-1001", "AccountOpened",
                               {**payload, "account_number": "ACC-1001", "account_type": "current"}, AT)
        identifiers = by_schema(map_business(record, ctx(tmp_path)))["AccountOpened"]["customer_identifiers"]
        assert {"type": "CUSTOMER_NUMBER", "value": "C-5001"} in identifiers, aggregate
        assert all(item["type"] != "USER_ID" for item in identifiers), aggregate


def _master_layout(landline_field: str, mobile_field: str) -> Layout:
    return Layout.model_validate({
        "name": "clienti", "format": "csv", "event": "AccountOpened", "delimiter": ";", "phone_region": "IT",
        "fields": {"account_number": {"column": "NUM_CONTRATTO"}, "account_type": {"column": "TIPO"},
                   landline_field: {"column": "TELEFONO"}, mobile_field: {"column": "CELLULARE"}},
    })


@pytest.mark.parametrize(("landline_field", "mobile_field"), [("landline", "mobile"), ("phone", "mobile")])
def test_tester30_f6_a_customer_master_gives_its_landline_and_its_mobile(
        tmp_path: Path, landline_field: str, mobile_field: str) -> None:
    """An Italian customer master has TELEFONO and CELLULARE: a layout mapped one ``phone``, so every mobile was
    lost (a household member calling from her own mobile was unknown). Each of ``phone``, ``mobile``, ``landline`` is
    a PHONE, in the layout's region; a layout with ``mobile`` loads (it was an unknown field)."""
    layout = _master_layout(landline_field, mobile_field)
    fields = layout.parse("CA-0001;residenziale;06 1234 5678;348 123 4567",
                          layout.columns_from("NUM_CONTRATTO;TIPO;TELEFONO;CELLULARE"))
    events = by_schema(map_business(BusinessRecord("AccountOpened", fields, "clienti.csv:2", AT),
                                    ctx(tmp_path, layout.phone_region)))
    phones = {item["value"] for item in events["AccountOpened"]["customer_identifiers"] if item["type"] == "PHONE"}
    assert phones == {"+390612345678", "+393481234567"}


def test_a_mobile_that_is_no_phone_number_is_dropped_and_the_line_flows(tmp_path: Path) -> None:
    events = by_schema(map_business(bill(mobile="not a number", phone="+33612345678"), ctx(tmp_path)))
    identifiers = events["BillIssued"]["customer_identifiers"]
    assert [item["value"] for item in identifiers if item["type"] == "PHONE"] == ["+33612345678"]


def test_a_record_with_nothing_new_for_identity_is_only_the_business_event(tmp_path: Path) -> None:
    assert list(by_schema(map_business(bill(), ctx(tmp_path)))) == ["BillIssued"]


def test_a_business_event_names_its_record_with_the_holders_traits_so_identity_weighs_her_identifiers(
        tmp_path: Path) -> None:
    """One billing line per holder of a joint account: each business event names its own line's traits record
    (``traits_event_id``, as a call names its IVR record), so identity weighs the holder's e-mail and phone against the
    customer the shared account leads to (tests/processors/identity/graph/test_joint_holders.py)."""
    line = bill(given_name="Emma", family_name="Leroy", birth_date="1989-09-14", email="emma.leroy@example.fr")
    events = by_schema(map_business(line, ctx(tmp_path)))
    assert events["BillIssued"]["traits_event_id"] == events["IdentifiersObserved"]["envelope"]["event_id"]
    assert "given_name" not in events["BillIssued"]  # the traits themselves stay off business events
    rejected_only = by_schema(map_business(bill(phone="06 12 34 56 78"), ctx(tmp_path)))
    assert rejected_only["BillIssued"]["traits_event_id"] is None  # its record carries no traits to wait for
    assert by_schema(map_business(bill(), ctx(tmp_path)))["BillIssued"]["traits_event_id"] is None


def test_tester14_m1_an_iban_spelled_out_in_an_export_is_one_account_for_identity_offers_and_the_screen_pop(
    tmp_path: Path,
) -> None:
    """The business event's account_number, its Kafka key and its ACCOUNT identifier are one spelling: offers key
    a business event by ``ACCOUNT:<account_number>`` and the screen pop lists accounts by it."""
    record = map_business(bill(account_number="fr76 3000 6000 0112 3456 7890 189"), ctx(tmp_path))
    (business,) = [o for o in record.events if o.event.schema.endswith("BillIssued")]
    assert business.key == business.event.value["account_number"] == "FR7630006000011234567890189"
    assert business.event.value["customer_identifiers"] == [{"type": "ACCOUNT", "value": "FR7630006000011234567890189"}]


MISTYPED_IBAN = "FR77 3000 6000 0112 3456 7890 189"  # FR76 3000 6000 0112 3456 7890 189, a check digit off
# every business event keyed by its account number, with the fields it requires
KEYED_RECORDS = {
    "AccountOpened": {"account_type": "current"}, "AccountClosed": {},
    "ProductSubscribed": {"subscription_id": "S-1", "product_code": "FIBRE"},
    "ProductCancelled": {"subscription_id": "S-1", "product_code": "FIBRE"},
    "BillIssued": {"bill_id": "F-1", "amount": "59.99", "period_start_date": "2024-03-01",
                   "period_end_date": "2024-03-31", "due_date": "2024-04-15"},
    "PaymentOverdue": {"bill_id": "F-1", "amount_due": "59.99", "due_date": "2024-04-15"},
    "OrderStatusChanged": {"order_id": "O-1", "status": "OPEN"},
    "CardStatusChanged": {"card_number": "4111111111111111", "card_status": "stolen"},
}


@pytest.mark.parametrize("event_type", sorted(KEYED_RECORDS))
def test_tester29_f8_a_record_keyed_by_a_mistyped_iban_is_refused_not_published(
    tmp_path: Path, event_type: str
) -> None:
    """tester29 F8: a line whose IBAN (its ``account_number``) failed its check digits published an ``AccountOpened``
    keyed by it, masked ``ES****1332`` on the screen pop like the real joint account one check digit away. The record
    is refused (dead-lettered by every source: file, outbox, poller) with the field and the reason, never the value;
    the same number spelled right is published under its electronic form."""
    assert set(KEYED_RECORDS) == set(BUILDERS)  # every business event is covered
    fields = {**KEYED_RECORDS[event_type], "account_number": MISTYPED_IBAN}
    with pytest.raises(RejectedInput) as refused:
        map_business(BusinessRecord(event_type, fields, "l1", AT), ctx(tmp_path))
    assert refused.value.code == "malformed_field"
    assert refused.value.reason.startswith("field account_number is malformed: IBAN fails its check digits")
    assert "3000" not in refused.value.reason and "FR7" not in refused.value.reason
    right = {**fields, "account_number": "FR76 3000 6000 0112 3456 7890 189"}
    (business, *_) = map_business(BusinessRecord(event_type, right, "l1", AT), ctx(tmp_path)).events
    assert business.key == business.event.value["account_number"] == "FR7630006000011234567890189"


def test_tester29_f8_an_outbox_row_keyed_by_a_mistyped_iban_is_refused_naming_its_row(tmp_path: Path) -> None:
    record = outbox_record(7, "account", MISTYPED_IBAN, "AccountOpened", {"account_type": "current"}, AT)
    with pytest.raises(RejectedInput, match="field account_number is malformed: IBAN fails its check digits"):
        map_business(record, ctx(tmp_path))


# filler an export writes where it has no account number: a repeated digit, a count, a word, a dash (the last two
# are no account number at all: ``normalise_account`` refuses "-", and kept as written it keyed the record "-")
PLACEHOLDER_ACCOUNTS = ["0000000", "000 000 000", "1234567", "N/A", "unknown", "-", "xxxxxx"]


@pytest.mark.parametrize("placeholder", PLACEHOLDER_ACCOUNTS)
@pytest.mark.parametrize("event_type", sorted(KEYED_RECORDS))
def test_a_record_keyed_by_a_placeholder_account_number_is_refused_not_published(
    tmp_path: Path, event_type: str, placeholder: str
) -> None:
    """legacy29's leftover, the kind of tester29 F8: a line whose ``account_number`` was a placeholder (``0000000``)
    published its event keyed by it (only its identifier was dropped), so every such line was one account on the
    screen pop of whoever held it. The record is refused with the field and the reason, never the value."""
    fields = {**KEYED_RECORDS[event_type], "account_number": placeholder}
    with pytest.raises(RejectedInput) as refused:
        map_business(BusinessRecord(event_type, fields, "l1", AT), ctx(tmp_path))
    assert refused.value.code == "malformed_field"
    assert refused.value.reason.startswith("field account_number is a placeholder or test value")
    assert placeholder not in refused.value.reason.removeprefix("field account_number")


def test_an_account_number_in_a_system_formats_padding_is_no_placeholder(tmp_path: Path) -> None:
    """tester28 F4's rule, kept for a key: a contract typed ``123456`` is billing's ``EA-00123456`` under a padded
    format, somebody's number; a number that merely ends in a count (``4000 1234 5678``) is one too."""
    settings = OmnibusSettings(identifiers=identifier_settings(account_number_format={"prefix": "EA-", "width": 8}))
    formatted = context(settings, LegacySettings(state_dir=tmp_path))
    (business, *_) = map_business(BusinessRecord("AccountClosed", {"account_number": "123456"}, "l1", AT),
                                  formatted).events
    assert business.key == "EA-00123456"
    (other, *_) = map_business(BusinessRecord("AccountClosed", {"account_number": "4000 1234 5678"}, "l2", AT),
                               ctx(tmp_path)).events
    assert other.key == "400012345678"


def test_an_outbox_row_keyed_by_a_placeholder_account_number_is_refused(tmp_path: Path) -> None:
    record = outbox_record(8, "account", "0000000", "AccountOpened", {"account_type": "current"}, AT)
    with pytest.raises(RejectedInput, match="field account_number is a placeholder or test value"):
        map_business(record, ctx(tmp_path))


def test_a_placeholder_account_number_that_keys_nothing_keeps_its_record(tmp_path: Path) -> None:
    """Not the key: a handoff's intake fact keeps the record as written, as before."""
    created = map_business(BusinessRecord("HandoffCreated", {"case_type": "billing-dispute",
                                                             "account_number": "0000000"}, "h1", AT), ctx(tmp_path))
    (handoff,) = created.events
    assert handoff.event.value["intake_facts"]["account_number"] == "0000000"


def test_a_mistyped_iban_that_keys_nothing_is_dropped_and_the_record_kept(tmp_path: Path) -> None:
    """Not the key: the holder's bank account (``iban``) and a handoff's intake fact keep the record, as before; the
    identifier is dropped (``iban-checksum``)."""
    events = by_schema(map_business(bill(iban=MISTYPED_IBAN), ctx(tmp_path)))
    assert events["BillIssued"]["account_number"] == "ACC-100234"
    assert [r["code"] for r in events["IdentifiersObserved"]["rejected_identifiers"]] == ["iban-checksum"]
    created = map_business(BusinessRecord("HandoffCreated", {"case_type": "billing-dispute",
                                                             "account_number": MISTYPED_IBAN}, "h1", AT),
                           ctx(tmp_path))
    (handoff,) = created.events
    assert handoff.event.value["intake_facts"]["account_number"] == MISTYPED_IBAN


def test_tester15_f5_a_billing_export_brings_the_holder_s_iban_as_an_account_identifier(tmp_path: Path) -> None:
    """tester15 F5: the web, counter and call-center adapters take an IBAN as ``ACCOUNT``; a billing export had no
    field for it. Any spelling becomes the electronic form; one with wrong check digits is dropped, the line kept."""
    fields = {"account_number": "4000 5555 6666", "account_type": "residential", "last_name": "MARTIN",
              "iban": "FR76 3000 6000 0112 3456 7890 189"}
    events = by_schema(map_business(BusinessRecord("AccountOpened", fields, "l1", AT), ctx(tmp_path, "FR")))
    assert {"type": "ACCOUNT", "value": "FR7630006000011234567890189"} in \
        events["AccountOpened"]["customer_identifiers"]
    wrong = {**fields, "bank_account": "FR76 3000 6000 0112 3456 7890 188"}  # a check digit off
    del wrong["iban"]
    events = by_schema(map_business(BusinessRecord("AccountOpened", wrong, "l2", AT), ctx(tmp_path, "FR")))
    assert [item["code"] for item in events["IdentifiersObserved"]["rejected_identifiers"]] == ["iban-checksum"]
    assert events["AccountOpened"]["account_number"] == "400055556666"


def test_tester16_f8_a_records_own_country_reads_its_national_phone(tmp_path: Path) -> None:
    events = by_schema(map_business(bill(phone="0470 12 34 56", country="BE"), ctx(tmp_path, "FR")))
    assert {"type": "PHONE", "value": "+32470123456"} in events["BillIssued"]["customer_identifiers"]
    events = by_schema(map_business(bill(phone="+33 6 12 34 56 78", country="BE"), ctx(tmp_path, "FR")))
    assert {"type": "PHONE", "value": "+33612345678"} in events["BillIssued"]["customer_identifiers"]


def test_tester21_f15_a_customer_record_change_sent_the_documented_way_reaches_identity(tmp_path: Path) -> None:
    """docs/legacy-batch.md, "A customer's own record": an address/e-mail change of the customer table is sent as an
    AccountOpened row of their account; the new e-mail and address go to identity with the account."""
    row = BusinessRecord("AccountOpened", {"account_number": "ACC-1001", "account_type": "current",
                                           "service_tier": "standard", "email": "alice.martin@bank-test.fr",
                                           "address": "5 rue Neuve", "postcode": "69001", "city": "Lyon"},
                         "cdc-1", datetime(2026, 12, 2, tzinfo=UTC))
    events = by_schema(map_business(row, ctx(tmp_path)))
    seen = events["IdentifiersObserved"]
    assert events["AccountOpened"]["traits_event_id"] == seen["envelope"]["event_id"]
    assert {"type": "EMAIL", "value": "alice.martin@bank-test.fr"} in seen["identifiers"]
    assert {"postcode": "69001", "city": "Lyon"}.items() <= (seen.get("traits") or {}).items(), seen


def test_tester28_f5_a_products_export_attaches_the_meter_point_to_the_account_holder(tmp_path: Path) -> None:
    """tester28 F5: a ``ProductSubscribed`` layout mapping the export's ``PRM`` column to ``meter_point_id`` was refused
    ("unknown field"). The field (or ``supply_point``) is the account's supply point: a ``SUPPLY_POINT`` identifier
    beside the account, in any spelling; a wrong EAN check digit is dropped and the line kept."""
    layout = Layout.model_validate({
        "name": "products", "format": "csv", "event": "ProductSubscribed", "delimiter": ";",
        "fields": {"account_number": {"column": "CONTRAT"}, "subscription_id": {"column": "ABO"},
                   "product_code": {"column": "OFFRE"}, "meter_point_id": {"column": "PRM"}},
    })
    assert "meter_point_id" in layout.fields
    fields = {"account_number": "EA-00200001", "subscription_id": "CT-9001", "product_code": "ELEC-BASE",
              "meter_point_id": "145 000 000 000 03"}
    events = by_schema(map_business(BusinessRecord("ProductSubscribed", fields, "l1", AT), ctx(tmp_path, "FR")))
    assert events["ProductSubscribed"]["customer_identifiers"] == [
        {"type": "ACCOUNT", "value": "EA-00200001"}, {"type": "SUPPLY_POINT", "value": "14500000000003"}]
    for name in ("supply_point", "meter_point_id"):
        wrong = {**fields, "meter_point_id": None, name: "541449000000000127"}  # an EAN-18, check digit off
        events = by_schema(map_business(BusinessRecord("AccountOpened", {**wrong, "account_type": "residential"},
                                                       f"l-{name}", AT), ctx(tmp_path, "FR")))
        assert [item["code"] for item in events["IdentifiersObserved"]["rejected_identifiers"]] == [
            "supply-point-checksum"]
        assert events["AccountOpened"]["account_number"] == "EA-00200001"
