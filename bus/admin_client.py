"""The admin client every command and worker asks the cluster's metadata with: a node not ready yet is waited for.

aiokafka's ``AIOKafkaAdminClient.start`` only bootstraps (one metadata request to any bootstrap server). Its
metadata requests (``describe_cluster``, ``list_topics``, ``describe_topics``) then go to a random known node, and
aiokafka raises ``NodeNotReadyError`` at once when that node's connection is not up yet. A broker started a moment
ago answers the bootstrap and then refuses that connection: CI's tests/adapters/legacy/test_cli_outage.py saw
``current_target`` die in ``describe_cluster`` with a traceback and exit 1. aiokafka's own controller requests
(``create_topics``) wait for the node to be ready, for up to the client's request timeout; ``AdminClient`` does the
same for every request: a node not ready is tried again with the client's retry backoff until the request timeout
has passed, and then the last ``NodeNotReadyError`` is raised, which a command reports as Kafka not reachable
(``bus.bootstrap.UNREACHABLE_ERRORS``: exit 69), as it reports a bootstrap that found no broker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import NodeNotReadyError

from bus.config import KafkaSettings
from bus.kafka_client import connection_options


class AdminClient(AIOKafkaAdminClient):
    """``AIOKafkaAdminClient`` built from ``bus.kafka_client`` whose requests wait for a node not ready yet."""

    async def _send_request(self, request: Any, node_id: int | None = None) -> Any:
        """aiokafka's request to ``node_id`` (a random node when None), again after ``NodeNotReadyError`` until the
        client's request timeout has passed (seconds: ``request_timeout_ms / 1000``); raises the last error then."""
        deadline = time.monotonic() + self._client._request_timeout_ms / 1000  # noqa: SLF001 - aiokafka's setting
        while True:
            try:
                return await super()._send_request(request, node_id)
            except NodeNotReadyError:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(self._client._retry_backoff)  # noqa: SLF001 - seconds, from retry_backoff_ms


def admin_client(settings: KafkaSettings) -> AdminClient:
    """An ``AdminClient`` for the cluster ``settings`` name (not started: ``await client.start()``)."""
    return AdminClient(**connection_options(settings))
