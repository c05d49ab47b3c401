"""``omnibus offers publish FILE.yaml | list | withdraw ID | run | openapi``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console

from bus.bootstrap import core_settings
from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines
from bus.cli.operator_text import operator_text
from bus.cli.tables import WIDE_COLUMNS, report_console, report_table
from bus.plural import counted
from processors.offers.campaigns import (
    Current,
    PublishRefused,
    current_offers,
    publish,
    withdraw,
)
from processors.offers.offer_file import OfferFileError, load_offers

app = typer.Typer(no_args_is_help=True, help="Offers defined once for every channel: publish, list, withdraw, run.")
console = report_console()


BOOTSTRAP = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS.")


@app.command("publish")
def publish_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML file with one offer or a list."),
    check: bool = typer.Option(False, "--check", help="Only validate the file; publish nothing."),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """Validate the offers of FILE and publish the new or revised ones to the offers topic."""
    try:
        offers = load_offers(file)
    except OfferFileError as exc:
        for error in exc.errors:
            typer.echo(f"{file}:{error.line}: {error.message}", err=True)
        raise typer.Exit(2) from exc
    if check:
        typer.echo(f"{file}: {counted(len(offers), 'offer')} valid")
        return
    try:
        fresh = asyncio.run(publish(core_settings(bootstrap_servers), offers))
    except PublishRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    for offer in offers:
        state = "published" if offer in fresh else "unchanged"
        typer.echo(f"{offer.offer_id} v{offer.version}: {state}")


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help=f"{JSON_LINES_HELP} (every field of an offer)"),
                 bootstrap_servers: str = BOOTSTRAP) -> None:
    """The current version of every offer on the topic."""
    current = asyncio.run(current_offers(core_settings(bootstrap_servers)))
    if as_json:
        echo_json_lines({**c.offer.to_json(), "withdrawn": c.withdrawn} for _, c in sorted(current.items()))
        return
    print_offers(current, console)


def print_offers(current: dict[str, Current], out: Console) -> None:
    """The offers table; below 120 columns: offer, version, state and title, offer ids whole on one line."""
    table = report_table("offer", "version", "title", "channels", "priority", "valid", "state",
                         narrow=("offer", "version", "state", "title"), whole=("offer",), console=out,
                         title=counted(len(current), "offer"))
    for offer_id, c in sorted(current.items()):
        until = c.offer.valid_until.isoformat() if c.offer.valid_until else "open"
        table.add_row(offer_id, str(c.offer.version), c.offer.title, ",".join(c.offer.channels),
                      str(c.offer.priority), f"{c.offer.valid_from.isoformat()} .. {until}",
                      "withdrawn" if c.withdrawn else "live")
    out.print(table)
    if table.shown != table.declared:
        out.print(f"(channels, priority, validity: --json, or COLUMNS={WIDE_COLUMNS} omnibus offers list)")


@app.command("withdraw")
def withdraw_command(
    offer_id: str = typer.Argument(...), reason: str = typer.Option(None, help="Why, for the record."),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """Withdraw an offer from every channel now."""
    try:
        why = operator_text("--reason", reason) if reason and reason.strip() else None
        offer = asyncio.run(withdraw(core_settings(bootstrap_servers), offer_id, why))
    except PublishRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{offer.offer_id} v{offer.version}: withdrawn")


@app.command("openapi")
def openapi_command() -> None:
    """Print the pull query's OpenAPI document (what ``GET /openapi.json`` on the offers web port answers)."""
    from bus.identifiers.normaliser import load_identifier_settings
    from processors.offers.openapi import openapi

    # as this deployment's OMNIBUS_IDENTIFIERS__* serve it
    typer.echo(json.dumps(openapi(load_identifier_settings()), indent=2))


@app.command("run")
def run_command(bootstrap_servers: str = BOOTSTRAP) -> None:
    """Run the offer processor worker until interrupted (one worker: see processors/offers/README.md)."""
    from bus.app import run_worker
    from bus.bootstrap import bad_settings_exit, start_process
    from processors.offers.agent import APP_NAME, build_worker
    from processors.offers.config import ENV_PREFIX, load_offers_settings

    process = start_process(lambda _: load_offers_settings(), metrics_of=APP_NAME,
                            settings=lambda: core_settings(bootstrap_servers))
    with bad_settings_exit():
        worker = build_worker(process.settings, process.component)
    run_worker(worker.app, process.settings, web_port_setting=f"{ENV_PREFIX}WEB_PORT")
