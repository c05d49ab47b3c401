"""tester34 F16: a 401 is counted every time and logged once per component, reason and minute, never silently."""

from __future__ import annotations

import asyncio

import pytest

from bus import refused_credentials
from bus.log_window import LogWindow
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


def test_refusals_held_in_a_window_are_written_when_it_ends_not_with_the_next_refusal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tester35 F10: after a flood of 300 nothing was logged until one more request came a minute later, and a flood
    that stopped never showed its size. The held count is written at the window's end, by the event loop."""

    async def flood() -> None:
        refusals = RefusalLog("adapter.test-window-end", window_s=0.2)
        for peer in ("10.0.0.7", "10.0.0.8", "10.0.0.9"):
            refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/track", peer=peer, forwarded_for="203.0.113.7")
        assert len(lines) == 1  # the first at once; the two others held
        await asyncio.sleep(0.5)  # the window ends and nothing more comes

    with refusal_lines(monkeypatch) as lines:
        asyncio.run(flood())
    assert [(line["refused"], line["peer"]) for line in lines] == [(1, "10.0.0.7"), (2, "10.0.0.9")]  # the last's
    assert lines[1]["forwarded_for"] == "203.0.113.7" and lines[1]["route"] == "/v1/track"


def test_refusals_still_held_are_written_at_exit_and_without_an_event_loop_with_the_next_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    with refusal_lines(monkeypatch) as lines:
        refusals = refused_credentials.refusal_log("adapter.test-exit")
        monkeypatch.setattr(refusals, "_window", LogWindow(LOG_WINDOW_S, clock=lambda: now[0]))
        for _ in range(3):  # no running event loop (a plain call): no timer, held
            refusals.refused(CredentialRefusal.MALFORMED, route="/v1/counter/events", peer="10.0.0.7")
        assert [line["refused"] for line in lines] == [1]
        refused_credentials.flush_refusals()  # what runs at exit (atexit)
        refused_credentials.flush_refusals()  # written once
    assert [line["refused"] for line in lines] == [1, 2]


def test_the_refusal_log_reads_a_monotonic_clock_by_default_as_the_other_windows_do() -> None:
    import inspect
    import time

    assert inspect.signature(RefusalLog).parameters["clock"].default is time.monotonic


def test_a_windows_line_names_every_route_and_peer_it_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong write key on ``/v1/track`` (x6) and on ``/v1/batch`` (x1) within a minute, from two senders: the
    window's line named ``/v1/track`` and one peer for all 7. It names each route, peer and X-Forwarded-For with its
    count (the commonest ``MAX_NAMED``, the rest as ``other``), and its ``route``/``peer`` stay the last's."""
    now = [0.0]
    with refusal_lines(monkeypatch) as lines:
        refusals = RefusalLog("adapter.test-sources", clock=lambda: now[0])
        refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/track", peer="10.0.0.7")  # logged at once
        for _ in range(5):
            refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/track", peer="10.0.0.7")
        refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/batch", peer="10.0.0.8", forwarded_for="203.0.113.9")
        for n in range(refused_credentials.MAX_NAMED + 2):
            refusals.refused(CredentialRefusal.UNKNOWN, route="/v1/track", peer=f"10.1.0.{n}")
        refusals.flush()
    first, held = lines
    assert (first["refused"], first["routes"], first["peers"], first["forwarded_fors"]) == (
        1, {"/v1/track": 1}, {"10.0.0.7": 1}, {})
    assert held["refused"] == 18 and held["routes"] == {"/v1/track": 17, "/v1/batch": 1}
    assert held["peers"]["10.0.0.7"] == 5 and "10.0.0.8" in held["peers"] and sum(held["peers"].values()) == 18
    assert len(held["peers"]) == refused_credentials.MAX_NAMED + 1 and held["peers"]["other"] == 4
    assert held["forwarded_fors"] == {"203.0.113.9": 1}
    assert held["peer"] == f"10.1.0.{refused_credentials.MAX_NAMED + 1}"  # the last refusal's, as before
