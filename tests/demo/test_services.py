"""The demo runs every component in one process: each line names the component that wrote it, the demo's own
lines the demo (new-user sample: its processors' lines and its nightly batch imports named none)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog

from adapters.base.runtime import adapter_component
from adapters.legacy.mapper import COMPONENT as LEGACY
from bus.logging import LIBRARY_LOGGERS, bind_component, configure_logging, get_logger
from demo import COMPONENT, traffic
from demo.run import _import
from demo.services import started_as, stopped_as

log = get_logger("processors.example.agent")


@pytest.fixture(autouse=True)
def demo_logs() -> Iterator[None]:
    """The demo's logging (JSON lines on stderr, its component bound), put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    bind_component(COMPONENT)
    yield
    bind_component(None)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()


def components(err: str) -> dict[str, str | None]:
    return {line["event"]: line.get("component") for line in map(json.loads, err.splitlines()) if "event" in line}


class Processor:
    """A faust app as the demo starts it: its start logs and starts an agent, which logs on its own later."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.agent: asyncio.Task[None] | None = None
        self.go = asyncio.Event()

    async def start(self) -> None:
        log.info(f"{self.name} started")
        self.agent = asyncio.create_task(self._agent())

    async def _agent(self) -> None:
        await self.go.wait()
        log.info(f"{self.name} processed a record")

    async def stop(self) -> None:
        assert self.agent is not None
        await self.agent
        log.info(f"{self.name} stopped")


async def test_each_processor_of_the_demo_names_itself_and_the_demos_own_lines_name_the_demo(
        capsys: pytest.CaptureFixture[str]) -> None:
    processors = {name: Processor(name) for name in ("identity", "handoffs", "offers", "kpis")}
    for name, app in processors.items():
        await started_as(name, app)
    log.info("the demo drives a journey")
    for app in processors.values():
        app.go.set()
    await asyncio.sleep(0.01)
    for name, app in processors.items():
        await stopped_as(name, app)
    said = components(capsys.readouterr().err)
    for name in processors:
        for what in ("started", "processed a record", "stopped"):
            assert said[f"{name} {what}"] == name
    assert said["the demo drives a journey"] == COMPONENT


async def test_the_demos_batch_imports_name_the_legacy_adapter(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    async def import_file(path: Path, layout: Any) -> None:
        get_logger("adapters.legacy.ingress_batch").warning("a line was rejected", file=path.name)

    await _import(SimpleNamespace(batch=SimpleNamespace(import_file=import_file)),  # type: ignore[arg-type]
                  tmp_path, "bills", traffic.BILLS_LAYOUT, "")
    log.info("the demo goes on")
    said = components(capsys.readouterr().err)
    assert said == {"a line was rejected": adapter_component(LEGACY), "the demo goes on": COMPONENT}
