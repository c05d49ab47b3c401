"""``omnibus identity run | split``."""

from __future__ import annotations

import asyncio
import time
import uuid

import typer

from bus.bootstrap import bad_settings_exit, start_process
from bus.config import load_settings
from bus.errors import ConfigError
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import IDENTITY_GRAPH
from processors.identity.config import load_identity_settings
from processors.identity.normalize import IdentifierNormalizer, Rejected
from processors.identity.wire import RoutingSerializer, graph_event

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run_command(
    ctx: typer.Context,
    web_port: int = typer.Option(None, help="Screen-pop HTTP port (overrides OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT)."),
) -> None:
    """Run an identity-resolution worker (start several: the graph is partitioned across them)."""
    from bus.app import run_worker
    from processors.identity.agent import IdentityProcessor

    process = start_process(lambda _: load_identity_settings())
    settings, identity = process.settings, process.component
    book = getattr(ctx.obj, "profile_book", None)  # handed in by the composition (omnibus.cli)
    port = web_port if web_port is not None else identity.web_port
    with bad_settings_exit():
        processor = IdentityProcessor(settings, identity, web_port=port, book=book() if book else None)
    run_worker(processor.app, settings)


@app.command("split")
def split_command(
    customer: str = typer.Option(..., help="Customer id the identifiers were wrongly linked to."),
    identifier: list[str] = typer.Option(..., help="TYPE:value to move to a new customer (repeat the option)."),
    reason: str = typer.Option(..., help="Why: kept in the CustomerSplit announcement."),
) -> None:
    """Move identifiers of a wrongly merged customer to a new customer; the two never merge again."""
    try:
        settings, identity = load_settings(), load_identity_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    normalizer = IdentifierNormalizer(identity, settings.identifiers)
    keys = []
    for item in identifier:
        kind, _, value = item.partition(":")
        result = normalizer.normalize({"type": kind.upper(), "value": value})
        if isinstance(result, Rejected):
            typer.echo(f"error: {kind} identifier rejected: {result.reason}", err=True)
            raise typer.Exit(2)
        keys.append(result.key)
    command_id = str(uuid.uuid4())
    message = {"k": "split", "ids": keys, "reason": reason, "tok": command_id, "at": int(time.time() * 1e6),
               "ch": "BACK_OFFICE"}
    asyncio.run(_publish(settings, customer, message))
    get_logger(__name__).info("split requested", command_id=command_id, moved=len(keys))
    typer.echo(f"split requested (command {command_id}); CustomerSplit follows on customer.events.v1")


async def _publish(settings: object, customer: str, message: dict) -> None:
    serializer, _ = build_serde(settings.registry)  # type: ignore[attr-defined]
    async with EventProducer(settings, RoutingSerializer(serializer)) as producer:  # type: ignore[arg-type]
        topic = IDENTITY_GRAPH.name(settings.topics)  # type: ignore[attr-defined]
        await producer.publish(Outgoing(topic, customer, graph_event(message)))
