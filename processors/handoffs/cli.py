"""``omnibus handoffs run | reconcile`` and ``omnibus report handoffs --month YYYY-MM``."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bus.bootstrap import core_settings
from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines
from bus.cli.tables import WIDE_COLUMNS, ReportTable, report_console, report_table
from bus.config import OmnibusSettings
from bus.errors import ConfigError
from bus.plural import counted
from bus.replay import replay_topic
from bus.topics import HANDOFF_EVENTS
from processors.handoffs import command_cli
from processors.handoffs.config import ENV_PREFIX, HandoffsSettings, load_handoffs_settings, load_policy
from processors.handoffs.customer_report import CustomerRow, compute_customer_report
from processors.handoffs.reconcile import Unaccounted, reconcile
from processors.handoffs.report import ReportRow, compute_report, hours_minutes, month_bounds, to_csv

app = typer.Typer(no_args_is_help=True, help="Back-office handoff tracker.")
report_app = typer.Typer(no_args_is_help=True, help="Month-end reports computed from the topics.")
console = report_console()
command_cli.register(app)  # acknowledge | accept | transfer | ... | show


class Format(str, Enum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FORMAT = typer.Option(Format.TABLE, "--format", help=f"table, csv, or json: {JSON_LINES_HELP}.")


def _handoffs_settings(policy_file: Path | None) -> HandoffsSettings:
    overrides = {"policy_file": policy_file} if policy_file else {}
    return load_handoffs_settings(**overrides)


@app.command("run")
def run_command(
    policy_file: Path = typer.Option(None, help="Overrides OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Run the tracker worker until interrupted."""
    from bus.app import run_worker
    from bus.bootstrap import bad_settings_exit, start_process
    from bus.clock import SystemClock
    from processors.handoffs.agent import APP_NAME, build_worker

    def own_settings(_: OmnibusSettings) -> tuple[HandoffsSettings, Any]:
        handoffs = _handoffs_settings(policy_file)
        return handoffs, load_policy(handoffs.policy_file)

    process = start_process(own_settings, metrics_of=APP_NAME, settings=lambda: core_settings(bootstrap_servers))
    (handoffs, policy), settings = process.component, process.settings
    with bad_settings_exit():
        worker = build_worker(settings, handoffs, policy, SystemClock())
    run_worker(worker.app, settings, web_port_setting=f"{ENV_PREFIX}WEB_PORT")


