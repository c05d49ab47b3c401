"""A watermark poller over a table, for systems that cannot write an outbox.

Rows are read in ``(updated_at, primary key)`` order after the saved position ``(last_ts, last_pk)``:
the primary key breaks ties, so rows sharing one timestamp are neither skipped nor read twice, even
when a batch ends in the middle of them. A transaction still open when we read may later commit rows
whose ``updated_at`` (often its start time, ``now()``) is earlier than rows already read. So a row is
only read once its ``updated_at`` is before the start of every transaction still writing (from
``pg_stat_activity``) and before ``now() - safety_lag_s``, which also covers writers this role cannot
see and application clocks that run behind the database's. The position is saved (atomically, in
``state_dir``) only after Kafka acknowledged every row up to it, so a crash re-reads at most one batch,
which the dedupe store drops (ids ``<source_system>:poll:<poller>:<pk>@<updated_at>``: each change of a
row is a new version). A naive ``timestamp`` column is read as UTC for ``occurred_at``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput, Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.legacy.config import PollerSettings
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.values import moment
from bus.errors import PublishError, RawRecord
from bus.logging import get_logger

log = get_logger(__name__)

# Start of the oldest transaction that has written something and not yet committed: its rows may carry
# an updated_at as early as this (``now()`` is the transaction's start), so nothing later is read yet.
# Other roles' sessions show here only to a role with pg_read_all_stats; the safety lag covers the rest.
OLDEST_WRITER = sql.SQL(
    "SELECT COALESCE(min(xact_start), 'infinity') FROM pg_stat_activity "
    "WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
)


@dataclass
class PollReport:
    published: list[Any] = field(default_factory=list)  # primary keys
    refused: dict[Any, str] = field(default_factory=dict)
    duplicates: int = 0
    position: tuple[str, Any] | None = None


class TablePoller:
    def __init__(
        self, spec: PollerSettings, ctx: LegacyContext, publisher: AdapterPublisher, checkpoint: Checkpoint,
        *, retry_after_s: int = 5,
    ) -> None:
        self._spec = spec
        self._ctx = ctx
        self._publisher = publisher
        self._checkpoint = checkpoint
        self._retry_after_s = retry_after_s
        ts, pk = sql.Identifier(spec.updated_at_column), sql.Identifier(spec.primary_key)
        table = sql.Identifier(*spec.table.split("."))
        horizon = sql.SQL("{ts} <= LEAST(now() - make_interval(secs => %(lag)s), ({oldest}))").format(
            ts=ts, oldest=OLDEST_WRITER)
        order = sql.SQL("ORDER BY {ts}, {pk} LIMIT %(limit)s").format(ts=ts, pk=pk)
        self._first = sql.SQL("SELECT * FROM {t} WHERE {h} {o}").format(t=table, h=horizon, o=order)
        self._next = sql.SQL("SELECT * FROM {t} WHERE ({ts}, {pk}) > (%(ts)s, %(pk)s) AND {h} {o}").format(
            t=table, ts=ts, pk=pk, h=horizon, o=order)

    def position(self) -> tuple[datetime, Any] | None:
        saved = self._checkpoint.load()
        return (datetime.fromisoformat(saved["updated_at"]), saved["primary_key"]) if saved else None

    async def run_once(self, conn: psycopg.AsyncConnection[Any]) -> PollReport:
        """Publish every settled row after the position; raise ``Unavailable`` (position kept) if Kafka did not ack."""
        report = PollReport()
        while True:
            position = self.position()
            params = {"lag": self._spec.safety_lag_s, "limit": self._spec.batch_size}
            query = self._first if position is None else self._next
            if position is not None:
                params |= {"ts": position[0], "pk": position[1]}
            async with conn.cursor(row_factory=dict_row) as cursor:
                rows = await (await cursor.execute(query, params)).fetchall()
            if not rows:
                return report
            await self._publish(rows, report)
            if len(rows) < self._spec.batch_size:
                return report

    async def _publish(self, rows: list[dict[str, Any]], report: PollReport) -> None:
        good: list[tuple[Any, MappedRecord]] = []
        bad: list[tuple[dict[str, Any], RejectedInput]] = []
        for row in rows:
            try:
                good.append((row[self._spec.primary_key], map_business(self._record(row), self._ctx)))
            except RejectedInput as error:
                bad.append((row, error))
        if good:
            result = await self._publisher.submit([record for _, record in good])
            report.duplicates += result.duplicate_records
            report.published.extend(pk for pk, _ in good)
        for row, error in bad:
            await self._dead_letter(row, error)
            report.refused[row[self._spec.primary_key]] = error.reason
        last = rows[-1]  # kept in the column's own type: naive for ``timestamp``, aware for ``timestamptz``
        position = {"updated_at": last[self._spec.updated_at_column].isoformat(),
                    "primary_key": last[self._spec.primary_key]}
        self._checkpoint.save({"poller": self._spec.name, **position})
        report.position = (position["updated_at"], position["primary_key"])

    def _record(self, row: dict[str, Any]) -> BusinessRecord:
        spec = self._spec
        updated = row[spec.updated_at_column]
        event_type = spec.event_type or str(row.get(spec.event_type_column or "") or "")
        fields = {name: row.get(column) for name, column in spec.columns.items()} if spec.columns else dict(row)
        occurred = fields.get("occurred_at")
        version = f"poll:{spec.name}:{row[spec.primary_key]}@{updated.isoformat()}"
        return BusinessRecord(event_type, fields, version,
                              moment(occurred if occurred else updated, "occurred_at"))  # type: ignore[arg-type]

    async def _dead_letter(self, row: dict[str, Any], error: RejectedInput) -> None:
        pk = row[self._spec.primary_key]
        headers = (("poller", self._spec.name.encode()), ("table", self._spec.table.encode()))
        raw = RawRecord(value=json.dumps(row, default=str).encode(), key=str(pk).encode(), headers=headers)
        try:
            await self._publisher.reject(raw, error)
        except PublishError as exc:
            raise Unavailable(f"cannot dead-letter row {pk}: {exc}", retry_after_s=self._retry_after_s) from exc

    async def run(self, dsn: str, stop: asyncio.Event) -> None:
        """Poll every poll_interval_s until ``stop`` is set, riding out database and Kafka outages."""
        while not stop.is_set():
            wait = self._spec.poll_interval_s
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    while not stop.is_set():
                        report = await self.run_once(conn)
                        if report.published or report.refused:
                            log.info("table polled", poller=self._spec.name, published=len(report.published),
                                     refused=len(report.refused))
                        await _sleep(stop, self._spec.poll_interval_s)
            except Unavailable as exc:
                log.warning("kafka unavailable; position kept", poller=self._spec.name, reason=exc.reason)
                wait = exc.retry_after_s
            except psycopg.OperationalError as exc:
                log.warning("database unreachable; retrying", poller=self._spec.name, error=str(exc))
                wait = self._retry_after_s
            await _sleep(stop, wait)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
