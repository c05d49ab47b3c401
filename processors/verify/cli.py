"""``omnibus verify``: check a run from its topics; exit 0 when every check holds, 1 with the failures listed,
``NOT_READ_YET_EXIT`` when a processor has records it has not read yet (nothing judged)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bus.cli.tables import report_console
from bus.config import load_settings
from bus.plural import counted
from processors.verify.report import MAX_LISTED, Report
from processors.verify.run import PROCESSORS, verify

# EX_TEMPFAIL of BSD's sysexits.h ("try again later"), as ``bus.stall_exit.WORKER_STALLED_EXIT``: a processor has
# records it has not read yet, nothing was judged; not 1, which says something was lost or written wrong.
NOT_READ_YET_EXIT = 75


def render(report: Report, console: Console, *, list_figures: bool = False) -> None:
    """A table of the checks (status, checked, failed), the failures under it, then the figures; ``list_figures``:
    under them, the items of each figure that counts any (``Report.items``: contact, event, handoff and customer
    ids, never an identifier value; the first ``MAX_LISTED`` of each, with a count of the rest), else which figures
    list them."""
    if not report.judged:
        for unread in report.unread:
            console.print(f"not judged: {unread.line()}", markup=False, highlight=False)
        console.print(f"[yellow]nothing judged: records not read yet are not lost (exit {NOT_READ_YET_EXIT})"
                      "[/yellow]")
        return
    table = Table(title="omnibus verify")
    for column in ("check", "checked", "failed", "status"):
        table.add_column(column, justify="right" if column in ("checked", "failed") else "left")
    for check in report.checks:
        table.add_row(check.name, str(check.checked), str(len(check.failures)),
                      "[green]ok[/green]" if check.ok else "[red]FAIL[/red]")
    console.print(table)
    for check in report.checks:
        if check.failures:
            console.print(f"[bold red]{check.name}[/bold red]")
            for line in check.failures[:MAX_LISTED]:
                console.print(f"  - {line}", markup=False, highlight=False)
            if len(check.failures) > MAX_LISTED:
                console.print(f"  … and {len(check.failures) - MAX_LISTED} more")
    for line in report.notes[:MAX_LISTED]:
        console.print(f"note: {line}", markup=False, highlight=False)
    if (more := report.notes_left_out()) is not None:
        console.print(f"note: {more}", markup=False, highlight=False)
    console.print("figures: " + ", ".join(f"{k} {v}" for k, v in sorted(report.figures.items())),
                  markup=False, highlight=False)
    for name, items in sorted(report.items.items()) if list_figures else ():
        console.print(f"{name}:", markup=False, highlight=False)
        for line in items[:MAX_LISTED]:
            console.print(f"  - {line}", markup=False, highlight=False)
        if len(items) > MAX_LISTED:
            console.print(f"  … and {len(items) - MAX_LISTED} more", markup=False, highlight=False)
    if report.items and not list_figures:
        console.print(f"(--list-figures lists the {', '.join(sorted(report.items))})", markup=False, highlight=False)
    console.print("[green]all checks hold[/green]" if report.ok else
                  f"[red]{counted(sum(len(c.failures) for c in report.checks), 'failure')}[/red]")


PROCESSOR_HELP = (f"Processor to check (repeat; default all it covers): {', '.join(PROCESSORS)}. The KPI and offer "
                  "processors are not covered: omnibus replay kpis compares the KPIs with their inputs.")


def verify_command(
    processor: list[str] = typer.Option(None, help=PROCESSOR_HELP),
    ledger: Path = typer.Option(None, help="JSONL of acknowledged events ({\"event_id\", \"topic\"} per line); "
                                "default: every event on the input topics."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
    list_figures: bool = typer.Option(
        False, "--list-figures", help=f"Under the figures, list what each one counts, item by item (the first "
        f"{MAX_LISTED}, with a count of the rest): contact, event, handoff and customer ids (recomputed and in the "
        "table), never identifier values."),
    wait: float = typer.Option(0.0, "--wait", metavar="SECONDS", min=0.0, help=(
        "While a processor's consumer group has records it has not read yet, read its lag again for up to SECONDS "
        f"before judging; still unread then: nothing judged, exit {NOT_READ_YET_EXIT}.")),
) -> None:
    """Check a run from its topics: every accepted input reflected, duplicates with one event id, no stale
    row, each processor's table equal to a recomputation from its input log, identity's contact records named by
    their customers' contact indexes. Covers the identity and handoff processors only: not the KPI processor
    (``omnibus replay kpis`` recomputes its aggregates and compares) nor the offer processor. First each
    processor's consumer lag on its inputs: records it has not read yet are not lost; while there are any (after
    ``--wait``), nothing is judged and the exit status is 75. Each stage (the lag, reading the topics, each
    recomputation) draws its progress and rate on stderr."""
    from bus.bootstrap import bad_settings_exit
    from processors.replay.cli import progress_bar

    with bad_settings_exit():
        settings = load_settings()
        if bootstrap_servers:
            settings = settings.model_copy(
                update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})})
    try:
        with bad_settings_exit():
            report = verify(settings, processors=processor or PROCESSORS, ledger=ledger, wait_s=wait,
                            progress=progress_bar)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    render(report, report_console(), list_figures=list_figures)
    if not report.judged:
        raise typer.Exit(NOT_READ_YET_EXIT)
    if not report.ok:
        raise typer.Exit(1)
