"""A watermark poller over a table, for systems that cannot write an outbox.

Two watermarks (``PollerSettings.watermark``):

- ``xid`` (the default; safe by construction on PostgreSQL). A row version carries the id of the
  transaction that wrote it (the ``xmin`` system column). Every transaction id below
  ``pg_snapshot_xmin(pg_current_snapshot())`` (the *horizon*) belongs to a transaction that has
  finished, and every transaction still to write gets a larger id (ids are assigned at the first
  write). So each round reads the rows whose writer id lies in ``[floor, horizon)``, in (id, primary
  key) order, and then moves the floor to the horizon: a transaction that begins, waits, inserts and
  commits late has an id at or above the horizon of every round before its commit, and is read by the
  first round after it, whatever its ``updated_at`` says. No clock and no lag are involved. (PostgreSQL
  docs, "Transaction ID and Snapshot Information Functions" and "System Columns".) The 32-bit ``xmin``
  is widened to 64 bits relative to the horizon; the filter cannot use an index, so each round reads the
  table once: for very large tables prefer an outbox.
- ``updated_at`` (any writer whose clock and ``updated_at`` can be trusted). Rows are read in
  ``(updated_at, primary key)`` order after the position, once older than ``now() - safety_lag_s`` and
  than the start of every transaction still writing. A row that still arrives *behind* the position
  (a transaction longer than the lag) is not lost silently: every round re-reads the last
  ``late_lookback_s`` of ``updated_at`` behind the position, publishes what the dedupe store has not
  seen, and reports it (``omnibus_adapter_late_rows_total`` and a warning).

Either way the position is saved (atomically, in ``state_dir``) only after Kafka acknowledged every row
up to it (``adapters.base.resumable``), so a crash re-reads at most one batch, which the dedupe store
drops (ids ``<source_system>:poll:<poller>:<pk>@<updated_at>``: each change of a row is a new
version; a primary key holding an identifier or a trait is a digest there, ``key-<32 hex>``:
``adapters.legacy.keys``). A naive ``timestamp`` column is read as UTC for ``occurred_at``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from prometheus_client import Counter
from psycopg import sql
from psycopg.rows import dict_row

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput, Unavailable
from adapters.base.ingest import ChunkOutcome, Item, ingest
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.legacy.config import PollerSettings
from adapters.legacy.errors import database_error
from adapters.legacy.keys import is_personal, key_parts
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.values import moment
from bus.dead_letter import POLLER_HEADER, POLLER_TABLE_HEADER
from bus.envelope import key_digest
from bus.errors import RawRecord
from bus.logging import get_logger

log = get_logger(__name__)

LATE_ROWS = Counter(
    "omnibus_adapter_late_rows_total",
    "Rows found behind an updated_at watermark (published late, not lost), by poller.", ["poller"],
)
# A polled row's dead letter names its poller and table (``bus.dead_letter.POLLER_HEADER``, ``POLLER_TABLE_HEADER``)
# and the row's ``numeric`` columns (comma-separated names), which the row's JSON keeps as text: a re-drive reads them
# back as the Decimals the poller mapped (``59.990`` as text reads two ways; a Decimal is no identifier's text)
NUMERIC_HEADER = "poller.numeric"
XID_COLUMN = "omnibus_xid"  # the widened writer id, added to each row read in xid mode
HORIZON = sql.SQL("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
# xmin (32 bits) widened to the 64-bit id nearest the horizon: horizon + the signed 32-bit difference.
FULL_XID = sql.SQL(
    "(%(horizon)s::bigint + ((((xmin::text::bigint - (%(horizon)s::bigint %% 4294967296)) + 6442450944) "
    "%% 4294967296) - 2147483648))"
)
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
    late: list[Any] = field(default_factory=list)  # primary keys found behind the watermark
    position: tuple[str, Any] | None = None


class TablePoller(ResumableSource[dict[str, Any]]):
    def __init__(
        self, spec: PollerSettings, ctx: LegacyContext, publisher: AdapterPublisher, checkpoint: Checkpoint,
        *, retry_after_s: int = 5,
    ) -> None:
        self._spec = spec
        self._ctx = ctx
        self._publisher = publisher
        self._checkpoint = checkpoint
        self._retry_after_s = retry_after_s
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._report = PollReport()
        self._exhausted = False
        ts, pk = sql.Identifier(spec.updated_at_column), sql.Identifier(spec.primary_key)
        table = sql.Identifier(*spec.table.split("."))
        limit = sql.SQL("LIMIT %(limit)s")
        horizon = sql.SQL("{ts} <= LEAST(now() - make_interval(secs => %(lag)s), ({oldest}))").format(
            ts=ts, oldest=OLDEST_WRITER)
        order = sql.SQL("ORDER BY {ts}, {pk} {limit}").format(ts=ts, pk=pk, limit=limit)
        self._first = sql.SQL("SELECT * FROM {t} WHERE {h} {o}").format(t=table, h=horizon, o=order)
        self._next = sql.SQL("SELECT * FROM {t} WHERE ({ts}, {pk}) > (%(ts)s, %(pk)s) AND {h} {o}").format(
            t=table, ts=ts, pk=pk, h=horizon, o=order)
        self._behind = sql.SQL(
            "SELECT * FROM {t} WHERE ({ts}, {pk}) <= (%(ts)s, %(pk)s) "
            "AND {ts} > %(ts)s::timestamptz - make_interval(secs => %(lookback)s) ORDER BY {ts}, {pk}"
        ).format(t=table, ts=ts, pk=pk)
        versions = sql.SQL("SELECT * FROM (SELECT *, {full} AS {xid} FROM {t}) AS versions "
                           "WHERE {xid} >= %(floor)s AND {xid} < %(horizon)s").format(
            full=FULL_XID, xid=sql.Identifier(XID_COLUMN), t=table)
        xid_order = sql.SQL("ORDER BY {xid}, {pk} {limit}").format(xid=sql.Identifier(XID_COLUMN), pk=pk, limit=limit)
        self._xid_first = sql.SQL("{v} {o}").format(v=versions, o=xid_order)
        self._xid_next = sql.SQL("{v} AND ({xid}, {pk}) > (%(last_xid)s, %(last_pk)s) {o}").format(
            v=versions, xid=sql.Identifier(XID_COLUMN), pk=pk, o=xid_order)

    # -- the position --------------------------------------------------------------------------------

    def position(self) -> tuple[datetime, Any] | None:
        """The last row version published: (updated_at, primary key)."""
        saved = self._checkpoint.load()
        return (datetime.fromisoformat(saved["updated_at"]), saved["primary_key"]) if saved and "updated_at" in saved \
            else None

    # -- one round ----------------------------------------------------------------------------------

    async def run_once(self, conn: psycopg.AsyncConnection[Any]) -> PollReport:
        """Publish every settled row after the position; raise ``Unavailable`` (position kept) if Kafka did not ack."""
        self._conn, self._report, self._exhausted = conn, PollReport(), False
        await drain(self, self._publisher, retry_after_s=self._retry_after_s)
        if self._spec.watermark == "updated_at":
            await self._publish_late_rows(conn)
        return self._report

    async def next_batch(self) -> Batch[dict[str, Any]] | None:
        if self._exhausted:
            return None
        saved = self._checkpoint.load() or {}
        if self._spec.watermark == "xid":
            rows, position = await self._rows_by_xid(saved)
        else:
            rows, position = await self._rows_by_time(saved)
        if not rows and position == saved:
            return None
        return Batch([self._item(row) for row in rows], position)

    async def _rows_by_xid(self, saved: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        floor = int(saved.get("xid_floor", 0))
        horizon = saved.get("xid_horizon")
        if horizon is None:  # a new window: everything below the horizon has finished
            horizon = (await (await self._conn.execute(HORIZON)).fetchone())[0]  # type: ignore[union-attr,index]
        params = {"floor": floor, "horizon": horizon, "limit": self._spec.batch_size}
        last = saved.get("last")
        if last:
            params |= {"last_xid": last[0], "last_pk": last[1]}
        rows = await self._fetch(self._xid_next if last else self._xid_first, params)
        position = {**_last_version(rows, self._spec), "poller": self._spec.name}
        if len(rows) < self._spec.batch_size:  # the window is read: the next one starts at its horizon
            self._exhausted = True
            position |= {"xid_floor": horizon, "xid_horizon": None, "last": None}
        else:
            position |= {"xid_floor": floor, "xid_horizon": horizon,
                         "last": [rows[-1][XID_COLUMN], rows[-1][self._spec.primary_key]]}
        if not rows and horizon == floor:
            return [], saved
        return rows, {**saved, **position}

    async def _rows_by_time(self, saved: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        params: dict[str, Any] = {"lag": self._spec.safety_lag_s, "limit": self._spec.batch_size}
        position = self.position()
        if position is not None:
            params |= {"ts": position[0], "pk": position[1]}
        rows = await self._fetch(self._first if position is None else self._next, params)
        if len(rows) < self._spec.batch_size:
            self._exhausted = True
        if not rows:
            return [], saved
        return rows, {**saved, **_last_version(rows, self._spec), "poller": self._spec.name}

    async def _fetch(self, query: sql.Composed, params: dict[str, Any]) -> list[dict[str, Any]]:
        # Never prepared: psycopg prepares a query run five times, and a prepared ``SELECT *`` fails with "cached plan
        # must not change result type" once a column is added to the table (a routine ALTER TABLE of the source).
        async with self._conn.cursor(row_factory=dict_row) as cursor:  # type: ignore[union-attr]
            return await (await cursor.execute(query, params, prepare=False)).fetchall()

    def _item(self, row: dict[str, Any]) -> Item:
        pk = row[self._spec.primary_key]
        value = {k: v for k, v in row.items() if k != XID_COLUMN}
        numeric = ",".join(name for name, v in value.items() if isinstance(v, Decimal))
        headers = ((POLLER_HEADER, self._spec.name.encode()), (POLLER_TABLE_HEADER, self._spec.table.encode()),
                   *(((NUMERIC_HEADER, numeric.encode()),) if numeric else ()))
        return Item(value, RawRecord(value=json.dumps(value, default=str).encode(), key=str(pk).encode(),
                                     headers=headers))

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        return map_polled(self._spec, self._record(native), self._ctx)

    async def commit(self, batch: Batch[dict[str, Any]], outcome: ChunkOutcome) -> None:
        self._checkpoint.save(batch.position)
        report = self._report
        report.duplicates += outcome.duplicates
        report.published.extend(batch.items[index].native[self._spec.primary_key] for index, _ in outcome.accepted)
        for index, error in outcome.refused:
            report.refused[batch.items[index].native[self._spec.primary_key]] = error.reason
        if "updated_at" in batch.position:
            report.position = (batch.position["updated_at"], batch.position["primary_key"])

    async def _publish_late_rows(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Rows behind the updated_at position the dedupe store has not seen arrived late: publish and report."""
        position = self.position()
        if position is None:
            return
        rows = await self._fetch(self._behind, {"ts": position[0], "pk": position[1],
                                                "lookback": self._spec.late_lookback_s})
        if not rows:
            return
        items = [self._item(row) for row in rows]
        outcome = await ingest(self._publisher, items, self.to_record, retry_after_s=self._retry_after_s)
        fresh = set(outcome.result.published_ids if outcome.result else ())  # what the dedupe store had not seen
        late = [items[index].native[self._spec.primary_key] for index, record in outcome.accepted
                if record.dedupe_id in fresh]
        if late:
            self._report.late.extend(late)
            LATE_ROWS.labels(poller=self._spec.name).inc(len(late))
            log.warning("rows arrived behind the watermark: published late; raise safety_lag_s or use the xid "
                        "watermark", poller=self._spec.name, rows=len(late))

    def _record(self, row: dict[str, Any]) -> BusinessRecord:
        return polled_record(self._spec, self._ctx, row)

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
            except psycopg.Error as exc:
                database_error(exc, f"poller {self._spec.name}", self._spec.table)
                wait = self._retry_after_s
            await _sleep(stop, wait)


