"""The ``omnibus`` command: one entry point, a sub-command per job."""

from __future__ import annotations

import typer

from bus.cli import schemas, stack, topics

app = typer.Typer(
    name="omnibus",
    help="Omnibus channel-integration middleware: local stack, topics, schemas, adapters, processors.",
    no_args_is_help=True,
)
app.add_typer(stack.app, name="stack", help="Run a local Kafka broker (and schema registry).")
app.add_typer(topics.app, name="topics", help="Create or update Omnibus topics on a cluster.")
app.add_typer(schemas.app, name="schemas", help="Inspect and check the Avro contract.")

adapter = typer.Typer(no_args_is_help=True, help="Run a channel adapter.")
app.add_typer(adapter, name="adapter")
# Channel adapters register here: adapter.add_typer(<channel>.cli.app, name="<channel>")

if __name__ == "__main__":
    app()
