"""``omnibus adapter call-center serve | import-cdr``."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer

from adapters.base.runtime import adapter_runtime
from adapters.call_center.config import ENV_PREFIX, CallCenterSettings
from adapters.call_center.ingress_file import CdrFileReader, checkpoint_for
from adapters.call_center.ingress_http import running
from adapters.call_center.mapper import MapContext, Topics
from bus.config import load_component_settings, load_settings
from bus.logging import configure_logging, get_logger
from bus.metrics import serve_metrics

app = typer.Typer(no_args_is_help=True, help="Call-center adapter: Connect CTRs, Asterisk CDRs, TaskRouter.")
log = get_logger(__name__)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM, so the adapter drains and flushes instead of dying mid-request."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@app.command("run")
def run_command(port: int = typer.Option(None, help="Overrides OMNIBUS_ADAPTER_CALL_CENTER__PORT.")) -> None:
    """Serve POST /v1/connect/ctr, /v1/asterisk/cdr and /v1/twilio/taskrouter until SIGTERM."""
    settings = load_settings()
    overrides = {"port": port} if port is not None else {}
    adapter = load_component_settings(CallCenterSettings, ENV_PREFIX, **overrides)
    configure_logging(settings.log.level, json_output=settings.log.json_output)
    metrics = serve_metrics(settings.metrics)

    async def main() -> None:
        stop = stop_on_signals()
        async with running(settings, adapter) as server:
            log.info("call-center adapter ready", port=server.port, sites=sorted(adapter.sites))
            await stop.wait()
        log.info("call-center adapter stopped: accepted requests drained and flushed")

    try:
        asyncio.run(main())
    finally:
        if metrics:
            metrics.stop()


@app.command("import-cdr")
def import_cdr_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="An Asterisk Master.csv file."),
    site: str = typer.Option(..., help="Site the file comes from (a key of the sites setting)."),
    follow: bool = typer.Option(False, help="Keep reading as Asterisk appends, until SIGTERM."),
    state_dir: Path = typer.Option(Path(".omnibus/call-center"), help="Where the resume checkpoint is kept."),
) -> None:
    """Publish a Master.csv from where the last import stopped (resumable, duplicates dropped)."""
    settings = load_settings()
    adapter = load_component_settings(CallCenterSettings, ENV_PREFIX)
    if site not in adapter.sites:
        raise typer.BadParameter(f"unknown site {site!r}; configured: {', '.join(sorted(adapter.sites))}")
    configure_logging(settings.log.level, json_output=settings.log.json_output)

    async def main() -> None:
        async with adapter_runtime("call_center", settings, adapter) as runtime:
            ctx = MapContext(site, adapter.sites[site], Topics.of(settings.topics), adapter)
            reader = CdrFileReader(path, ctx, runtime.publisher, checkpoint_for(path, state_dir))
            report = await (reader.follow(stop_on_signals()) if follow else reader.read_available())
        typer.echo(f"{report.lines} lines, {report.published_events} events published, "
                   f"{report.duplicates} duplicates, {report.rejected} rejected")

    asyncio.run(main())
