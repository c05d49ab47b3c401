"""The table manager of an Omnibus worker registers its tables as soon as it starts (``bus.table_manager``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bus.app import create_app
from bus.config import OmnibusSettings
from bus.fenced_table import fenced_table
from bus.table_manager import TableManager


def started_without_broker(app: Any) -> list[float]:
    """``app``'s table manager with a consumer that has no assignment yet and a recovery that starts at once
    (what a worker has when its table manager starts); returns the list its ``sleep`` calls are recorded in."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def start_recovery() -> None:
        return None

    app.consumer = SimpleNamespace(assignment=set, pause_partitions=lambda partitions: None)
    app.tables.sleep = sleep
    app.tables.recovery.start = start_recovery
    return slept


async def test_tables_are_registered_at_start_without_waiting() -> None:
    app = create_app("table-manager-test", OmnibusSettings())
    manager = app.tables
    assert isinstance(manager, TableManager)
    slept = started_without_broker(app)
    await manager.on_start()
    assert manager._tables_registered.is_set()  # noqa: SLF001 - what the conductor waits for to subscribe
    assert slept == []  # faust's own manager sleeps 1.0 s first


async def test_a_table_added_once_the_worker_started_still_fails_loudly() -> None:
    settings = OmnibusSettings()
    app = create_app("table-manager-test", settings)
    started_without_broker(app)
    manager = app.tables
    assert isinstance(manager, TableManager)
    await manager.on_start()
    with pytest.raises(RuntimeError, match="Too late to add tables"):
        fenced_table(app, "late", settings.topics, default=None)
