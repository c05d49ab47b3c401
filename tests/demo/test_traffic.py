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
