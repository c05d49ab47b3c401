"""Business references an operator declares kept whole (tester22 F4: a meter point number, a meter serial and a
meter index became ``[digits]`` in web properties and handoff summaries, even under ``meter_point_id``)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from adapters.base.config import AdapterSettings
from adapters.base.handoff_request import HandoffRequest
from bus.identifiers import IdentifierNormaliser, IdentifierSettings
from bus.references import References, declared
from tests.support.references import declared_references

METER = References(("meter_point_id", "prm", "meter_serial", "reading_index", "meter_point"), region="FR",
                   national_id_schemes=("fr.nir",))
REFERENCES = {
    "PRM (14 digits)": "14500000000001",
    "UK MPAN (13 digits)": "1200023305967",
    "meter serial": "0234567890123",
    "meter index": "0048211",
    "prefixed": "PDL-14500000000001",
    "gas PCE": "GI123456",
}
IDENTIFIERS = {
    "national phone": "0612345678",
    "dotted phone": "06.12.34.56.78",
    "phone glued to a reference": "0048211-0612345678",
    "international phone": "+33612345678",
    "00CC phone": "0033612345678",
    "e-mail": "luc.p@example.org",
    "key form": "PHONE:0612345678",
    "card (16, Luhn)": "4970100000000014",
    "IBAN": "FR7630006000011234567890189",
    "IBAN in a reference": "ref-FR7630006000011234567890189",
    "spaced": "145 000 000 000 01",
    "NIR": "185057800604830",
    "NIR glued to a reference": "PDL-185057800604830",
}


@pytest.mark.parametrize("value", REFERENCES.values(), ids=REFERENCES.keys())
def test_a_declared_reference_is_kept_whole(value: str) -> None:
    assert METER.facts({"meter_point_id": value, "note": f"about {value}"})["meter_point_id"] == value


@pytest.mark.parametrize("value", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_an_identifier_under_a_declared_name_is_still_scrubbed(value: str) -> None:
    assert METER.facts({"meter_point_id": value})["meter_point_id"] != value


def test_an_undeclared_name_is_scrubbed_as_before() -> None:
    assert METER.facts({"note": "14500000000001", "Meter_Point_ID": "14500000000001"}) == {
        "note": "[digits]", "Meter_Point_ID": "14500000000001"}  # names compared case-folded
    assert References(()).facts({"meter_point_id": "14500000000001"}) == {"meter_point_id": "[digits]"}


UNDECLARED = References((), region="FR", national_id_schemes=("fr.nir",))  # every name is undeclared
# An identifier under a name that looks like a reference's (``is_reference_field``), with a letter: the lead's
# refleak brief (``{"payment_ref": "FR7630006000011234567890189"}`` travelled raw onto contact.events.v1).
REFERENCE_NAMED_IDENTIFIERS = {
    "IBAN (the report)": ("payment_ref", "FR7630006000011234567890189", "FR7630006000011234567890189"),
    "IBAN with spaces": ("payment_ref", "FR76 3000 6000 0112 3456 7890 189", "30006000011234567890189"),
    "card with dashes": ("order_ref", "ORD-4970-1000-0000-0014", "4970100000000014"),
    "e-mail inside an order id": ("orderId", "ORD-jean.dupont@example.org-7", "jean.dupont@example.org"),
    "phone glued to letters": ("line_id", "L0612345678", "0612345678"),
    "NIR in a reference": ("case_ref", "CASE-185057800604830", "185057800604830"),
    "key form": ("customerRef", "PHONE:0612345678", "0612345678"),
    "phone after a colon": ("contact_ref", "tel:0612345678", "0612345678"),
    # the scan skips tests that cannot refuse (identifier_scan): forms each skip must still reach
    "00CC phone in groups": ("line_id", "LINE-0044-7911-123456", "00447911123456"),
    "NIR in dotted groups": ("case_ref", "CASE-1.85.05.78.006.084.91", "185057800608491"),
    "card in dotted groups": ("order_ref", "ORD-4970.1000.0000.0014", "4970100000000014"),
    "national phone in groups": ("line_id", "L-06.12.34.56.78-X", "0612345678"),
}
KEPT_REFERENCES = {"order_ref": "ORD-2026-000123", "ticket_id": "INC0012345", "invoice_id": "BILL-2024-04-55102",
                   "orderId": "ajs-next-1714638732004", "session_id": "3f2a9c4e-1b7d-4e0a-9c55-446655440000",
                   "presentation_id": "web:portal-web:ajs-next-1714638732004-4f1a9e0c-5d6b-4b4e-8a1c-2f3e4d5c6b7a"}


def test_an_undeclared_reference_name_keeps_a_reference_with_a_letter() -> None:
    assert UNDECLARED.facts(dict(KEPT_REFERENCES)) == KEPT_REFERENCES


@pytest.mark.parametrize(("name", "value", "identifier"), REFERENCE_NAMED_IDENTIFIERS.values(),
                         ids=REFERENCE_NAMED_IDENTIFIERS.keys())
def test_an_identifier_under_an_undeclared_reference_name_is_scrubbed(name: str, value: str, identifier: str) -> None:
    scrubbed = UNDECLARED.facts({name: value})[name]
    assert identifier not in re.sub(r"[\s./-]", "", scrubbed), scrubbed


def test_a_reference_name_keeps_nothing_without_a_letter_and_other_names_nothing_at_all() -> None:
    """A number alone under a reference name is scrubbed (the name would carry a card through); so is a reference
    under a name that is not a reference's (``note``): free text."""
    assert UNDECLARED.facts({"payment_id": "4970 1000 0000 0014", "paid": "0612345678", "ref": "a.person@example.org",
                             "note": "see BILL-2024-04-55102"}) == {
        "payment_id": "[digits]", "paid": "[digits]", "ref": "[email]", "note": "see BILL-[digits]"}


