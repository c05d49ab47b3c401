"""A polled table changed under a running poller (ALTER TABLE), against a real PostgreSQL server and the real broker.

A column added is routine (the poller reads ``SELECT *`` and keeps going); a table renamed away (or a column the poller
orders by dropped) is configuration a person must fix (one ``error:`` line, ``ConfigError``), never a traceback."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from structlog.testing import capture_logs

from adapters.base.checkpoint import Checkpoint
from adapters.base.runtime import adapter_runtime
from adapters.legacy import errors
from adapters.legacy.ingress_poller import TablePoller
from bus.errors import ConfigError
from bus.logging import get_logger
from tests.adapters.legacy.support import legacy_context, legacy_settings
from tests.adapters.legacy.test_ingress_poller import SPEC
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


async def _running_poller(
    stack: AsyncExitStack, bootstrap_servers: str, dsn: str, state_dir: Path
) -> tuple[TablePoller, psycopg.AsyncConnection[Any], str]:
    table = f"orders_{uuid.uuid4().hex[:12]}"  # its own table: ALTER TABLE must not touch other tests' tables
    settings = await settings_with_topics(bootstrap_servers)
    legacy = legacy_settings(state_dir, dsn)
    runtime = await stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    conn = await stack.enter_async_context(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    name = sql.Identifier(table)
    await conn.execute(sql.SQL("CREATE TABLE {} (order_id text PRIMARY KEY, account_number text, status text, "
                               "updated_at timestamptz NOT NULL)").format(name))
    for left in (name, sql.Identifier(f"{table}_old")):
        stack.push_async_callback(conn.execute, sql.SQL("DROP TABLE IF EXISTS {}").format(left))
    spec = SPEC.model_copy(update={"table": table, "poll_interval_s": 0.05, "safety_lag_s": 0})
    poller = TablePoller(spec, legacy_context(settings.topics), runtime.publisher,
                         Checkpoint(state_dir / "orders.json"), retry_after_s=0.1)
    return poller, conn, table


async def _insert(conn: psycopg.AsyncConnection[Any], table: str, order_id: str) -> None:
    await conn.execute(sql.SQL("INSERT INTO {} (order_id, account_number, status, updated_at) "
                               "VALUES (%s, 'ACC-100234', 'new', now())").format(sql.Identifier(table)), [order_id])


async def _until_polled(poller: TablePoller, order_id: str, running: asyncio.Task[None]) -> None:
    for _ in range(200):
        assert not running.done(), f"the poller stopped: {running.exception()!r}"
        position = poller.position()
        if position is not None and position[1] == order_id:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{order_id} was not polled")


async def test_a_column_added_while_the_poller_runs_is_read_with_the_rows_after_it(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reported: the poller died with ``FeatureNotSupported: cached plan must not change result type`` (psycopg
    prepares a query after its fifth run) once a column was added. Not even a retry is needed now."""
    poller, conn, table = await _running_poller(exit_stack, bootstrap_servers, postgres_dsn, tmp_path)
    monkeypatch.setattr(errors, "log", get_logger(errors.__name__))
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(poller.run(postgres_dsn, stop))
        try:
            await _insert(conn, table, "ORD-1")
            await _until_polled(poller, "ORD-1", running)
            await asyncio.sleep(0.6)  # well past five rounds of the same queries
            await conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN handoff_id text").format(sql.Identifier(table)))
            await _insert(conn, table, "ORD-2")
            await _until_polled(poller, "ORD-2", running)
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)
    assert [entry for entry in logs if entry["event"].startswith("database error")] == []


async def test_a_table_renamed_away_stops_the_poller_with_one_line_naming_it(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    poller, conn, table = await _running_poller(exit_stack, bootstrap_servers, postgres_dsn, tmp_path)
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run(postgres_dsn, stop))
    try:
        await _insert(conn, table, "ORD-1")
        await _until_polled(poller, "ORD-1", running)
        await conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(table), sql.Identifier(f"{table}_old")))
        with pytest.raises(ConfigError, match=r"poller orders: .*table 'orders_[0-9a-f]+' \(42P01: relation "):
            await asyncio.wait_for(running, 10)
    finally:
        stop.set()
        if not running.done():
            await asyncio.wait_for(running, 10)
