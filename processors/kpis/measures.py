"""What is counted (measures) and which ratios of them are the KPIs: declared once, used everywhere.

Every aggregate is a set of counts, one per ``Measure``, plus the open handoffs per age band. A KPI is
``numerator / denominator`` of two measures of the same window, channel and site; it is undefined
(None) when the denominator is 0. Definitions and their sources: ``docs/kpis.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from processors.handoffs.metrics import AGE_BUCKETS

OPEN_PREFIX = "open_handoffs:"  # open_handoffs:<age band>, a snapshot at the window's end
AGE_BANDS: tuple[str, ...] = tuple(name for name, _ in AGE_BUCKETS)  # the handoff tracker's bands, one declaration


class Measure(StrEnum):
    INTERACTIONS = "interactions"  # every InteractionRecorded
    CONTACTS = "contacts"  # interactions with an outcome (not NOT_APPLICABLE)
    IDENTIFIED_CONTACTS = "identified_contacts"  # contacts identity resolved to a customer
    REPEAT_CONTACTS_7D = "repeat_contacts_7d"  # identified contacts preceded by one of the same customer within 7 days
    FCR_ELIGIBLE = "fcr_eligible"  # identified contacts that reached someone (not abandoned)
    FCR_RESOLVED = "fcr_resolved"  # ... not failed and not followed by another contact within 7 days
    CALLS_QUEUED = "calls_queued"  # calls that entered a queue (answered + abandoned)
    CALLS_ANSWERED = "calls_answered"
    CALLS_ANSWERED_WITHIN_THRESHOLD = "calls_answered_within_threshold"
    CALLS_ABANDONED = "calls_abandoned"
    HANDOFFS_CREATED = "handoffs_created"
    HANDOFFS_RESOLVED = "handoffs_resolved"
    HANDOFFS_RESOLVED_WITHIN_DEADLINE = "handoffs_resolved_within_deadline"
    OFFERS_PRESENTED = "offers_presented"
    OFFERS_ACCEPTED = "offers_accepted"
    OFFERS_DECLINED = "offers_declined"


MEASURE_NAMES: tuple[str, ...] = tuple(m.value for m in Measure)


def open_measure(band: str) -> str:
    return OPEN_PREFIX + band


@dataclass(frozen=True, slots=True)
class Kpi:
    name: str
    numerator: Measure
    denominator: Measure
    description: str


KPIS: tuple[Kpi, ...] = (
    Kpi("first_contact_resolution", Measure.FCR_RESOLVED, Measure.FCR_ELIGIBLE,
        "Share of handled contacts resolved without a further contact within 7 days."),
    Kpi("repeat_contact_rate_7d", Measure.REPEAT_CONTACTS_7D, Measure.IDENTIFIED_CONTACTS,
        "Share of contacts preceded by a contact of the same customer within 7 days, on any channel."),
    Kpi("service_level", Measure.CALLS_ANSWERED_WITHIN_THRESHOLD, Measure.CALLS_QUEUED,
        "Share of queued calls answered within the site's threshold."),
    Kpi("abandonment_rate", Measure.CALLS_ABANDONED, Measure.CALLS_QUEUED,
        "Share of queued calls the caller hung up on before an agent answered."),
    Kpi("handoff_deadline_compliance", Measure.HANDOFFS_RESOLVED_WITHIN_DEADLINE, Measure.HANDOFFS_RESOLVED,
        "Share of resolved handoffs resolved without breaching their deadline."),
    Kpi("offer_acceptance", Measure.OFFERS_ACCEPTED, Measure.OFFERS_PRESENTED,
        "Offers accepted per offer presented."),
)


def ratio(counts: dict[str, int], kpi: Kpi) -> float | None:
    denominator = counts.get(kpi.denominator, 0)  # a StrEnum member is its value as a key
    return counts.get(kpi.numerator, 0) / denominator if denominator else None


def open_by_band(counts: dict[str, int]) -> dict[str, int]:
    return {band: counts.get(open_measure(band), 0) for band in AGE_BANDS}
