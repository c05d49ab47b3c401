"""tester33 F11: a Connect contact attribute ``cpf`` (a Brazilian national ID, under a name the deployment did not
list in ``VERIFIED_RECORD_ATTRIBUTES``) vanished from the call without a count: ``cpf`` was not seen as an identifier's
name (``bus.redact.SENSITIVE_FIELDS``), so ``omnibus_traits_rejected_total`` had no sample, and Firehose never reads
the answer. Now it is left off, counted and named in ``dropped_traits`` on every call-center path (Firehose, a CTR
array, TaskRouter); ``cnpj`` (a company's) too; a flow that verified it names it (``{"NATIONAL_ID":
["cpfVerificado"]}``, README's example)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY

from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.call_center.support import PARIS_KEY, call_center_settings, context
from tests.adapters.call_center.test_mapper_identifiers import ctr, task
from tests.adapters.web.support import StandInPublisher
from tests.bus.identifiers.support import identifier_settings
from tests.support.http import adapter_client

ATTRIBUTES = {"contaContrato": "000700777001", "cpf": "937.865.797-41"}
LABELS = {"component": "call_center", "trait": "unknown", "code": "unknown-key"}


def rejected() -> float:
    return REGISTRY.get_sample_value("omnibus_traits_rejected_total", LABELS) or 0.0


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    ingress = CallCenterIngress(call_center_settings(), Topics.of(TopicSettings()), publisher,  # type: ignore[arg-type]
                                CallCenterState(None))
    async with adapter_client(ingress.app()) as client:
        yield client


async def test_a_firehose_delivered_cpf_is_counted(client: TestClient, publisher: StandInPublisher) -> None:
    """The reported sample: a Firehose-wrapped CTR, answered 200 (the answer nobody reads)."""
    before = rejected()
    body = {"requestId": "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b", "timestamp": 1764800000000,
            "records": [{"data": base64.b64encode(json.dumps(ctr(Attributes=ATTRIBUTES)).encode()).decode()}]}
    response = await client.post("/v1/connect/ctr", json=body, headers={
        "X-Amz-Firehose-Access-Key": PARIS_KEY, "X-Amz-Firehose-Request-Id": body["requestId"]})
    assert response.status == 200
    assert rejected() == before + 1
    assert len(publisher.submitted) == 1
    assert "865.797" not in json.dumps([str(item) for item in publisher.submitted])


@pytest.mark.parametrize("name", ["cpf", "CPF", "cnpj", "Cnpj"])
@pytest.mark.parametrize("source", ["connect", "taskrouter"])
def test_a_brazilian_national_id_attribute_is_left_off_counted_and_named(source: str, name: str) -> None:
    def mapped(attributes: dict[str, str]) -> Any:
        return (map_ctr(ctr(Attributes=attributes), context()) if source == "connect"
                else map_task(task(**attributes), Timeline(), context("lyon")))

    before = rejected()
    mapped({"contaContrato": "000700777001"})  # the TaskRouter sample's unverified account_number is counted too
    without = rejected() - before
    before = rejected()
    record = mapped({"contaContrato": "000700777001", name: "937.865.797-41"})
    assert rejected() == before + without + 1
    assert record.dropped_traits is not None
    assert "a national ID the contact flow did not verify" in record.dropped_traits[name]
    assert "865.797" not in json.dumps([out.event.value for out in record.events], default=str)


def test_a_cpf_the_flow_verified_is_read_under_the_name_the_deployment_gives() -> None:
    before = rejected()
    settings = call_center_settings(verified_record_attributes={"NATIONAL_ID": ["cpfVerificado"]})
    brazil = MapContext("paris", settings.sites["paris"], Topics.of(TopicSettings()), settings,
                        identifier_settings(national_id_schemes=("br.cpf", "br.cnpj")))
    record = map_ctr(ctr(Attributes={"cpfVerificado": "937.865.797-41", "cpf": "937.865.797-41"}), brazil)
    assert rejected() == before + 1  # the unverified copy under "cpf" is still counted
    observed: dict[str, Any] = next(out.event.value for out in record.events
                                    if out.event.schema.endswith("IdentifiersObserved"))
    assert "NATIONAL_ID" in {identifier["type"] for identifier in observed["identifiers"]}
