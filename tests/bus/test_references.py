"""Business references an operator declares kept whole (tester22 F4: a meter point number, a meter serial and a
meter index became ``[digits]`` in web properties and handoff summaries, even under ``meter_point_id``)."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY
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
# A phone in the region's national format: under a declared name, scrubbed only when it is the record's own phone
# (tester33 F2: any number valid as a phone in the region was scrubbed, 18 % of a Brazilian utility's installations)
NATIONAL_PHONES = {
    "national phone": "0612345678",
    "dotted phone": "06.12.34.56.78",
    "phone glued to a reference": "0048211-0612345678",
}
OWN_PHONES = frozenset({"+33612345678"})
IDENTIFIERS = {
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


@pytest.mark.parametrize("value", NATIONAL_PHONES.values(), ids=NATIONAL_PHONES.keys())
def test_a_phone_under_a_declared_name_is_scrubbed_only_when_it_is_the_record_s_own(value: str) -> None:
    assert METER.facts({"meter_point_id": value}, phones=frozenset({"+33622334455"}))["meter_point_id"] == value
    assert METER.facts({"meter_point_id": value}, phones=OWN_PHONES)["meter_point_id"] != value
    assert METER.masked_reason(value, OWN_PHONES) == "customer-phone"
    assert not METER.is_reference(value)  # free text and undeclared names keep the whole test


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


# tester33 F2: a Brazilian utility declares its SAP installation number (``ANLAGE``, CHAR10) and service note; with
# region BR libphonenumber reads many 10-digit numbers as phones (3000123456 is no valid one, 3000000000 is)
BR = References(("instalacao", "nota_servico"), region="BR", national_id_schemes=("br.cpf", "br.cnpj"))
INSTALLATIONS = ("3000000000", "3012345678", "3099999999", "0700123456", "3000123456")
CALLER = frozenset({"+5511987654321"})


def _masked(field: str, reason: str) -> float:
    return REGISTRY.get_sample_value("omnibus_references_masked_total", {"field": field, "reason": reason}) or 0.0


@pytest.mark.parametrize("installation", INSTALLATIONS)
def test_tester33_f2_a_declared_installation_is_kept_whole_whatever_it_looks_like(installation: str) -> None:
    summary = f"Cliente pagou fatura vencida, pede religacao. instalacao {installation}"
    facts = BR.facts({"instalacao": installation, "note": installation}, phones=CALLER)
    assert facts == {"instalacao": installation, "note": "[digits]"}
    assert BR.declared_in({"instalacao": installation}, CALLER) == {"instalacao": installation}
    assert BR.text(summary, facts) == summary  # the record's own field vouches for the quoted value


def test_tester33_f2_sap_installation_range_is_never_masked_but_for_the_caller_s_phone() -> None:
    """Every 1000th number of 3000000000-3099999999 (the old rule masked 18 % of them): kept whole."""
    assert [number for number in map(str, range(3_000_000_000, 3_100_000_000, 100_000))
            if BR.masked_reason(number, CALLER) is not None] == []
    assert not all(BR.is_reference(str(number)) for number in range(3_000_000_000, 3_000_100_000, 1000))


def test_tester33_f2_the_record_s_own_phone_or_an_identifier_under_a_declared_name_is_masked_and_counted() -> None:
    before = {reason: _masked("instalacao", reason) for reason in ("customer-phone", "identifier")}
    facts = BR.facts({"instalacao": "11987654321"}, phones=CALLER)
    assert facts == {"instalacao": "[digits]"}
    assert BR.facts({"INSTALACAO": "005511987654321"})["INSTALACAO"] == "[digits]"  # a 00CC phone: anyone's
    assert "865" not in BR.facts({"instalacao": "937.865.797-41"})["instalacao"]  # a CPF
    assert _masked("instalacao", "customer-phone") == before["customer-phone"] + 1
    assert _masked("instalacao", "identifier") == before["identifier"] + 2


def test_tester33_f2_free_text_quotes_the_record_s_value_and_still_masks_a_phone_typed_in_it() -> None:
    before = _masked("nota_servico", "free-text")
    record = {"instalacao": "3000000000"}
    assert BR.text("instalacao 3000000000; ligar 11 98765-4321", record) == "instalacao 3000000000; ligar [digits]"
    # a pair no field of the record vouches for keeps the whole test: 3000000000 is a valid BR phone
    assert BR.text("instalacao 3000000000", {}) == "instalacao [digits]"
    assert BR.text("nota_servico 3000000000 ok", record) == "nota_servico [digits] ok"
    assert BR.text("instalacao: 3000000000", {"instalacao": "[digits]"}) == "instalacao: [digits]"
    assert _masked("nota_servico", "free-text") == before + 1
