"""The arithmetic of every KPI, one entity at a time, against hand-computed counts."""

from __future__ import annotations

import pytest

from processors.kpis import rules
from processors.kpis.config import KpisSettings
from processors.kpis.state import CustomerHistory, split_contribution
from processors.kpis.windows import DAY_US, HOUR_US, WindowKey, to_micros
from tests.processors.kpis.factories import T0, D, H, M, call, handoff, interaction, offer

SETTINGS = KpisSettings()


def by_measure(contributions: dict[str, int], granularity: str = "DAY") -> dict[str, int]:
    found: dict[str, int] = {}
    for key, n in contributions.items():
        window, measure = split_contribution(key)
        if window.startswith(granularity):
            found[measure] = found.get(measure, 0) + n
    return found


def test_an_interaction_with_an_outcome_is_a_contact_a_page_view_is_not():
    assert by_measure(rules.one_shot(interaction(T0, outcome="RESOLVED")).contributions) == {
        "interactions": 1, "contacts": 1}
    assert by_measure(rules.one_shot(interaction(T0, channel="WEB", outcome="NOT_APPLICABLE")).contributions) == {
        "interactions": 1}


def test_contacts_land_in_their_hour_and_day_by_channel_and_site():
    keys = {split_contribution(k)[0] for k in rules.one_shot(interaction(T0 + 30 * M)).contributions}
    start = to_micros(T0)
    assert keys == {WindowKey.parse(f"HOUR|{start}|CALL_CENTER|paris").text(),
                    f"DAY|{start - start % DAY_US}|CALL_CENTER|paris"}


def test_service_level_counts_queued_calls_answered_within_the_threshold():
    answered_fast = rules.call_contributions(rules.call_update(None, call(T0, 20)), SETTINGS)
    answered_slow = rules.call_contributions(rules.call_update(None, call(T0, 21)), SETTINGS)
    abandoned = rules.call_contributions(rules.call_update(None, call(T0, None)), SETTINGS)
    never_queued = rules.call_contributions(rules.call_update(None, call(None, None)), SETTINGS)
    assert by_measure(answered_fast) == {"calls_queued": 1, "calls_answered": 1, "calls_answered_within_threshold": 1}
    assert by_measure(answered_slow) == {"calls_queued": 1, "calls_answered": 1}
    assert by_measure(abandoned) == {"calls_queued": 1, "calls_abandoned": 1}
    assert never_queued == {}


def test_the_threshold_is_per_site_and_falls_back_to_the_one_stamped_on_the_call():
    settings = KpisSettings(service_level_threshold_s={"lyon": 30})
    lyon = rules.call_update(None, call(T0, 25, site="lyon"))
    paris = rules.call_update(None, call(T0, 25, site="paris", threshold_ms=20_000))
    assert by_measure(rules.call_contributions(lyon, settings))["calls_answered_within_threshold"] == 1
    assert "calls_answered_within_threshold" not in by_measure(rules.call_contributions(paris, settings))
    everywhere = KpisSettings(default_service_level_threshold_s=60)
    assert by_measure(rules.call_contributions(paris, everywhere))["calls_answered_within_threshold"] == 1


def test_a_calls_later_report_replaces_the_earlier_one_and_a_redelivery_changes_nothing():
    first = rules.call_update(None, call(T0, None, event_id="v1"))
    second = rules.call_update(first, call(T0, 5, event_id="v2"))
    assert by_measure(rules.call_contributions(second, SETTINGS))["calls_answered_within_threshold"] == 1
    assert rules.call_update(second, call(T0, None, event_id="v1")) is None


def history(*contacts: tuple) -> CustomerHistory:
    found = None
    for n, (at, outcome, channel) in enumerate(contacts):
        found = rules.customer_update(found, interaction(at, channel=channel, outcome=outcome, event_id=f"e{n}")) or found
    return found


def test_repeat_contact_and_first_contact_resolution_across_channels():
    # web request handed off, a call 2 days later (repeat, resolved), a counter visit 8 days after the call
    customer = history((T0, "HANDED_OFF", "WEB"), (T0 + 2 * D, "UNKNOWN", "CALL_CENTER"),
                       (T0 + 10 * D, "RESOLVED", "BRANCH"))
    found = rules.customer_contributions(customer, SETTINGS)
    assert by_measure(found) == {"identified_contacts": 3, "repeat_contacts_7d": 1, "fcr_eligible": 3,
                                 "fcr_resolved": 2}


def test_a_contact_followed_within_seven_days_is_not_resolved_and_abandoned_calls_are_not_eligible():
    customer = history((T0, "ABANDONED", "CALL_CENTER"), (T0 + 5 * M, "RESOLVED", "CALL_CENTER"),
                       (T0 + 7 * D, "RESOLVED", "CALL_CENTER"))
    assert by_measure(rules.customer_contributions(customer, SETTINGS)) == {
        "identified_contacts": 3, "repeat_contacts_7d": 2, "fcr_eligible": 2, "fcr_resolved": 1}


