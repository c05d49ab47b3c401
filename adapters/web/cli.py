"""``omnibus adapter web run | openapi``: the web hall's Segment-compatible ingress."""

from __future__ import annotations

import asyncio
import json
import signal

import typer

from adapters.web.config import ENV_PREFIX, WebSettings
from adapters.web.ingress import running_web_adapter
from adapters.web.openapi import OPENAPI
from bus.config import OmnibusSettings, load_component_settings, load_settings
from bus.errors import ConfigError
from bus.logging import configure_logging, get_logger

app = typer.Typer(no_args_is_help=True, help="Web hall: Segment HTTP Tracking API -> Kafka.")
log = get_logger(__name__)


@app.command("run")
def run_command(
    host: str = typer.Option(None, help=f"Overrides {ENV_PREFIX}HOST."),
    port: int = typer.Option(None, help=f"Overrides {ENV_PREFIX}PORT (0 picks a free port)."),
) -> None:
    """Serve until SIGTERM/SIGINT; then finish in-flight requests and flush Kafka before exiting."""
    try:
        settings = load_settings()
        overrides = {name: value for name, value in {"host": host, "port": port}.items() if value is not None}
        web_settings = load_component_settings(WebSettings, ENV_PREFIX, **overrides)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log.level, json_output=settings.log.json_output)
    asyncio.run(_serve(settings, web_settings))


@app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI description of the ingress."""
    typer.echo(json.dumps(OPENAPI, indent=2))


async def _serve(settings: OmnibusSettings, web_settings: WebSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_web_adapter(settings, web_settings) as server:
        log.info("web hall ready", port=server.port, sources=sorted(web_settings.write_keys))
        await stop.wait()
        log.info("web hall stopping: draining in-flight requests")
