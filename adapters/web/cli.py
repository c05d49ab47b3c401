"""``omnibus adapter web run | openapi``: the web hall's Segment-compatible ingress."""

from __future__ import annotations

import asyncio
import json

import typer

from adapters.base.cli import load_or_exit, serve_until_signalled
from adapters.web.config import ENV_PREFIX, WebSettings
from adapters.web.ingress import running_web_adapter
from adapters.web.openapi import OPENAPI

app = typer.Typer(no_args_is_help=True, help="Web hall: Segment HTTP Tracking API -> Kafka.")


@app.command("run")
def run_command(
    host: str = typer.Option(None, help=f"Overrides {ENV_PREFIX}HOST."),
    port: int = typer.Option(None, help=f"Overrides {ENV_PREFIX}PORT (0 picks a free port)."),
) -> None:
    """Serve until SIGTERM/SIGINT; then finish in-flight requests and flush Kafka before exiting."""
    settings, web_settings = load_or_exit(WebSettings, ENV_PREFIX, host=host, port=port)
    running = running_web_adapter(settings, web_settings)
    asyncio.run(serve_until_signalled(running, "web hall", sources=sorted(web_settings.write_keys)))


@app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI description of the ingress."""
    typer.echo(json.dumps(OPENAPI, indent=2))

