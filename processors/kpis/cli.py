"""``omnibus kpis run`` and ``omnibus report kpis --from --to [--csv]``."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

import typer
from rich.console import Console

from bus.bootstrap import core_settings
from bus.cli.tables import report_console, report_table
from bus.clock import read_instant
from bus.config import OmnibusSettings
from bus.topics import KPI_AGGREGATES
from processors.kpis.config import ENV_PREFIX, KpisSettings, load_kpis_settings
from processors.kpis.measures import KPIS, Measure
from processors.replay import read_topics
from processors.replay.cli import progress_bar

app = typer.Typer(no_args_is_help=True, help="KPIs computed once from the unified stream (docs/kpis.md).")
console = Console(stderr=True)
REPORT_COLUMNS = ("granularity", "window_start", "channel", "site", "revision",
                  *(m.value for m in Measure), "open_handoffs", *(k.name for k in KPIS))


@app.command("run")
def run_command(
    web_port: int = typer.Option(None, help="HTTP port of /kpis (overrides OMNIBUS_PROCESSOR_KPIS__WEB_PORT)."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Run a KPI worker until interrupted (several share the work by partitions)."""
    from bus.app import run_worker
    from bus.bootstrap import bad_settings_exit, start_process
    from bus.clock import SystemClock
    from processors.kpis.agent import APP_NAME, build_worker

    def own_settings(_: OmnibusSettings) -> KpisSettings:
        kpis = load_kpis_settings()
        return kpis if web_port is None else kpis.model_copy(update={"web_port": web_port})

    process = start_process(own_settings, metrics_of=APP_NAME, settings=lambda: core_settings(bootstrap_servers))
    with bad_settings_exit():
        worker = build_worker(process.settings, process.component, SystemClock())
    run_worker(worker.app, process.settings, web_port_setting=f"{ENV_PREFIX}WEB_PORT")


def _instant(text: str) -> datetime:
    try:
        return read_instant(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO-8601 date or instant") from exc


PENDING = "pending"  # a snapshot taken at the window's end (open handoffs) for a window that has not ended


def _now() -> datetime:
    return datetime.now(UTC)


def report_rows(records: list, start: datetime, end: datetime, granularity: str | None) -> list[dict]:
    """The highest revision of every aggregate whose window starts in ``[start, end)``, in window order."""
    best: dict[str, dict] = {}
    for record in records:
        value = record.event.value if record.event else None
        if value is None or not (start <= value["window_start"] < end):
            continue
        if granularity and value["granularity"] != granularity.upper():
            continue
        key = record.key.decode() if record.key else ""
        if key not in best or value["revision"] >= best[key]["revision"]:
            best[key] = value
    return sorted(best.values(), key=lambda v: (v["granularity"], v["window_start"], v["channel"], v["site"] or ""))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in REPORT_COLUMNS])
    return buffer.getvalue()


def report_command(
    start: str = typer.Option(..., "--from", help="First instant (ISO-8601, UTC if no offset): windows starting here."),
    end: str = typer.Option(..., "--to", help="End instant (exclusive)."),
    granularity: str = typer.Option(None, help="HOUR or DAY (default: both)."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout instead of a table."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """The KPIs of every window in [--from, --to), read from the KPI topic (latest revision of each)."""
    settings = core_settings(bootstrap_servers)
    first, last = _instant(start), _instant(end)
    if first >= last:
        raise typer.BadParameter(f"--from {start} is not before --to {end}")
    with progress_bar(f"reading {KPI_AGGREGATES.name(settings.topics)}") as progress:
        replay = asyncio.run(read_topics(settings, [KPI_AGGREGATES], progress=progress))
    rows = report_rows(replay.records, first, last, granularity)
    if as_csv:
        typer.echo(to_csv(rows), nl=False)
        return
    table = report_table("window", "channel", "site", "contacts", "FCR", "repeat 7d", "service level", "abandoned",
                  "handoffs in deadline", "open handoffs", "offer acceptance", title=f"KPIs {first} to {last}")

    def percent(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    now = _now()
    for row in rows:
        ended = row["window_end"] <= now
        table.add_row(f"{row['granularity']} {row['window_start']:%Y-%m-%d %H:%M}", row["channel"], row["site"] or "-",
                      str(row["contacts"]), percent(row["first_contact_resolution"]),
                      percent(row["repeat_contact_rate_7d"]), percent(row["service_level"]),
                      percent(row["abandonment_rate"]), percent(row["handoff_deadline_compliance"]),
                      str(sum(row["open_handoffs"].values())) if ended else PENDING, percent(row["offer_acceptance"]))
    report_console().print(table)
