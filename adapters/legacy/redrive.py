"""``omnibus deadletters redrive`` of a row the legacy adapter refused: its sealed outbox or polled row mapped again.

An outbox row the relay could not map is stamped with its ``refused_reason`` and never read again; a polled row that
could not be mapped is behind the poller's position: neither comes back until the source system writes it again
(adapters.legacy.errors). With ``OMNIBUS_DEAD_LETTERS__SEAL_KEY`` set on the adapter, the row's dead letter keeps it
as it was read, sealed (``bus.dead_letter.DeadLetterWriter``: no identifier in clear on the dead-letter topic). The
re-drive (``processors.deadletters.sealed``, composed in ``omnibus.resubmits``) opens it, applies ``--set``, and
``remapped`` maps it as the relay or the poller would (``ingress_outbox.outbox_record``,
``ingress_poller.polled_record``, ``mapper.map_business``) with the adapter's settings as they are now
(``OMNIBUS_ADAPTER_LEGACY__*``: a poller's ``columns``, ``event_type`` or ``phone_region``, the default currency, the
reference fields, the source system).

Once: the row keeps the id the relay or poller gave it (``<source system>:outbox:<row id>``,
``<source system>:poll:<poller>:<key>@<updated_at>``), so its events carry the event ids the adapter would give
them: the same row polled or relayed again later (a rewound position, a row whose ``published_at`` was cleared) is a
copy the processors drop by event id, and a second re-drive publishes nothing (``already_redriven``, read on the
topics by the dead letter's id).

Where a dead letter came from is in its headers: ``outbox.table`` and ``outbox.id`` (the relay), ``poller`` and
``table`` (a poller, found in ``OMNIBUS_ADAPTER_LEGACY__POLLERS`` by its name). A batch file's line is not re-driven
here: its id derives from the file's SHA-256 and its revisions live in the importer's state directory
(``ingress_batch``), which a re-drive does not hold; the line is corrected and its file imported again
(docs/legacy-batch.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base.redrive import NotRemappable, events_of
from adapters.legacy.cli import context
from adapters.legacy.config import ENV_PREFIX, LegacySettings, PollerSettings
from adapters.legacy.ingress_outbox import outbox_record
from adapters.legacy.ingress_poller import NUMERIC_HEADER, map_polled, polled_record
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.config import OmnibusSettings
from bus.dead_letter import OUTBOX_ID_HEADER, OUTBOX_TABLE_HEADER, POLLER_HEADER
from bus.errors import ConfigError
from bus.producer import Outgoing

POLLERS_VARIABLE = f"{ENV_PREFIX}POLLERS"


def remapped(body: bytes, headers: Mapping[str, str], received_at: datetime, settings: OmnibusSettings,
             adapter: LegacySettings) -> tuple[Outgoing, ...]:
    """The events of a refused outbox or polled row (``body``: the row as its dead letter kept it, JSON; ``headers``:
    the dead letter's, name: text) mapped with ``adapter``'s settings; ``received_at`` is not used (a row carries its
    own time). Raises ``NotRemappable`` when the dead letter names neither path, a poller this deployment does not
    declare, or a row without the columns its poller keys it by; ``RejectedInput`` when the row is refused again."""
    if OUTBOX_ID_HEADER in headers:
        ctx = _context(settings, adapter, None)
        record = _outbox(_row(body))
    elif POLLER_HEADER in headers:
        spec = _poller(adapter, headers[POLLER_HEADER])
        ctx = _context(settings, adapter, spec.phone_region)
        record = polled_record(spec, ctx, _typed(_row(body), spec, headers.get(NUMERIC_HEADER, "")))
        return events_of([map_polled(spec, record, ctx)], headers)
    else:
        raise NotRemappable(f"the dead letter names no outbox row ({OUTBOX_TABLE_HEADER}, {OUTBOX_ID_HEADER}) and "
                            f"no poller ({POLLER_HEADER}): it was not read by the relay or a poller")
    return events_of([map_business(record, ctx)], headers)


def _row(body: bytes) -> dict[str, Any]:
    try:
        row = json.loads(body)
    except ValueError:
        row = None
    if not isinstance(row, dict):
        raise NotRemappable("the sealed row is not the JSON object the relay or poller keeps")
    return row


def _context(settings: OmnibusSettings, adapter: LegacySettings, phone_region: str | None) -> LegacyContext:
    try:
        return context(settings, adapter, phone_region)
    except ConfigError as exc:  # the amounts' default currency cannot be told (``config.deployment_currency``)
        raise NotRemappable(str(exc)) from exc


def _outbox(row: Mapping[str, Any]) -> BusinessRecord:
    try:
        return outbox_record(row["id"], row["aggregate_type"], row["aggregate_id"], row["event_type"],
                             row["payload"], datetime.fromisoformat(str(row["created_at"])))
    except (KeyError, ValueError) as exc:
        raise NotRemappable("the sealed outbox row lacks its id, aggregate, event type, payload or creation "
                            "time") from exc


def _poller(adapter: LegacySettings, name: str) -> PollerSettings:
    for spec in adapter.pollers:
        if spec.name == name:
            return spec
    declared = ", ".join(spec.name for spec in adapter.pollers) or "none"
    raise NotRemappable(f"no poller {name} in {POLLERS_VARIABLE} (declared: {declared}): set the poller as it reads "
                        "that table to re-drive its rows")


def _typed(row: Mapping[str, Any], spec: PollerSettings, numeric: str) -> dict[str, Any]:
    """``row`` as the poller read it: its ``updated_at_column`` a datetime again (the dead letter keeps it as text,
    ``datetime``'s own ``str``), so that its version id is the one the poller gave it, and its ``numeric`` columns
    (comma-separated names, ``ingress_poller.NUMERIC_HEADER``) Decimals again."""
    if spec.primary_key not in row or spec.updated_at_column not in row:
        raise NotRemappable(f"the row has no column {spec.primary_key} or {spec.updated_at_column} (poller "
                            f"{spec.name}'s primary_key and updated_at_column): set the poller as it read the row")
    try:
        updated = datetime.fromisoformat(str(row[spec.updated_at_column]))
    except ValueError as exc:
        raise NotRemappable(f"the row's {spec.updated_at_column} is no time") from exc
    try:
        numbers = {name: Decimal(str(row[name])) for name in numeric.split(",") if name and row.get(name) is not None}
    except ArithmeticError as exc:
        raise NotRemappable("a numeric column of the row is no number") from exc
    return {**row, **numbers, spec.updated_at_column: updated}
