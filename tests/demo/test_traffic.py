"""demo/traffic.py: the back-dated journeys the demo sends through every channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.web.config import WebSettings
from demo.people import customers
from demo.traffic import web_journey


def test_no_web_journey_answers_the_offer_before_it_exists() -> None:
    """New-user finding #4: acceptances stamped hours before the demo offer was published, with no presentation,
    left the acceptance KPI at "-". The offer's one answer now follows its presentation (demo.offers)."""
    offer_events = WebSettings.model_fields["offer_events"].get_default(call_default_factory=True)
    start = datetime.now(UTC) - timedelta(hours=2)
    sent = [message.get("event") for person in customers(12) for message in web_journey(person, start)]
    assert "Invoice Viewed" in sent
    assert not [event for event in sent if event in offer_events]


def test_tester25_f2_the_demos_ivr_declares_the_account_it_checks_so_its_calls_keep_their_story() -> None:
    """The demo's calls say "The IVR identified the caller by account and date of birth": its call center names that
    attribute as verified (an account typed on the keypad is read by no default, tester25 F2), so each answered call
    still carries its caller's account and no dropped trait."""
    from adapters.call_center.config import CallCenterSettings, SiteSettings
    from adapters.call_center.mapper import MapContext, Topics
    from adapters.call_center.mapper_ctr import map_ctr
    from bus.config import TopicSettings
    from bus.identifiers import IdentifierSettings
    from demo.traffic import VERIFIED_BY_THE_IVR, connect_ctr

    customer = customers(1)[0]
    for read, expected in ((VERIFIED_BY_THE_IVR, True), ({}, False)):
        settings = CallCenterSettings(sites={"demo": SiteSettings()}, verified_record_attributes=read)
        context = MapContext("demo", settings.sites["demo"], Topics.of(TopicSettings()), settings,
                             IdentifierSettings(default_region="FR"))
        record = map_ctr(connect_ctr(customer, datetime(2026, 12, 1, 9, tzinfo=UTC), answered=True), context)
        kinds = {item["type"] for out in record.events for item in out.event.value.get("identifiers") or []}
        assert ("ACCOUNT" in kinds) is expected and bool(record.dropped_traits) is not expected
