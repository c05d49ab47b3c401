"""Re-mapping a row the legacy adapter refused, from what its dead letter keeps (``adapters.legacy.redrive``): an
outbox row and a polled row, mapped again with the current settings to the event ids the relay or poller gives them
(a row relayed or polled again after its re-drive is a copy), or refused again with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput
from adapters.base.redrive import NotRemappable
from adapters.legacy.cli import context
from adapters.legacy.config import LegacySettings, PollerSettings
from adapters.legacy.ingress_outbox import _raw_row, outbox_record
from adapters.legacy.ingress_poller import TablePoller, polled_record
from adapters.legacy.mapper import map_business
from adapters.legacy.redrive import remapped
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from tests.adapters.legacy.support import legacy_settings, outbox_rows

SETTINGS = OmnibusSettings()
AT = datetime(2026, 12, 3, 9, 50, tzinfo=UTC)
ORDERS = {"name": "orders", "table": "legacy_orders", "primary_key": "order_id", "event_type": "OrderStatusChanged"}
MISMAPPED = {**ORDERS, "columns": {"order_id": "order_id", "account_number": "account_number",
                                   "status": "estado_pedido"}}  # the table's column is estado
FIXED = {**ORDERS, "columns": {"order_id": "order_id", "account_number": "account_number", "status": "estado"}}


def _headers(raw: RawRecord) -> dict[str, str]:
    """The context ``processors.deadletters.sealed`` hands the re-mapping: the dead letter's headers as text."""
    return {name: value.decode() for name, value in raw.headers if value is not None}


def _event_ids(events: Any) -> list[str]:
    return [outgoing.event.value["envelope"]["event_id"] for outgoing in events]


def _without_received_at(events: Any) -> list[dict[str, Any]]:
    """The events' values but when the adapter received them (the re-drive's time, not the poll's)."""
    return [{**e.event.value, "envelope": {**e.event.value["envelope"], "received_at": None}} for e in events]


def _outbox_raw(row: dict[str, Any], created_at: datetime = AT) -> RawRecord:
    """What the relay dead-letters for ``row`` (``ingress_outbox._raw_row``), from the database's columns."""
    return _raw_row((row["id"], row["aggregate_type"], row["aggregate_id"], row["event_type"], row["payload"],
                     created_at), "omnibus_outbox")


def _adapter(tmp_path: Path, *pollers: dict[str, Any]) -> LegacySettings:
    return legacy_settings(tmp_path, pollers=list(pollers))


def _polled(spec: dict[str, Any], row: dict[str, Any], tmp_path: Path) -> tuple[RawRecord, Any]:
    """What the poller dead-letters for ``row`` and what it maps it to (or the refusal), with ``spec``."""
    adapter = _adapter(tmp_path, spec)
    poller = TablePoller(adapter.pollers[0], context(SETTINGS, adapter), None,  # type: ignore[arg-type]
                         Checkpoint(tmp_path / "orders.json"))
    item = poller._item(row)  # noqa: SLF001
    try:
        return item.raw, poller.to_record(0, item.native)
    except RejectedInput as refused:
        return item.raw, refused


def test_a_refused_outbox_row_maps_again_corrected_to_the_event_ids_the_relay_gives_it(tmp_path: Path) -> None:
    row = {**outbox_rows()[0], "id": 3001}
    row["payload"] = {k: v for k, v in row["payload"].items() if k != "account_type"}
    raw = _outbox_raw(row)
    with pytest.raises(RejectedInput, match="account_type is missing"):
        remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path))
    # the operator's --set payload.account_type=residential, as processors.deadletters.sealed.corrected writes it
    document = json.loads(raw.value or b"")
    document["payload"]["account_type"] = "residential"
    events = remapped(json.dumps(document).encode(), _headers(raw), AT, SETTINGS, _adapter(tmp_path))
    assert [e.event.schema for e in events] == ["omnibus.business.AccountOpened", "omnibus.contact.IdentifiersObserved"]
    # the row relayed again (its published_at cleared) maps to the same ids: a copy, dropped downstream
    fixed = {**row, "payload": {**row["payload"], "account_type": "residential"}}
    again = map_business(outbox_record(fixed["id"], fixed["aggregate_type"], fixed["aggregate_id"],
                                       fixed["event_type"], fixed["payload"], AT), context(SETTINGS, _adapter(tmp_path)))
    assert _event_ids(events) == _event_ids(again.events)


