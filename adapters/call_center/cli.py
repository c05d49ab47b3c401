"""``omnibus adapter call-center run | import-cdr``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from adapters.base.cli import (
    REJECTED_OK_HELP,
    exit_interrupted,
    exit_when_rejected,
    load_or_exit,
    serve_until_signalled,
    stop_on_signals,
)
from adapters.base.config import default_state_dir
from adapters.base.errors import Unavailable
from adapters.base.import_target import (
    EARLIER_HELP,
    Earlier,
    EarlierStateError,
    current_target,
    target_state_dir,
    with_target_dedupe,
)
from adapters.base.runtime import adapter_runtime, published_topics
from adapters.call_center.config import ENV_PREFIX, CallCenterSettings
from adapters.call_center.ingress_file import CdrFileReader, ImportReport, checkpoint_for, has_checkpoints
from adapters.call_center.ingress_http import NAME, running
from adapters.call_center.mapper import MapContext, Topics
from bus.bootstrap import exit_with_message
from bus.publish_retry import outage_retry

FORMER_STATE_DIR = Path(".omnibus/call-center")  # import-cdr's former default (kept read)
app = typer.Typer(no_args_is_help=True, help="Call-center adapter: Connect CTRs, Asterisk CDRs, TaskRouter.")


@app.command("run")
def run_command(port: int = typer.Option(None, help="Overrides OMNIBUS_ADAPTER_CALL_CENTER__PORT.")) -> None:
    """Serve POST /v1/connect/ctr, /v1/asterisk/cdr and /v1/twilio/taskrouter until SIGTERM."""
    settings, adapter = load_or_exit(CallCenterSettings, ENV_PREFIX, name=NAME, port=port)
    server = running(settings, adapter)
    asyncio.run(serve_until_signalled(server, "call-center adapter", port_setting=f"{ENV_PREFIX}PORT",
                                      sites=sorted(adapter.sites)))


@app.command("import-cdr")
def import_cdr_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="An Asterisk Master.csv file."),
    site: str = typer.Option(..., help="Site the file comes from (a key of the sites setting)."),
    follow: bool = typer.Option(False, help="Keep reading as Asterisk appends, until SIGTERM."),
    state_dir: Path | None = typer.Option(
        None, file_okay=False, help="The resume checkpoints and the dedupe file that make a re-import publish nothing "
        "new (default $XDG_STATE_HOME/omnibus/call_center, else ~/.local/state/omnibus/call_center).",
    ),
    rejected_ok: bool = typer.Option(False, "--rejected-ok", help=REJECTED_OK_HELP),
    earlier: Earlier | None = typer.Option(None, "--earlier-imports", help=EARLIER_HELP),
) -> None:
    """Publish a Master.csv from where the last import to this Kafka cluster and topic prefix stopped (resumable,
    duplicates dropped; the memory is per cluster and prefix, as import-batch's). A last line without its newline, or
    a CDR still inside its quoted field at the end of the file, is left for the next run (Asterisk may still be writing
    it), and the summary says so. Exit codes as
    ``import-batch`` (docs/legacy-batch.md): 0 every line published (or a duplicate); 3 (``EXIT_REJECTED_LINES``)
    lines were rejected and dead-lettered with their line number (0 with --rejected-ok); 69 Kafka unreachable at
    start, or a broker outage longer than ``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S`` (waited through until then; one
    ``error:`` line and what was published; a re-run resumes); 2 also for state of an earlier version, until
    ``--earlier-imports`` says once whose it is. Checkpoints and dedupe file are in the cluster's and prefix's folder,
    ``<state-dir>/targets/<cluster>~<prefix>~<digest>/``; for the one that claimed an earlier version's state, at the
    top, the dedupe file ``<state-dir>/dedupe.sqlite`` unless ``OMNIBUS_ADAPTER_CALL_CENTER__DEDUPE_PATH`` names one (it
    used to open the HTTP adapter's port file)."""
    settings, adapter = load_or_exit(CallCenterSettings, ENV_PREFIX, name=NAME)
    if site not in adapter.sites:
        raise typer.BadParameter(f"unknown site {site!r}; configured: {', '.join(sorted(adapter.sites))}")
    root = import_state_dir(state_dir)

    async def main() -> ImportReport:
        target = await current_target(settings, published_topics(settings))  # before any state
        try:
            states = target_state_dir(root, target, has_earlier=has_checkpoints(root), earlier=earlier)
        except EarlierStateError as exc:  # before anything is published
            exit_with_message(exc)
        importing = with_target_dedupe(import_settings(adapter, root), states, root)
        # Metrics only while following (long-running); a one-shot import needs no port.
        async with adapter_runtime(NAME, settings, importing, metrics=follow, importing=True) as runtime:
            ctx = MapContext(site, adapter.sites[site], Topics.of(settings.topics), adapter, settings.identifiers)
            reader = CdrFileReader(path, ctx, runtime.publisher, checkpoint_for(path, states),
                                   retry=outage_retry(settings))
            try:
                report = await (reader.follow(stop_on_signals()) if follow else reader.read_available())
            except Unavailable as exc:  # was a traceback and exit 1
                exit_interrupted(path.name, reader.report, exc, settings.producer.give_up_after_s)
        typer.echo(report.summary(path.name))
        return report

    exit_when_rejected(bool(asyncio.run(main()).rejected), rejected_ok=rejected_ok)


def import_state_dir(given: Path | None) -> Path:
    """``--state-dir``, else ``<state_home>/call_center`` (``./.omnibus/call-center``, the former default relative
    to the working directory, while only that exists): the same place whatever the working directory."""
    return given if given is not None else default_state_dir("call_center", FORMER_STATE_DIR)


def import_settings(adapter: CallCenterSettings, state_dir: Path) -> CallCenterSettings:
    """``adapter`` with its dedupe file under ``state_dir`` unless one was configured (or memory was chosen)."""
    if adapter.dedupe_path is not None or adapter.dedupe_in_memory:
        return adapter
    return adapter.model_copy(update={"dedupe_path": state_dir / "dedupe.sqlite"})
