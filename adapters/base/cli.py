"""What every adapter's command line shares: settings or a clear exit, and a drain on SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import signal
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from pydantic import BaseModel

from adapters.base.http import RunningServer
from bus.bootstrap import start_process
from bus.config import OmnibusSettings, load_component_settings
from bus.logging import get_logger

SettingsT = TypeVar("SettingsT", bound=BaseModel)
log = get_logger(__name__)


def load_or_exit(model: type[SettingsT], env_prefix: str, **overrides: Any) -> tuple[OmnibusSettings, SettingsT]:
    """Core and adapter settings, logging configured (``bus.bootstrap``; the adapter runtime serves metrics);
    a bad setting exits 2 with every problem named on one line."""
    given = {k: v for k, v in overrides.items() if v is not None}
    process = start_process(lambda _: load_component_settings(model, env_prefix, **given), metrics=False)
    return process.settings, process.component


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM, so the adapter drains and flushes instead of dying mid-request."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def serve_until_signalled(
    running: AbstractAsyncContextManager[RunningServer], name: str, **details: Any
) -> None:
    """Serve until SIGTERM/SIGINT; leaving ``running`` drains in-flight requests and flushes Kafka."""
    stop = stop_on_signals()
    async with running as server:
        # Everything built at start-up lives as long as the process: moved out of the collector's
        # reach, a full collection no longer walks it again and again while requests are served.
        gc.freeze()
        log.info(f"{name} ready", port=server.port, **details)
        await stop.wait()
        log.info(f"{name} stopping: draining in-flight requests")
    log.info(f"{name} stopped: everything accepted was flushed to Kafka")
