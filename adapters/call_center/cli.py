"""``omnibus adapter call-center run | import-cdr``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from adapters.base.cli import load_or_exit, serve_until_signalled, stop_on_signals
from adapters.base.errors import Unavailable
from adapters.base.runtime import adapter_runtime
from adapters.call_center.config import ENV_PREFIX, CallCenterSettings
from adapters.call_center.ingress_file import CdrFileReader, checkpoint_for
from adapters.call_center.ingress_http import running
from adapters.call_center.mapper import MapContext, Topics
from bus import shutdown
from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT, exit_with_message
from bus.publish_retry import outage_retry

app = typer.Typer(no_args_is_help=True, help="Call-center adapter: Connect CTRs, Asterisk CDRs, TaskRouter.")


@app.command("run")
def run_command(port: int = typer.Option(None, help="Overrides OMNIBUS_ADAPTER_CALL_CENTER__PORT.")) -> None:
    """Serve POST /v1/connect/ctr, /v1/asterisk/cdr and /v1/twilio/taskrouter until SIGTERM."""
    settings, adapter = load_or_exit(CallCenterSettings, ENV_PREFIX, port=port)
    server = running(settings, adapter)
    asyncio.run(serve_until_signalled(server, "call-center adapter", sites=sorted(adapter.sites)))


@app.command("import-cdr")
def import_cdr_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="An Asterisk Master.csv file."),
    site: str = typer.Option(..., help="Site the file comes from (a key of the sites setting)."),
    follow: bool = typer.Option(False, help="Keep reading as Asterisk appends, until SIGTERM."),
    state_dir: Path = typer.Option(Path(".omnibus/call-center"), help="Where the resume checkpoint is kept."),
) -> None:
    """Publish a Master.csv from where the last import stopped (resumable, duplicates dropped). A broker outage is
    waited through for up to ``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S``; then exit 69 with one ``error:`` line and what was
    published (a re-run resumes); Kafka unreachable at start: 69 as well."""
    settings, adapter = load_or_exit(CallCenterSettings, ENV_PREFIX)
    if site not in adapter.sites:
        raise typer.BadParameter(f"unknown site {site!r}; configured: {', '.join(sorted(adapter.sites))}")

    async def main() -> None:
        # Metrics only while following (long-running); a one-shot import needs no port (tester13 S4).
        async with adapter_runtime("call_center", settings, adapter, metrics=follow, importing=True) as runtime:
            ctx = MapContext(site, adapter.sites[site], Topics.of(settings.topics), adapter, settings.identifiers)
            reader = CdrFileReader(path, ctx, runtime.publisher, checkpoint_for(path, state_dir),
                                   retry=outage_retry(settings))
            try:
                report = await (reader.follow(stop_on_signals()) if follow else reader.read_available(to_end=True))
            except Unavailable as exc:  # tester15 F13: was a traceback and exit 1
                typer.echo(f"{reader.report.summary()} (interrupted)")
                shutdown.arm(KAFKA_UNAVAILABLE_EXIT)  # the flush to a broker that does not answer: bounded, still 69
                exit_with_message(f"{exc.reason} (tried again for {settings.producer.give_up_after_s:g} s, "
                                  "OMNIBUS_PRODUCER__GIVE_UP_AFTER_S); run the same command again to resume",
                                  KAFKA_UNAVAILABLE_EXIT)
        typer.echo(report.summary())

    asyncio.run(main())
