"""The outbox relay against a real PostgreSQL server and the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from adapters.base.errors import Unavailable
from adapters.base.runtime import adapter_runtime
from adapters.legacy.ingress_outbox import OutboxRelay, install_outbox, outbox_record
from adapters.legacy.mapper import map_business
from bus.topics import BUSINESS_EVENTS
from tests.adapters.contract import AdapterContract, BadSample, Delivery, Sample
from tests.adapters.legacy.support import legacy_context, legacy_settings, outbox_rows, utc
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

BUSINESS = "omnibus.business"
INSERT = ("INSERT INTO omnibus_outbox (id, aggregate_type, aggregate_id, event_type, payload) "
          "VALUES (%(id)s, %(aggregate_type)s, %(aggregate_id)s, %(event_type)s, %(payload)s) "
          "ON CONFLICT (id) DO UPDATE SET published_at = NULL, refused_reason = NULL")  # a redelivery


def _row(row_id: int, event_type: str, payload: Any, aggregate_id: str = "ACC-100234") -> dict[str, Any]:
    return {"id": row_id, "aggregate_type": "account", "aggregate_id": aggregate_id, "event_type": event_type,
            "payload": payload}


def _as_mapped(row: dict[str, Any]) -> Any:
    record = outbox_record(row["id"], row["aggregate_type"], row["aggregate_id"], row["event_type"], row["payload"],
                           utc(2024, 3, 5))
    return map_business(record, legacy_context())


async def start_relay(
    stack: AsyncExitStack, settings: Any, dsn: str, state_dir: Path, **overrides: Any
) -> tuple[OutboxRelay, psycopg.AsyncConnection[Any]]:
    legacy = legacy_settings(state_dir, dsn, **overrides)
    await install_outbox(dsn, legacy.outbox.table)
    runtime = await stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    conn = await stack.enter_async_context(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    relay = OutboxRelay(dsn, legacy.outbox, legacy_context(settings.topics), runtime.publisher,
                        retry_after_s=legacy.retry_after_s)
    return relay, conn


@pytest.mark.postgres
class TestOutboxContract(AdapterContract):
    """A native is an outbox row; delivering it again is the relay finding it unpublished again (as after a
    crash between Kafka's acknowledgement and the UPDATE); accepted means published_at was set."""

    source_component = "adapter.legacy"
    samples = [
        Sample("account opened", outbox_rows()[0], [(f"{BUSINESS}.AccountOpened", "ACC-100234")]),
        Sample("product subscribed", outbox_rows()[1], [(f"{BUSINESS}.ProductSubscribed", "ACC-100234")]),
        Sample("bill issued", outbox_rows()[2], [(f"{BUSINESS}.BillIssued", "ACC-100234")]),
        Sample("payment overdue", outbox_rows()[3], [(f"{BUSINESS}.PaymentOverdue", "ACC-100234")]),
        Sample("order dispatched", outbox_rows()[4], [(f"{BUSINESS}.OrderStatusChanged", "ACC-100234")]),
        Sample("product cancelled", outbox_rows()[5], [(f"{BUSINESS}.ProductCancelled", "ACC-100234")]),
        Sample("account closed", outbox_rows()[6], [(f"{BUSINESS}.AccountClosed", "ACC-099871")]),
    ]
    bad_samples = [
        BadSample("unknown type", _row(2001, "invoice.paid", {"amount": "1"}), reason="unknown event type"),
        BadSample("missing field", _row(2002, "AccountOpened", {"service_tier": "gold"}),
                  reason="account_type is missing"),
        BadSample("payload not an object", _row(2003, "AccountClosed", [1, 2]), reason="must be a JSON object"),
    ]

    @pytest.fixture
    def mapper(self) -> Any:
        return _as_mapped

    @pytest.fixture
    def adapter(self, exit_stack: AsyncExitStack, postgres_dsn: str, tmp_path: Path) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            state = tmp_path / uuid.uuid4().hex
            relay, conn = await start_relay(exit_stack, settings, postgres_dsn, state, **overrides)

            async def deliver(row: dict[str, Any]) -> Delivery:
                await conn.execute(INSERT, {**row, "payload": Jsonb(row["payload"])})
                try:
                    await relay.run_once(conn)
                except Unavailable as exc:
                    return Delivery(accepted=False, reason=exc.reason)
                cursor = await conn.execute(
                    "SELECT published_at, refused_reason FROM omnibus_outbox WHERE id = %s", [row["id"]])
                published_at, refused = await cursor.fetchone()  # type: ignore[misc]
                return Delivery(accepted=published_at is not None and refused is None, reason=refused)

            return deliver

        return start


async def _published(settings: Any) -> list[tuple[str | None, str]]:
    landed = await read_events(settings, BUSINESS_EVENTS)
    return [(item.key, item.event.value["envelope"]["source_event_id"]) for item in landed]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_rows_are_published_in_commit_order_not_id_order_and_none_is_skipped(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    relay, conn = await start_relay(exit_stack, settings, postgres_dsn, tmp_path)
    await conn.execute("CREATE TABLE accounts (number text PRIMARY KEY, status text)")
    await conn.execute("INSERT INTO accounts VALUES ('ACC-1', 'new')")
    insert = ("INSERT INTO omnibus_outbox (aggregate_type, aggregate_id, event_type, payload) "
              "VALUES ('account', 'ACC-1', %s, %s) RETURNING id")
    slow = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn))
    fast = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn))

    # The slow transaction writes its outbox row first (smaller id) but changes the account last.
    slow_id = (await (await slow.execute(insert, ["AccountClosed", Jsonb({"reason": "second"})])).fetchone())[0]
    fast_id = (await (await fast.execute(insert, ["AccountOpened", Jsonb({"account_type": "first"})])).fetchone())[0]
    await fast.execute("UPDATE accounts SET status = 'open' WHERE number = 'ACC-1'")
    await fast.commit()
    assert slow_id < fast_id
    assert (await relay.run_once(conn)).published == [fast_id]  # the slow row is not visible yet
    await slow.execute("UPDATE accounts SET status = 'closed' WHERE number = 'ACC-1'")
    await slow.commit()
    assert (await relay.run_once(conn)).published == [slow_id]  # a smaller id committed later: not skipped
    assert await _published(settings) == [("ACC-1", f"outbox:{fast_id}"), ("ACC-1", f"outbox:{slow_id}")]

    # Both committed before the relay looks: commit order still wins over id order.
    slow_id = (await (await slow.execute(insert, ["AccountClosed", Jsonb({})])).fetchone())[0]
    fast_id = (await (await fast.execute(insert, ["AccountOpened", Jsonb({"account_type": "x"})])).fetchone())[0]
    await fast.commit()
    await slow.commit()
    assert (await relay.run_once(conn)).published == [fast_id, slow_id]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_bad_row_is_dead_lettered_and_does_not_stall_the_rows_behind_it(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    relay, conn = await start_relay(exit_stack, settings, postgres_dsn, tmp_path)
    rows = [outbox_rows()[0], _row(3001, "AccountOpened", {}), outbox_rows()[1]]
    async with conn.transaction():
        for row in rows:
            await conn.execute(INSERT, {**row, "payload": Jsonb(row["payload"])})
    report = await relay.run_once(conn)
    assert report.published == [1001, 1002] and "account_type is missing" in report.refused[3001]
    (letter,) = await read_dead_letters(settings)
    assert json.loads(letter["value"])["id"] == 3001 and letter["key"] == b"ACC-100234"
    assert [source for _, source in await _published(settings)] == ["outbox:1001", "outbox:1002"]
    assert (await relay.run_once(conn)).published == []


@pytest.mark.postgres
@pytest.mark.kafka
async def test_the_relay_wakes_on_notify_and_a_standby_takes_over(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    relay, conn = await start_relay(exit_stack, settings, postgres_dsn, tmp_path, outbox={"poll_interval_s": 60})
    stop = asyncio.Event()
    leader = asyncio.create_task(relay.run(stop))
    try:
        row = outbox_rows()[0]
        await asyncio.sleep(0.5)  # let it LISTEN
        await conn.execute(INSERT, {**row, "payload": Jsonb(row["payload"])})
        await _until_published(conn, row["id"], within_s=10)  # far sooner than the 60 s poll interval
    finally:
        stop.set()
        await asyncio.wait_for(leader, 10)

    holder = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True))
    await holder.execute("SELECT pg_advisory_lock(hashtext('omnibus.omnibus_outbox'))")  # another relay leads
    standby_relay, _ = await start_relay(exit_stack, settings, postgres_dsn, tmp_path / "standby",
                                         outbox={"poll_interval_s": 0.2})
    stop = asyncio.Event()
    standby = asyncio.create_task(standby_relay.run(stop))
    try:
        second = outbox_rows()[1]
        await conn.execute(INSERT, {**second, "payload": Jsonb(second["payload"])})
        await asyncio.sleep(1.5)
        assert not await _is_published(conn, second["id"])  # the standby waits
        await holder.close()  # the leader goes away
        await _until_published(conn, second["id"], within_s=10)
    finally:
        stop.set()
        await asyncio.wait_for(standby, 10)


