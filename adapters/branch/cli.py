"""``omnibus adapter branch run | openapi``: the counter terminals' upload endpoint."""

from __future__ import annotations

import asyncio
import json
import signal

import typer

from adapters.branch.config import ENV_PREFIX, BranchSettings
from adapters.branch.ingress import running_branch_adapter
from adapters.branch.openapi import OPENAPI
from bus.config import OmnibusSettings, load_component_settings, load_settings
from bus.errors import ConfigError
from bus.logging import configure_logging, get_logger

app = typer.Typer(no_args_is_help=True, help="Branch counters: terminal uploads -> Kafka.")
log = get_logger(__name__)


@app.command("run")
def run_command(
    host: str = typer.Option(None, help=f"Overrides {ENV_PREFIX}HOST."),
    port: int = typer.Option(None, help=f"Overrides {ENV_PREFIX}PORT (0 picks a free port)."),
) -> None:
    """Serve until SIGTERM/SIGINT; then finish in-flight uploads and flush Kafka before exiting."""
    try:
        settings = load_settings()
        overrides = {name: value for name, value in {"host": host, "port": port}.items() if value is not None}
        branch_settings = load_component_settings(BranchSettings, ENV_PREFIX, **overrides)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log.level, json_output=settings.log.json_output)
    asyncio.run(_serve(settings, branch_settings))


@app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI description of the ingress."""
    typer.echo(json.dumps(OPENAPI, indent=2))


async def _serve(settings: OmnibusSettings, branch_settings: BranchSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_branch_adapter(settings, branch_settings) as server:
        log.info("branch adapter ready", port=server.port, terminals=len(branch_settings.terminal_tokens))
        await stop.wait()
        log.info("branch adapter stopping: draining in-flight uploads")
