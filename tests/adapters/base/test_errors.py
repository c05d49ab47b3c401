"""The adapters' error policy: every infrastructure outage is a 503 with Retry-After, counted as unavailable
(tester11 #3: the registry down made a refused web request a 500, counted as a rejection, with no dead letter)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Misconfigured, RejectedInput, Unauthorized, Unavailable, is_outage
from adapters.base.http import adapter_app
from adapters.base.mapper import MappedRecord
from adapters.base.outage_log import MISSING_TOPIC_MESSAGE
from adapters.base.publisher import AdapterPublisher
from bus.errors import (
    ConfigError,
    MissingTopicError,
    PublishError,
    RawRecord,
    SchemaRegistryError,
    SerializationError,
)
from bus.producer import Outgoing, kafka_retriable
from bus.refused_credentials import CredentialRefusal
from bus.serde import Event
from tests.support.http import adapter_client

UNREACHABLE = SchemaRegistryError("schema registry at http://127.0.0.1:1 unreachable: [Errno 111]", retriable=True)


@pytest.mark.parametrize("error", [
    UNREACHABLE,
    SchemaRegistryError("schema registry answered 503", status=503, retriable=True),
    PublishError("Kafka did not acknowledge: KafkaTimeoutError()", retriable=False),  # nothing was acknowledged
    PublishError("Kafka did not acknowledge", retriable=True),
    Unavailable("Kafka did not acknowledge within 10 s", retry_after_s=5),
])
def test_outages_are_outages(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize("error", [
    RejectedInput("body is not JSON", code="bad_json"), Unauthorized("unknown key", CredentialRefusal.UNKNOWN, challenge=None), ConfigError("bad setting"),
    SerializationError("does not match its schema"),
    SchemaRegistryError("schema registry answered 409 to register", status=409, retriable=False),
    ValueError("a bug"),
])
def test_input_errors_and_bugs_are_not_outages(error: Exception) -> None:
    assert not is_outage(error)


def test_a_kafka_timeout_is_retriable() -> None:
    """tester11 #6: broker-outage timeouts were counted ``retriable="false"``; the same publishes succeeded later."""
    assert kafka_retriable(KafkaTimeoutError())
    assert kafka_retriable(KafkaConnectionError())


class AckingKafka:
    async def publish_many(self, items: list[Any], *_: Any, **__: Any) -> list[object]:
        return [object() for _ in items]


class DeadLettersDown:
    """The dead-letter writer while the registry is down: the dead letter's schema cannot be registered."""

    async def write(self, record: RawRecord, *, reason: str, error_type: str, dead_letter_id: str | None = None) -> None:
        raise UNREACHABLE


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _publisher(name: str) -> AdapterPublisher:
    return AdapterPublisher(name, AckingKafka(), DedupeStore(None, 60), DeadLettersDown(),  # type: ignore[arg-type]
                            retry_after_s=7)


async def test_a_rejection_not_dead_lettered_is_unavailable_and_not_counted_as_rejected() -> None:
    publisher = _publisher("errors-test-reject")
    with pytest.raises(Unavailable) as raised:
        await publisher.reject(RawRecord(value=b"{}"), RejectedInput("offer_version is required", code="bad_field"))
    assert raised.value.retry_after_s == 7
    assert count("omnibus_adapter_unavailable_total", adapter="errors-test-reject") == 1
    assert count("omnibus_adapter_records_rejected_total", adapter="errors-test-reject", reason="bad_field") == 0


def _apps(publisher: AdapterPublisher) -> dict[str, tuple[web.Application, str, bytes, dict[str, str]]]:
    """Each HTTP adapter's app with ``publisher``, a POST path, a body it refuses (400), and a known sender."""
    from adapters.branch.ingress import UPLOAD_PATH, BranchIngress
    from adapters.branch.mapper import CounterMapper
    from adapters.call_center.ingress_http import CallCenterIngress
    from adapters.call_center.mapper import Topics
    from adapters.call_center.state import CallCenterState
    from adapters.web.ingress import WebIngress
    from adapters.web.mapper import SegmentMapper
    from bus.config import TopicSettings
    from tests.adapters.branch.support import TOKENS, branch_settings
    from tests.adapters.call_center.support import PARIS_KEY, call_center_settings
    from tests.adapters.web.support import basic_auth, web_settings

    web_, branch, call_center = web_settings(), branch_settings(), call_center_settings()
    json_type = {"Content-Type": "application/json"}
    return {
        # the tester's sample: an Offer Viewed without its offer_version
        "web": (WebIngress(web_, publisher, SegmentMapper(web_, TopicSettings())).app(), "/v1/track",
                b'{"userId":"t11-u3002","event":"Offer Viewed","properties":{"offer_id":"x"}}',
                {"Authorization": basic_auth(), **json_type}),
        "branch": (BranchIngress(branch, publisher, CounterMapper(branch, TopicSettings())).app(), UPLOAD_PATH,
                   b"{not json", {"Authorization": f"Bearer {TOKENS['CT-0142-03']}", **json_type}),
        "call-center": (CallCenterIngress(call_center, Topics.of(TopicSettings()), publisher,
                                          CallCenterState(None)).app(),
                        "/v1/connect/ctr", b"{not json", {"Authorization": f"Bearer {PARIS_KEY}", **json_type}),
    }


