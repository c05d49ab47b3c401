"""Re-driving a row the legacy adapter refused, against a real PostgreSQL server and the real broker: the poller's
row refused for its columns, re-driven once the poller is set right; an outbox row refused for a missing field,
re-driven corrected. Once: a second re-drive publishes nothing, and the row read again by the adapter afterwards
carries the event ids the re-drive published (a copy the processors drop)."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from typer.testing import CliRunner

from adapters.base.checkpoint import Checkpoint
from adapters.base.runtime import adapter_runtime
from adapters.legacy.cli import context
from adapters.legacy.ingress_outbox import OutboxRelay, install_outbox
from adapters.legacy.ingress_poller import TablePoller
from bus.topics import BUSINESS_EVENTS
from omnibus.cli import app as omnibus
from processors.deadletters import DEAD_LETTER_ID_HEADER
from tests.adapters.legacy.support import legacy_settings, outbox_rows
from tests.processors.deadletters.test_cli import env_of, until_dead_letters
from tests.support.kafka_io import read_events, read_raw
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(300)]
KEY = "a-deployment-seal-key-of-32-chars-or-more"
ORDERS_DDL = ("CREATE TABLE pedidos (order_id text PRIMARY KEY, account_number text, estado text, "
              "updated_at timestamptz NOT NULL)")
POLLER = {"name": "pedidos", "table": "pedidos", "primary_key": "order_id", "event_type": "OrderStatusChanged",
          "safety_lag_s": 0}
MISMAPPED = {**POLLER, "columns": {"order_id": "order_id", "account_number": "account_number", "status": "status"}}
FIXED = {**POLLER, "columns": {"order_id": "order_id", "account_number": "account_number", "status": "estado"}}
CHANGED = "omnibus.business.OrderStatusChanged"


async def _redrive(env: dict[str, str], *args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, omnibus, ["deadletters", "redrive", *args, "--by", "ops-lucia",
                                                                 "--why", "poller columns corrected"], env=env)


def _ids(events: list[Any], field: str, value: str) -> list[str]:
    return [e.event.value["envelope"]["event_id"] for e in events if e.event.value.get(field) == value]


async def _poll(stack: AsyncExitStack, settings: Any, dsn: str, state: Path, spec: dict[str, Any]) -> Any:
    adapter = legacy_settings(state, dsn, pollers=[spec])
    runtime = await stack.enter_async_context(adapter_runtime("legacy", settings, adapter))
    (poller_spec,) = adapter.pollers
    poller = TablePoller(poller_spec, context(settings, adapter, poller_spec.phone_region), runtime.publisher,
                         Checkpoint(state / "pollers" / "pedidos.json"), retry_after_s=adapter.retry_after_s)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        return await poller.run_once(conn)


async def test_a_polled_row_refused_for_its_columns_is_re_driven_once_the_poller_is_set_right(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, dead_letters={"seal_key": KEY}, log={"level": "WARNING"})
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(ORDERS_DDL)
        await conn.execute("INSERT INTO pedidos VALUES ('PED-1', 'ACC-100234', 'enviado', now() - interval '1 minute')")
    report = await _poll(exit_stack, settings, postgres_dsn, tmp_path, MISMAPPED)
    assert "status is missing" in report.refused["PED-1"], report
    (letter,) = await until_dead_letters(settings, 1)

    env = {**env_of(settings), "OMNIBUS_DEAD_LETTERS__SEAL_KEY": KEY}
    as_it_was = await _redrive({**env, "OMNIBUS_ADAPTER_LEGACY__POLLERS": json.dumps([MISMAPPED])}, letter.id)
    assert as_it_was.exit_code == 1 and as_it_was.stdout.startswith("refused"), as_it_was.output
    assert "status is missing" in as_it_was.stdout
    fixed_env = {**env, "OMNIBUS_ADAPTER_LEGACY__POLLERS": json.dumps([FIXED])}
    done = await _redrive(fixed_env, letter.id)
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    again = await _redrive(fixed_env, letter.id)
    assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output
    assert "ACC-100234" not in done.output + again.output + as_it_was.output

    changes = [e for e in await read_events(settings, BUSINESS_EVENTS) if e.event.schema == CHANGED]
    redriven = _ids(changes, "order_id", "PED-1")
    assert len(redriven) == 1 and changes[0].event.value["status"] == "SHIPPED"
    records = await read_raw(bootstrap_servers, BUSINESS_EVENTS.name(settings.topics))
    assert [dict(r.headers or ()).get(DEAD_LETTER_ID_HEADER) for r in records] == [letter.id.encode()]

    # the poller set right, from the start (a position and dedupe store of its own): the row read again is a copy
    report = await _poll(exit_stack, settings, postgres_dsn, tmp_path / "again", FIXED)
    assert report.published == ["PED-1"], report
    changes = [e for e in await read_events(settings, BUSINESS_EVENTS) if e.event.schema == CHANGED]
    assert set(_ids(changes, "order_id", "PED-1")) == set(redriven)  # no new event id: the processors drop it


async def test_an_outbox_row_refused_for_a_missing_field_is_re_driven_corrected_once(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, dead_letters={"seal_key": KEY}, log={"level": "WARNING"})
    adapter = legacy_settings(tmp_path, postgres_dsn)
    await install_outbox(postgres_dsn, adapter.outbox.table)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, adapter))
    relay = OutboxRelay(postgres_dsn, adapter.outbox, context(settings, adapter), runtime.publisher,
                        retry_after_s=adapter.retry_after_s)
    row = outbox_rows()[0]
    payload = {k: v for k, v in row["payload"].items() if k != "account_type"}
    conn = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True))
    await conn.execute("INSERT INTO omnibus_outbox (id, aggregate_type, aggregate_id, event_type, payload) VALUES "
                       "(3001, 'account', 'ACC-100234', 'AccountOpened', %s)", [Jsonb(payload)])
    report = await relay.run_once(conn)
    assert "account_type is missing" in report.refused[3001], report
    (letter,) = await until_dead_letters(settings, 1)

    env = {**env_of(settings), "OMNIBUS_DEAD_LETTERS__SEAL_KEY": KEY}
    done = await _redrive(env, letter.id, "--set", "payload.account_type=residential")
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    again = await _redrive(env, letter.id, "--set", "payload.account_type=residential")
    assert again.exit_code == 0 and again.stdout.startswith("already_redriven"), again.output
    opened = [e for e in await read_events(settings, BUSINESS_EVENTS)
              if e.event.schema == "omnibus.business.AccountOpened"]
    assert [(e.event.value["account_type"], e.event.value["envelope"]["source_event_id"]) for e in opened] == [
        ("residential", "outbox:3001")]

    # the source system corrects the row and reports it again (published_at cleared): the same event id, a copy
    await conn.execute("UPDATE omnibus_outbox SET payload = %s, published_at = NULL, refused_reason = NULL "
                       "WHERE id = 3001", [Jsonb({**payload, "account_type": "residential"})])
    assert (await relay.run_once(conn)).published == [3001]
    opened = [e for e in await read_events(settings, BUSINESS_EVENTS)
              if e.event.schema == "omnibus.business.AccountOpened"]
    assert len(opened) == 2 and len({e.event.value["envelope"]["event_id"] for e in opened}) == 1