def polled_record(spec: PollerSettings, ctx: LegacyContext, row: Mapping[str, Any]) -> BusinessRecord:
    """The business fact of one polled row version (``row``: column -> value, its ``updated_at_column`` a datetime):
    its fields (``polled_fields``), its version id (``polled_record_id``) and row id (``polled_row_id``, the
    ``record_key`` every version shares), its time (``occurred_at`` if the row has one, else its ``updated_at``).
    Raises ``RejectedInput`` for a malformed ``occurred_at``."""
    updated = row[spec.updated_at_column]
    event_type = spec.event_type or str(row.get(spec.event_type_column or "") or "")
    fields = polled_fields(spec, row)
    occurred = fields.get("occurred_at")
    polled_row = polled_row_id(spec.name, row_key(spec, ctx, row, fields))
    return BusinessRecord(event_type, fields, polled_record_id(polled_row, updated),
                          moment(occurred if occurred else updated, "occurred_at"),  # type: ignore[arg-type]
                          record_key=polled_row, record_version=updated)


def map_polled(spec: PollerSettings, record: BusinessRecord, ctx: LegacyContext) -> MappedRecord | None:
    """``map_business`` of a polled row's ``record``; a refusal (``RejectedInput``) that names a field ``spec.columns``
    reads from a column of another name names that column too: ``required field case_type is missing (poller tickets
    reads case_type from column tipo_caso)``. The row's dead letter shows its columns, and the row is corrected by
    them (``redrive --set tipo_caso=...``)."""
    try:
        return map_business(record, ctx)
    except RejectedInput as exc:
        read = [f"{name} from column {column}" for name, column in spec.columns.items()
                if name != column and re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", exc.reason)]
        if not read:
            raise
        raise RejectedInput(f"{exc.reason} (poller {spec.name} reads {', '.join(read)})", code=exc.code,
                            status=exc.status) from exc


def polled_fields(spec: PollerSettings, row: Mapping[str, Any]) -> dict[str, Any]:
    """The event fields of a polled row (column -> value): each field ``spec.columns`` lists read from its column, every
    other column under its own name (``PollerSettings.columns``: "default: same name"), except a column a listed field
    reads (``{"status": "estado"}``: ``status``, no ``estado``). Before, a poller with ``columns`` read only the fields
    it listed, so one entry left ``order_id`` or ``phone`` unread."""
    renamed = set(spec.columns.values())
    return {**{column: value for column, value in row.items() if column not in renamed},
            **{name: row.get(column) for name, column in spec.columns.items()}}


def polled_row_id(poller: str, key: str) -> str:
    """The id of a polled row, the same for each of its versions: ``poll:<poller>:<key>`` (``key``: ``row_key``). A
    ``HandoffCreated`` row without ``handoff_id`` opens ``legacy:<source system>:poll:<poller>:<key>``
    (``adapters.legacy.handoffs.legacy_handoff_id``): the row updated later is the same case."""
    return f"poll:{poller}:{key}"


def polled_record_id(row_id: str, updated_at: datetime) -> str:
    """The id of one version of a polled row: ``<polled_row_id>@<updated_at ISO 8601>``, e.g.
    ``poll:tickets:T-1@2026-12-04T10:00:00+00:00``. Each version is a fact of its own (its events' ids derive from
    it: the same version polled again is a copy, at least once)."""
    return f"{row_id}@{updated_at.isoformat()}"


def row_key(spec: PollerSettings, ctx: LegacyContext, row: Mapping[str, Any], fields: Mapping[str, Any]) -> str:
    """The row's primary key in its versions' ids: as it is, or ``key-<32 hex>`` when the column holds an identifier
    or a trait (an account number, a customer number: ``adapters.legacy.keys``), spelled as identity spells it."""
    name = next((field for field, column in spec.columns.items() if column == spec.primary_key), spec.primary_key)
    if not is_personal(name):
        return str(row[spec.primary_key])
    return key_digest(spec.name, key_parts([name], {**fields, name: row[spec.primary_key]}, ctx.normaliser))


def _last_version(rows: list[dict[str, Any]], spec: PollerSettings) -> dict[str, Any]:
    """The position of the last row read: its updated_at (in the column's own type: naive for
    ``timestamp``, aware for ``timestamptz``) and primary key."""
    if not rows:
        return {}
    last = rows[-1]
    return {"updated_at": last[spec.updated_at_column].isoformat(), "primary_key": last[spec.primary_key]}


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