@pytest.mark.parametrize("adapter", ["web", "branch", "call-center"])
async def test_refused_input_with_the_registry_down_is_a_503_with_retry_after(adapter: str) -> None:
    name = f"errors-test-{adapter}"
    publisher = _publisher(name)
    logged: list[dict] = []
    publisher.outage_log._emit = lambda message, **fields: logged.append(fields)  # noqa: SLF001
    app, path, body, headers = _apps(publisher)[adapter]
    async with adapter_client(app) as client:
        response = await client.post(path, data=body, headers=headers)
        assert response.status == 503, (response.status, await response.text())
        assert response.content_type == "application/json"
        assert response.headers["Retry-After"] == "7"
        answer = await response.json()
        assert answer["code"] == "unavailable"
        # the sender outside reads that the service is unavailable, never its internal address (reported: the
        # registry's URL and errno went to Amazon Firehose); the adapter's log keeps them
        assert "127.0.0.1" not in await response.text() and "Errno" not in answer["error"], answer
        assert any("127.0.0.1" in line["reason"] for line in logged), logged
    assert count("omnibus_adapter_unavailable_total", adapter=name) == 1
    assert sum(sample.value for metric in REGISTRY.collect() for sample in metric.samples
               if sample.name == "omnibus_adapter_records_rejected_total" and sample.labels["adapter"] == name) == 0


async def test_an_outage_no_adapter_code_mapped_is_still_a_503() -> None:
    """The policy is in one place: a retriable error raised anywhere under a handler answers 503."""
    publisher = _publisher("errors-test-any")
    app = adapter_app(publisher, {}, client_max_size=1024, name="errors-test-any")

    async def handler(_: web.Request) -> web.Response:
        raise UNREACHABLE

    app.router.add_post("/v1/x", handler)
    async with adapter_client(app) as client:
        response = await client.post("/v1/x", data=b"{}")
        assert (response.status, response.headers.get("Retry-After")) == (503, "7")
    assert count("omnibus_adapter_unavailable_total", adapter="errors-test-any") == 1


GONE = MissingTopicError(["staging.contact.events.v1"])


def test_tester24_f8_a_missing_topic_is_configuration_not_an_outage() -> None:
    """A broker that answered without the topic: nothing to wait for (``Misconfigured`` is not retriable)."""
    assert not is_outage(GONE)
    assert not Misconfigured(str(GONE), retry_after_s=7).retriable


class TopicGone:
    async def publish_many(self, items: list[Any], *_: Any, **__: Any) -> list[object]:
        raise GONE


async def test_tester24_f8_a_publish_to_a_missing_topic_is_a_503_logged_as_configuration() -> None:
    """A sender still gets the 503 with Retry-After (nothing acknowledged; its retry succeeds once the topics exist);
    the adapter's log says a topic does not exist and how to create it, as an error, not "infrastructure
    unavailable"."""
    name = "errors-test-missing-topic"
    publisher = AdapterPublisher(name, TopicGone(), DedupeStore(None, 60), DeadLettersDown(),  # type: ignore[arg-type]
                                 retry_after_s=7)
    with capture_logs() as logs:
        with pytest.raises(Misconfigured) as raised:
            await publisher.submit([MappedRecord("W:1", (Outgoing("t", "k", Event("s", {})),))])
        with pytest.raises(Misconfigured):  # the next one within the window: counted, not logged again
            await publisher.submit([MappedRecord("W:2", (Outgoing("t", "k", Event("s", {})),))])
    assert raised.value.reason == str(GONE) and raised.value.retry_after_s == 7
    assert "run `omnibus topics apply`" in raised.value.reason
    assert [(line["log_level"], line["event"], line["reason"]) for line in logs] == [
        ("error", MISSING_TOPIC_MESSAGE, str(GONE))]
    assert count("omnibus_adapter_unavailable_total", adapter=name) == 2


async def test_tester24_f8_a_missing_topic_raised_under_a_handler_is_a_503_naming_it() -> None:
    publisher = _publisher("errors-test-missing-any")
    app = adapter_app(publisher, {}, client_max_size=1024, name="errors-test-missing-any")

    async def handler(_: web.Request) -> web.Response:
        raise GONE

    app.router.add_post("/v1/x", handler)
    async with adapter_client(app) as client:
        response = await client.post("/v1/x", data=b"{}")
        assert (response.status, response.headers.get("Retry-After")) == (503, "7")
        assert (await response.json())["error"] == str(GONE)
