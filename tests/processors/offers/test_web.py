"""The pull query's answer (``processors.offers.web``) as its view gives it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from bus.identifiers.settings import IdentifierSettings
from bus.readiness import HELD_BACK_HEADER
from processors.offers import web
from processors.offers.openapi import OFFERS_ANSWER


async def test_the_offers_answer_says_when_it_lacks_records_that_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``/kpis`` and the screen pop (a user saw them answer 200 through a registry outage while ``/ready`` was
    503): the offers a channel may present can lack an acceptance still waiting, so the answer's ``held_back`` is the
    worker's ``/ready`` reason then, with the header; null when it is ready. The published schema describes it."""
    found = {"customer_id": "cus_1", "channel": "WEB", "offers": [], "suppressed": []}
    monkeypatch.setattr(web, "answer", lambda worker, customer_id, channel: dict(found))
    views: dict[str, Any] = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    worker = SimpleNamespace(app=app, guard=None, normaliser=SimpleNamespace(settings=IdentifierSettings()))
    held_back: list[str | None] = ["no broker answered for 40 s (limit 30 s)"]
    web.register_views(worker, held_back=lambda: held_back[0])  # type: ignore[arg-type]
    answers: list[tuple[int, dict[str, Any], Any]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, body, headers)))
    request = SimpleNamespace(query={"channel": "web"}, headers={})
    for expected in (held_back[0], None):
        held_back[0] = expected
        await views[web.BY_ID_PATH](view, request, customer_id="cus_1")
        status, body, headers = answers[-1]
        assert status == 200 and body == {**found, "held_back": expected}
        assert headers == ({HELD_BACK_HEADER: "true"} if expected else None)
        jsonschema.Draft202012Validator(OFFERS_ANSWER).validate(body)


async def test_a_not_found_answer_says_when_records_wait_that_may_hold_the_customer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The offers query's 404s (an identifier nobody has, an unknown customer id) carry ``held_back`` and the header
    as its 200 does: during an outage a new caller's customer may be in the records that wait. The published error
    schema describes the field and the 404 its header."""
    from bus.identifiers import IdentifierNormaliser
    from processors.offers.openapi import ERROR, openapi

    monkeypatch.setattr(web, "answer", lambda worker, customer_id, channel: None)  # nobody holds cus_9
    views: dict[str, Any] = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    worker = SimpleNamespace(app=app, guard=None, normaliser=IdentifierNormaliser(IdentifierSettings()),
                             tables={"directory": {}})
    held_back: list[str | None] = ["no broker answered for 40 s (limit 30 s)"]
    web.register_views(worker, held_back=lambda: held_back[0])  # type: ignore[arg-type]
    answers: list[tuple[int, dict[str, Any], Any]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, body, headers)),
                           error=lambda status, reason, **extra: answers.append((status, {"error": reason}, None)))
    lookup = SimpleNamespace(query={"channel": "web", "type": "EMAIL", "value": "nobody@example.org"}, headers={})
    for expected in (held_back[0], None):
        held_back[0] = expected
        await views[web.BY_ID_PATH](view, lookup, customer_id=web.LOOKUP)
        await views[web.BY_ID_PATH](view, SimpleNamespace(query={"channel": "web"}, headers={}), customer_id="cus_9")
        for (status, body, headers), error in zip(answers[-2:], ("no customer has this identifier",
                                                                  "unknown customer id"), strict=True):
            assert (status, body) == (404, {"error": error, "held_back": expected})
            assert headers == ({HELD_BACK_HEADER: "true"} if expected else None)
            jsonschema.Draft202012Validator(ERROR).validate(body)
    responses = [operation["get"]["responses"] for operation in openapi(IdentifierSettings())["paths"].values()]
    assert {HELD_BACK_HEADER} == {header for answered in responses if "404" in answered
                                  for header in answered["404"]["headers"]}

