"""``omnibus adapter branch run | openapi``: the counter terminals' upload endpoint."""

from __future__ import annotations

import asyncio
import json

import typer

from adapters.base.cli import load_or_exit, serve_until_signalled
from adapters.branch.config import ENV_PREFIX, BranchSettings
from adapters.branch.ingress import NAME, running_branch_adapter
from adapters.branch.openapi import openapi
from bus.identifiers.normaliser import load_identifier_settings

app = typer.Typer(no_args_is_help=True, help="Branch counters: terminal uploads -> Kafka.")


@app.command("run")
def run_command(
    host: str = typer.Option(None, help=f"Overrides {ENV_PREFIX}HOST."),
    port: int = typer.Option(None, help=f"Overrides {ENV_PREFIX}PORT (0 picks a free port)."),
) -> None:
    """Serve until SIGTERM/SIGINT; then finish in-flight requests and flush Kafka before exiting."""
    settings, branch_settings = load_or_exit(BranchSettings, ENV_PREFIX, name=NAME, host=host, port=port)
    running = running_branch_adapter(settings, branch_settings)
    unbound = sorted(set(branch_settings.terminal_tokens) - set(branch_settings.terminal_branches))
    asyncio.run(serve_until_signalled(running, "branch adapter", port_setting=f"{ENV_PREFIX}PORT",
                                      terminals=len(branch_settings.terminal_tokens),
                                      terminals_without_branch=len(unbound)))


@app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI description of the ingress, as this deployment's settings (OMNIBUS_IDENTIFIERS__*) serve it."""
    typer.echo(json.dumps(openapi(load_identifier_settings()), indent=2))

