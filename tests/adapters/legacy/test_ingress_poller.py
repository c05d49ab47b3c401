"""The watermark poller against a real PostgreSQL server and the real broker."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput, Unavailable
from adapters.base.runtime import adapter_runtime
from adapters.legacy.config import PollerSettings
from adapters.legacy.ingress_poller import TablePoller, map_polled, polled_record
from adapters.legacy.mapper import BusinessRecord, map_business
from adapters.legacy.values import moment
from bus.topics import BUSINESS_EVENTS
from tests.adapters.contract import AdapterContract, BadSample, Delivery, Sample
from tests.adapters.legacy.support import legacy_context, legacy_settings
from tests.support.kafka_io import delete_topics, read_dead_letters, read_events
from tests.support.settings import settings_with_topics

ORDERS_DDL = """CREATE TABLE IF NOT EXISTS legacy_orders (
    order_id text PRIMARY KEY, account_number text, status text, product_code text, updated_at timestamptz NOT NULL)"""
UPSERT = """INSERT INTO legacy_orders VALUES (%(order_id)s, %(account_number)s, %(status)s, %(product_code)s,
    %(updated_at)s) ON CONFLICT (order_id) DO UPDATE SET account_number = excluded.account_number,
    status = excluded.status, product_code = excluded.product_code, updated_at = excluded.updated_at"""
SPEC = PollerSettings(name="orders", table="legacy_orders", primary_key="order_id", event_type="OrderStatusChanged",
                      safety_lag_s=1, batch_size=2)
BY_TIME = SPEC.model_copy(update={"watermark": "updated_at"})
CHANGED = "omnibus.business.OrderStatusChanged"


def order(order_id: str, status: str | None, updated_at: str, account: str | None = "ACC-100234") -> dict[str, Any]:
    return {"order_id": order_id, "account_number": account, "status": status, "product_code": "ROUTER-X6",
            "updated_at": updated_at}


def _as_mapped(row: dict[str, Any]) -> Any:
    updated = moment(row["updated_at"], "updated_at")
    record = BusinessRecord("OrderStatusChanged", row, f"poll:orders:{row['order_id']}@{updated.isoformat()}", updated)
    return map_business(record, legacy_context())


async def start_poller(
    stack: AsyncExitStack, settings: Any, dsn: str, state_dir: Path, spec: PollerSettings = SPEC, **overrides: Any
) -> tuple[TablePoller, psycopg.AsyncConnection[Any]]:
    legacy = legacy_settings(state_dir, dsn, **overrides)
    runtime = await stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    conn = await stack.enter_async_context(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    await conn.execute(ORDERS_DDL)
    poller = TablePoller(spec, legacy_context(settings.topics), runtime.publisher,
                         Checkpoint(state_dir / f"{spec.name}.json"), retry_after_s=legacy.retry_after_s)
    return poller, conn


@pytest.mark.postgres
class TestPollerContract(AdapterContract):
    """A native is a row version; accepted means the saved position moved past it."""

    source_component = "adapter.legacy"
    samples = [
        Sample("created", order("ORD-2024-558812", "new", "2024-03-05T10:00:00+00:00"), [(CHANGED, "ACC-100234")]),
        Sample("dispatched", order("ORD-2024-558813", "dispatched", "2024-03-05T10:00:00+00:00"),
               [(CHANGED, "ACC-100234")]),
        Sample("no account", order("ORD-2024-558814", "cancelled", "2024-03-05T11:30:00+00:00", account=None),
               [(CHANGED, "ORD-2024-558814")]),
    ]
    bad_samples = [BadSample("no status", order("ORD-2024-558899", None, "2024-03-05T12:00:00+00:00"),
                             reason="status is missing")]

    @pytest.fixture
    def mapper(self) -> Any:
        return _as_mapped

    @pytest.fixture
    def adapter(self, exit_stack: AsyncExitStack, postgres_dsn: str, tmp_path: Path) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path / uuid.uuid4().hex,
                                              **overrides)
            refused: dict[Any, str] = {}

            async def deliver(row: dict[str, Any]) -> Delivery:
                await conn.execute(UPSERT, row)
                try:
                    refused.update((await poller.run_once(conn)).refused)
                except Unavailable as exc:
                    return Delivery(accepted=False, reason=exc.reason)
                position = poller.position()
                past = position is not None and position >= (moment(row["updated_at"], "u"), row["order_id"])
                reason = refused.get(row["order_id"])
                return Delivery(accepted=past and reason is None, reason=reason)

            return deliver

        return start


async def _orders(settings: Any) -> list[str]:
    return [landed.event.value["order_id"] for landed in await read_events(settings, BUSINESS_EVENTS)]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_rows_sharing_a_timestamp_across_batches_are_each_published_once(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path, spec=BY_TIME)  # batch_size 2
    same = "2024-03-05T10:00:00+00:00"
    for number in (5, 3, 1, 4, 2):
        await conn.execute(UPSERT, order(f"ORD-{number}", "new", same))
    first = await poller.run_once(conn)
    assert first.published == ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5"]
    await conn.execute(UPSERT, order("ORD-6", "new", same))
    assert (await poller.run_once(conn)).published == ["ORD-6"]
    await conn.execute(UPSERT, order("ORD-3", "shipped", "2024-03-05T10:05:00+00:00"))  # a new version of a row
    assert (await poller.run_once(conn)).published == ["ORD-3"]
    assert await _orders(settings) == ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5", "ORD-6", "ORD-3"]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_rows_younger_than_the_safety_lag_wait_for_the_next_round(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    spec = BY_TIME.model_copy(update={"safety_lag_s": 3600})
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path, spec=spec)
    await conn.execute(UPSERT, order("ORD-OLD", "new", "2024-03-05T10:00:00+00:00"))
    await conn.execute("INSERT INTO legacy_orders VALUES ('ORD-FRESH', 'ACC-1', 'new', NULL, now())")
    assert (await poller.run_once(conn)).published == ["ORD-OLD"]
    await conn.execute("UPDATE legacy_orders SET updated_at = now() - interval '2 hours' WHERE order_id = 'ORD-FRESH'")
    assert (await poller.run_once(conn)).published == ["ORD-FRESH"]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_row_of_a_transaction_still_open_is_not_skipped(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    spec = SPEC.model_copy(update={"safety_lag_s": 0})  # only the open-transaction horizon protects here
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path, spec=spec)
    slow = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn))
    insert = "INSERT INTO legacy_orders VALUES (%s, 'ACC-1', 'new', NULL, now())"
    await slow.execute(insert, ["ORD-SLOW"])  # updated_at = the start of this still-open transaction
    await conn.execute(insert, ["ORD-QUICK"])  # later timestamp, committed at once
    assert (await poller.run_once(conn)).published == []  # ORD-QUICK waits for the older writer
    await slow.commit()
    assert (await poller.run_once(conn)).published == ["ORD-SLOW", "ORD-QUICK"]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_the_position_moves_only_after_kafka_acknowledged(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    # its topics deleted once the adapter started (it refuses to start without them: tester24 F8): nothing acknowledged
    unreachable = await settings_with_topics(bootstrap_servers, producer={"delivery_timeout_ms": 5000})
    poller, conn = await start_poller(exit_stack, unreachable, postgres_dsn, tmp_path, publish_timeout_s=1.0)
    await delete_topics(unreachable)
    await conn.execute(UPSERT, order("ORD-1", "new", "2024-03-05T10:00:00+00:00"))
    with pytest.raises(Unavailable):
        await poller.run_once(conn)
    assert poller.position() is None

    settings = await settings_with_topics(bootstrap_servers)
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path)
    await conn.execute(UPSERT, order("ORD-2", None, "2024-03-05T10:01:00+00:00"))
    report = await poller.run_once(conn)
    assert report.published == ["ORD-1"] and "status is missing" in report.refused["ORD-2"]
    assert poller.position() == (datetime.fromisoformat("2024-03-05T10:01:00+00:00"), "ORD-2")
    (letter,) = await read_dead_letters(settings)
    assert letter["key"] == b"ORD-2"


@pytest.mark.postgres
@pytest.mark.kafka
async def test_run_polls_until_stopped(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    spec = SPEC.model_copy(update={"poll_interval_s": 0.2, "safety_lag_s": 0})
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path, spec=spec)
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run(postgres_dsn, stop))
    try:
        await conn.execute(UPSERT, order("ORD-1", "new", "2024-03-05T10:00:00+00:00"))
        for _ in range(100):
            if poller.position() is not None:
                break
            await asyncio.sleep(0.1)
        assert poller.position() == (datetime.fromisoformat("2024-03-05T10:00:00+00:00"), "ORD-1")
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert await _orders(settings) == ["ORD-1"]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_rows_sharing_a_transaction_order_across_batches_are_each_published_once(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    """The xid watermark reads in commit-transaction order, batch by batch, each version once."""
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path)  # batch_size 2
    async with conn.transaction():  # one transaction: one xid, ordered by primary key within it
        for number in (5, 3, 1, 4, 2):
            await conn.execute(UPSERT, order(f"ORD-{number}", "new", "2024-03-05T10:00:00+00:00"))
    await conn.execute(UPSERT, order("ORD-0", "new", "2024-03-05T09:00:00+00:00"))  # older time, later xid
    assert (await poller.run_once(conn)).published == ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5", "ORD-0"]
    assert (await poller.run_once(conn)).published == []
    await conn.execute(UPSERT, order("ORD-3", "shipped", "2024-03-05T10:05:00+00:00"))  # a new version of a row
    assert (await poller.run_once(conn)).published == ["ORD-3"]


async def _slow_writer_commits_late(
    exit_stack: AsyncExitStack, postgres_dsn: str, poller: TablePoller, conn: psycopg.AsyncConnection[Any]
) -> tuple[Any, Any]:
    """Issue #10 case 6: a transaction begins, waits, inserts (updated_at = its start) and commits after
    a quicker row was already published."""
    slow = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn))
    await slow.execute("SELECT now()")  # the transaction begins; no transaction id yet
    await asyncio.sleep(1.2)
    insert = "INSERT INTO legacy_orders VALUES (%s, 'ACC-1', 'new', NULL, now())"
    await conn.execute(insert, ["ORD-QUICK"])
    await asyncio.sleep(1.2)  # beyond the 1 s safety lag
    first = await poller.run_once(conn)
    await slow.execute(insert, ["ORD-SLOW"])  # updated_at 2.4 s before ORD-QUICK's
    await slow.commit()
    return first, await poller.run_once(conn)


@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_slow_transaction_committing_late_is_still_published_by_the_xid_watermark(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path)
    first, second = await _slow_writer_commits_late(exit_stack, postgres_dsn, poller, conn)
    assert (first.published, second.published, second.late) == (["ORD-QUICK"], ["ORD-SLOW"], [])
    assert sorted(await _orders(settings)) == ["ORD-QUICK", "ORD-SLOW"]


@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_row_behind_the_updated_at_watermark_is_detected_reported_and_published(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    poller, conn = await start_poller(exit_stack, settings, postgres_dsn, tmp_path, spec=BY_TIME)
    first, second = await _slow_writer_commits_late(exit_stack, postgres_dsn, poller, conn)
    assert (first.published, second.published, second.late) == (["ORD-QUICK"], [], ["ORD-SLOW"])
    assert (await poller.run_once(conn)).late == []  # reported once: the dedupe store now knows it
    assert sorted(await _orders(settings)) == ["ORD-QUICK", "ORD-SLOW"]


def test_a_field_columns_does_not_list_is_read_from_its_own_column() -> None:
    """``columns`` maps the fields it lists; every other field is read from its same-named column ("default: same
    name"): one entry for the table's Spanish ``estado`` column no longer leaves ``order_id`` and ``phone`` unread."""
    spec = PollerSettings(name="pedidos", table="pedidos", primary_key="id", event_type="OrderStatusChanged",
                          columns={"status": "estado"})
    row = {"id": 7, "order_id": "P-1", "account_number": "ACC-100234", "estado": "enviado", "phone": "+34612000025",
           "status": "legacy-code-9", "updated_at": datetime(2026, 12, 4, 9, tzinfo=UTC)}
    record = polled_record(spec, legacy_context(), row)
    assert record.fields["status"] == "enviado" and "estado" not in record.fields  # the listed column wins
    assert (record.fields["order_id"], record.fields["phone"]) == ("P-1", "+34612000025")
    event = map_business(record, legacy_context()).events[0].event.value
    assert (event["order_id"], event["status"], event["source_status"]) == ("P-1", "SHIPPED", "enviado")
    assert {i["type"] for i in event["customer_identifiers"]} >= {"ACCOUNT", "PHONE"}


@pytest.mark.parametrize(("columns", "named"), [
    ({"status": "estado"}, "(poller pedidos reads status from column estado)"),
    ({"status": "status", "order_id": "pedido"}, None),  # the field missing is read from its own name: nothing to add
])
def test_a_row_refused_for_a_field_read_from_another_column_names_the_column(
    columns: dict[str, str], named: str | None
) -> None:
    """Reported: a ticket row refused for ``case_type``, read from ``tipo_caso``, said ``required field case_type is
    missing``; ``redrive --set case_type=...`` then changed nothing, as the row (its dead letter shows its columns) has
    no such column."""
    spec = PollerSettings(name="pedidos", table="pedidos", primary_key="id", event_type="OrderStatusChanged",
                          columns=columns)
    row = {"id": 7, "order_id": "P-1", "pedido": "P-1", "account_number": "ACC-100234", "estado": None,
           "status": None, "updated_at": datetime(2026, 12, 4, 9, tzinfo=UTC)}
    with pytest.raises(RejectedInput) as refused:
        map_polled(spec, polled_record(spec, legacy_context(), row), legacy_context())
    assert refused.value.reason.startswith("required field status is missing")
    assert refused.value.reason.endswith(named) if named else "column" not in refused.value.reason
    assert refused.value.code == "missing_field"