def test_a_summary_keeps_declared_name_value_pairs_and_scrubs_the_rest() -> None:
    summary = ("Meter 14500000000001 disputed, meter_point_id: 14500000000001, reading_index=0048211. Call me on "
               "06 22 33 44 55 or luc.p@example.org; prm: 06 12 34 56 78; meter_serial: jean.d@x.fr")
    assert METER.text(summary) == (
        "Meter [digits] disputed, meter_point_id: 14500000000001, reading_index=0048211. Call me on "
        "[digits] or [email]; prm: [digits]; meter_serial: [email]")


def test_a_pair_value_followed_by_another_number_is_not_kept() -> None:
    """A phone typed in groups after a declared name is never cut into a kept head and a short scrubbed tail."""
    assert "0612" not in METER.text("reading_index: 0612 345678")


def test_every_channel_s_handoff_summary_keeps_the_declared_references() -> None:
    request = HandoffRequest.parse("meter-dispute", None, "meter_point_id: 14500000000001 reads 0048211")
    assert request is not None
    event = request.event(envelope={}, handoff_id="h-1", channel="CALL_CENTER", identifiers=[], site=None,
                          interaction_id="c-1", actor={"kind": "SYSTEM", "id": "ivr"}, facts={},
                          traits_event_id=None, references=METER)
    assert event.value["summary"] == "meter_point_id: 14500000000001 reads [digits]"


@pytest.mark.parametrize("name", ["phone", "contact_phone", "Email", "ibanRef", "card_no", "nir", "birth_date",
                                  "customer_ref", "msisdn"])
def test_a_name_that_holds_an_identifier_cannot_be_declared(name: str) -> None:
    with pytest.raises(ValidationError, match=f"'{name}' cannot be declared a business reference"):
        AdapterSettings(reference_fields=("meter_point_id", name))


def test_the_default_declares_nothing() -> None:
    assert AdapterSettings().reference_fields == ()
    assert AdapterSettings(reference_fields=("meter_point_id", "reading_index", "mpan")).reference_fields == (
        "meter_point_id", "reading_index", "mpan")


