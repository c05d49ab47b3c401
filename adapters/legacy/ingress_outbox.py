"""The outbox relay: unpublished outbox rows → business events on Kafka, in commit order, at least once.

Each round reads the rows whose ``published_at`` is NULL in ``commit_seq`` order (see ``outbox.sql`` for
why not ``id`` order), publishes them, and stamps ``published_at`` only after Kafka acknowledged. A crash
between the two re-reads those rows: the dedupe store (ids ``<source_system>:outbox:<id>``) drops them,
and had it not yet remembered them, their deterministic event ids let processors drop the copies.
A row that cannot be mapped is dead-lettered and stamped with ``refused_reason``, so it never blocks
the rows behind it. One relay publishes at a time per table (a session advisory lock); a second one
started for availability waits on standby. The loop is ``adapters.base.resumable``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from adapters.base.errors import RejectedInput, Unavailable
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.base.runtime import adapter_component
from adapters.legacy.config import OutboxSettings
from adapters.legacy.errors import database_error
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.values import moment
from bus.dead_letter import OUTBOX_ID_HEADER, OUTBOX_TABLE_HEADER
from bus.errors import RawRecord
from bus.heartbeat import Heartbeat
from bus.logging import get_logger

OUTBOX_SQL = Path(__file__).with_name("outbox.sql")
# The field an aggregate's id is, by aggregate type (a payload's own value of the field wins).
AGGREGATE_FIELDS = {"account": "account_number", "order": "order_id", "customer": "customer_id"}
log = get_logger(__name__)


def outbox_ddl(table: str) -> str:
    """The outbox DDL for ``table`` (its trigger, sequence, index and NOTIFY channel named after it)."""
    return OUTBOX_SQL.read_text(encoding="utf-8").replace("omnibus_outbox", table)


async def install_outbox(dsn: str, table: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(outbox_ddl(table).encode())


@dataclass
class RelayReport:
    published: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    duplicates: int = 0


class OutboxRelay(ResumableSource[list[int]]):
    """A ``ResumableSource`` whose position is the outbox itself: a row stamped ``published_at`` is done."""

    def __init__(
        self, dsn: str, settings: OutboxSettings, ctx: LegacyContext, publisher: AdapterPublisher, *,
        retry_after_s: int, heartbeat: Heartbeat | None = None,
    ) -> None:
        # beaten at each progress point of ``run``: its /live (``bus.heartbeat``; the relay command serves it)
        self._heartbeat = heartbeat or Heartbeat(adapter_component("legacy"), settings.live_within_s)
        self._dsn = dsn
        self._settings = settings
        self._ctx = ctx
        self._publisher = publisher
        self._retry_after_s = retry_after_s
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._report = RelayReport()
        self._exhausted = False
        table = sql.Identifier(settings.table)
        self._select = sql.SQL(
            "SELECT id, aggregate_type, aggregate_id, event_type, payload, created_at FROM {} "
            "WHERE published_at IS NULL ORDER BY commit_seq NULLS LAST, id LIMIT %s"
        ).format(table)
        self._mark = sql.SQL("UPDATE {} SET published_at = now() WHERE id = ANY(%s)").format(table)
        self._refuse = sql.SQL("UPDATE {} SET published_at = now(), refused_reason = %s WHERE id = %s").format(table)

    async def run_once(self, conn: psycopg.AsyncConnection[Any]) -> RelayReport:
        """Publish every row unpublished now; raise ``Unavailable`` (nothing marked) if Kafka did not ack."""
        self._conn, self._report, self._exhausted = conn, RelayReport(), False
        await drain(self, self._publisher, retry_after_s=self._retry_after_s)
        return self._report

    async def next_batch(self) -> Batch[list[int]] | None:
        self._heartbeat.beat()
        if self._exhausted:
            return None
        rows = await (await self._conn.execute(self._select, [self._settings.batch_size])).fetchall()  # type: ignore[union-attr]
        self._exhausted = len(rows) < self._settings.batch_size
        if not rows:
            return None
        return Batch([Item(row, _raw_row(row, self._settings.table)) for row in rows], [row[0] for row in rows])

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        return map_business(outbox_record(*native), self._ctx)

    async def commit(self, batch: Batch[list[int]], outcome: ChunkOutcome) -> None:
        conn, report = self._conn, self._report
        assert conn is not None
        published = [batch.position[index] for index, _ in outcome.accepted]
        if published:
            await conn.execute(self._mark, [published])
            report.published.extend(published)
        report.duplicates += outcome.duplicates
        for index, error in outcome.refused:
            await conn.execute(self._refuse, [error.reason, batch.position[index]])
            report.refused[batch.position[index]] = error.reason

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set: wake on NOTIFY or every poll_interval_s; ride out outages."""
        while not stop.is_set():
            self._heartbeat.beat()
            try:
                async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True) as conn:
                    await self._lead(conn, stop)
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._settings.table)))
                    while not stop.is_set():
                        try:
                            report = await self.run_once(conn)
                            if report.published or report.refused:
                                log.info("outbox relayed", published=len(report.published), refused=len(report.refused))
                        except Unavailable as exc:
                            log.warning("kafka unavailable; outbox rows stay unpublished", reason=exc.reason)
                            await _sleep(stop, exc.retry_after_s)
                            continue
                        await self._wait_for_work(conn, stop)
            except psycopg.OperationalError as exc:
                log.warning("outbox database unreachable; retrying", error=str(exc))
                await _sleep(stop, self._retry_after_s)
            except psycopg.Error as exc:
                database_error(exc, "outbox relay", self._settings.table)
                await _sleep(stop, self._retry_after_s)

    async def _wait_for_work(self, conn: psycopg.AsyncConnection[Any], stop: asyncio.Event) -> None:
        """Until a NOTIFY arrives, poll_interval_s passes, or ``stop`` is set (checked twice a second)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.poll_interval_s
        while not stop.is_set() and (remaining := deadline - loop.time()) > 0:
            self._heartbeat.beat()
            async for _ in conn.notifies(timeout=min(remaining, 0.5), stop_after=1):
                return

    async def _lead(self, conn: psycopg.AsyncConnection[Any], stop: asyncio.Event) -> None:
        """Wait until this relay holds the table's advisory lock (one publisher at a time, in order)."""
        while not stop.is_set():
            self._heartbeat.beat()  # a standby relay waiting for the lock is alive
            lock = f"omnibus.{self._settings.table}"
            cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [lock])
            if (await cursor.fetchone())[0]:  # type: ignore[index]
                return
            await _sleep(stop, self._settings.poll_interval_s)


