"""``omnibus adapter web run | openapi``: the web hall's Segment-compatible ingress."""

from __future__ import annotations

import asyncio
import json

import typer

from adapters.base.cli import load_or_exit, serve_until_signalled
from adapters.base.config import dedupe_file
from adapters.base.workers import hold_port, run_workers, shared_dedupe
from adapters.base.workers import refusal as workers_refusal
from adapters.web.config import ENV_PREFIX, WebSettings
from adapters.web.ingress import NAME, running_web_adapter
from adapters.web.openapi import openapi
from bus.bootstrap import exit_with_message
from bus.config import OmnibusSettings
from bus.identifiers.normaliser import load_identifier_settings

app = typer.Typer(no_args_is_help=True, help="Web hall: Segment HTTP Tracking API -> Kafka.")


@app.command("run")
def run_command(
    host: str = typer.Option(None, help=f"Overrides {ENV_PREFIX}HOST."),
    port: int = typer.Option(None, help=f"Overrides {ENV_PREFIX}PORT (0 picks a free port)."),
    workers: int = typer.Option(1, help="Worker processes sharing the port (SO_REUSEPORT), each with its own "
                                "producer; on port 0 this process picks one free port, holds it and logs it, and "
                                "every worker serves on it; they share the dedupe file, "
                                f"{ENV_PREFIX}DEDUPE_PATH, else $XDG_STATE_HOME/omnibus/web/dedupe-PORT.sqlite "
                                "(~/.local/state/...; PORT as configured), as a single process does: the file of the "
                                "Kafka cluster and topic prefix they publish to, under targets/ beside it (on port 0 a "
                                "file for the run only, removed at its end). Worker i serves its metrics "
                                "on OMNIBUS_METRICS__PORT + i (each process counts its own)."),
) -> None:
    """Serve until SIGTERM/SIGINT; then finish in-flight requests and flush Kafka before exiting."""
    settings, web_settings = load_or_exit(WebSettings, ENV_PREFIX, name=NAME, host=host, port=port)
    with shared_dedupe(NAME, web_settings, workers, setting=f"{ENV_PREFIX}DEDUPE_PATH") as web_settings:
        problem = workers_refusal(workers, dedupe_file(NAME, web_settings))
        if problem:
            exit_with_message(f"web hall: {problem}")  # "error: ..." and status 2, like every bad setting
        held = None
        if workers > 1 and web_settings.port == 0:  # one port for all of them, held until they stop (hold_port)
            held = hold_port(web_settings.host)
            web_settings = web_settings.model_copy(update={"port": held.getsockname()[1]})
        serving = web_settings

        def serve(worker: OmnibusSettings, reuse_port: bool) -> None:
            running = running_web_adapter(worker, serving, reuse_port=reuse_port)
            asyncio.run(serve_until_signalled(running, "web hall", port_setting=f"{ENV_PREFIX}PORT",
                                              sources=sorted(serving.write_keys)))

        try:
            code = run_workers(workers, settings, serve)
        finally:
            if held is not None:
                held.close()
    raise typer.Exit(code)


@app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI description of the ingress, as this deployment's settings (OMNIBUS_IDENTIFIERS__*) serve it."""
    typer.echo(json.dumps(openapi(load_identifier_settings()), indent=2))