# tester26 F8: a meter point id a back office wrote in a resolution, or an operator in --reason, reached the customer
# as "[digits]": the tracker and the commands read no declaration. One deployment-wide setting now declares them for
# every process (OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS), read by the adapters too.
def test_a_declared_name_followed_by_a_space_keeps_its_value_and_only_a_whole_name_counts() -> None:
    assert METER.text("Contract started; meter_point_id 14500000000001 index 0048211") == (
        "Contract started; meter_point_id 14500000000001 index [digits]")
    assert METER.text("checked the meter_point_id 14500000000001 today") == (
        "checked the meter_point_id 14500000000001 today")
    assert METER.text("Meter_Point_ID=PDL-14500000000001") == "Meter_Point_ID=PDL-14500000000001"
    assert METER.text("xmeter_point_id: 14500000000001") == "xmeter_point_id: [digits]"
    assert "0612" not in METER.text("meter_point_id 06 12 34 56 78")


def test_text_masked_names_what_it_masked_but_the_kept_reference() -> None:
    assert METER.text_masked("meter_point_id: 14500000000001, call 06 12 34 56 78 or luc.p@example.org") == (
        "meter_point_id: 14500000000001, call [digits] or [email]", ("number", "e-mail address"))
    assert References(()).text_masked("meter_point_id: 14500000000001") == ("meter_point_id: [digits]", ("number",))


def test_the_deployment_declares_references_for_every_process_and_refuses_an_identifier_s_name() -> None:
    settings = IdentifierSettings(default_region="FR", reference_fields=("meter_point_id",))
    summary = "meter_point_id: 14500000000001, reading_index: 0048211"
    assert References.deployment(settings).text(summary) == "meter_point_id: 14500000000001, reading_index: [digits]"
    adapter = References.of(("reading_index",), IdentifierNormaliser(settings))  # the adapter's own, and the deployment's
    assert adapter.text(summary) == summary
    with pytest.raises(ValidationError, match="'phone' cannot be declared a business reference"):
        IdentifierSettings(reference_fields=("meter_point_id", "phone"))
    assert IdentifierSettings().reference_fields == ()


def test_declared_reads_the_deployment_setting() -> None:
    assert declared().text("meter_point_id: 14500000000001") == "meter_point_id: [digits]"
    with declared_references("meter_point_id", "reading_index"):
        assert declared().text("meter_point_id: 14500000000001") == "meter_point_id: 14500000000001"
    assert declared().text("meter_point_id: 14500000000001") == "meter_point_id: [digits]"


SPELLED = References(("meter_point",), region="FR", national_id_schemes=("fr.nir",))


@pytest.mark.parametrize("name", ["meter_point", "meterPoint", "METER_POINT", "Meter-Point", "METER-POINT",
                                  "meterpoint", "MeterPoint"])
def test_tester26_f11_a_declared_name_matches_in_any_spelling_as_a_property_and_in_free_text(name: str) -> None:
    assert SPELLED.declares(name)
    assert SPELLED.facts({name: "14500000000001"}) == {name: "14500000000001"}
    assert SPELLED.declared_in({name: "14500000000001", "other": "x"}) == {name: "14500000000001"}
    for written in (f"{name}: 14500000000001 disputed", f"{name}=14500000000001 disputed",
                    f"{name} 14500000000001 disputed"):
        assert SPELLED.text(written) == written


@pytest.mark.parametrize("text", ["meter point 14500000000001 disputed", "Meter Point: 14500000000001 disputed"])
def test_a_declared_names_words_apart_in_free_text_still_introduce_its_value(text: str) -> None:
    assert SPELLED.text(text) == text


@pytest.mark.parametrize("text", ["meter 14500000000001", "point 14500000000001", "xmeter_point 14500000000001",
                                  "meter_points 14500000000001", "meter_point_id 14500000000001"])
def test_a_name_that_only_shares_a_word_or_part_with_the_declared_one_keeps_nothing(text: str) -> None:
    assert "14500000000001" not in SPELLED.text(text)
    assert not SPELLED.declares(text.split()[0])


def test_declared_in_carries_only_declared_text_values_and_scrubs_identifiers_under_them() -> None:
    assert SPELLED.declared_in({"meterPoint": "06 12 34 56 78", "METER_POINT": "", "meter-point": None}) == {
        "meterPoint": "[digits]"}
    assert SPELLED.declared_in({"meter_point": 14500000000001, "flag": True}) == {"meter_point": "14500000000001"}
    assert References(()).declared_in({"meter_point": "14500000000001"}) == {}