def _raw_row(row: tuple, table: str) -> RawRecord:
    """An outbox row as its dead letter keeps it."""
    row_id, aggregate_type, aggregate_id, event_type, payload, created_at = row
    value = json.dumps({"id": row_id, "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
                        "event_type": event_type, "payload": payload, "created_at": created_at.isoformat()},
                       default=str).encode()
    headers = ((OUTBOX_TABLE_HEADER, table.encode()), (OUTBOX_ID_HEADER, str(row_id).encode()))
    return RawRecord(value=value, key=str(aggregate_id).encode(), headers=headers)


def outbox_record(
    row_id: int, aggregate_type: str, aggregate_id: str, event_type: str, payload: Any, created_at: datetime
) -> BusinessRecord:
    """The business fact of one outbox row (an ``account``/``order`` aggregate id stands for its number, a
    ``customer`` aggregate id for the system's customer number, ``customer_id``: a CUSTOMER_NUMBER identifier)."""
    if not isinstance(payload, dict):
        raise RejectedInput(f"outbox row {row_id}: payload must be a JSON object", code="malformed_field")
    implied = AGGREGATE_FIELDS.get(str(aggregate_type).lower())
    fields = {**({implied: aggregate_id} if implied else {}), **payload}
    occurred = payload.get("occurred_at")
    occurred_at = _occurred(occurred, row_id) if occurred else created_at
    return BusinessRecord(event_type, fields, outbox_record_id(row_id), occurred_at)


def outbox_record_id(row_id: int | str) -> str:
    """The id of an outbox row's fact: ``outbox:<row id>`` (``row_id``: the table's ``id``). The dedupe store keeps it
    as ``<source system>:outbox:<row id>``; a ``HandoffCreated`` row without ``handoff_id`` opens
    ``legacy:<source system>:outbox:<row id>`` (``adapters.legacy.handoffs.legacy_handoff_id``)."""
    return f"outbox:{row_id}"


def _occurred(value: Any, row_id: int) -> Any:
    try:
        return moment(value, "occurred_at")
    except RejectedInput as error:
        raise RejectedInput(f"outbox row {row_id}: {error.reason}", code=error.code) from error


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
