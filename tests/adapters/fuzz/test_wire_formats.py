"""Issue #13 item 6: every wire format, fuzzed with hostile shapes through the real ingress.

For each ingress (Segment JSON, Connect CTRs, Master.csv lines, TaskRouter forms, counter uploads,
nightly batch files) hypothesis generates mutated samples and damaged bodies. Every case must be
accepted or answered 4xx with a reason, never 5xx, never a hang (each request has a 30 s timeout), and
every refusal must have gone to the dead-letter path (the stand-in publisher records each one; the
broker-backed sample is ``test_dead_letters_on_the_broker``).

The fast suite runs ``FAST_CASES`` per ingress (env ``OMNIBUS_FUZZ_CASES``); the ``slow`` test runs ``SLOW_CASES``,
1,000 per ingress (env ``OMNIBUS_FUZZ_SLOW_CASES``; a session that runs both, as CI does, skips the fast one: the
same checks with fewer cases). The draws are random on every run (``derandomize=False``): each CI run searches
afresh, and a deeper search is ``OMNIBUS_FUZZ_SLOW_CASES=10000 pytest -m slow tests/adapters/fuzz`` (10,000 per
ingress, CI's count until December 2026, was 60,000 HTTP cases and batch files in one test: a large share of CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from adapters.legacy.errors import LayoutError
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from tests.adapters.branch.support import TOKENS
from tests.adapters.branch.support import sample as branch_sample
from tests.adapters.call_center.support import (
    LYON_TWILIO_TOKEN,
    PARIS_KEY,
    master_lines,
)
from tests.adapters.call_center.support import sample as call_sample
from tests.adapters.fuzz import servers, strategies
from tests.adapters.legacy.support import EXAMPLES as LEGACY_EXAMPLES
from tests.support.selection import skip_if_session_runs
from tests.adapters.legacy.support import legacy_context
from tests.adapters.web.support import StandInPublisher, basic_auth
from tests.adapters.web.support import sample as web_sample

FAST_CASES = int(os.environ.get("OMNIBUS_FUZZ_CASES", "150"))
SLOW_CASES = int(os.environ.get("OMNIBUS_FUZZ_SLOW_CASES", "1000"))
TIMEOUT_S = 30  # a hang, not a slow answer on a loaded machine

WEB_SAMPLES = [web_sample(name) for name in (
    "identify_analytics_python", "track_invoice_downloaded_analytics_js", "page_analytics_js",
    "track_offer_viewed_analytics_js", "group_analytics_python", "alias_analytics_js",
    "track_service_request_rudder_python")]
CTRS = [call_sample(name) for name in ("ctr_inbound_answered.json", "ctr_abandoned.json", "ctr_transferred.json")]
TASK_FORMS = call_sample("taskrouter_answered.json") + call_sample("taskrouter_abandoned.json")
COUNTER_EVENTS = [branch_sample(name)["events"][0] for name in (
    "ticket_issued_machine", "ticket_called_counter", "transaction_with_identifiers", "no_show_counter")]
BILLS_LAYOUT = load_layout(LEGACY_EXAMPLES / "bills_layout.yaml")
BILL_LINES = (LEGACY_EXAMPLES / "bills.csv").read_text().splitlines()


def _fuzz_settings(cases: int) -> settings:
    return settings(max_examples=cases, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))


def check(status: int, answer: bytes, publisher: StandInPublisher, refused_before: int) -> None:
    """The invariant: 2xx, or 4xx with a reason; every refusal dead-lettered; never 5xx."""
    assert status < 500, (status, answer[:300])
    refused_now = len(publisher.rejected) - refused_before
    body = json.loads(answer) if answer else {}
    if status >= 400:
        assert body["error"], answer[:300]
        if status != 401:  # not our data: never dead-lettered
            assert refused_now >= 1, answer[:300]
    elif body and "requestId" not in body:  # Firehose's answer has no room for them
        listed = body.get("rejected") or []
        assert refused_now == len(listed), (refused_now, answer[:300])
    assert all(error.reason for _, error in publisher.rejected[refused_before:])


def _post(client: servers.LoopClient, path: str, body: bytes, headers: dict[str, str]) -> None:
    before = len(client.publisher.rejected)
    reply = client.post(path, body, headers, timeout_s=TIMEOUT_S)
    check(reply.status, reply.body, client.publisher, before)


def _run(cases: int, strategy: st.SearchStrategy[Any], send: Callable[[Any], None]) -> int:
    """Run ``cases`` examples of ``strategy`` through ``send``; return how many ran."""
    ran = 0

    @_fuzz_settings(cases)
    @given(strategy)
    def case(value: Any) -> None:
        nonlocal ran
        ran += 1
        send(value)

    case()
    return ran


# -- one fuzzer per ingress: run ``cases`` examples, return how many ran --------------------------------

def fuzz_web(cases: int) -> int:
    with servers.loop_client("web") as served:
        def send(value: tuple[str, bytes, dict[str, str]]) -> None:
            path, body, headers = value
            _post(served, path, body, {"Authorization": basic_auth(), **headers})

        return _run(cases, strategies.cases(strategies.segment(WEB_SAMPLES)), send)


def fuzz_ctr(cases: int) -> int:
    with servers.loop_client("call_center") as served:
        def send(value: tuple[bytes, dict[str, str]]) -> None:
            body, extra = value
            _post(served, "/v1/connect/ctr", body,
                  {"Authorization": f"Bearer {PARIS_KEY}", "Content-Type": "application/json", **extra})

        return _run(cases, strategies.cases(strategies.ctr_bodies(CTRS)), send)


def fuzz_cdr(cases: int) -> int:
    with servers.loop_client("call_center") as served:
        def send(value: tuple[bytes, dict[str, str]]) -> None:
            body, extra = value
            _post(served, "/v1/asterisk/cdr", body,
                  {"Authorization": f"Bearer {PARIS_KEY}", "Content-Type": "text/csv", **extra})

        return _run(cases, strategies.cases(strategies.cdr_bodies(master_lines())), send)


def fuzz_taskrouter(cases: int) -> int:
    with servers.loop_client("call_center") as served:
        url = served.base_url + "/v1/twilio/taskrouter"
        validator = RequestValidator(LYON_TWILIO_TOKEN)

        def send(fields: list[tuple[str, str]]) -> None:
            signature = validator.compute_signature(url, MultiDict(fields))
            _post(served, "/v1/twilio/taskrouter", urlencode(fields).encode(), {
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})

        return _run(cases, strategies.cases(strategies.taskrouter_forms(TASK_FORMS)), send)


def fuzz_counter(cases: int) -> int:
    with servers.loop_client("branch") as served:
        def send(value: tuple[bytes, dict[str, str]]) -> None:
            body, extra = value
            _post(served, "/v1/counter/events", body,
                  {"Authorization": f"Bearer {TOKENS['CT-0142-03']}", "Content-Type": "application/json", **extra})

        return _run(cases, strategies.cases(strategies.counter_uploads(COUNTER_EVENTS, "CT-0142-03", "0142")), send)


def fuzz_batch_files(cases: int, folder: Path) -> int:
    """A file import never fails on its lines: every line is published or dead-lettered with its number. The one
    documented stop: bytes that are not in the layout's encoding end the file with a ``LayoutError`` naming the line
    and the byte (exit 2; the lines before it are published, a re-run with the right encoding resumes)."""
    loop = asyncio.new_event_loop()
    count = 0

    def send(content: bytes) -> None:
        nonlocal count
        count += 1
        path = folder / f"bills-{count}.csv"
        path.write_bytes(content)
        publisher = StandInPublisher()
        importer = BatchImporter(legacy_context(), publisher, folder / "state")  # type: ignore[arg-type]
        try:
            report = loop.run_until_complete(importer.import_file(path, BILLS_LAYOUT))
        except LayoutError as error:
            assert re.search(r"line \d+ is not utf-8: byte 0x[0-9A-F]{2}", str(error)), str(error)
            path.unlink()
            return
        assert report.lines == len(publisher.submitted) + len(publisher.rejected)
        assert len(report.rejected) == len(publisher.rejected)
        assert all(error.reason for _, error in publisher.rejected)
        path.unlink()

    try:
        return _run(cases, strategies.cases(strategies.batch_files(BILL_LINES[0], BILL_LINES[1:], ";")), send)
    finally:
        loop.close()


HTTP_FUZZERS: dict[str, Callable[[int], int]] = {
    "segment": fuzz_web, "ctr": fuzz_ctr, "master.csv": fuzz_cdr, "taskrouter": fuzz_taskrouter,
    "counter": fuzz_counter,
}


@pytest.mark.parametrize("ingress", sorted(HTTP_FUZZERS))
def test_hostile_input_is_accepted_or_refused_with_a_reason(ingress: str, request: pytest.FixtureRequest) -> None:
    skip_if_session_runs(request, "test_many_hostile_cases_per_ingress", ingress=ingress)
    assert HTTP_FUZZERS[ingress](FAST_CASES) >= FAST_CASES


def test_hostile_batch_files_cost_only_their_bad_lines(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    skip_if_session_runs(request, "test_many_hostile_cases_per_ingress", ingress="batch files")
    assert fuzz_batch_files(FAST_CASES, tmp_path) >= FAST_CASES


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("ingress", [*sorted(HTTP_FUZZERS), "batch files"])
def test_many_hostile_cases_per_ingress(ingress: str, tmp_path: Path) -> None:
    ran = fuzz_batch_files(SLOW_CASES, tmp_path) if ingress == "batch files" else HTTP_FUZZERS[ingress](SLOW_CASES)
    assert ran >= SLOW_CASES
