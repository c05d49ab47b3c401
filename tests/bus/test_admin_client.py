"""A node not ready yet is waited for by every admin request (CI: ``current_target``'s ``describe_cluster`` on a
broker started a moment ago raised aiokafka's ``NodeNotReadyError``: a traceback and exit 1)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import NodeNotReadyError

from bus.admin_client import admin_client
from bus.config import KafkaSettings, OmnibusSettings


class Metadata:
    """The part of aiokafka's MetadataResponse the admin client reads."""

    def to_object(self) -> dict[str, Any]:
        return {"cluster_id": "4L6g3nShT-eMCtK--X86sw", "brokers": [], "controller_id": 1,
                "topics": [{"topic": "omnibus.business.events.v1", "partitions": [], "error_code": 0}]}


def not_ready_first(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int | None]:
    """aiokafka's request raising ``NodeNotReadyError`` ``failures`` times, then answering; the nodes asked."""
    asked: list[int | None] = []

    async def send(self: AIOKafkaAdminClient, request: Any, node_id: int | None = None) -> Metadata:
        asked.append(node_id)
        if len(asked) <= failures:
            raise NodeNotReadyError(f"Attempt to send a request to node which is not ready (node id {node_id}).")
        return Metadata()

    async def nothing(self: AIOKafkaAdminClient) -> None:
        return None

    monkeypatch.setattr(AIOKafkaAdminClient, "_send_request", send)
    monkeypatch.setattr(AIOKafkaAdminClient, "start", nothing)
    monkeypatch.setattr(AIOKafkaAdminClient, "close", nothing)
    return asked


@pytest.mark.parametrize("request_name", ["describe_cluster", "list_topics", "describe_topics"])
def test_every_metadata_request_waits_for_a_node_that_is_not_ready_yet(
    request_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = not_ready_first(monkeypatch, failures=3)

    async def ask() -> Any:
        return await getattr(admin_client(KafkaSettings()), request_name)()

    assert asyncio.run(ask())
    assert len(asked) == 4


def test_a_node_still_not_ready_after_the_request_timeout_raises_node_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = not_ready_first(monkeypatch, failures=10**9)

    async def ask() -> Any:
        admin = admin_client(KafkaSettings())
        admin._client._request_timeout_ms = 300  # noqa: SLF001 - a short timeout, for the test's time
        return await admin.describe_cluster()

    with pytest.raises(NodeNotReadyError):
        asyncio.run(ask())
    assert len(asked) >= 2  # tried again before giving up


def test_the_import_target_of_a_broker_started_a_moment_ago_is_its_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CI sample: ``current_target`` (import-batch, call-center import) on a just-started broker."""
    from adapters.base.import_target import current_target

    not_ready_first(monkeypatch, failures=2)
    target = asyncio.run(current_target(OmnibusSettings(), ["omnibus.business.events.v1"]))
    assert target.cluster == "4L6g3nShT-eMCtK--X86sw"


def test_a_node_never_ready_is_reported_as_kafka_not_reachable_status_69(capsys: pytest.CaptureFixture[str]) -> None:
    from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT, startup_failure_exit

    with pytest.raises(SystemExit) as exited, startup_failure_exit():
        raise NodeNotReadyError("Attempt to send a request to node which is not ready (node id 1).")
    assert exited.value.code == KAFKA_UNAVAILABLE_EXIT
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: cannot reach Kafka (")
