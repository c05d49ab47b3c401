"""Fixtures of the identity tests."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from processors.identity.config import IdentitySettings
    from tests.processors.identity.broker import OneWorker, WorkerFactory


@pytest.fixture
def identity_worker(bootstrap_servers: str, tmp_path: Path) -> WorkerFactory:
    """``async with identity_worker(identity=None, partitions=3, web_port=None) as run``: fresh topics of
    ``partitions`` partitions on the test broker, one identity worker of ``identity`` (default: ``matcher_settings()``)
    and a producer (``broker.OneWorker``: ``run.config``, ``run.worker``, ``run.publish(records)``). ``run.config``
    stays usable after the block, to read what the worker published."""
    from bus.producer import EventProducer
    from bus.serde import build_serde
    from tests.processors.identity.broker import OneWorker, running_workers
    from tests.processors.identity.support import matcher_settings
    from tests.support.settings import settings_with_topics

    @asynccontextmanager
    async def start(identity: IdentitySettings | None = None, *, partitions: int = 3,
                    web_port: int | None = None) -> AsyncIterator[OneWorker]:
        config = await settings_with_topics(bootstrap_servers, partitions=partitions)
        serializer, _ = build_serde(config.registry)
        async with running_workers(config, identity or matcher_settings(), tmp_path, 1, web_ports=[web_port]) as (
                worker,), EventProducer(config, serializer) as producer:
            yield OneWorker(config, worker, producer)

    return start


@pytest.fixture(params=[False, True], ids=["graph", "fast-path"])
def both_paths(request: pytest.FixtureRequest) -> Iterator[None]:
    """``pytestmark = pytest.mark.usefixtures("both_paths")``: the module's tests run with harnesses (``support.Harness``)
    that send every event the slow way, then through the fast path's view as the running processor has it."""
    from tests.processors.identity.support import FAST_PATH

    token = FAST_PATH.set(request.param)
    yield
    FAST_PATH.reset(token)
