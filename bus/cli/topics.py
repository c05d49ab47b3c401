"""``omnibus topics apply | list``."""

from __future__ import annotations

import asyncio

import typer

from bus.cli.tables import WIDE_COLUMNS, report_console, report_table
from bus.config import load_settings
from bus.topic_admin import Action, apply_topics
from bus.topics import ALL_TOPICS, FAUST_INTERNAL_PATTERNS

app = typer.Typer(no_args_is_help=True)
console = report_console()


@app.command("apply")
def apply_command(
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Create missing topics and fix drifted settings. Safe to run any number of times."""
    settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})}
        )
    outcomes = asyncio.run(apply_topics(settings))
    table = report_table("topic", "action", "detail")
    for outcome in outcomes:
        table.add_row(outcome.topic, outcome.action.value, outcome.detail)
    console.print(table)
    if any(outcome.action is Action.NEEDS_ATTENTION for outcome in outcomes):
        raise typer.Exit(1)


@app.command("list")
def list_command() -> None:
    """The topics Omnibus declares (no cluster needed): key, Avro records carried, internal or not.

    Below 120 columns only the topic, partitions, policy and retention are shown, names on one line."""
    settings = load_settings()
    table = report_table("topic", "partitions", "policy", "retention", "key", "records (Avro)", "what",
                         narrow=("topic", "partitions", "policy", "retention"), whole=("topic",),
                         console=console, show_lines=True)
    for spec in ALL_TOPICS:
        retention = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms // 86_400_000} d"
        records = "INTERNAL: skip (not Avro)" if spec.internal else "\n".join(
            name.rsplit(".", 1)[-1] for name in spec.carries)
        table.add_row(
            spec.name(settings.topics), str(spec.partition_count(settings.topics)),
            "compact" if spec.compacted else "delete", retention, spec.key, records, spec.description,
        )
    console.print(table)
    if table.shown != table.declared:
        console.print(f"(keys, records carried and descriptions: on a terminal of {WIDE_COLUMNS} columns or more, "
                      f"e.g. COLUMNS={WIDE_COLUMNS} omnibus topics list)")
    patterns = ", ".join(p.replace("<prefix>", settings.topics.prefix) for p in FAUST_INTERNAL_PATTERNS)
    console.print(f"Also INTERNAL (written by the processors' faust runtime; skip them): {patterns}")
