"""Bearer tokens on the processors' query views (tester24 F12: the screen pop and the offers and KPI queries answered
anyone who reached the port). Served in process by faust's own aiohttp application, as a worker serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import faust
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bus.config import OmnibusSettings
from bus.refused_credentials import BEARER_CHALLENGE
from processors.kpis.peers import Held
from processors.kpis.web import register_views
from processors.readiness import install
from processors.web_auth import authorization, refusal
from tests.support.refusals import refusal_lines, refused_total

TOKENS = {"crm": SecretStr("crm-token-0123456789"), "desk": SecretStr("desk-token-9876543210")}


async def client_for(tokens: dict[str, SecretStr]) -> TestClient:
    app = faust.App("web-auth-test", broker="memory://", store="memory://", web_enabled=True)
    install(app, "kpis", broker=OmnibusSettings().readiness)
    register_views(app, Held(1, lambda: {0}, lambda partitions: {}), tokens=tokens)
    client = TestClient(TestServer(await app.web.wsgi()))
    await client.start_server()
    return client


@pytest.fixture
async def guarded_client() -> AsyncIterator[TestClient]:
    client = await client_for(TOKENS)
    yield client
    await client.close()


async def test_a_query_without_a_token_is_refused_with_a_reason(guarded_client: TestClient) -> None:
    assert (await guarded_client.get("/kpis/partitions?partitions=0")).status == 401  # the workers' own view too
    response = await guarded_client.get("/kpis")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token" in (await response.json())["error"]


async def test_a_query_with_a_wrong_token_or_scheme_is_refused_and_the_token_not_echoed(
        guarded_client: TestClient) -> None:
    for header in ("Bearer not-the-token", "Basic Y3JtOnRva2Vu", "Bearer "):
        response = await guarded_client.get("/kpis", headers={"Authorization": header})
        assert response.status == 401, header
        body = await response.text()
        assert "not-the-token" not in body and "Y3JtOnRva2Vu" not in body


async def test_each_callers_token_is_let_through(guarded_client: TestClient) -> None:
    for token in TOKENS.values():
        response = await guarded_client.get("/kpis", headers={"Authorization": f"Bearer {token.get_secret_value()}"})
        assert response.status == 200, await response.text()


async def test_probes_need_no_token(guarded_client: TestClient) -> None:
    response = await guarded_client.get("/live")
    assert response.status == 200
    assert (await guarded_client.get("/ready")).status != 401


async def test_without_tokens_set_nothing_is_asked() -> None:
    client = await client_for({})
    try:
        assert (await client.get("/kpis")).status == 200
    finally:
        await client.close()


def test_a_worker_forwards_the_first_token_and_nothing_when_none_is_set() -> None:
    assert refusal(authorization(TOKENS)["Authorization"], TOKENS) is None
    assert authorization({}) == {}


def test_the_token_never_appears_in_the_settings_repr() -> None:
    from bus.config import WebSettings

    shown = repr(WebSettings(tokens=TOKENS))
    assert "crm-token" not in shown and "desk-token" not in shown


def identity_and_offers_app(tokens: dict[str, SecretStr]) -> faust.App:
    """A faust app with identity's and the offers processor's views, as their workers register them (not started:
    a let-through query answers 503 "not ready", which is past the token check)."""
    from types import SimpleNamespace

    from bus.identifiers import IdentifierNormaliser
    from omnibus.cli import Composition
    from processors.identity import web as identity_web
    from processors.offers import web as offers_web

    app = faust.App("web-auth-identity", broker="memory://", store="memory://", web_enabled=True)
    settings = OmnibusSettings(web={"tokens": tokens})
    processor = SimpleNamespace(app=app, settings=settings, book=Composition().profile_book(),
                                nodes=SimpleNamespace(name="identity-nodes"))
    identity_web.register_views(processor)  # type: ignore[arg-type]
    normaliser = IdentifierNormaliser(settings.identifiers)  # the offers query's lookups and its served document
    offers_web.register_views(SimpleNamespace(app=app, normaliser=normaliser), tokens=tokens)  # type: ignore[arg-type]
    return app


@pytest.mark.parametrize("path", ["/customers/lookup?type=PHONE&value=%2B33612345678", "/customers/cus_1",
                                  "/identity/nodes?key=cus_1", "/customers/cus_1/offers?channel=WEB"])
async def test_the_screen_pop_and_the_offers_query_ask_for_the_token(path: str) -> None:
    client = TestClient(TestServer(await identity_and_offers_app(TOKENS).web.wsgi()))
    await client.start_server()
    try:
        assert (await client.get(path)).status == 401
        bearer = {"Authorization": f"Bearer {TOKENS['crm'].get_secret_value()}"}
        assert (await client.get(path, headers=bearer)).status != 401
        assert (await client.get("/openapi.json")).status == 200  # the contract: no customer data, never asked
        assert (await client.get("/live")).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing"), ({"Authorization": "Basic Y3JtOnRva2Vu"}, "malformed"), ({"Authorization": "Bearer "}, "malformed"),
    ({"Authorization": "Bearer old-crm-token-5555"}, "unknown"),
])
async def test_tester34_f16_a_refused_query_is_counted_and_logged_without_the_token(
        guarded_client: TestClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], reason: str) -> None:
    """The CRM calling with a rotated token got 401s that no metric or log line showed."""
    before = refused_total("kpis", reason)
    with refusal_lines(monkeypatch) as lines:
        for _ in range(3):
            response = await guarded_client.get("/kpis", headers=headers)
            assert response.status == 401
            assert response.headers["WWW-Authenticate"] == BEARER_CHALLENGE
            assert (await response.json())["error"].startswith(f"{reason} ")  # the answer says what is counted (F8)
    assert refused_total("kpis", reason) - before == 3
    (line,) = lines
    assert (line["component"], line["reason"], line["route"], line["refused"]) == ("kpis", reason, "/kpis", 1)
    assert "old-crm-token-5555" not in str(lines) and "Y3JtOnRva2Vu" not in str(lines)


async def test_every_refusal_answers_the_adapters_error_shape_with_its_code(guarded_client: TestClient) -> None:
    """The screen pop's 401 was ``{"error": "unknown bearer token"}`` where every adapter's 401 carries
    ``"code": "unauthorized"`` (integrating.md: "A 401"): a CRM matching on ``code`` missed it. One builder for
    both."""
    from bus.refused_credentials import unauthorized_body

    for header in (None, "Bearer not-the-token", "Basic Y3JtOnRva2Vu"):
        response = await guarded_client.get("/kpis", headers={"Authorization": header} if header else {})
        body = await response.json()
        assert response.status == 401 and body == unauthorized_body(body["error"]), body
        assert body["code"] == "unauthorized"
