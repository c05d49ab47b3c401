"""What every adapter's command line shares: settings or a clear exit, and a drain on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import typer
from pydantic import BaseModel

from adapters.base.http import RunningServer
from bus.config import OmnibusSettings, load_component_settings, load_settings
from bus.errors import ConfigError
from bus.logging import configure_logging, get_logger

SettingsT = TypeVar("SettingsT", bound=BaseModel)
log = get_logger(__name__)


def load_or_exit(model: type[SettingsT], env_prefix: str, **overrides: Any) -> tuple[OmnibusSettings, SettingsT]:
    """Core and adapter settings, logging configured; a bad setting exits 2 with every problem named."""
    try:
        settings = load_settings()
        adapter = load_component_settings(model, env_prefix, **{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log.level, json_output=settings.log.json_output)
    return settings, adapter


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
        log.info(f"{name} ready", port=server.port, **details)
        await stop.wait()
        log.info(f"{name} stopping: draining in-flight requests")
    log.info(f"{name} stopped: everything accepted was flushed to Kafka")