def test_a_late_contact_in_the_middle_changes_both_neighbours():
    customer = history((T0, "RESOLVED", "WEB"), (T0 + 9 * D, "RESOLVED", "WEB"))
    assert by_measure(rules.customer_contributions(customer, SETTINGS))["fcr_resolved"] == 2
    late = rules.customer_update(customer, interaction(T0 + 4 * D, channel="BRANCH", outcome="RESOLVED",
                                                       event_id="late"))
    assert by_measure(rules.customer_contributions(late, SETTINGS)) == {
        "identified_contacts": 3, "repeat_contacts_7d": 2, "fcr_eligible": 3, "fcr_resolved": 1}
    assert rules.customer_update(late, interaction(T0 + 4 * D, outcome="RESOLVED", event_id="late")) is None


def handoff_facts(*events):
    facts = None
    for event in events:
        facts = rules.handoff_update(facts, event) or facts
    return facts


def test_deadline_compliance_is_resolution_without_a_breach_in_the_cycle():
    on_time = handoff_facts(handoff("HandoffCreated", "h1", T0), handoff("HandoffResolved", "h1", T0 + 5 * H))
    late = handoff_facts(handoff("HandoffCreated", "h2", T0), handoff("HandoffBreached", "h2", T0 + 20 * H),
                         handoff("HandoffResolved", "h2", T0 + 22 * H))
    assert by_measure(rules.handoff_contributions(on_time, 0, 0)) == {
        "handoffs_created": 1, "handoffs_resolved": 1, "handoffs_resolved_within_deadline": 1}
    assert by_measure(rules.handoff_contributions(late, 0, 0)) == {"handoffs_created": 1, "handoffs_resolved": 1}


def test_a_breach_arriving_after_the_resolution_still_counts_and_a_reopened_cycle_starts_clean():
    facts = handoff_facts(handoff("HandoffCreated", "h", T0), handoff("HandoffResolved", "h", T0 + 22 * H),
                          handoff("HandoffBreached", "h", T0 + 20 * H), handoff("HandoffReopened", "h", T0 + 2 * D),
                          handoff("HandoffResolved", "h", T0 + 2 * D + H))
    assert by_measure(rules.handoff_contributions(facts, 0, 0)) == {
        "handoffs_created": 1, "handoffs_resolved": 2, "handoffs_resolved_within_deadline": 1}


def test_open_handoffs_are_counted_at_each_closed_window_end_by_age_band():
    facts = handoff_facts(handoff("HandoffCreated", "h", T0 + 10 * M), handoff("HandoffResolved", "h", T0 + 5 * H))
    closed_through = to_micros(T0 + 24 * H)
    hourly = {split_contribution(k)[0].split("|")[1]: split_contribution(k)[1]
              for k in rules.handoff_contributions(facts, closed_through, 0) if "open_handoffs" in k and "HOUR" in k}
    ends = {int(start) + HOUR_US: band for start, band in hourly.items()}
    assert ends == {to_micros(T0 + 1 * H): "open_handoffs:lt_1h", to_micros(T0 + 2 * H): "open_handoffs:1h_4h",
                    to_micros(T0 + 3 * H): "open_handoffs:1h_4h", to_micros(T0 + 4 * H): "open_handoffs:1h_4h"}
    assert to_micros(T0 + 5 * H) not in ends  # resolved at 14:00: not open at 14:00


def test_offer_acceptance_counts_presentations_and_acceptances():
    assert by_measure(rules.one_shot(offer("OfferPresented", T0)).contributions) == {"offers_presented": 1}
    assert by_measure(rules.one_shot(offer("OfferResponded", T0, "ACCEPTED")).contributions) == {"offers_accepted": 1}
    assert rules.one_shot(offer("OfferResponded", T0, "NOT_NOW")).contributions == {}


@pytest.mark.parametrize("channel", ["BRANCH", "CALL_CENTER"])
def test_an_answer_at_the_counter_or_on_a_call_is_its_own_presentation(channel: str) -> None:
    """tester9 #7: the counter's and call center's pitch comes from a SHOW instruction, not a presented record, so
    their take rate had no denominator; each answer recorded there counts the pitch behind it (docs/kpis.md)."""
    accepted = by_measure(rules.one_shot(offer("OfferResponded", T0, "ACCEPTED", channel=channel)).contributions)
    assert accepted == {"offers_presented": 1, "offers_accepted": 1}
    not_now = by_measure(rules.one_shot(offer("OfferResponded", T0, "NOT_NOW", channel=channel)).contributions)
    assert not_now == {"offers_presented": 1}
    presented = by_measure(rules.one_shot(offer("OfferPresented", T0, channel=channel)).contributions)
    assert presented == {"offers_presented": 1}  # pitched, no answer yet: one presentation, as before
