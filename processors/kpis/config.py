"""Settings of the KPI processor (``OMNIBUS_PROCESSOR_KPIS__<FIELD>``), frozen, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bus.config import TimeZoneName, load_component_settings
from bus.tick_gate import MAX_DEFER_S
from bus.topics import DAY_MS, KPI_PARTIALS
from processors.kpis.windows import UTC_DAYS

ENV_PREFIX = "OMNIBUS_PROCESSOR_KPIS__"


class KpisSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service_level_threshold_s: dict[str, float] = Field(
        default_factory=dict,
        description="Call-center site -> N: a queued call counts toward the service level when answered within N "
        "seconds of entering the queue. A site not listed uses default_service_level_threshold_s.",
    )
    default_service_level_threshold_s: float | None = Field(
        None, gt=0,
        description="N for sites not listed; None: the threshold the call-center adapter stamped on the call "
        "(CallCompleted.sla_threshold_ms, from the adapter's per-site and per-queue settings).",
    )
    repeat_window_days: float = Field(7.0, gt=0, description="A contact within this many days of the previous "
                                      "one of the same customer is a repeat (and the previous one not resolved).")
    horizon_days: float = Field(8.0, gt=0, description="Events older than this (by occurred_at, against the "
                                "processor's clock) are too late to change their window; must exceed "
                                "repeat_window_days.")
    timezone: TimeZoneName = Field(
        "UTC", description="The IANA time zone (zoneinfo) whose local midnight cuts the DAY windows, e.g. "
        "Europe/Madrid: a day of the spring or autumn daylight saving change lasts 23 or 25 hours. HOUR windows are "
        "UTC hours. A change applies to events counted after it; windows already counted keep their cut (their key "
        "names their zone).")
    sites: tuple[str, ...] = Field((), description="Sites shown by name in Prometheus labels; others share "
                                   "'other' once max_site_labels names are in use.")
    max_site_labels: int = Field(50, ge=1, description="Distinct site label values before 'other'.")
    tick_interval_s: float = Field(10.0, ge=0, description="How often window ends are checked; 0: ticks come "
                                   "from elsewhere.")
    metrics_refresh_s: float = Field(15.0, gt=0, description="How often the Prometheus gauges are recomputed.")
    tick_tolerance_s: float = Field(300.0, gt=0, description="A tick more than this ahead of the processor's clock "
                                    "is refused (dead-lettered) as implausible.")
    tick_max_defer_s: float = Field(MAX_DEFER_S, gt=0, description="The longest a tick's window close waits for the "
                                    "inputs published before the tick to be read (bus.tick_gate); then it runs.")
    source_system: str = Field("omnibus-kpis", description="envelope.source_system of the aggregates it emits.")
    web_port: int | None = Field(None, ge=0, le=65535, description="HTTP port of /kpis; None disables it.")
    windows_kept_days: float = Field(40.0, gt=0, description="Event time (the processor's closed-through clock), "
                                     "days, a window is kept after its end and answered by GET /kpis; older ones: "
                                     "omnibus report kpis (kpi.aggregates.v1, 400 days). At least horizon_days plus "
                                     "the retention of kpi.partials.v1 (10 days).")

    @model_validator(mode="after")
    def _kept_past_replays(self) -> KpisSettings:
        least = self.horizon_days + KPI_PARTIALS.retention_ms / DAY_MS
        if self.windows_kept_days < least:
            raise ValueError(f"windows_kept_days must be at least horizon_days + the retention of kpi.partials.v1 "
                             f"({least:g} days): a replayed partial would find its window pruned")
        return self

    @property
    def windows_kept_us(self) -> int:
        return int(self.windows_kept_days * 86_400 * 1_000_000)

    @property
    def day_zone(self) -> str:
        """The zone that cuts days as window keys name it: ``UTC_DAYS`` (none) for UTC, as before zones existed."""
        return UTC_DAYS if self.timezone == "UTC" else self.timezone

    def threshold_ms(self, site: str | None, stamped_ms: int | None) -> int | None:
        seconds = self.service_level_threshold_s.get(site or "", self.default_service_level_threshold_s)
        return int(seconds * 1000) if seconds is not None else stamped_ms

    @property
    def repeat_window_us(self) -> int:
        return int(self.repeat_window_days * 86_400 * 1_000_000)

    @property
    def horizon_us(self) -> int:
        return int(self.horizon_days * 86_400 * 1_000_000)


def load_kpis_settings(**overrides: object) -> KpisSettings:
    return load_component_settings(KpisSettings, ENV_PREFIX, **overrides)
