"""Prometheus metrics of the offer processor.

Labels come from small fixed sets (channels, answers, suppression reasons, signal kinds, instruction
actions); no identifier, customer id or offer id ever becomes a label.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from bus.metrics import LATENCY_BUCKETS_S

PRESENTED = Counter("omnibus_offers_presented_total",
                    "Offer presentations, as the caps and the KPIs count them (bus/offer_presentations.py): an "
                    "OfferPresented, and an answer recorded at a counter or in the call center (the pitch behind it).",
                    ["channel"])
RESPONSES = Counter("omnibus_offers_responses_total", "Answers to offers (ACCEPTED, DECLINED, NOT_NOW, OPTED_OUT).",
                    ["response", "channel"])
SUPPRESSED = Counter("omnibus_offers_suppressed_total", "Offers that fit but were not presented, by reason.",
                     ["reason", "channel"])
VERSION_DRIFT = Counter("omnibus_offers_version_drift_total", "Presentations of an out-of-date offer version.",
                        ["channel"])
UNKNOWN_OFFER = Counter("omnibus_offers_unknown_offer_total",
                        "Presentations and answers naming an offer id not in the catalogue (kept as reported; a "
                        "channel's typo, or an offer never loaded).", ["event", "channel"])
AFTER_ANSWER = Counter("omnibus_offers_presented_after_answer_total",
                       "Presentations of an offer made after the customer's first final answer to it, by event time "
                       "(occurred_at), whatever order they arrive in.", ["channel"])
ANSWER_NOT_APPLIED = Counter(
    "omnibus_offers_answers_not_applied_total",
    "Answers that left the customer's recorded answer as it was (processors/offers/machine.py): a not-now or a "
    "decline after an acceptance or an opt-out, or the later of two answers of one kind; counted in "
    "omnibus_offers_responses_total too.", ["response", "channel"])
PITCH_VERSIONS = Counter(
    "omnibus_offers_pitch_versions_total",
    "Later versions of a representative's recorded pitch with another answer (bus/offer_presentations.py: an "
    "updated CTR, a corrected counter transaction), by outcome: revised (the newer version, applied to the same "
    "presentation) or stale (an older version read after a newer one, not applied).", ["channel", "outcome"])
INSTRUCTIONS = Counter("omnibus_offers_instructions_total", "Show / withdraw instructions sent to push channels.",
                       ["channel", "action"])
SIGNALS = Counter("omnibus_offers_signals_total", "Retention signals published, by kind.", ["kind"])
UNRESOLVED = Counter("omnibus_offers_unresolved_total",
                     "Events waiting for identity resolution (parked), dropped from a full wait list, or skipped "
                     "(an IdentifiersObserved naming no customer identifier, e.g. an anonymous page view).",
                     ["outcome"])
PRUNED = Counter("omnibus_offers_pruned_total",
                 "Entries dropped from a table past their event-time retention (processors/offers/retention.py), by "
                 "table (pending, directory) and reason: expired (an offer event dead-lettered, a placement dropped), "
                 "late (received longer than the retention ago, dead-lettered at once), applied (a copy of an event "
                 "a customer already applied).", ["table", "reason"])
ACCEPT_TO_WITHDRAW = Histogram(
    "omnibus_offers_accept_to_withdraw_seconds",
    "From an answer reaching Omnibus (adapter receipt) to the withdraw instruction acknowledged by Kafka.",
    buckets=LATENCY_BUCKETS_S,
)
QUERY_LATENCY = Histogram("omnibus_offers_query_seconds", "Offer query answer time.", buckets=LATENCY_BUCKETS_S)

_COUNTERS = {
    "presented": PRESENTED, "response": RESPONSES, "suppressed": SUPPRESSED, "version_drift": VERSION_DRIFT,
    "presented_after_answer": AFTER_ANSWER, "answer_not_applied": ANSWER_NOT_APPLIED, "instruction": INSTRUCTIONS,
    "signal": SIGNALS, "pitch_version": PITCH_VERSIONS,
    "unknown_offer": UNKNOWN_OFFER, "pruned": PRUNED,
}


def record(counts: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """Counts as produced by ``outputs.Batch.count``."""
    for metric, labels in counts:
        if metric in _COUNTERS:
            _COUNTERS[metric].labels(*labels).inc()
        elif metric == "unresolved_parked":
            UNRESOLVED.labels("parked").inc()
        elif metric == "unresolved_dropped":
            UNRESOLVED.labels("dropped").inc()
        elif metric == "unresolved_skipped":
            UNRESOLVED.labels("skipped").inc()


def accept_to_withdraw(latencies_s: Iterable[float]) -> None:
    for seconds in latencies_s:
        ACCEPT_TO_WITHDRAW.observe(max(0.0, seconds))
