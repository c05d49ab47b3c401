"""Issue #13 item 6: schemathesis against every HTTP adapter's OpenAPI description.

Each POST operation is called with cases schemathesis generates from the description, valid ones
(positive) and ones that break it (negative), with the adapter's credentials. Every answer must be 2xx
or a 4xx with a reason, never 5xx, and every refusal (other than 401) must have been dead-lettered. The
fast suite runs ``FAST_CASES`` per operation and mode; the ``slow`` test ``SLOW_CASES`` (a session that runs
both, as CI does, skips the fast one: the same checks with fewer cases).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from adapters.branch.openapi import OPENAPI as BRANCH_OPENAPI
from adapters.call_center.openapi import OPENAPI as CALL_CENTER_OPENAPI
from adapters.web.openapi import OPENAPI as WEB_OPENAPI
from tests.adapters.branch.support import TOKENS
from tests.adapters.call_center.support import PARIS_KEY
from tests.adapters.fuzz import servers
from tests.adapters.fuzz.test_wire_formats import check
from tests.adapters.web.support import WRITE_KEY
from tests.support.selection import skip_if_session_runs

FAST_CASES = int(os.environ.get("OMNIBUS_FUZZ_OPENAPI_CASES", "5"))
SLOW_CASES = 50

ADAPTERS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "web": (WEB_OPENAPI, {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}),
    "call_center": (CALL_CENTER_OPENAPI, {"Authorization": f"Bearer {PARIS_KEY}"}),
    "branch": (BRANCH_OPENAPI, {"Authorization": f"Bearer {TOKENS['CT-0142-03']}"}),
}


def _operations(spec: dict[str, Any]) -> Iterator[Any]:
    for result in schemathesis.openapi.from_dict(spec).get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "POST":
            yield operation


def fuzz_openapi(adapter: str, cases: int) -> int:
    spec, auth = ADAPTERS[adapter]
    ran = 0
    with servers.threaded(adapter) as served, requests.Session() as session:
        session.trust_env = False
        for operation in _operations(spec):
            for mode in GenerationMode:
                @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                @given(operation.as_strategy(generation_mode=mode))
                def case(generated: Any) -> None:
                    nonlocal ran
                    ran += 1
                    before = len(served.publisher.rejected)
                    response = generated.call(base_url=served.base_url, session=session, headers=auth, timeout=10)
                    check(response.status_code, response.content, served.publisher, before)

                case()
    return ran


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_every_described_operation_answers_2xx_or_4xx_with_a_reason(adapter: str, request: pytest.FixtureRequest,
                                                                    ) -> None:
    skip_if_session_runs(request, "test_every_described_operation_under_many_cases", adapter=adapter)
    assert fuzz_openapi(adapter, FAST_CASES) > 0


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_every_described_operation_under_many_cases(adapter: str) -> None:
    assert fuzz_openapi(adapter, SLOW_CASES) > 0
