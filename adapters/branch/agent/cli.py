"""``omnibus counter-agent run | enqueue | status``: the store-and-forward client on a counter terminal.

``enqueue`` is the local API: the terminal's software calls it with one event as a JSON argument, or
JSON lines on stdin; it prints each event's id once the event is durably journaled (exit 0), or the
reason the adapter would refuse it (exit 1). ``run`` uploads the journal until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import typer

from adapters.base.errors import RejectedInput
from adapters.branch.agent import COMPONENT
from adapters.branch.agent.config import ENV_PREFIX, AgentSettings
from adapters.branch.agent.journal import Journal
from adapters.branch.agent.uploader import Uploader
from bus import early_stop, shutdown
from bus.config import StopSettings, load_component_settings
from bus.errors import ConfigError
from bus.logging import bind_component, configure_logging, get_logger

app = typer.Typer(no_args_is_help=True, help="Store-and-forward client of a counter terminal.")
log = get_logger(__name__)


def _settings(journal: Path | None) -> AgentSettings:
    """The agent's settings (``journal`` overriding its path), every line of the process from then on naming its
    ``COMPONENT``; a bad setting exits 2 with one line."""
    bind_component(COMPONENT)
    try:
        return load_component_settings(AgentSettings, ENV_PREFIX, **({"journal_path": journal} if journal else {}))
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


JOURNAL_OPTION = typer.Option(None, "--journal", help=f"Overrides {ENV_PREFIX}JOURNAL_PATH.")


@app.command("run")
def run_command(journal: Path = JOURNAL_OPTION) -> None:
    """Upload journaled events to the branch adapter until stopped; safe to kill at any moment."""
    settings = _settings(journal)
    configure_logging()
    try:
        settings.require_uploader()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    shutdown.install(StopSettings().deadline_s)  # its stop, once asked, is bounded as every process's
    asyncio.run(_run(settings))


async def _run(settings: AgentSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        shutdown.arm()  # the stop began: the process ends right after its last line (``bus.shutdown``)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping)
    early_stop.handed_over()  # a SIGTERM the start's handler took but Python dropped: stops the loop now
    journal = Journal(settings.journal_path)
    try:
        log.info("counter agent uploading", terminal=settings.terminal_id, pending=journal.counts()["pending"])
        await Uploader(journal, settings).run(stop)
    finally:
        journal.close()


@app.command("enqueue")
def enqueue_command(
    event: str = typer.Argument("-", help="One event as JSON, or '-' to read JSON lines from stdin."),
    journal: Path = JOURNAL_OPTION,
) -> None:
    """Durably record events (kind, occurred_at, ticket/transaction, identifiers); prints their event ids."""
    lines = sys.stdin.read().splitlines() if event == "-" else [event]
    try:
        events = [json.loads(line) for line in lines if line.strip()]
    except ValueError as exc:
        typer.echo(f"not JSON: {exc}", err=True)
        raise typer.Exit(1) from exc
    store = Journal(_settings(journal).journal_path)
    try:
        ids = store.append_many(events)
    except RejectedInput as exc:
        typer.echo(f"refused, nothing recorded: {exc.reason}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    for event_id in ids:
        typer.echo(event_id)


@app.command("status")
def status_command(journal: Path = JOURNAL_OPTION) -> None:
    """Counts of pending, sent and rejected events, why each rejected one was refused, and what the adapter left off
    sent events (``left_off``: the event id, the part (identifiers, handoff, follow_up, offer, or handoff_naming_nobody
    with the case's ``handoff_id``: a case opened naming no identifier of the customer), the identifier's kind and the
    reason code, never a value; kept as long as the sent event, ``SENT_RETENTION_S``). To correct one, see the
    adapter's README, "Correcting what the adapter left off"."""
    store = Journal(_settings(journal).journal_path)
    try:
        left_off = store.left_off()
        typer.echo(json.dumps({"counts": store.counts(), "rejected": [
            {"event_id": event_id, "reason": reason} for event_id, reason in store.rejected()
        ], "left_off": {"count": len(left_off), "parts": left_off}}, indent=2))
    finally:
        store.close()
