"""Prometheus metrics of the KPI processor: the KPIs of the current hour and day, with bounded labels.

Labels: ``channel`` (the Channel enum), ``site`` (configured sites, then the first ``max_site_labels``
seen, then "other"), ``period`` (hour, day), ``kpi`` / ``measure`` (the names in ``measures``),
``age_band`` (the handoff age bands). Never a customer, handoff or contact id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from prometheus_client import Counter, Gauge

from processors.handoffs.metrics import AGE_BAND_LABEL
from processors.kpis.config import KpisSettings
from processors.kpis.measures import AGE_BANDS, KPIS, OPEN_PREFIX, Measure, ratio
from processors.kpis.windows import Granularity, WindowKey

PERIODS = {Granularity.HOUR: "hour", Granularity.DAY: "day"}

KPI_RATIO = Gauge("omnibus_kpi_ratio", "KPI of the current period (numerator / denominator, see docs/kpis.md).",
                  ["kpi", "channel", "site", "period"])
KPI_MEASURE = Gauge("omnibus_kpi_measure",
                    "Count of one measure (a KPI numerator or denominator) in the current period.",
                    ["measure", "channel", "site", "period"])
KPI_OPEN_HANDOFFS = Gauge("omnibus_kpi_open_handoffs", "Handoffs open at the end of the last hour, by age band.",
                          ["channel", "site", AGE_BAND_LABEL])
TOO_LATE = Counter("omnibus_kpi_too_late_events_total", "Events older than the horizon, not counted.")
AGGREGATES = Counter("omnibus_kpi_aggregates_published_total", "KpiAggregate records published.", ["period"])
PRUNED = Counter("omnibus_kpi_pruned_total", "Windows the rollup's table no longer keeps (retention.py): "
                 "reason=expired (swept), late (a stale partial for a window already swept, dropped).",
                 ["table", "reason"])
REJECTED = Counter("omnibus_kpi_rejected_records_total", "Records the KPI rules could not apply (dead-lettered).",
                   ["topic_kind"])


class SiteLabels:
    """Site names as label values: the configured ones, then the first ``limit`` seen, then "other"."""

    def __init__(self, settings: KpisSettings) -> None:
        self._known = set(settings.sites)
        self._limit = settings.max_site_labels + len(self._known)

    def __call__(self, site: str) -> str:
        if site in self._known:
            return site
        if len(self._known) < self._limit:
            self._known.add(site)
            return site
        return "other"


class KpiMetrics:
    def __init__(self, settings: KpisSettings) -> None:
        self.site = SiteLabels(settings)
        self._set: dict[Gauge, set[tuple[str, ...]]] = defaultdict(set)

    def refresh(self, windows: Mapping[str, Mapping[str, int]], now_us: int) -> None:
        """Set the gauges from window key -> summed counts (stage two's current state)."""
        current: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        open_now: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        last_hour_end = now_us - now_us % Granularity.HOUR.length_us
        for key, counts in windows.items():
            window = WindowKey.parse(key)
            site = self.site(window.site) if window.site else ""
            if window.start_us <= now_us < window.end_us:
                bucket = current[(window.channel, site, PERIODS[window.granularity])]
                for measure, count in counts.items():
                    bucket[measure] += count
            if window.granularity is Granularity.HOUR and window.end_us == last_hour_end:
                for measure, count in counts.items():
                    if measure.startswith(OPEN_PREFIX):
                        open_now[(window.channel, site)][measure[len(OPEN_PREFIX):]] += count
        seen: dict[Gauge, set[tuple[str, ...]]] = defaultdict(set)
        for (channel, site, period), counts in current.items():
            for measure in Measure:
                self._put(seen, KPI_MEASURE, (measure.value, channel, site, period), counts.get(measure.value, 0))
            for kpi in KPIS:
                value = ratio(counts, kpi)
                if value is not None:
                    self._put(seen, KPI_RATIO, (kpi.name, channel, site, period), value)
        for (channel, site), bands in open_now.items():
            for band in AGE_BANDS:
                self._put(seen, KPI_OPEN_HANDOFFS, (channel, site, band), bands.get(band, 0))
        for gauge, labels in self._set.items():
            for stale in labels - seen[gauge]:
                gauge.remove(*stale)
        self._set = seen

    @staticmethod
    def _put(seen: dict[Gauge, set[tuple[str, ...]]], gauge: Gauge, labels: tuple[str, ...], value: float) -> None:
        gauge.labels(*labels).set(value)
        seen[gauge].add(labels)
