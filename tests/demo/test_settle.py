"""The demo's wait for its screen pop: adaptive, and a failure that says what is missing (demo/settle.py)."""

from __future__ import annotations

import io

from rich.console import Console

from demo import report
from demo.people import customers
from demo.settle import Settling, fingerprint, missing

COMPLETE = {"recent_contacts": [{"channel": c} for c in ("WEB", "CALL_CENTER", "BRANCH")],
            "products": {"products": [{"product_code": "FIBRE"}]}, "open_handoffs": [{"status": "ACCEPTED"}]}


def test_the_wait_goes_on_while_something_moves_and_stops_when_idle_or_at_the_cap() -> None:
    settling = Settling(started_at=0.0, idle_s=90.0, cap_s=600.0)
    assert all(settling.observe(("grows", second // 60), float(second)) for second in range(0, 500, 5))
    # ("grows", 8) since 480 s: 80 s without progress is fine, 90 s is not
    assert settling.observe(("grows", 8), 560.0) and not settling.observe(("grows", 8), 570.0)
    assert "no progress for 90 s" in settling.why_stopped(570.0)
    capped = Settling(started_at=0.0, idle_s=90.0, cap_s=600.0)
    assert not capped.observe(("new",), 600.0) and "600 s in all" in capped.why_stopped(600.0)


def test_missing_names_each_step_and_channel_not_seen() -> None:
    assert missing(COMPLETE) == [] and missing(None)[0].startswith("identity never answered")
    partial = {**COMPLETE, "recent_contacts": [{"channel": "WEB"}], "open_handoffs": [{"status": "ROUTED"}]}
    said = " | ".join(missing(partial))
    assert "CALL_CENTER" in said and "BRANCH" in said and "ROUTED" in said and "WEB" not in said
    assert fingerprint(partial) != fingerprint(COMPLETE)


def test_a_failure_says_what_is_missing_and_what_to_try() -> None:
    out = io.StringIO()
    report.incomplete(Console(file=out, width=80), customers(1)[0], missing(None), "no progress for 90 s")
    text = out.getvalue()
    assert "incomplete: no progress for 90 s" in text and "missing: identity" in text and "rerun" in text


def test_commands_are_printed_unwrapped_outside_any_box() -> None:
    out = io.StringIO()
    command = "curl -u key: -H 'Content-Type: application/json' http://127.0.0.1:40000/v1/identify -d '" + "x" * 80
    report.commands(Console(file=out, width=80), "Post by hand:", [command, "export A=[b]"])
    lines = out.getvalue().splitlines()
    assert command in lines and "export A=[b]" in lines and not any(c in out.getvalue() for c in "│╭")
