"""tester34 F16: a 401 is counted every time and logged once per component, reason and minute, never silently."""

from __future__ import annotations

import pytest

from bus.refused_credentials import LOG_WINDOW_S, CredentialRefusal, RefusalLog, route_pattern
from tests.support.refusals import refusal_lines, refused_total


def test_every_refusal_counts_and_a_flood_is_one_line_a_window_per_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    refusals = RefusalLog("adapter.test-window", clock=lambda: now[0])
    before = refused_total("adapter.test-window", "bad_signature")
    with refusal_lines(monkeypatch) as lines:
        for _ in range(50):
            refusals.refused(CredentialRefusal.BAD_SIGNATURE, route="/v1/twilio/taskrouter", peer="10.0.0.7")
        refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/track", peer="10.0.0.8")  # another reason: its own
        now[0] += LOG_WINDOW_S
        refusals.refused(CredentialRefusal.BAD_SIGNATURE, route="/v1/twilio/taskrouter", peer="10.0.0.7")
    assert refused_total("adapter.test-window", "bad_signature") - before == 51
    assert [(line["reason"], line["refused"]) for line in lines] == [
        ("bad_signature", 1), ("unknown", 1), ("bad_signature", 50)]
    assert {line["log_level"] for line in lines} == {"warning"}
    assert lines[0]["component"] == "adapter.test-window" and lines[0]["route"] == "/v1/twilio/taskrouter"


def test_a_request_that_matched_no_route_is_named_unmatched_not_by_its_path() -> None:
    class Bare:  # no match_info: the path (which may hold an identifier) is not taken instead
        path = "/customers/+33612345678"

    assert route_pattern(Bare()) == "unmatched"