async def _is_published(conn: psycopg.AsyncConnection[Any], row_id: int) -> bool:
    cursor = await conn.execute("SELECT published_at IS NOT NULL FROM omnibus_outbox WHERE id = %s", [row_id])
    return bool((await cursor.fetchone())[0])  # type: ignore[index]


async def _until_published(conn: psycopg.AsyncConnection[Any], row_id: int, within_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await _is_published(conn, row_id):
        assert asyncio.get_running_loop().time() < deadline, f"outbox row {row_id} not published in {within_s} s"
        await asyncio.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_relay_wedged_on_a_statement_fails_its_liveness_and_a_waiting_standby_does_not(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    """tester11 #8: the relay had no probe, so a relay stuck on a statement that never returns was never restarted.
    Here its outbox table is locked by another session: its next SELECT waits, its loop stops beating, and /live
    would answer 503; once the lock goes it beats again. A standby waiting for the advisory lock stays live."""
    from bus.heartbeat import Heartbeat

    settings = await settings_with_topics(bootstrap_servers)
    legacy = legacy_settings(tmp_path, postgres_dsn, outbox={"poll_interval_s": 0.2, "live_within_s": 1.0})
    await install_outbox(postgres_dsn, legacy.outbox.table)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    heartbeat = Heartbeat("adapter.legacy", legacy.outbox.live_within_s)
    relay = OutboxRelay(postgres_dsn, legacy.outbox, legacy_context(settings.topics), runtime.publisher,
                        retry_after_s=legacy.retry_after_s, heartbeat=heartbeat)
    holder = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn))

    async def until(live: bool, within_s: float) -> None:
        deadline = asyncio.get_running_loop().time() + within_s
        while heartbeat.live()[0] is not live:
            assert asyncio.get_running_loop().time() < deadline, heartbeat.live()[1]
            await asyncio.sleep(0.1)

    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(1.5)
        assert heartbeat.live()[0], heartbeat.live()[1]  # idle, waiting for work: alive
        await holder.execute("LOCK TABLE omnibus_outbox IN ACCESS EXCLUSIVE MODE")  # its SELECT now waits
        await until(False, 30)
        alive, body = heartbeat.live()
        assert body["reason"] and "has not moved" in body["reason"] and body["component"] == "adapter.legacy"
        await holder.rollback()
        await until(True, 30)

        stop.set()
        await asyncio.wait_for(running, 10)  # its connection, and so its advisory lock, goes with it
        await holder.execute("SELECT pg_advisory_lock(hashtext('omnibus.omnibus_outbox'))")  # another relay leads
        await holder.commit()  # the session keeps the advisory lock
        standby_beat = Heartbeat("adapter.legacy", legacy.outbox.live_within_s)
        standby = OutboxRelay(postgres_dsn, legacy.outbox, legacy_context(settings.topics), runtime.publisher,
                              retry_after_s=legacy.retry_after_s, heartbeat=standby_beat)
        stop = asyncio.Event()
        running = asyncio.create_task(standby.run(stop))
        await asyncio.sleep(3)
        assert standby_beat.live()[0], standby_beat.live()[1]  # waiting for the lock is not wedged
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
