"""Settings of the legacy-systems adapter (env ``OMNIBUS_ADAPTER_LEGACY__<FIELD>``).

One instance serves one business system (``source_system``, e.g. ``billing-db``): its database
(transactional outbox and/or watermark pollers) and its nightly export files. Pollers are given as JSON:
``OMNIBUS_ADAPTER_LEGACY__POLLERS='[{"name": "orders", "table": "orders", "primary_key": "order_id",
"event_type": "OrderStatusChanged", "columns": {"order_id": "order_id", "status": "status"}}]'``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from adapters.base.config import AdapterSettings
from adapters.base.config import default_state_dir as base_default_state_dir
from adapters.legacy.values import NO_REGION_CURRENCY
from bus.errors import ConfigError
from bus.identifiers.settings import PhoneRegion
from bus.settings_defaults import ExtensibleDefaults

ENV_PREFIX = "OMNIBUS_ADAPTER_LEGACY__"
FORMER_STATE_DIR = Path(".omnibus/legacy")  # the former default: relative to the working directory
# a full snapshot that would close more than this share of the accounts listed before, and more than the floor, is
# refused (``adapters.legacy.snapshot.CloseLimit``): a truncated export looks like the whole base gone
SNAPSHOT_MAX_CLOSE_SHARE = 0.10
SNAPSHOT_MAX_CLOSE_FLOOR = 10


def default_state_dir() -> Path:
    """``<state_home>/legacy``, or ``./.omnibus/legacy`` while only that exists (``adapters.base.config``)."""
    return base_default_state_dir("legacy", FORMER_STATE_DIR)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _sql_name(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain SQL name (letters, digits, _; optionally schema.table)")
    return value


class Section(ExtensibleDefaults):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutboxSettings(Section):
    table: str = Field(
        "omnibus_outbox", pattern=r"^[a-z_][a-z0-9_]*$",
        description="Outbox table, found through the connection's search_path; also names its trigger, "
        "sequence, index and NOTIFY channel.",
    )
    batch_size: int = Field(500, gt=0, description="Rows published per round trip.")
    poll_interval_s: float = Field(1.0, gt=0, description="Longest wait for a NOTIFY before looking anyway.")
    live_within_s: float = Field(
        120.0, gt=0, description="The relay's /live (on the metrics port) answers 503 when its loop has not moved "
        "for longer: a batch, a wait for work or for the lock, an outage's retry each count as a move.")



class PollerSettings(Section):
    name: str = Field(..., pattern=r"^[a-z0-9_-]+$", description="Names the position file and the dedupe ids.")
    table: str
    primary_key: str
    updated_at_column: str = "updated_at"
    event_type: str | None = Field(None, description="Business event every row becomes, e.g. OrderStatusChanged.")
    event_type_column: str | None = Field(None, description="Column naming each row's event instead.")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Event field -> column, for the fields whose column has another name: a "
        "field not listed is read from its same-named column (a column a listed field reads is not also a field of "
        "its own), e.g. {\"status\": \"estado\"}.")
    watermark: Literal["xid", "updated_at"] = Field(
        "xid",
        description="xid: read rows by the id of the transaction that wrote them, below PostgreSQL's oldest "
        "running transaction (safe by construction). updated_at: by the column, after safety_lag_s, with late "
        "rows detected (ingress_poller).",
    )
    safety_lag_s: float = Field(
        5.0, ge=0,
        description="updated_at watermark: rows younger than this are left for the next round (a transaction "
        "still open may commit a row with an earlier updated_at). Set it above the longest write transaction.",
    )
    late_lookback_s: float = Field(
        3600.0, ge=0,
        description="updated_at watermark: how far behind the position each round looks for rows that "
        "arrived late (published then, counted in omnibus_adapter_late_rows_total).",
    )
    batch_size: int = Field(500, gt=0)
    poll_interval_s: float = Field(2.0, gt=0)
    phone_region: PhoneRegion = Field(
        None, description="Region (e.g. FR) of this table's phone numbers written without +country; unset: the "
        "adapter's phone_region.",
    )

    _names = field_validator("table", "primary_key", "updated_at_column", "event_type_column")(
        lambda v: _sql_name(v) if v is not None else v
    )

    @model_validator(mode="after")
    def _one_event_source(self) -> PollerSettings:
        if (self.event_type is None) == (self.event_type_column is None):
            raise ValueError(f"poller {self.name}: give exactly one of event_type and event_type_column")
        for column in self.columns.values():
            _sql_name(column)
        return self


class LegacySettings(AdapterSettings):
    source_system: str = Field("billing-db", description="Names the business system in every envelope.")
    database_url: SecretStr | None = Field(None, description="postgresql:// URL with the adapter's credentials.")
    outbox: OutboxSettings = OutboxSettings()
    pollers: tuple[PollerSettings, ...] = ()
    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Poller positions, batch-file checkpoints and the dedupe file; default "
        "$XDG_STATE_HOME/omnibus/legacy (~/.local/state/omnibus/legacy), not the working directory.",
    )
    default_currency: str | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="Currency (ISO 4217) of amounts that name none, on every path "
        "(outbox, pollers, batch files). Unset: the currency of OMNIBUS_IDENTIFIERS__DEFAULT_REGION (BR: BRL; "
        f"Babel's CLDR data), {NO_REGION_CURRENCY} without a region; a region without one currency of its own (PA: "
        "PAB and USD) stops the adapter at start until this is set.",
    )
    batch_chunk_lines: int = Field(500, gt=0, description="Lines published between two batch-file checkpoints.")
    snapshot_max_close_share: float = Field(
        SNAPSHOT_MAX_CLOSE_SHARE, ge=0, le=1, description="A full snapshot (snapshot: true layout) that would close "
        f"more than this share ({SNAPSHOT_MAX_CLOSE_SHARE:.2f}: {SNAPSHOT_MAX_CLOSE_SHARE * 100:g} %) of the accounts "
        "listed before, and more than snapshot_max_close_floor, closes nothing and import-batch exits 3 (a truncated "
        "export); --allow-mass-close imports it once checked.",
    )
    snapshot_max_close_floor: int = Field(
        SNAPSHOT_MAX_CLOSE_FLOOR, ge=0, description="Accounts a full snapshot may always close, whatever the share "
        "(a small base is not blocked by one closure); see snapshot_max_close_share.",
    )
    phone_region: PhoneRegion = Field(
        None, description="Region (e.g. FR) of this system's phone numbers written without +country (outbox, and "
        "pollers and batch layouts that name none); unset: OMNIBUS_IDENTIFIERS__DEFAULT_REGION.",
    )


    @model_validator(mode="before")
    @classmethod
    def _remember_ids_on_disk(cls, values: Any) -> Any:
        """Re-running an import or a relay must find the ids already published: keep them in state_dir."""
        if isinstance(values, dict) and values.get("dedupe_path") is None:
            state_dir = Path(values.get("state_dir") or default_state_dir())
            values = {**values, "state_dir": state_dir, "dedupe_path": state_dir / "dedupe.sqlite"}
        return values

    @model_validator(mode="after")
    def _unique_poller_names(self) -> LegacySettings:
        names = [p.name for p in self.pollers]
        if len(names) != len(set(names)):
            raise ValueError("poller names must be unique")
        return self

    def dsn(self) -> str:
        if self.database_url is None:
            raise ValueError("database_url is not set (OMNIBUS_ADAPTER_LEGACY__DATABASE_URL)")
        return self.database_url.get_secret_value()


def deployment_currency(adapter: LegacySettings, region: str | None) -> str:
    """The currency of amounts that name none: ``default_currency`` when set, else the one currency in tender today in
    ``region`` (``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``, ISO alpha-2: BR -> BRL, read with Babel's CLDR territory
    data), else ``NO_REGION_CURRENCY`` without a region (a Brazilian outbox's R$ 312,90 was published as
    EUR). Raises ``ConfigError`` naming ``OMNIBUS_ADAPTER_LEGACY__DEFAULT_CURRENCY`` for a region with no or several
    such currencies."""
    if adapter.default_currency is not None:
        return adapter.default_currency
    if region is None:
        return NO_REGION_CURRENCY
    from babel.numbers import get_territory_currencies

    currencies = get_territory_currencies(region, tender=True, non_tender=False)
    if len(currencies) != 1:
        found = f"{' and '.join(currencies)}" if currencies else "none"
        raise ConfigError(f"the default region {region} has no single currency to give amounts that name none "
                          f"(CLDR: {found}): set {ENV_PREFIX}DEFAULT_CURRENCY (ISO 4217, e.g. USD)")
    return str(currencies[0])
