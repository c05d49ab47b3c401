"""``omnibus schemas check | list``."""

from __future__ import annotations

from pathlib import Path

import typer

from bus.cli.tables import report_console, report_table
from bus.plural import counted
from schemas.catalog import SchemaCatalog
from schemas.errors import SchemaError

app = typer.Typer(no_args_is_help=True)
console = report_console()


@app.command("check")
def check_command(
    repo: Path = typer.Option(Path("."), help="Git repository holding the contract (default: current directory)."),
    against: str | None = typer.Option(None, "--against", metavar="REV", help="Compare against this revision only."),
    schemas_dir: str = typer.Option("schemas", help="Schema directory, relative to --repo."),
) -> None:
    """Check that the working-tree schemas can read data written with every committed version."""
    # Imported here: the Apache `avro` library is only needed by this command.
    from schemas.compat import check_compatibility

    try:
        report = check_compatibility(repo, against=against, schemas_dir=schemas_dir)
    except SchemaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    # Plain echo, not rich: one problem per line, never wrapped, easy to grep in CI logs.
    for problem in report.problems:
        typer.echo(str(problem))
    if report.problems:
        typer.echo(counted(len(report.problems), "compatibility problem"), err=True)
        raise typer.Exit(1)
    typer.echo(
        f"ok: {counted(report.comparisons, 'historical schema version')} from {counted(report.revisions, 'revision')} "
        "still readable"
    )


@app.command("list")
def list_command(
    root: Path | None = typer.Option(None, help="Schema directory (default: the installed contract)."),
) -> None:
    """Every named type of the contract with its file and CRC-64-AVRO fingerprint."""
    try:
        catalog = SchemaCatalog.load(root)
    except SchemaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    table = report_table("name", "file", "fingerprint")
    for schema in catalog:
        table.add_row(schema.fullname, schema.path.relative_to(catalog.root).as_posix(), schema.fingerprint.hex())
    console.print(table)