@app.command("reconcile")
def reconcile_command(
    grace_minutes: float = typer.Option(None, help="Ignore work orders younger than this (default: the ack timeout)."),
    policy_file: Path = typer.Option(None, help="Overrides OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE."),
    output_format: Format = FORMAT,
    strict: bool = typer.Option(True, "--strict/--no-strict",
                                help="--strict (the default): exit 1 when anything is unaccounted for; --no-strict: "
                                     "exit 0 all the same (report only)."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """List every handoff not accounted for on both sides (channel and back office). Exit 0 when every one is,
    1 when some are not (0 with ``--no-strict``), 2 on a usage error: as ``omnibus replay`` and ``verify``."""
    settings = core_settings(bootstrap_servers)
    policy = load_policy(_handoffs_settings(policy_file).policy_file)
    grace = timedelta(minutes=grace_minutes if grace_minutes is not None else policy.acknowledgement.timeout_minutes)
    replay = asyncio.run(replay_topic(settings, HANDOFF_EVENTS))
    found = reconcile(replay.events, datetime.now(UTC), grace)
    _print_unaccounted(found, output_format)
    if strict and found:
        raise typer.Exit(1)


def _print_unaccounted(found: list[Unaccounted], output_format: Format) -> None:
    rows = [{**asdict(u), "since": u.since.isoformat(), "age": u.age.total_seconds()} for u in found]
    if output_format is Format.JSON:
        echo_json_lines(rows)
    elif output_format is Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(Unaccounted.__dataclass_fields__), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = report_table("handoff", "problem", "team", "receiving system", "since", "age", "re-sends",
                      title=f"{counted(len(found), 'handoff')} not accounted for")
        for u in found:
            table.add_row(u.handoff_id, u.problem, u.team or "-", u.receiving_system or "-", u.since.isoformat(),
                          hours_minutes(u.age.total_seconds()), str(u.resends))
        console.print(table)


class By(str, Enum):
    PEOPLE = "people"
    CUSTOMER = "customer"


@report_app.command("handoffs")
def report_handoffs_command(
    month: str = typer.Option(..., help="Month to report, YYYY-MM."),
    output_format: Format = FORMAT,
    timezone: str = typer.Option("UTC", help="Time zone the month's boundaries are in."),
    by: By = typer.Option(By.PEOPLE, "--by", help="people: per team and person; customer: per customer."),
    as_json: bool = typer.Option(False, "--json", help=f"Same as --format json: {JSON_LINES_HELP}, with its month"),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Per person and per team: received, resolved, time to resolve, breached, escalated, bounced. With
    ``--by customer``: handoffs, matters, bounces and repeats within 7 days per customer."""
    output_format = Format.JSON if as_json else output_format
    try:
        month_bounds(month, timezone)  # a bad month or zone is refused before Kafka is read
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        replay = asyncio.run(replay_topic(core_settings(bootstrap_servers), HANDOFF_EVENTS))
        if by is By.CUSTOMER:
            _print_customers(compute_customer_report(replay.events, month, timezone), month, output_format)
            return
        rows = compute_report(replay.events, month, timezone)
    except (ValueError, ConfigError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if output_format is Format.JSON:
        echo_json_lines(rows, month=month)
    elif output_format is Format.CSV:
        typer.echo(to_csv(rows), nl=False)
    else:
        print_people(rows, f"Handoffs, {month} ({timezone})", console)


def print_people(rows: list[ReportRow], title: str, out: Console) -> None:
    """Per team and person; below 120 columns resolved, breached and bounced only, names whole on one line."""
    table = report_table("scope", "name", "received", "resolved", "median (h:mm)", "p90 (h:mm)", "breached",
                         "escalated", "bounced", narrow=("scope", "name", "resolved", "breached", "bounced"),
                         whole=("scope", "name"), console=out, title=title)
    for r in rows:
        table.add_row(r.scope, r.name, str(r.received), str(r.resolved), hours_minutes(r.median_resolve_s),
                      hours_minutes(r.p90_resolve_s), str(r.breached), str(r.escalated), str(r.bounced))
    out.print(table)
    _wide_hint(table, out, "received, median and p90 time to resolve, and escalations")


def _wide_hint(table: ReportTable, out: Console, hidden: str) -> None:
    if table.shown != table.declared:
        out.print(f"({hidden}: with --json, or on a terminal of COLUMNS={WIDE_COLUMNS})")


def _print_customers(rows: list[CustomerRow], month: str, output_format: Format) -> None:
    if output_format is Format.JSON:
        echo_json_lines(rows, month=month)
    elif output_format is Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(CustomerRow.__dataclass_fields__), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        print_customers(rows, f"Handoffs per customer, {month}", console)


def print_customers(rows: list[CustomerRow], title: str, out: Console) -> None:
    """Per customer; below 120 columns handoffs, bounces and repeats only, customer ids whole on one line."""
    table = report_table("customer", "handoffs", "matters", "resolved", "bounces", "repeats (7 days)",
                         "repeated case types", "follow-ups",
                         narrow=("customer", "handoffs", "bounces", "repeats (7 days)"),
                         whole=("customer",), console=out, title=title)
    for r in rows:
        table.add_row(r.customer_id, str(r.handoffs), str(r.matters), str(r.resolved), str(r.bounces),
                      str(r.repeats), r.repeat_case_types or "-", str(r.follow_ups))
    out.print(table)
    _wide_hint(table, out, "matters, resolved, repeated case types and follow-ups")
