"""tester33 F2: a Brazilian utility declares its SAP installation number (``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS=
["instalacao", "nota_servico"]``); with phone region BR, 18 % of installations 3000000000-3099999999 are valid phone
numbers and were masked to ``[digits]`` in the call's properties, the field-service work order's intake facts and its
summary, uncounted. A declared field's value is now the field's, whatever it looks like; the summary keeps the value
the same record holds under the declared name; the record's own phone under a declared name is still masked, and
counted (``omnibus_references_masked_total``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from adapters.branch.errors import EventRejected
from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import branch_settings, sample
from tests.adapters.call_center.support import LYON_TWILIO_TOKEN, LYON_WORKSPACE, PARIS_KEY, call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr, task
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings

DECLARED = identifier_settings(default_region="BR", national_id_schemes=("br.cpf", "br.cnpj"),
                               reference_fields=("instalacao", "nota_servico"))
INSTALLATION = "3000000000"  # in the SAP IS-U range, and a valid phone number in region BR
CALLER = "+5511987654321"
SUMMARY = f"Cliente pagou fatura vencida, pede religacao. instalacao {INSTALLATION}; ligar 11 98765-4321"
KEPT = f"Cliente pagou fatura vencida, pede religacao. instalacao {INSTALLATION}; ligar [digits]"
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SITE = {"access_keys": [PARIS_KEY], "twilio_workspace_sids": [LYON_WORKSPACE], "twilio_auth_token": LYON_TWILIO_TOKEN,
        "timezone": "America/Sao_Paulo", "phone_region": "BR"}


def by_schema(events: list[Any]) -> dict[str, dict[str, Any]]:
    return {out.event.schema.rsplit(".", 1)[1]: out.event.value for out in events}


def masked(reason: str) -> float:
    return REGISTRY.get_sample_value("omnibus_references_masked_total",
                                     {"field": "instalacao", "reason": reason}) or 0.0


def test_the_sample_installation_is_a_valid_phone_number_in_region_br() -> None:
    """What made the old rule mask it: the sample stays a case of the kind."""
    from bus.identifiers.phone import normalise_phone

    assert normalise_phone(INSTALLATION, "BR").startswith("+55")


def _call(source: str, attributes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    settings = call_center_settings(sites={"sao-paulo": SITE})
    context = MapContext("sao-paulo", settings.sites["sao-paulo"], Topics.of(TopicSettings()), settings, DECLARED)
    if source == "connect":
        return by_schema(map_ctr(ctr(Attributes=attributes, CustomerEndpoint={
            "Address": CALLER, "Type": "TELEPHONE_NUMBER"}), context).events)
    return by_schema(map_task(task(**{"from": CALLER, "caller": CALLER}, **attributes), Timeline(), context).events)


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
def test_a_call_s_declared_installation_reaches_its_properties_work_order_and_summary_whole(source: str) -> None:
    values = _call(source, {"instalacao": INSTALLATION, "omnibus_handoff_kind": "religacao",
                            "omnibus_handoff_summary": SUMMARY, "disposition": f"instalacao {INSTALLATION} religada"})
    assert values["InteractionRecorded"]["properties"]["instalacao"] == INSTALLATION
    assert values["InteractionRecorded"]["properties"]["disposition"] == f"instalacao {INSTALLATION} religada"
    assert values["HandoffCreated"]["intake_facts"]["instalacao"] == INSTALLATION
    assert values["HandoffCreated"]["summary"] == KEPT


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
def test_the_caller_s_own_number_under_a_declared_name_is_masked_and_counted(source: str) -> None:
    before = masked("customer-phone")
    values = _call(source, {"instalacao": "11987654321", "omnibus_handoff_kind": "religacao",
                            "omnibus_handoff_summary": "instalacao 11987654321"})
    assert values["InteractionRecorded"]["properties"]["instalacao"] == "[digits]"
    assert values["HandoffCreated"]["intake_facts"]["instalacao"] == "[digits]"
    assert values["HandoffCreated"]["summary"] == "instalacao [digits]"
    assert masked("customer-phone") == before + 1


def test_a_web_service_request_keeps_the_declared_installation_in_properties_facts_and_summary() -> None:
    mapper = SegmentMapper(web_settings(phone_region="BR"), TopicSettings(), DECLARED)
    message = {"type": "track", "userId": "u-t33", "messageId": "m-t33-f2", "event": "Service Request Submitted",
               "properties": {"instalacao": INSTALLATION, "case_type": "religacao", "summary": SUMMARY}}
    values = by_schema(mapper(message, source="portal-web", received_at=AT).events)
    assert values["InteractionRecorded"]["properties"]["instalacao"] == INSTALLATION
    assert values["HandoffCreated"]["intake_facts"]["instalacao"] == INSTALLATION
    assert values["HandoffCreated"]["summary"] == KEPT


def test_a_web_customer_s_own_phone_under_a_declared_name_is_masked() -> None:
    mapper = SegmentMapper(web_settings(phone_region="BR"), TopicSettings(), DECLARED)
    message = {"type": "track", "userId": "u-t33", "messageId": "m-t33-f2-phone", "event": "Service Request Submitted",
               "context": {"traits": {"phone": "(11) 98765-4321"}},
               "properties": {"instalacao": "11987654321", "case_type": "religacao"}}
    values = by_schema(mapper(message, source="portal-web", received_at=AT).events)
    assert CALLER in {identifier["value"] for identifier in values["InteractionRecorded"]["customer_identifiers"]}
    assert values["InteractionRecorded"]["properties"]["instalacao"] == "[digits]"
    assert values["HandoffCreated"]["intake_facts"]["instalacao"] == "[digits]"


def test_a_legacy_work_order_keeps_the_declared_installation_and_masks_the_customer_s_phone() -> None:
    context = LegacyContext("sap-isu", "omnibus.business.v1", handoff_topic="omnibus.handoff.events.v1",
                            phone_region="BR", identifiers=DECLARED)
    line = {"case_type": "religacao", "summary": SUMMARY, "phone": CALLER, "instalacao": INSTALLATION,
            "nota_servico": "11987654321"}
    (out,) = map_business(BusinessRecord("HandoffCreated", line, "notas.csv:2", AT), context).events
    assert out.event.value["intake_facts"]["instalacao"] == INSTALLATION
    assert out.event.value["intake_facts"]["nota_servico"] == "[digits]"  # the customer's own phone
    assert out.event.value["summary"] == KEPT



def _counter(references: Any, summary: str = SUMMARY, identifiers: list[dict[str, str]] | None = None,
             ) -> dict[str, dict[str, Any]]:
    upload = sample("transaction_with_identifiers")
    event = upload["events"][0]
    if identifiers is not None:
        event["identifiers"] = identifiers
    event["transaction"] |= {"references": references, "handoff": {"kind": "religacao", "summary": summary}}
    mapper = CounterMapper(branch_settings(phone_region="BR"), TopicSettings(), DECLARED)
    return by_schema(mapper(event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"]).events)


def test_a_counter_transaction_carries_the_declared_installation_whole() -> None:
    """The counter had no field to carry a declared reference: a clerk's summary quoting it was judged by the whole
    test (a valid phone in region BR: masked). ``transaction.references`` carries it, under a declared name only."""
    values = _counter({"instalacao": INSTALLATION})
    assert values["InteractionRecorded"]["properties"]["instalacao"] == INSTALLATION
    assert values["HandoffCreated"]["intake_facts"]["instalacao"] == INSTALLATION
    assert values["HandoffCreated"]["summary"] == KEPT
    assert _counter({}, SUMMARY)["HandoffCreated"]["summary"] == KEPT.replace(INSTALLATION, "[digits]")


def test_a_counter_customer_s_own_phone_under_a_declared_name_is_masked() -> None:
    values = _counter({"nota_servico": "11987654321", "Instalacao": "005511987654321"}, "nota_servico 11987654321",
                      identifiers=[{"type": "PHONE", "value": CALLER}])
    assert values["InteractionRecorded"]["properties"]["nota_servico"] == "[digits]"  # the customer's own
    assert values["InteractionRecorded"]["properties"]["Instalacao"] == "[digits]"  # a 00CC phone: an identifier
    assert values["HandoffCreated"]["intake_facts"]["nota_servico"] == "[digits]"
    assert values["HandoffCreated"]["summary"] == "nota_servico [digits]"


@pytest.mark.parametrize(("references", "says"), [
    ({"conta": "123"}, "'transaction.references.conta' is no declared business reference"),
    ({"instalacao": 3000000000}, "'transaction.references.instalacao' must be text"),
    (["instalacao"], "'transaction.references' must be a JSON object"),
])
def test_a_counter_reference_under_an_undeclared_name_refuses_the_event(references: Any, says: str) -> None:
    with pytest.raises(EventRejected, match=says):
        _counter(references)
