"""Every line an HTTP adapter logs names its component, the port line first (new-user sample: the demo printed three
``adapter listening`` lines, port and host only, and nobody could tell the web hall's from the call center's, while
the metrics line beside them said ``"component": "adapter.web"``)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web

from adapters.base import http as http_module
from adapters.base.config import AdapterSettings
from adapters.base.http import LISTENING_EVENT, serving
from bus.config import OmnibusSettings
from bus.logging import LIBRARY_LOGGERS, configure_logging, get_logger

log = get_logger("adapters.test.handler")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()


@asynccontextmanager
async def no_kafka(name: str, *_: Any, **__: Any) -> AsyncIterator[Any]:
    """``adapter_runtime`` without a broker: only what ``serving`` hands to ``build_app``."""
    yield SimpleNamespace(name=name)


def app_logging_each_request(runtime: Any) -> web.Application:
    async def handle(_: web.Request) -> web.Response:
        log.info("request handled", adapter=runtime.name)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handle)
    return app


def lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


async def test_adapters_in_one_process_each_name_their_component_on_every_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """As the demo runs them: two adapters started one after the other in one task. Each one's port line and the
    lines of the requests it serves name it; the caller's own lines, between and after, name none."""
    monkeypatch.setattr(http_module, "adapter_runtime", no_kafka)
    configure_logging("INFO")
    settings, adapter = OmnibusSettings(), AdapterSettings(host="127.0.0.1", port=0)
    async with AsyncExitStack() as stack:
        web_hall = await stack.enter_async_context(serving("web", settings, adapter, app_logging_each_request))
        log.info("the caller, between two adapters")
        branch = await stack.enter_async_context(serving("branch", settings, adapter, app_logging_each_request))
        async with aiohttp.ClientSession() as http:
            for server in (web_hall, branch, web_hall):
                async with http.get(f"http://127.0.0.1:{server.port}/") as response:
                    assert response.status == 200
        log.info("the caller, after")
    logged = lines(capsys.readouterr().err)
    listening = {line["port"]: line.get("component") for line in logged if line["event"] == LISTENING_EVENT}
    assert listening == {web_hall.port: "adapter.web", branch.port: "adapter.branch"}
    handled = [(line["adapter"], line.get("component")) for line in logged if line["event"] == "request handled"]
    assert handled == [("web", "adapter.web"), ("branch", "adapter.branch"), ("web", "adapter.web")]
    callers = [line for line in logged if line["event"].startswith("the caller")]
    assert len(callers) == 2 and all("component" not in line for line in callers)


async def test_a_lines_own_component_wins(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A line that names a component itself (a dead letter's, a refusal's) keeps it inside an adapter's context."""
    from bus.logging import logged_as

    configure_logging("INFO")
    with logged_as("adapter.web"):
        log.info("named", component="adapter.call_center")
        log.info("unnamed")
    logged = {line["event"]: line.get("component") for line in lines(capsys.readouterr().err)}
    assert logged == {"named": "adapter.call_center", "unnamed": "adapter.web"}
