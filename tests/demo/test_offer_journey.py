"""``demo.offers.offer_journey``'s verdict: each channel waited for, and a step not seen named (tester: under load the
demo ended "did not see every channel reach the screen pop" when only the counter's offer query had answered before
the offers processor had it: the counter was asked once, where the web hall was waited for)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console

from demo import offers
from demo.people import customers


class Watch:
    def __init__(self, actions: set[str]) -> None:
        self.actions = actions

    def of(self, customer_id: str, channel: str, action: str) -> list[tuple[float, Any]]:
        return [(0.0, None)] if action in self.actions else []


def journey(monkeypatch: pytest.MonkeyPatch, *, counter_after_asks: int | None, withdrawn: bool) -> tuple[bool, str]:
    """Run the journey against answers built here: the web hall offers at once, the counter after
    ``counter_after_asks`` asks (None: never), each until the acceptance, the screen pop at once."""
    asks = {"BRANCH": 0}
    accepted = {"done": False}

    async def answer(http: Any, url: str, **params: str) -> dict[str, Any]:
        if accepted["done"]:
            return {"customer_id": "cus_1", "offers": []}
        if params.get("channel") == "BRANCH":
            asks["BRANCH"] += 1
            if counter_after_asks is None or asks["BRANCH"] <= counter_after_asks:
                return {"offers": []}
        return {"customer_id": "cus_1", "offers": [{"offer_id": "fibre-upgrade"}]}

    async def pop(self: Any, http: Any, url: str, kind: str, value: str) -> dict[str, Any]:
        return {"eligible_offers": [] if accepted["done"] else [{"offer_id": "fibre-upgrade"}]}

    async def track(http: Any, endpoints: Any, customer: Any, event: str) -> None:
        accepted["done"] = accepted["done"] or event == "Offer Accepted"

    monkeypatch.setattr(offers, "_json", answer)
    monkeypatch.setattr(offers.ScreenPopAnswers, "ask", pop)
    monkeypatch.setattr(offers, "_offer_track", track)
    monkeypatch.setattr(offers, "STEP_TIMEOUT_S", 0.5)
    monkeypatch.setattr(offers._until, "__defaults__", (0.5,))
    monkeypatch.setattr(offers._gone, "__defaults__", (0.5,))
    out = io.StringIO()
    console = Console(file=out, width=200)
    endpoints: Any = type("E", (), {"offers": "http://offers", "screen_pop": "http://pop"})()
    watch: Any = Watch({"SHOW", "WITHDRAW"} if withdrawn else {"SHOW"})
    ok = asyncio.run(offers.offer_journey(None, endpoints, watch, customers(1)[0], console))  # type: ignore[arg-type]
    return ok, out.getvalue()


def test_the_counters_offer_is_waited_for_like_the_web_halls(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, shown = journey(monkeypatch, counter_after_asks=3, withdrawn=True)
    assert ok and "Not seen" not in shown


def test_a_step_not_seen_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, shown = journey(monkeypatch, counter_after_asks=None, withdrawn=False)
    assert not ok
    assert "Not seen within 0 s: the counter's offer; the call center's WITHDRAW." in " ".join(shown.split())


def test_a_step_waits_past_the_lag_watchdogs_cure() -> None:
    """A partition that fetched nothing was sought again by the lag watchdog after its minute, the moment the demo's
    60 s step gave up: the web hall's offer was reported missing a second before it arrived."""
    from bus import lag_watchdog

    assert offers.STEP_TIMEOUT_S > lag_watchdog.STALL_AFTER_S + lag_watchdog.INTERVAL_S