@pytest.mark.parametrize("updated_at", [
    datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC),  # timestamptz with microseconds
    datetime(2026, 12, 1, 9, 30),  # timestamp: naive, read as UTC
])
def test_a_polled_row_refused_for_its_columns_maps_again_with_the_poller_set_right(
        updated_at: datetime, tmp_path: Path) -> None:
    """The poller mapped ``status`` to a column the table does not have: every row was refused as missing its status.
    With ``columns`` corrected in ``OMNIBUS_ADAPTER_LEGACY__POLLERS`` the dead letter's row maps, to the version id
    and event ids the corrected poller gives the same row (polled again after a rewind: a copy)."""
    row = {"order_id": "ORD-7", "account_number": "ACC-100234", "estado": "enviado", "updated_at": updated_at}
    raw, refused = _polled(MISMAPPED, row, tmp_path)
    assert isinstance(refused, RejectedInput) and "status is missing" in refused.reason
    assert refused.reason.endswith("(poller orders reads status from column estado_pedido)")  # what to --set
    with pytest.raises(RejectedInput, match=r"status is missing \(poller orders reads status from column estado_pedido"):
        remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path, MISMAPPED))
    events = remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path, FIXED))
    assert events[0].event.value["status"] == "SHIPPED" and events[0].event.value["source_status"] == "enviado"
    _, polled_again = _polled(FIXED, row, tmp_path)
    assert _event_ids(events) == _event_ids(polled_again.events)
    spec = PollerSettings.model_validate(FIXED)
    version = polled_record(spec, context(SETTINGS, _adapter(tmp_path, FIXED)), row).dedupe_id
    assert version == f"poll:orders:ORD-7@{updated_at.isoformat()}"
    assert polled_again.dedupe_id == f"billing-db:{version}"


def test_one_columns_entry_is_enough_to_re_drive_a_row_refused_for_that_column(tmp_path: Path) -> None:
    """integrating.md's recipe: the poller without ``columns`` refused the row (no ``status`` column); with only
    ``{"status": "estado"}`` its other fields are still read from their own columns (it was refused again for
    ``order_id``)."""
    row = {"id": 1, "order_id": "P-1", "account_number": "ACC-100234", "estado": "enviado", "updated_at": AT}
    plain = {**ORDERS, "primary_key": "id"}
    raw, refused = _polled(plain, row, tmp_path)
    assert isinstance(refused, RejectedInput) and "status is missing" in refused.reason
    one = {**plain, "columns": {"status": "estado"}}
    events = remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path, one))
    assert (events[0].event.value["order_id"], events[0].event.value["status"]) == ("P-1", "SHIPPED")


def test_a_row_of_a_poller_no_longer_declared_or_of_no_known_path_is_not_remappable(tmp_path: Path) -> None:
    row = {"order_id": "ORD-7", "account_number": "ACC-100234", "estado": "enviado", "updated_at": AT}
    raw, _ = _polled(FIXED, row, tmp_path)
    with pytest.raises(NotRemappable, match="no poller orders in OMNIBUS_ADAPTER_LEGACY__POLLERS"):
        remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path))
    renamed = {**FIXED, "primary_key": "id"}
    with pytest.raises(NotRemappable, match="no column id"):
        remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path, renamed))
    with pytest.raises(NotRemappable, match="no outbox row"):
        remapped(raw.value or b"", {"http.path": "/v1/track"}, AT, SETTINGS, _adapter(tmp_path, FIXED))
    with pytest.raises(NotRemappable, match="not the JSON object"):
        remapped(b"[1, 2]", _headers(raw), AT, SETTINGS, _adapter(tmp_path, FIXED))


def test_a_refusal_again_names_the_field_never_an_identifier_value(tmp_path: Path) -> None:
    """The legacy adapter's refusal reaches the operator's answer through ``omnibus.resubmits``, scrubbed."""
    from omnibus.resubmits import resubmits
    from processors.deadletters.sealed import NotResubmitted

    row = {**outbox_rows()[0], "id": 3002}
    row["payload"] = {**row["payload"], "account_type": None, "phone": "+33612345678"}
    raw = _outbox_raw(row)
    legacy = resubmits(SETTINGS)["adapter.legacy"]
    with pytest.raises(NotResubmitted) as refused:
        legacy.resubmit(raw.value or b"", _headers(raw), AT, None)
    reason = str(refused.value)
    assert "the legacy adapter refuses it again" in reason and "account_type is missing" in reason
    assert "OMNIBUS_ADAPTER_LEGACY__" in reason and "612345678" not in reason


def test_a_polled_numeric_column_is_read_back_as_the_number_the_poller_read(tmp_path: Path) -> None:
    """A ``numeric(12,3)`` amount (``59.990``) and a ``numeric(20,0)`` account number are Decimals again on a re-drive,
    as the poller read them: as the text the dead letter keeps, ``59.990`` reads two ways (the bill would be refused)
    and a number would be read as an identifier's text where the poller refused it as none."""
    from datetime import date
    from decimal import Decimal

    bills = {"name": "facturas", "table": "facturas", "primary_key": "bill_id", "event_type": "BillIssued"}
    row = {"bill_id": "F-1", "account_number": Decimal("4455667788"), "amount": Decimal("59.990"), "currency": "EUR",
           "period_start_date": date(2026, 11, 1), "period_end_date": date(2026, 11, 30), "due_date": date(2026, 12, 15),
           "updated_at": datetime(2026, 12, 1, 9, tzinfo=UTC)}
    raw, polled = _polled(bills, row, tmp_path)
    events = remapped(raw.value or b"", _headers(raw), AT, SETTINGS, _adapter(tmp_path, bills))
    assert _without_received_at(events) == _without_received_at(polled.events)
    assert events[0].event.value["amount"] == {"amount_minor": 5999, "currency": "EUR"}
    assert events[0].key == polled.events[0].key
